#if canImport(Glibc)
  import Glibc
#endif
import Foundation

/// A file that could not be written; nothing was left in its place.
public struct AtomicFileError: Error, Sendable, CustomStringConvertible {
  /// The file that was to be written.
  var path: String
  /// What failed, as the system says it: `Permission denied`.
  public var reason: String

  public var description: String { "cannot write '\(path)': \(reason)" }
}

/// Writes files whole or not at all: the one way sigbook writes a whole file (figures and their
/// PNG and PDF renderings, exports, saved models in safetensors and ONNX, reports and notebooks,
/// exported sessions, the signatures `bench` writes for the peers). The REPL's history is the
/// exception: readline appends to it a line at a time.
///
/// Each file is written to a temporary file in its own folder, flushed to disk with `fsync`, then
/// renamed over the target, which is atomic on POSIX file systems: a reader sees the old file or
/// the new one, never a part. On any failure the temporary file is removed.
///
/// Where the file system allows it (ext4, XFS, Btrfs, tmpfs), the temporary file is created
/// without a name (`O_TMPFILE`) and given one (`.NAME.sigbook-tmp-PID-RANDOM`, by `linkat`)
/// only once its contents are on disk, just before the rename: a process killed mid-write
/// (SIGKILL, a second Ctrl-C, a crash) leaves nothing behind, since the kernel frees a file
/// without a name when its last descriptor closes. Elsewhere the temporary is named from the
/// start (created exclusively, so never someone else's), and a killed process can leave it:
/// ``removeStaleTemporaries(in:namesStartingWith:)`` recognises such files by their marker and
/// the process id in their name. Foundation's `Data.write(options: .atomic)` is not used: its
/// temporary names are its own, and a process killed mid-write leaves them behind where we
/// cannot recognise them.
public enum AtomicFile {
  /// The marker in the names of temporary files, to recognise them.
  static let temporaryMarker = ".sigbook-tmp-"

  /// Writes `contents` to `path` atomically.
  ///
  /// - Throws: `AtomicFileError` when the folder does not exist or cannot be written, or the
  ///   disk is full; `path` is then unchanged.
  public static func write(_ contents: Data, to path: String) throws(AtomicFileError) {
    try write([(path, contents)])
  }

  /// Writes several files so that none is replaced before all are ready: every temporary file
  /// is written and flushed first, then they are named and renamed in the order given. A reader
  /// that sees a new file sees every file before it in `files` new too (a report's `.html` goes
  /// before its `.md`, so a new `.md` never sits beside an old `.html`).
  ///
  /// - Throws: `AtomicFileError` for the first file that fails; when it fails before the renames,
  ///   no target is changed and no temporary file is left.
  public static func write(_ files: [(path: String, contents: Data)]) throws(AtomicFileError) {
    var temporaries: [Temporary] = []
    defer { for temporary in temporaries { temporary.discard() } }
    for file in files {
      temporaries.append(try writeTemporary(file.contents, for: file.path))
    }
    for (index, file) in files.enumerated() {
      let name = try temporaries[index].name(for: file.path)
      guard rename(name, file.path) == 0 else {
        let reason = systemError()
        unlink(name)
        throw AtomicFileError(path: file.path, reason: reason)
      }
      temporaries[index].path = ""  // renamed: nothing to remove
      syncFolder(of: file.path)
    }
  }

  /// Whether a file name is one of ours in the middle of being written.
  static func isTemporary(_ name: String) -> Bool { name.contains(temporaryMarker) }

  /// Removes the temporary files that killed processes left in `folder` (and its subfolders):
  /// names with ``temporaryMarker`` whose process (the number after the marker) is not
  /// running. Another running process's temporaries, and this process's own, are left alone.
  ///
  /// - Parameters:
  ///   - folder: the folder to clean; nothing happens when it does not exist.
  ///   - prefix: when given, only names that start with it are considered (a workbook's folder
  ///     holds other people's files: `.one-vs-seven.` picks that workbook's reports).
  ///   - recursive: whether to clean subfolders too (symbolic links are not followed).
  /// - Returns: the paths removed.
  @discardableResult
  public static func removeStaleTemporaries(
    in folder: String, namesStartingWith prefix: String? = nil, recursive: Bool = true
  ) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
      return []
    }
    var removed: [String] = []
    for name in names.sorted() {
      let path = folder + "/" + name
      var status = stat()
      guard lstat(path, &status) == 0 else { continue }
      if (status.st_mode & S_IFMT) == S_IFDIR {
        if recursive {
          removed += removeStaleTemporaries(in: path, namesStartingWith: prefix, recursive: true)
        }
        continue
      }
      guard (status.st_mode & S_IFMT) == S_IFREG, isTemporary(name),
        prefix.map({ name.hasPrefix($0) }) ?? true, !isWrittenByARunningProcess(name)
      else { continue }
      if unlink(path) == 0 { removed.append(path) }
    }
    return removed
  }

  /// Whether the process whose id a temporary's name holds is this one or still running.
  /// Names without a process id (written by earlier versions) are stale.
  static func isWrittenByARunningProcess(_ name: String) -> Bool {
    guard let range = name.range(of: temporaryMarker),
      let pid = Int32(name[range.upperBound...].prefix { $0.isNumber }), pid > 0
    else { return false }
    return pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
  }

  /// A temporary file written and flushed, with or without a name yet.
  private struct Temporary {
    /// The open descriptor of a file created without a name, -1 for a named one.
    var descriptor: Int32
    /// The named file's path ("" until an unnamed one is linked).
    var path: String

    /// Gives an unnamed file a name beside `target` (exclusively) and closes it; returns the
    /// name.
    mutating func name(for target: String) throws(AtomicFileError) -> String {
      if descriptor < 0 { return path }
      let source = "/proc/self/fd/\(descriptor)"
      for _ in 0..<16 {
        let candidate = AtomicFile.temporaryName(for: target)
        if linkat(AT_FDCWD, source, AT_FDCWD, candidate, AT_SYMLINK_FOLLOW) == 0 {
          path = candidate
          close(descriptor)
          descriptor = -1
          return candidate
        }
        if errno != EEXIST { break }
      }
      throw AtomicFileError(path: target, reason: AtomicFile.systemError())
    }

    /// Closes an unnamed file (the kernel frees it) or removes a named one not yet renamed.
    func discard() {
      if descriptor >= 0 { close(descriptor) }
      if descriptor < 0 && !path.isEmpty { unlink(path) }
    }
  }

  /// `.NAME.sigbook-tmp-PID-RANDOM` beside `path`.
  private static func temporaryName(for path: String) -> String {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    return folder + "/." + url.lastPathComponent + temporaryMarker + "\(getpid())-" + suffix
  }

  /// Linux's `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`), which Swift's Glibc module does not
  /// export.
  private static let temporaryFileFlag: Int32 = 0o20_000_000 | O_DIRECTORY

  /// Whether unnamed files can be linked by their descriptor (`/proc` is mounted).
  private static let canLinkDescriptors = access("/proc/self/fd", X_OK) == 0

  /// Opens a temporary file beside `path`: unnamed when the file system allows it, else named
  /// and created exclusively.
  private static func openTemporary(for path: String) throws(AtomicFileError) -> Temporary {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    if canLinkDescriptors {
      let descriptor = open(folder, temporaryFileFlag | O_WRONLY | O_CLOEXEC, 0o666)
      if descriptor >= 0 { return Temporary(descriptor: descriptor, path: "") }
      // Other errors (no such folder, no permission) are the named path's errors too.
      guard [EOPNOTSUPP, EISDIR, EINVAL].contains(errno) else {
        throw AtomicFileError(path: path, reason: systemError())
      }
    }
    for _ in 0..<16 {
      let temporary = temporaryName(for: path)
      let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
      if descriptor >= 0 {
        close(descriptor)
        return Temporary(descriptor: -1, path: temporary)
      }
      if errno != EEXIST { break }
    }
    throw AtomicFileError(path: path, reason: systemError())
  }

  /// Writes and flushes a temporary file for `path`.
  private static func writeTemporary(_ contents: Data, for path: String) throws(AtomicFileError)
    -> Temporary
  {
    let temporary = try openTemporary(for: path)
    let descriptor =
      temporary.descriptor >= 0
      ? temporary.descriptor : open(temporary.path, O_WRONLY | O_TRUNC | O_CLOEXEC)
    var failure: String? = descriptor < 0 ? systemError() : nil
    if failure == nil {
      contents.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count, let base = bytes.baseAddress {
          let written = Glibc.write(descriptor, base + offset, bytes.count - offset)
          if written < 0 {
            if errno == EINTR { continue }
            failure = systemError()
            return
          }
          offset += written
        }
      }
      if failure == nil && fsync(descriptor) != 0 { failure = systemError() }
      // An unnamed file stays open until it is linked; a named one is closed now.
      if temporary.descriptor < 0 && close(descriptor) != 0 && failure == nil {
        failure = systemError()
      }
    }
    if let failure {
      temporary.discard()
      throw AtomicFileError(path: path, reason: failure)
    }
    return temporary
  }

  /// Flushes a folder's entries, so that a rename survives a crash (best effort).
  private static func syncFolder(of path: String) {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    _ = fsync(descriptor)
    _ = close(descriptor)
  }

  private static func systemError() -> String { String(cString: strerror(errno)) }
}

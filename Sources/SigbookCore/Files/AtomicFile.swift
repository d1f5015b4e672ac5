#if canImport(Glibc)
  import Glibc
#endif
import Foundation

/// A file that could not be written; nothing was left in its place.
public struct AtomicFileError: Error, Sendable, CustomStringConvertible {
  /// The file that was to be written.
  public var path: String
  /// What failed, as the system says it: `Permission denied`.
  public var reason: String

  public var description: String { "cannot write '\(path)': \(reason)" }
}

/// Writes files whole or not at all: the one way sigbook writes a file (figures, exports, saved
/// models, reports, exported sessions).
///
/// Each file is written to a temporary file in its own folder (`.NAME.sigbook-tmp-RANDOM`,
/// created exclusively, so never someone else's), flushed to disk with `fsync`, then renamed
/// over the target, which is atomic on POSIX file systems: a reader sees the old file or the new
/// one, never a part. On any failure the temporary file is removed. Foundation's
/// `Data.write(options: .atomic)` is not used: its temporary names are its own, and a process
/// killed mid-write leaves them behind where we cannot recognise them.
public enum AtomicFile {
  /// The marker in the names of temporary files, to recognise them.
  public static let temporaryMarker = ".sigbook-tmp-"

  /// Writes `contents` to `path` atomically.
  ///
  /// - Throws: `AtomicFileError` when the folder does not exist or cannot be written, or the
  ///   disk is full; `path` is then unchanged.
  public static func write(_ contents: Data, to path: String) throws(AtomicFileError) {
    try write([(path, contents)])
  }

  /// Writes several files so that none is replaced before all are ready: every temporary file
  /// is written and flushed first, then they are renamed in the order given. A reader that sees
  /// a new file sees every file before it in `files` new too (a report's `.html` goes before its
  /// `.md`, so a new `.md` never sits beside an old `.html`).
  ///
  /// - Throws: `AtomicFileError` for the first file that fails; when it fails before the renames,
  ///   no target is changed and no temporary file is left.
  public static func write(_ files: [(path: String, contents: Data)]) throws(AtomicFileError) {
    var temporaries: [String] = []
    defer { for temporary in temporaries where !temporary.isEmpty { unlink(temporary) } }
    for file in files {
      temporaries.append(try writeTemporary(file.contents, for: file.path))
    }
    for (index, file) in files.enumerated() {
      guard rename(temporaries[index], file.path) == 0 else {
        throw AtomicFileError(path: file.path, reason: systemError())
      }
      temporaries[index] = ""  // renamed: nothing to remove
      syncFolder(of: file.path)
    }
  }

  /// Whether a file name is one of ours in the middle of being written.
  public static func isTemporary(_ name: String) -> Bool { name.contains(temporaryMarker) }

  /// Writes and flushes a temporary file beside `path`; returns its path.
  private static func writeTemporary(_ contents: Data, for path: String) throws(AtomicFileError)
    -> String
  {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    var descriptor: Int32 = -1
    var temporary = ""
    for _ in 0..<16 where descriptor < 0 {
      let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
      temporary = folder + "/." + url.lastPathComponent + temporaryMarker + suffix
      descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
      if descriptor < 0 && errno != EEXIST { break }
    }
    guard descriptor >= 0 else { throw AtomicFileError(path: path, reason: systemError()) }
    var failure: String?
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
    if close(descriptor) != 0 && failure == nil { failure = systemError() }
    if let failure {
      unlink(temporary)
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

#if canImport(Glibc)
  import Glibc
#endif

/// Why a file could not be read, for the reader to put in its own words.
public enum FileReadError: Error, Sendable, Equatable {
  /// The file could not be opened; `code` is the `errno` (`ENOENT`, `EACCES`…).
  case cannotOpen(code: Int32)
  /// The path names a folder.
  case isFolder
  /// The path names a device, a pipe or a socket.
  case notRegularFile
  /// The file holds `size` bytes, more than the reader's limit.
  case tooLarge(size: Int)
  /// The file grew past the reader's limit while it was read.
  case grew
  /// A read failed; `code` is the `errno`.
  case readFailed(code: Int32)

  /// The system's explanation of an `errno`, as `strerror` gives it: `No such file or directory`.
  public static func systemText(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// An input file opened for reading only if it is a regular file: the one way sigbook opens the
/// files a user names (datasets, saved models, ONNX models and their external data).
///
/// The file is opened without blocking (a pipe's `open` would wait for a writer for ever) and
/// checked with `fstat` before anything is read: a folder, a pipe or a device (`/dev/zero`
/// never ends) is refused. When `open` itself fails, the path is looked at with `stat` so that
/// a socket or an unreadable folder is still refused for what it is. Reads retry on `EINTR`;
/// the descriptor is closed when the file is released.
public final class GuardedFile {
  /// The open descriptor.
  let descriptor: Int32
  /// The file's size in bytes when it was opened.
  public let size: Int

  /// Opens `path` if it is a regular file.
  ///
  /// - Throws: `FileReadError.cannotOpen` with the `errno`, `.isFolder` or `.notRegularFile`.
  public init(path: String) throws(FileReadError) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard descriptor >= 0 else {
      let code = errno
      var info = stat()
      if stat(path, &info) == 0, let kind = Self.refusal(info.st_mode) { throw kind }
      throw .cannotOpen(code: code)
    }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
      let code = errno
      close(descriptor)
      throw .cannotOpen(code: code)
    }
    if let kind = Self.refusal(info.st_mode) {
      close(descriptor)
      throw kind
    }
    self.descriptor = descriptor
    size = Int(info.st_size)
  }

  deinit { close(descriptor) }

  /// Why a file of mode `mode` is not read, or nil for a regular file.
  private static func refusal(_ mode: mode_t) -> FileReadError? {
    switch mode & S_IFMT {
    case S_IFREG: nil
    case S_IFDIR: .isFolder
    default: .notRegularFile
    }
  }

  /// The whole file, at most `limit` bytes.
  ///
  /// - Throws: `FileReadError.tooLarge` before reading when the file is larger than `limit`,
  ///   `.grew` when it passes `limit` as it is read (it stops there rather than exhausting
  ///   memory), `.readFailed` when a read fails.
  public func contents(limit: Int) throws(FileReadError) -> [UInt8] {
    guard size <= limit else { throw .tooLarge(size: size) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(size)
    while true {
      let chunk = try prefix(1 << 20)
      if chunk.isEmpty { return bytes }
      guard bytes.count + chunk.count <= limit else { throw .grew }
      bytes.append(contentsOf: chunk)
    }
  }

  /// The next `count` bytes from the current position, fewer at the end of the file.
  ///
  /// - Throws: `FileReadError.readFailed` when a read fails.
  public func prefix(_ count: Int) throws(FileReadError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var failure: FileReadError?
    let got = bytes.withUnsafeMutableBytes { buffer -> Int in
      guard let base = buffer.baseAddress else { return 0 }
      do throws(FileReadError) { return try read(into: base, count: buffer.count) } catch {
        failure = error
        return 0
      }
    }
    if let failure { throw failure }
    bytes.removeSubrange(got...)
    return bytes
  }

  /// Reads from the current position until `count` bytes are in `target` or the file ends.
  ///
  /// - Returns: the number of bytes read, fewer than `count` only at the end of the file.
  /// - Throws: `FileReadError.readFailed` when a read fails.
  public func read(into target: UnsafeMutableRawPointer, count: Int) throws(FileReadError) -> Int {
    try readFully(count) { got in Glibc.read(descriptor, target + got, count - got) }
  }

  /// Reads `count` bytes from byte `offset` on (`pread`: the position is left alone).
  ///
  /// - Returns: the number of bytes read, fewer than `count` only at the end of the file.
  /// - Throws: `FileReadError.readFailed` when a read fails.
  public func read(into target: UnsafeMutableRawPointer, count: Int, at offset: Int)
    throws(FileReadError) -> Int
  {
    try readFully(count) { got in
      pread(descriptor, target + got, count - got, off_t(offset + got))
    }
  }

  /// Calls `readSome` (given the bytes read so far) until `count` bytes are read or it reads
  /// none (the end of the file), retrying an interrupted call.
  private func readFully(_ count: Int, _ readSome: (_ got: Int) -> Int) throws(FileReadError)
    -> Int
  {
    var got = 0
    while got < count {
      let n = readSome(got)
      if n < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        throw .readFailed(code: errno)
      }
      if n == 0 { break }
      got += n
    }
    return got
  }
}

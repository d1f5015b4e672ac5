import CZlib
import Foundation
import SigbookTensor

/// Reading files that may be gzip-compressed (RFC 1952), and writing gzip data, through zlib.
///
/// Whether a file is compressed is decided by its first two bytes (the gzip magic `1f 8b`), not
/// by its name; a file named `*.gz` without the magic is refused rather than read as raw bytes.
enum Gzip {
  /// Whether `bytes` start with the gzip magic number `1f 8b`.
  static func hasMagic<C: Collection<UInt8>>(_ bytes: C) -> Bool {
    var iterator = bytes.makeIterator()
    return iterator.next() == 0x1f && iterator.next() == 0x8b
  }

  /// The contents of a file, inflated when it is gzip-compressed.
  ///
  /// Several gzip members one after another (as `cat a.gz b.gz` makes) are inflated and joined;
  /// bytes after the last member that are not another member are ignored, as `gzip -d` does.
  ///
  /// - Parameters:
  ///   - path: the file to read, as the user named it (messages quote it as given).
  ///   - limit: the most bytes read, raw or once inflated (`DataLimits.fileBytes` by default).
  ///   - prefix: when true, only the first `limit` bytes are wanted: inflation stops there and a
  ///     longer file is not an error.
  ///   - isCancelled: polled before every chunk of 4 MiB (Ctrl-C).
  /// - Returns: the file's bytes, inflated if they start with the gzip magic.
  /// - Throws: `DataError.unreadable` when the file cannot be read or is not a regular file,
  ///   `.tooLarge` when it holds more than `limit` bytes (raw or inflated, unless `prefix`),
  ///   `.notGzip` when a `*.gz` file lacks the magic, `.truncatedGzip` or `.corruptGzip` for a
  ///   damaged stream, ``ReadInterrupted`` when `isCancelled` says so.
  static func readFile(
    _ path: String, limit: Int = DataLimits.fileBytes, prefix: Bool = false,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> [UInt8] {
    let reader = try Reader(path: path, limit: limit, prefix: prefix, isCancelled: isCancelled)
    var bytes: [UInt8] = []
    // A raw file's size is known; inflated data grows as it comes (never from the trailer).
    if !reader.isCompressed { bytes.reserveCapacity(min(reader.fileSize, limit)) }
    while try reader.read(appendingTo: &bytes, upTo: 1 << 22) > 0 {}
    return bytes
  }

  /// Opens a file for reading if it is a regular file (see `GuardedFile`), with a message that
  /// says why not: a folder, a pipe (whose `open` would block until a writer comes) or a device
  /// (`/dev/zero` never ends) is refused.
  static func open(_ path: String) throws -> GuardedFile {
    do { return try GuardedFile(path: path) } catch { throw failure(error, path: path) }
  }

  /// The `DataError` for a guarded read of `path` that failed, with a read limit of `limit`.
  static func failure(
    _ error: FileReadError, path: String, limit: Int = DataLimits.fileBytes
  ) -> DataError {
    switch error {
    case .cannotOpen(ENOENT), .cannotOpen(ENOTDIR): .unreadable(path: path, reason: "no such file")
    case .cannotOpen(EACCES): .unreadable(path: path, reason: "permission denied")
    case .cannotOpen(let code): .unreadable(path: path, reason: errorText(code))
    case .isFolder: .unreadable(path: path, reason: "it is a folder")
    case .notRegularFile:
      .unreadable(path: path, reason: "it is not a regular file (a device, a pipe or a socket)")
    case .readFailed(let code):
      .unreadable(path: path, reason: "the read failed (\(errorText(code)))")
    case .tooLarge(let size):
      .tooLarge(
        path: path,
        message: "is \(NumberFormat.bytes(size)); sigbook reads files of at most "
          + NumberFormat.bytes(limit))
    case .grew:
      .tooLarge(
        path: path,
        message: "is more than \(NumberFormat.bytes(limit)); sigbook reads files of at most "
          + NumberFormat.bytes(limit))
    }
  }

  /// The system's explanation of an `errno`, lower case.
  static func errorText(_ code: Int32) -> String {
    FileReadError.systemText(code).lowercased()
  }

  /// The raw bytes of a regular file of at most `limit` bytes (or its first `upTo` bytes), with
  /// a message that says why it cannot be read (see ``open(_:)``).
  static func readBytes(
    _ path: String, limit: Int = DataLimits.fileBytes, upTo prefix: Int? = nil
  ) throws -> [UInt8] {
    let file = try open(path)
    do {
      if let prefix { return try file.prefix(prefix) }
      return try file.contents(limit: limit)
    } catch {
      throw failure(error, path: path, limit: limit)
    }
  }

  /// Inflates gzip data held in memory.
  ///
  /// The output buffer starts at four times the input's size (at most `limit`) and doubles
  /// whenever zlib fills it, up to `limit` bytes, so a gzip bomb stops at the limit. The size
  /// the trailer announces (ISIZE) is never used: it is modulo 2³² and can lie.
  ///
  /// - Parameters:
  ///   - input: gzip data, starting with the magic `1f 8b`.
  ///   - path: the file the data came from, for messages.
  ///   - limit: the most bytes inflated (`DataLimits.fileBytes` by default).
  ///   - prefix: when true, inflation stops after `limit` bytes and returns them; when false,
  ///     data longer than `limit` is an error.
  /// - Returns: the inflated bytes.
  /// - Throws: `DataError.truncatedGzip` when the data ends before the end of the stream,
  ///   `.corruptGzip` with zlib's message when the data is damaged, `.tooLarge` when it inflates
  ///   to more than `limit` bytes (unless `prefix`).
  static func inflate(
    _ input: [UInt8], path: String, limit: Int = DataLimits.fileBytes, prefix: Bool = false
  ) throws -> [UInt8] {
    // One byte past the limit tells a stream that is exactly `limit` long from a longer one.
    let cap = prefix ? limit : limit + 1
    var output = [UInt8](repeating: 0, count: Swift.min(initialCapacity(for: input), cap))
    var produced = 0
    var stream = z_stream()
    try input.withUnsafeBufferPointer { source in
      guard let base = source.baseAddress, source.count > 0 else {
        throw DataError.truncatedGzip(path: path)
      }
      stream.next_in = UnsafeMutablePointer(mutating: base)
      stream.avail_in = uInt(source.count)
      // `inflateInit2` is a macro Swift does not import; 16 + 15 window bits selects gzip.
      let initStatus = inflateInit2_(
        &stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
      guard initStatus == Z_OK else {
        throw DataError.corruptGzip(path: path, message: zlibMessage(stream, initStatus))
      }
      defer { inflateEnd(&stream) }
      while true {
        if produced == output.count {
          guard output.count < cap else {
            if prefix { return }
            throw DataError.tooLarge(
              path: path,
              message: "decompresses to more than \(NumberFormat.bytes(limit)); sigbook reads "
                + "files of at most \(NumberFormat.bytes(limit)) once decompressed")
          }
          let grow = Swift.min(Swift.max(output.count, 1 << 16), cap - output.count)
          output.append(contentsOf: repeatElement(0, count: grow))
        }
        let status = output.withUnsafeMutableBufferPointer { target -> Int32 in
          guard let out = target.baseAddress else { return Z_MEM_ERROR }
          let room = uInt(Swift.min(target.count - produced, Int(UInt32.max)))
          stream.next_out = out + produced
          stream.avail_out = room
          let status = CZlib.inflate(&stream, Z_NO_FLUSH)
          produced += Int(room - stream.avail_out)
          return status
        }
        switch status {
        case Z_OK:
          continue
        case Z_STREAM_END:
          // Another member may follow (concatenated gzip files); anything else is ignored.
          let offset = source.count - Int(stream.avail_in)
          guard stream.avail_in >= 2, hasMagic(source[offset..<offset + 2]) else { return }
          inflateReset(&stream)
        case Z_BUF_ERROR where stream.avail_out == 0:
          continue  // the output buffer is full: it grows at the top of the loop
        case Z_BUF_ERROR:
          throw DataError.truncatedGzip(path: path)
        default:
          throw DataError.corruptGzip(path: path, message: zlibMessage(stream, status))
        }
      }
    }
    output.removeSubrange(produced...)
    return output
  }

  /// The first size of the output buffer: four times the input (typical of deflate), at least
  /// 4 KiB; it grows as data is inflated.
  private static func initialCapacity(for input: [UInt8]) -> Int {
    Swift.max(Swift.min(input.count, 1 << 28) * 4, 1 << 12)
  }

  /// zlib's explanation of a failure, or the name of its status code when it gives none.
  static func zlibMessage(_ stream: z_stream, _ status: Int32) -> String {
    if let message = stream.msg { return String(cString: message) }
    switch status {
    case Z_MEM_ERROR: return "out of memory"
    case Z_VERSION_ERROR: return "incompatible zlib version"
    case Z_NEED_DICT: return "a preset dictionary is needed"
    default: return "zlib error \(status)"
    }
  }

  /// Compresses bytes into a single gzip member (RFC 1952), as `gzip` would.
  ///
  /// - Parameters:
  ///   - input: the bytes to compress.
  ///   - level: zlib's compression level, 0 (store) to 9 (smallest); 6 by default.
  /// - Returns: gzip data that `inflate(_:path:)` and `gzip -d` read back.
  /// - Throws: `DataError.invalidArgument` if zlib cannot start (a bad level, no memory).
  static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
    var stream = z_stream()
    // `deflateInit2` is a macro Swift does not import; 16 + 15 window bits writes gzip.
    let initStatus = deflateInit2_(
      &stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
      Int32(MemoryLayout<z_stream>.size))
    guard initStatus == Z_OK else {
      throw DataError.invalidArgument(
        "cannot start gzip compression: \(zlibMessage(stream, initStatus))")
    }
    defer { deflateEnd(&stream) }
    // deflateBound covers the deflate data; the gzip header and trailer need 18 bytes more.
    let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
    var output = [UInt8](repeating: 0, count: bound)
    var input = input
    let status = input.withUnsafeMutableBufferPointer { source in
      output.withUnsafeMutableBufferPointer { target -> Int32 in
        stream.next_in = source.baseAddress
        stream.avail_in = uInt(source.count)
        stream.next_out = target.baseAddress
        stream.avail_out = uInt(target.count)
        return deflate(&stream, Z_FINISH)
      }
    }
    guard status == Z_STREAM_END else {
      throw DataError.invalidArgument("gzip compression failed: \(zlibMessage(stream, status))")
    }
    output.removeSubrange(Int(stream.total_out)...)
    return output
  }
}

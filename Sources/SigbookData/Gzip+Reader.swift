#if canImport(Glibc)
  import Glibc
#endif
import CZlib
import Foundation
import SigbookTensor

extension Gzip {
  /// A file read in chunks, inflated as it is read when it holds gzip data (RFC 1952).
  ///
  /// Nothing is sized from the file's own claims: the gzip trailer's ISIZE is the size modulo
  /// 2³² and can lie, so the output grows only as data is inflated, and reading stops as soon as
  /// it passes `limit`. A caller that keeps only what it makes of the bytes (the CSV parser)
  /// holds one chunk at a time; `isCancelled` is polled before every chunk.
  final class Reader {
    /// The file, as the user named it (messages quote it as given).
    let path: String
    /// Whether the file starts with the gzip magic `1f 8b`.
    let isCompressed: Bool
    /// The file's size in bytes.
    let fileSize: Int
    /// Bytes produced so far (inflated ones when the file is compressed).
    private(set) var produced = 0
    /// Bytes read from the file so far.
    private(set) var consumed = 0

    private let limit: Int
    private let prefix: Bool
    private let isCancelled: () -> Bool
    /// The open file (closed when the reader is released).
    private let file: GuardedFile
    /// zlib's state, at a fixed address (zlib keeps a pointer back to it).
    private let stream: UnsafeMutablePointer<z_stream>
    private var hasStream = false
    /// The compressed bytes read and not yet inflated.
    private let input: UnsafeMutablePointer<UInt8>
    private static let inputCapacity = 1 << 20
    /// Bytes read ahead into `input` before the caller asked (the magic).
    private var pending = 0
    /// A gzip member ended: another may follow (`cat a.gz b.gz`), else the data is over.
    private var betweenMembers = false
    private var isFinished = false

    /// Opens a file for reading.
    ///
    /// - Parameters:
    ///   - path: the file, as the user named it.
    ///   - limit: the most bytes produced, raw or once inflated.
    ///   - prefix: when true, only the first `limit` bytes are wanted: reading stops there and a
    ///     longer file is not an error.
    ///   - isCancelled: polled before every chunk; reading throws ``ReadInterrupted`` when it
    ///     returns true.
    /// - Throws: `DataError.unreadable` when the file cannot be read or is not a regular file,
    ///   `.tooLarge` for a raw file larger than `limit` (unless `prefix`), `.notGzip` when a
    ///   `*.gz` file lacks the magic.
    init(
      path: String, limit: Int = DataLimits.fileBytes, prefix: Bool = false,
      isCancelled: @escaping () -> Bool = { false }
    ) throws {
      self.path = path
      self.limit = limit
      self.prefix = prefix
      self.isCancelled = isCancelled
      file = try Gzip.open(path)
      fileSize = file.size
      stream = .allocate(capacity: 1)
      stream.initialize(to: z_stream())
      input = .allocate(capacity: Self.inputCapacity)
      let magic = (try? file.read(into: input, count: 2)) ?? -1
      pending = max(0, magic)
      consumed = pending
      isCompressed = magic == 2 && input[0] == 0x1f && input[1] == 0x8b
      if !isCompressed {
        if path.lowercased().hasSuffix(".gz") { throw DataError.notGzip(path: path) }
        if !prefix && fileSize > limit {
          throw DataError.tooLarge(
            path: path,
            message: "is \(NumberFormat.bytes(fileSize)); sigbook reads files of at most "
              + NumberFormat.bytes(limit))
        }
        return
      }
      // `inflateInit2` is a macro Swift does not import; 16 + 15 window bits selects gzip.
      let status = inflateInit2_(
        stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
      guard status == Z_OK else {
        throw DataError.corruptGzip(path: path, message: Gzip.zlibMessage(stream.pointee, status))
      }
      hasStream = true
      stream.pointee.next_in = input
      stream.pointee.avail_in = uInt(pending)
      pending = 0
    }

    deinit {
      if hasStream { inflateEnd(stream) }
      stream.deinitialize(count: 1)
      stream.deallocate()
      input.deallocate()
    }

    /// The most bytes the next read can give: what is left of a raw file (and one byte to see
    /// its end), unbounded for gzip data.
    var nextReadLimit: Int {
      isCompressed ? .max : max(0, fileSize - consumed) + pending + 1
    }

    /// How much of the file has been read, from 0 to 1.
    var fraction: Double {
      fileSize > 0 ? min(1, Double(consumed) / Double(fileSize)) : 1
    }

    /// Appends up to `count` more bytes of the file (inflated) to `buffer`.
    ///
    /// - Returns: the number of bytes appended: 0 at the end of the data (or of the prefix).
    /// - Throws: ``ReadInterrupted`` when `isCancelled` says so; `DataError.tooLarge` when the
    ///   data passes `limit` (unless `prefix`), `.truncatedGzip` or `.corruptGzip` for a damaged
    ///   stream, `.unreadable` when a read fails.
    @discardableResult
    func read(appendingTo buffer: inout [UInt8], upTo count: Int) throws -> Int {
      if isCancelled() { throw ReadInterrupted(path: path, fraction: fraction) }
      // One byte past the limit tells data that is exactly `limit` long from longer data.
      var want = min(count, (prefix ? limit : limit + 1) - produced)
      // A raw file's size is known: no room beyond it is asked for (and touched).
      want = min(want, nextReadLimit)
      guard want > 0, !isFinished else { return 0 }
      let start = buffer.count
      buffer.append(contentsOf: repeatElement(0, count: want))
      var got = 0
      do {
        got = try buffer.withUnsafeMutableBufferPointer { out -> Int in
          guard let base = out.baseAddress else { return 0 }
          return isCompressed
            ? try inflate(into: base + start, count: want) : try readRaw(into: base + start, want)
        }
      } catch {
        buffer.removeLast(want)
        throw error
      }
      buffer.removeLast(want - got)
      produced += got
      if !prefix && produced > limit {
        throw DataError.tooLarge(
          path: path,
          message: isCompressed
            ? "decompresses to more than \(NumberFormat.bytes(limit)); sigbook reads "
              + "files of at most \(NumberFormat.bytes(limit)) once decompressed"
            : "is more than \(NumberFormat.bytes(limit)); sigbook reads files of at most "
              + NumberFormat.bytes(limit))
      }
      return got
    }

    /// Reads raw bytes (the first ones may have been read ahead with the magic).
    private func readRaw(into target: UnsafeMutablePointer<UInt8>, _ count: Int) throws -> Int {
      var got = 0
      if pending > 0 {
        got = min(pending, count)
        target.update(from: input, count: got)
        if got < pending { input.update(from: input + got, count: pending - got) }
        pending -= got
      }
      let n = try readFully(into: target + got, count: count - got)
      consumed += n
      if got + n == 0 { isFinished = true }
      return got + n
    }

    /// Inflates into `target` until it holds `count` bytes or the data ends.
    private func inflate(into target: UnsafeMutablePointer<UInt8>, count: Int) throws -> Int {
      var filled = 0
      while filled < count && !isFinished {
        let available = Int(stream.pointee.avail_in)
        if (betweenMembers && available < 2) || available == 0 {
          // Keep what is left (at most one byte) at the start and read more after it.
          if available > 0, let next = stream.pointee.next_in { input.update(from: next, count: 1) }
          let n = try readFully(into: input + available, count: Self.inputCapacity - available)
          consumed += n
          stream.pointee.next_in = input
          stream.pointee.avail_in = uInt(available + n)
          if n == 0 {
            // The end of the file: fine between members, a cut stream otherwise.
            if betweenMembers {
              isFinished = true
              break
            }
            throw DataError.truncatedGzip(path: path)
          }
          continue
        }
        if betweenMembers {
          // Another member follows only if the magic does; anything else is ignored, as
          // `gzip -d` does.
          guard let next = stream.pointee.next_in, next[0] == 0x1f, next[1] == 0x8b else {
            isFinished = true
            break
          }
          inflateReset(stream)
          betweenMembers = false
        }
        let room = uInt(min(count - filled, Int(UInt32.max)))
        stream.pointee.next_out = target + filled
        stream.pointee.avail_out = room
        let status = CZlib.inflate(stream, Z_NO_FLUSH)
        filled += Int(room - stream.pointee.avail_out)
        switch status {
        case Z_OK, Z_BUF_ERROR:
          continue  // more output room or more input is needed: the loop provides either
        case Z_STREAM_END:
          betweenMembers = true
        default:
          throw DataError.corruptGzip(
            path: path, message: Gzip.zlibMessage(stream.pointee, status))
        }
      }
      return filled
    }

    /// Reads until `count` bytes or the end of the file.
    private func readFully(into target: UnsafeMutablePointer<UInt8>, count: Int) throws -> Int {
      do { return try file.read(into: target, count: count) } catch {
        throw Gzip.failure(error, path: path, limit: limit)
      }
    }
  }
}

/// Reading a file stopped because the user interrupted it (Ctrl-C): nothing it read is kept.
public struct ReadInterrupted: Error, Sendable, CustomStringConvertible {
  /// The file being read.
  var path: String
  /// How much of it had been read, from 0 to 1.
  var fraction: Double
  public var description: String {
    "interrupted (reading '\(path)' stopped at \(Int(fraction * 100))%)"
  }
}

import Foundation
import SigbookTensor

/// A seeded, structure-aware mutator of file bytes, for fuzzing the readers.
///
/// Each mutation applies one edit to a seed (two to four one time in four): a bit flipped, a byte set, bytes inserted,
/// deleted or repeated, the file cut short, an "interesting" integer (0, −1, 2³¹, 2³² − 1, 2⁶³…)
/// written little- or big-endian at one of the format's known fields (a header length, a
/// dimension) or anywhere, a token of the format's own vocabulary (`'shape'`, `"dtype"`, `0x10`)
/// put in, or a piece of another seed spliced in. The format's fields and tokens make most
/// inputs get past the first checks, where a purely random byte string would not.
/// Everything comes from `SeededGenerator`, so a run is the same on every machine.
public struct ByteMutator {
  /// Valid inputs to start from.
  public var seeds: [[UInt8]]
  /// Byte ranges of each seed's known fields (for seed `i`, `fields(i)`), where integers go.
  public var fields: (Int) -> [Range<Int>]
  /// Pieces of the format's syntax.
  public var tokens: [[UInt8]]

  public init(seeds: [[UInt8]], fields: @escaping (Int) -> [Range<Int>], tokens: [String]) {
    self.seeds = seeds
    self.fields = fields
    self.tokens = tokens.map { Array($0.utf8) }
  }

  /// Integers at the edges of the sizes readers compute with.
  public static let interesting: [UInt64] = [
    0, 1, 2, 3, 7, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x1_0000, 0x7fff_ffff,
    0x8000_0000, 0xffff_fffe, 0xffff_ffff, 1 << 32, 1 << 40, 1 << 62, UInt64(Int64.max),
    UInt64(Int64.max) + 2, UInt64.max,
  ]

  /// One mutated input; `seedIndex` says which seed it came from.
  public func input(_ g: inout SeededGenerator) -> (bytes: [UInt8], seedIndex: Int) {
    let index = g.nextInt(below: seeds.count)
    var bytes = seeds[index]
    let known = fields(index)
    // One edit three times in four (most inputs stay near a valid file), else two to four.
    let edits = g.nextInt(below: 4) == 0 ? 2 + g.nextInt(below: 3) : 1
    for _ in 0..<edits { mutate(&bytes, known: known, &g) }
    return (bytes, index)
  }

  private func mutate(_ bytes: inout [UInt8], known: [Range<Int>], _ g: inout SeededGenerator) {
    let n = bytes.count
    func position() -> Int { g.nextInt(below: n + 1) }
    switch g.nextInt(below: 11) {
    case 0 where n > 0:
      bytes[g.nextInt(below: n)] ^= 1 << UInt8(g.nextInt(below: 8))
    case 1 where n > 0:
      bytes[g.nextInt(below: n)] = UInt8(truncatingIfNeeded: g.next())
    case 2:
      let count = 1 + g.nextInt(below: 8)
      bytes.insert(
        contentsOf: (0..<count).map { _ in UInt8(truncatingIfNeeded: g.next()) }, at: position())
    case 3 where n > 0:
      let start = g.nextInt(below: n)
      bytes.removeSubrange(start..<Swift.min(n, start + 1 + g.nextInt(below: 16)))
    case 4 where n > 0:
      let start = g.nextInt(below: n)
      let piece = bytes[start..<Swift.min(n, start + 1 + g.nextInt(below: 32))]
      bytes.insert(contentsOf: piece, at: position())
    case 5 where n > 0:
      bytes.removeSubrange(g.nextInt(below: n)...)
    case 6, 7:
      // An interesting integer in a known field (or anywhere), in the field's width.
      let value =
        Self.interesting[g.nextInt(below: Self.interesting.count)]
        &+ (g.nextInt(below: 4) == 0 ? UInt64(bitPattern: Int64(g.nextInt(below: 3) - 1)) : 0)
      let range: Range<Int>
      if !known.isEmpty, g.nextInt(below: 4) != 0 {
        range = known[g.nextInt(below: known.count)]
      } else {
        let width = [1, 2, 4, 8][g.nextInt(below: 4)]
        let start = position()
        range = start..<start + width
      }
      guard range.upperBound <= bytes.count else { return }
      let bigEndian = g.nextInt(below: 2) == 0
      for (k, i) in range.enumerated() {
        let shift = bigEndian ? (range.count - 1 - k) * 8 : k * 8
        bytes[i] = shift < 64 ? UInt8(truncatingIfNeeded: value >> UInt64(shift)) : 0
      }
    case 8...9 where !tokens.isEmpty:
      let token = tokens[g.nextInt(below: tokens.count)]
      if g.nextInt(below: 2) == 0 || n == 0 {
        bytes.insert(contentsOf: token, at: position())
      } else {
        let start = g.nextInt(below: n)
        bytes.replaceSubrange(start..<Swift.min(n, start + token.count), with: token)
      }
    default:
      // A piece of another seed.
      let other = seeds[g.nextInt(below: seeds.count)]
      guard !other.isEmpty else { return }
      let start = g.nextInt(below: other.count)
      let piece = other[start..<Swift.min(other.count, start + 1 + g.nextInt(below: 64))]
      if n > 0, g.nextInt(below: 2) == 0 {
        let at = g.nextInt(below: n)
        bytes.replaceSubrange(at..<Swift.min(n, at + piece.count), with: piece)
      } else {
        bytes.insert(contentsOf: piece, at: position())
      }
    }
  }
}

/// How many inputs each reader's fuzz test runs: `SIGBOOK_READER_FUZZ_COUNT`, else `default`.
public func readerFuzzCount(default count: Int) -> Int {
  ProcessInfo.processInfo.environment["SIGBOOK_READER_FUZZ_COUNT"].flatMap { Int($0) } ?? count
}

/// When `SIGBOOK_FUZZ_SAVE` names a folder, each input is written there (as `current-NAME`)
/// before it is tried, so that the one a crash stopped at is kept; the file is removed when the
/// run ends normally.
///
/// The file is opened once and each input written over the last one (`ftruncate`, `pwrite`):
/// two system calls an input instead of creating and closing a file. What is written is in the
/// kernel's cache when the reader runs, so a crash of the process does not lose it.
public final class CrashRecorder {
  let url: URL?
  private let descriptor: Int32

  public init(_ name: String) {
    url = ProcessInfo.processInfo.environment["SIGBOOK_FUZZ_SAVE"].map {
      URL(fileURLWithPath: $0).appendingPathComponent("current-\(name)")
    }
    descriptor = url.map { open($0.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } ?? -1
  }

  deinit {
    if descriptor >= 0 { close(descriptor) }
  }

  public func record(_ bytes: [UInt8]) {
    guard descriptor >= 0 else { return }
    _ = ftruncate(descriptor, 0)
    _ = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
  }

  public func finish() {
    guard let url else { return }
    try? FileManager.default.removeItem(at: url)
  }
}

/// Where the time of a fuzz run goes: making inputs, recording them, reading them.
public struct FuzzTimes {
  public var mutate = Duration.zero
  public var record = Duration.zero
  public var read = Duration.zero
  private let clock = ContinuousClock()

  public init() {}

  /// Runs `body`, adding its time to `phase`.
  public mutating func measure<T>(
    _ phase: WritableKeyPath<FuzzTimes, Duration>, _ body: () throws -> T
  ) rethrows -> T {
    let start = clock.now
    defer { self[keyPath: phase] += clock.now - start }
    return try body()
  }

  /// `12.3 s (mutate 1.2 s, record 0.4 s, read 10.7 s)`.
  public var description: String {
    func seconds(_ d: Duration) -> String {
      let s = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
      return String(format: "%.1f s", s)
    }
    return
      "\(seconds(mutate + record + read)) (mutate \(seconds(mutate)), record \(seconds(record)), "
      + "read \(seconds(read)))"
  }
}

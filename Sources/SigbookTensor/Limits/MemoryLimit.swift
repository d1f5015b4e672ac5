#if canImport(Glibc)
  import Glibc
#endif
import Foundation

/// How much memory a session may hold: what its variables hold (``held``) plus what the next
/// operation would allocate, checked against an estimate before anything large is allocated, so
/// that a size typed wrong (`synthetic(n: 1e9)`, `sum(0...1e10)`, `pca` of a 100,000-wide layer)
/// or data piled up across statements (a list of 100 datasets, a string doubled 31 times) is
/// explained instead of exhausting the machine.
///
/// A session carries its own limit (`sigbook run --max-memory 4G`); nothing is global. The
/// default is 75% of the physical memory.
public struct MemoryLimit: Sendable, Hashable, CustomStringConvertible {
  /// The most bytes the session may hold.
  var bytes: Int
  /// The bytes the session holds already (its variables), which an operation's estimate is
  /// added to.
  public var held = 0

  /// A limit of `bytes` bytes (at least 1), none of them held yet.
  init(bytes: Int) { self.bytes = max(1, bytes) }

  /// Whether the whole process counts against the limit: what is left is the limit less the
  /// larger of ``held`` and the process's resident memory (its code and libraries, caches, memory
  /// the heap keeps), read from `/proc/self/statm` at each check. The command line sets it for
  /// `--max-memory`; a session inside another program (the tests) counts only what it holds.
  public var countsProcess = false

  /// What counts against the limit now: ``held``, or the resident memory when larger and
  /// ``countsProcess``.
  var used: Int {
    if let usedBefore { return max(held, usedBefore) }
    guard countsProcess, let resident = Self.residentBytes() else { return held }
    return max(held, resident)
  }

  /// What was used when an operation that counts its own allocations started (see
  /// ``startingOperation(allocated:)``), or nil.
  private var usedBefore: Int?

  /// The limit for an operation that checks its cumulative allocations as it goes (a file read
  /// row by row), or whose result exists already (`allocated` bytes): what is used is fixed at
  /// what it was without them, so that they are not counted twice once resident.
  public func startingOperation(allocated: Int = 0) -> MemoryLimit {
    var limit = self
    limit.usedBefore = max(held, used - allocated)
    return limit
  }

  /// The bytes an operation may still allocate: the limit less what is used.
  var available: Int { bytes == .max ? .max : max(0, bytes - used) }

  /// The process's resident memory: the second field of `/proc/self/statm`, in pages.
  static func residentBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else {
      return nil
    }
    let fields = text.split(separator: " ")
    let page = sysconf(Int32(_SC_PAGESIZE))
    guard fields.count >= 2, let pages = Int(fields[1]), page > 0 else { return nil }
    return DataLimits.product([pages, page])
  }

  /// No limit beyond what can be counted: only estimates that overflow are refused.
  public static let unlimited = MemoryLimit(bytes: .max)

  /// 75% of the physical memory, or ``unlimited`` when it cannot be found.
  public static func standard() -> MemoryLimit {
    guard let total = physicalMemory() else { return .unlimited }
    return MemoryLimit(bytes: total / 4 * 3)
  }

  /// The physical memory in bytes: `MemTotal` of `/proc/meminfo`, else `sysconf`, else nil.
  static func physicalMemory() -> Int? {
    if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
      let total = memTotal(inMeminfo: text)
    {
      return total
    }
    let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
    guard pages > 0, size > 0 else { return nil }
    return DataLimits.product([pages, size])
  }

  /// The `MemTotal:` line of a `/proc/meminfo` text, in bytes (the file counts kB).
  static func memTotal(inMeminfo text: String) -> Int? {
    for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
      let fields = line.split(separator: " ")
      guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
      return DataLimits.product([kilobytes, 1024])
    }
    return nil
  }

  /// A limit written as people write it: `4G`, `512M`, `1.5G`, `700K`, `4GiB`, `2048` (bytes).
  ///
  /// Units are powers of 1,024 and case-insensitive; a trailing `B` or `iB` is allowed.
  /// Returns nil for anything else, zero or negative sizes, and sizes beyond `Int.max`.
  public init?(parsing text: String) {
    var rest = text.trimmingCharacters(in: .whitespaces).lowercased()
    if rest.hasSuffix("ib") {
      rest.removeLast(2)
    } else if rest.hasSuffix("b") {
      rest.removeLast()
    }
    var unit = 1.0
    if let last = rest.last, let power = ["k": 1, "m": 2, "g": 3, "t": 4][String(last)] {
      unit = pow(1024, Double(power))
      rest.removeLast()
    }
    guard !rest.isEmpty, rest.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
      let value = Double(rest), value > 0
    else { return nil }
    let bytes = (value * unit).rounded()
    guard bytes >= 1, bytes < 9.2e18 else { return nil }
    self.init(bytes: Int(bytes))
  }

  /// `4 GiB`.
  public var description: String {
    bytes == .max ? "unlimited" : NumberFormat.bytes(bytes)
  }

  /// Refuses an operation whose estimate exceeds what is left of the limit.
  ///
  /// - Parameters:
  ///   - estimate: the bytes the operation would allocate (``MemoryEstimate``); `Int.max` when
  ///     the estimate overflowed.
  ///   - what: the operation, as the message names it (`synthetic data of 1,000,000 points`).
  ///   - advice: what to do instead (`use fewer points`); the message adds `--max-memory`.
  /// - Throws: a ``MemoryRefusal`` saying how much it would take, the limit and what to do.
  public func check(_ estimate: Int, for what: String, advice: String) throws(MemoryRefusal) {
    let used = used
    let available = bytes == .max ? Int.max : max(0, bytes - used)
    guard estimate > available || estimate == .max else { return }
    let amount =
      estimate == .max ? "more memory than can be counted" : "about \(NumberFormat.bytes(estimate))"
    let holders =
      used > held
      ? "the program holds \(NumberFormat.bytes(used)), its variables \(NumberFormat.bytes(held))"
      : "the session's variables hold \(NumberFormat.bytes(held))"
    let room =
      used > 0
      ? "the \(NumberFormat.bytes(available)) left of the memory limit of \(self) (\(holders))"
      : "the memory limit of \(self)"
    throw MemoryRefusal(
      message: "\(what) would need \(amount), more than \(room)",
      hint: "\(advice), or raise the limit with --max-memory (now \(self))")
  }
}

extension MemoryLimit {
  /// Hands memory freed inside the C heap back to the system (glibc's `malloc_trim`).
  ///
  /// The command line keeps blocks of up to 256 MiB in the heap and trims it only past 512 MiB
  /// free (training is faster so), so buffers that grow by doubling (a CSV read row by row, a
  /// text doubled) leave their earlier copies resident: memory then counts them on top of what
  /// the session holds. Called after such a buffer grew or a large value was replaced; it costs
  /// one walk of the heap's free chunks.
  public static func releaseFreedMemory() {
    if let trim = mallocTrim { _ = trim(0) }
  }

  private typealias Trim = @convention(c) (Int) -> Int32

  /// glibc's `malloc_trim`, found at run time: Swift's Glibc module does not declare it.
  private static let mallocTrim: Trim? = dlsym(
    UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim"
  ).map { unsafeBitCast($0, to: Trim.self) }
}

/// An operation refused because it would need more memory than the session's ``MemoryLimit``.
public struct MemoryRefusal: Error, Sendable, Equatable, CustomStringConvertible {
  /// `pca of 10 points of 100,000 features would need about 298 GiB, more than …`.
  public var message: String
  /// What to do instead.
  public var hint: String
  public var description: String { message }
}

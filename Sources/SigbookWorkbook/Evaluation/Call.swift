import SigbookData
import SigbookNN
import SigbookPlot

/// A call of a catalogue function with its arguments bound and checked against its parameters.
///
/// Accessors take the parameter's label (or positional name). Arguments have already been
/// checked to be of the accepted kind, so an accessor of the wrong kind is a mistake in the
/// catalogue, caught by a precondition.
public struct Call {
  public let entry: FunctionEntry
  /// The argument of each parameter, by label or positional name (defaults filled in).
  let arguments: [String: Value]
  /// The arguments collected by a variadic parameter.
  public let variadic: [Value]
  /// Arguments passed with labels no parameter names, in order (`table(width: ws, …)`).
  public var extra: [(label: String, value: Value)] = []
  /// For arguments written as a plain variable, its name (for messages: `'train'`).
  let variableNames: [String: String]
  /// The session the call runs in (files, progress, cancellation).
  public let session: Session

  /// The argument of a parameter, or nil if it was left out without a default.
  public func value(_ key: String) -> Value? { arguments[key] }

  public func number(_ key: String) -> Double {
    guard case .number(let x)? = arguments[key] else { return mismatch(key, "a number") }
    return x
  }

  public func optionalNumber(_ key: String) -> Double? {
    arguments[key] == nil ? nil : number(key)
  }

  public func int(_ key: String) -> Int { Int(number(key)) }

  public func optionalInt(_ key: String) -> Int? { arguments[key] == nil ? nil : int(key) }

  public func text(_ key: String) -> String {
    guard case .text(let t)? = arguments[key] else { return mismatch(key, "a text") }
    return t
  }

  public func optionalText(_ key: String) -> String? { arguments[key] == nil ? nil : text(key) }

  public func bool(_ key: String) -> Bool {
    guard case .bool(let b)? = arguments[key] else { return mismatch(key, "a bool") }
    return b
  }

  public func option(_ key: String) -> String {
    guard case .option(let o)? = arguments[key] else { return mismatch(key, "an option") }
    return o
  }

  public func dataset(_ key: String) -> Dataset {
    guard case .dataset(let d)? = arguments[key] else { return mismatch(key, "a dataset") }
    return d
  }

  public func optionalDataset(_ key: String) -> Dataset? {
    arguments[key] == nil ? nil : dataset(key)
  }

  public func model(_ key: String) -> Model {
    guard case .model(let m)? = arguments[key] else { return mismatch(key, "a model") }
    return m
  }

  public func optionalModel(_ key: String) -> Model? { arguments[key] == nil ? nil : model(key) }

  public func figure(_ key: String) -> Figure {
    guard case .figure(let f)? = arguments[key] else { return mismatch(key, "a figure") }
    return f
  }

  /// A list of whole numbers (a range is accepted too).
  public func intList(_ key: String) -> [Int] {
    guard case .list(let items)? = arguments[key] else { return mismatch(key, "a list") }
    return items.map { item in
      guard case .number(let x) = item else { return mismatch(key, "a list of numbers") }
      return Int(x)
    }
  }

  public func optionalIntList(_ key: String) -> [Int]? {
    arguments[key] == nil ? nil : intList(key)
  }

  /// The variadic arguments as whole numbers.
  public var variadicInts: [Int] {
    variadic.map { v in
      guard case .number(let x) = v else { return mismatch("…", "numbers") }
      return Int(x)
    }
  }

  /// How to name an argument in a message: `'train'` when it was a variable, else `fallback`.
  public func describe(_ key: String, fallback: String) -> String {
    variableNames[key].map { "'\($0)'" } ?? fallback
  }

  /// The name of the variable passed as the variadic argument at `index` (from 0), if it was
  /// written as a plain variable (`roc(knn, softmax)` → `knn`, `softmax`), else nil.
  public func variadicVariableName(_ index: Int) -> String? {
    variableNames[Call.variadicKey(index)]
  }

  /// The key under which ``variableNames`` keeps the variable of the variadic argument at `index`.
  static func variadicKey(_ index: Int) -> String { "…\(index)" }

  /// A failure that blames the argument of `key` (or the whole call when key is nil).
  public func failure(
    _ message: String, blaming key: String? = nil, kind: WorkbookError.Kind = .value,
    hint: String? = nil
  ) -> CallFailure {
    CallFailure(message, kind: kind, parameter: key, hint: hint)
  }

  /// Refuses the call when an operation would need more than the session's memory limit.
  ///
  /// - Parameters:
  ///   - estimate: the bytes it would allocate (``MemoryEstimate``).
  ///   - what: the operation, as the message names it.
  ///   - advice: what to do instead; the hint adds `--max-memory`.
  ///   - key: the argument to blame, or nil for the whole call.
  /// - Throws: a `runtime` failure saying how much it would take and the limit.
  public func requireMemory(
    _ estimate: Int, for what: String, advice: String, blaming key: String? = nil
  ) throws(CallFailure) {
    do {
      try session.memoryLimit.check(estimate, for: what, advice: advice)
    } catch {
      throw CallFailure(error.message, kind: .runtime, parameter: key, hint: error.hint)
    }
  }

  /// Whether the user stopped the statement.
  public var isCancelled: Bool { session.isCancelled() }

  private func mismatch<T>(_ key: String, _ expected: String) -> T {
    preconditionFailure(
      "catalogue entry '\(entry.name)' reads '\(key)' as \(expected) but its parameter says otherwise"
    )
  }
}

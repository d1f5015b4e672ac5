import SigbookData
import SigbookNN
import SigbookPlot

/// A call of a catalogue function with its arguments bound and checked against its parameters.
///
/// Accessors take the parameter's label (or positional name). Arguments have already been
/// checked to be of the accepted kind, so an accessor of the wrong kind is a mistake in the
/// catalogue, caught by a precondition.
struct Call {
  let entry: FunctionEntry
  /// The argument of each parameter, by label or positional name (defaults filled in).
  let arguments: [String: Value]
  /// The arguments collected by a variadic parameter.
  let variadic: [Value]
  /// Arguments passed with labels no parameter names, in order (`table(width: ws, …)`).
  var extra: [(label: String, value: Value)] = []
  /// For arguments written as a plain variable, its name (for messages: `'train'`).
  let variableNames: [String: String]
  /// The session the call runs in (files, progress, cancellation).
  let session: Session

  /// The argument of a parameter, or nil if it was left out without a default.
  func value(_ key: String) -> Value? { arguments[key] }

  func number(_ key: String) -> Double {
    guard case .number(let x)? = arguments[key] else { return mismatch(key, "a number") }
    return x
  }

  func optionalNumber(_ key: String) -> Double? {
    arguments[key] == nil ? nil : number(key)
  }

  func int(_ key: String) -> Int { Int(number(key)) }

  func optionalInt(_ key: String) -> Int? { arguments[key] == nil ? nil : int(key) }

  func text(_ key: String) -> String {
    guard case .text(let t)? = arguments[key] else { return mismatch(key, "a text") }
    return t
  }

  func optionalText(_ key: String) -> String? { arguments[key] == nil ? nil : text(key) }

  func bool(_ key: String) -> Bool {
    guard case .bool(let b)? = arguments[key] else { return mismatch(key, "a bool") }
    return b
  }

  func option(_ key: String) -> String {
    guard case .option(let o)? = arguments[key] else { return mismatch(key, "an option") }
    return o
  }

  func dataset(_ key: String) -> Dataset {
    guard case .dataset(let d)? = arguments[key] else { return mismatch(key, "a dataset") }
    return d
  }

  func optionalDataset(_ key: String) -> Dataset? {
    arguments[key] == nil ? nil : dataset(key)
  }

  func model(_ key: String) -> Model {
    guard case .model(let m)? = arguments[key] else { return mismatch(key, "a model") }
    return m
  }

  func optionalModel(_ key: String) -> Model? { arguments[key] == nil ? nil : model(key) }

  func figure(_ key: String) -> Figure {
    guard case .figure(let f)? = arguments[key] else { return mismatch(key, "a figure") }
    return f
  }

  /// A list of whole numbers (a range is accepted too).
  func intList(_ key: String) -> [Int] {
    guard case .list(let items)? = arguments[key] else { return mismatch(key, "a list") }
    return items.map { item in
      guard case .number(let x) = item else { return mismatch(key, "a list of numbers") }
      return Int(x)
    }
  }

  /// One text, or a list of texts.
  func textList(_ key: String) -> [String] {
    switch arguments[key] {
    case .text(let t)?: return [t]
    case .list(let items)?:
      return items.map { item in
        guard case .text(let t) = item else { return mismatch(key, "a list of texts") }
        return t
      }
    default: return mismatch(key, "a text or a list of texts")
    }
  }

  func optionalIntList(_ key: String) -> [Int]? {
    arguments[key] == nil ? nil : intList(key)
  }

  /// The variadic arguments as whole numbers.
  var variadicInts: [Int] {
    variadic.map { v in
      guard case .number(let x) = v else { return mismatch("…", "numbers") }
      return Int(x)
    }
  }

  /// How to name an argument in a message: `'train'` when it was a variable, else `fallback`.
  func describe(_ key: String, fallback: String) -> String {
    variableNames[key].map { "'\($0)'" } ?? fallback
  }

  /// The name of the variable passed as the variadic argument at `index` (from 0), if it was
  /// written as a plain variable (`roc(knn, softmax)` → `knn`, `softmax`), else nil.
  func variadicVariableName(_ index: Int) -> String? {
    variableNames[Call.variadicKey(index)]
  }

  /// The key under which ``variableNames`` keeps the variable of the variadic argument at `index`.
  static func variadicKey(_ index: Int) -> String { "…\(index)" }

  /// A failure that blames the argument of `key` (or the whole call when key is nil).
  func failure(
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
  func requireMemory(
    _ estimate: Int, for what: String, advice: String, blaming key: String? = nil
  ) throws(CallFailure) {
    do {
      try session.memoryLimit.check(estimate, for: what, advice: advice)
    } catch {
      throw CallFailure(error.message, kind: .runtime, parameter: key, hint: error.hint)
    }
  }

  /// Whether the user stopped the statement.
  var isCancelled: Bool { session.isCancelled() }

  private func mismatch<T>(_ key: String, _ expected: String) -> T {
    preconditionFailure(
      "catalogue entry '\(entry.name)' reads '\(key)' as \(expected) but its parameter says otherwise"
    )
  }
}

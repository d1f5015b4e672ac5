/// What `sigbook check` knows of a value without running: its kind, and for a list the kind of
/// its items, when they can be told from the source.
///
/// The rules that give the kind of an operation (`+` of two lists, `sig[2]`, `net.history`) are
/// written once, in `Typing`, and both the evaluator and the checker follow them, so a mistake
/// gets the same message from `run` and from `check`.
struct StaticType: Sendable, Hashable {
  /// The kind, or nil when it cannot be known before running.
  var kind: ValueKind?
  /// For a list, the kind of its items when they all have one.
  var element: ValueKind?

  /// Nothing is known.
  static let unknown = StaticType(kind: nil, element: nil)

  /// A value of a known kind.
  static func of(_ kind: ValueKind) -> StaticType { StaticType(kind: kind, element: nil) }

  /// A list whose items are of `element` (nil: not known).
  static func list(of element: ValueKind?) -> StaticType {
    StaticType(kind: .list, element: element)
  }

  /// The type of a value already computed (a REPL variable).
  init(of value: Value) {
    kind = value.kind
    element = nil
    if case .list(let items) = value, let first = items.first?.kind,
      items.allSatisfy({ $0.kind == first })
    {
      element = first
    }
  }

  /// Creates a type.
  init(kind: ValueKind?, element: ValueKind?) {
    self.kind = kind
    self.element = element
  }

  /// The type of what a function declared to return `accepts` gives.
  init(declared accepts: Accepts) {
    switch accepts {
    case .list(let element): self = .list(of: StaticType(declared: element).kind)
    default: self = StaticType(kind: accepts.singleKind, element: nil)
    }
  }

  /// What a variable assigned in two branches holds afterwards: the common type, else unknown.
  func merged(with other: StaticType) -> StaticType {
    if self == other { return self }
    if kind == other.kind { return StaticType(kind: kind, element: nil) }
    return .unknown
  }
}

extension Accepts {
  /// The one kind of value this accepts, or nil when it takes several kinds.
  var singleKind: ValueKind? {
    switch self {
    case .number, .integer: .number
    case .option: .option
    case .kind(let kind): kind
    case .list: .list
    case .any, .oneOf: nil
    }
  }

  /// Whether a value of this type could be accepted (true when not enough is known to say no).
  func mayAccept(_ type: StaticType) -> Bool {
    guard let kind = type.kind else { return true }
    switch self {
    case .any: return kind != .nothing
    case .oneOf(let choices): return choices.contains { $0.mayAccept(type) }
    case .list(let element):
      if kind == .range { return element == .integer || element == .number || element == .any }
      guard kind == .list else { return false }
      guard let item = type.element else { return true }
      return element.mayAccept(.of(item))
    default: return singleKind == kind
    }
  }
}

/// The typing rules of the language's operators, indexes and fields, shared by the evaluator
/// and the checker.
enum Typing {
  /// The kind `a op b` gives, or the message of the error both `run` and `check` report.
  static func binary(_ op: BinaryOperator, _ a: ValueKind, _ b: ValueKind) -> Result<
    StaticType, TypingError
  > {
    switch op {
    case .equal, .notEqual: return .success(.of(.bool))
    case .add:
      switch (a, b) {
      case (.number, .number): return .success(.of(.number))
      case (.text, .text): return .success(.of(.text))
      case (.list, .list), (.list, .range), (.range, .list), (.range, .range):
        return .success(.list(of: nil))
      default:
        return .failure(
          TypingError(
            "'+' needs two numbers, two texts or two lists, not \(a.withArticle) and \(b.withArticle)",
            hint: a == .list || b == .list ? "to add one item to a list: xs + [x]" : nil))
      }
    case .less, .lessEqual, .greater, .greaterEqual:
      if (a == .number && b == .number) || (a == .text && b == .text) {
        return .success(.of(.bool))
      }
      return .failure(
        TypingError(
          "'\(op.symbol)' compares two numbers or two texts, not \(a.withArticle) and \(b.withArticle)"
        ))
    case .subtract, .multiply, .divide:
      if a == .number && b == .number { return .success(.of(.number)) }
      return .failure(
        TypingError(
          "'\(op.symbol)' needs two numbers, not \(a.withArticle) and \(b.withArticle)",
          hint: a == .list || b == .list ? "for the numbers of a list: sum(xs), mean(xs)" : nil))
    }
  }

  /// The error when an operand of `and`, `or`, `not`, `if` is not a bool, or nil.
  static func condition(_ kind: ValueKind, _ what: String) -> TypingError? {
    kind == .bool ? nil : TypingError("\(what) needs true or false, not \(kind.withArticle)")
  }

  /// The kind `base[index]` gives, or the error.
  static func index(_ base: StaticType, _ index: ValueKind) -> Result<StaticType, TypingError> {
    guard let kind = base.kind else { return .success(.unknown) }
    switch (kind, index) {
    case (.list, .number): return .success(StaticType(kind: base.element, element: nil))
    case (.list, .range): return .success(base)
    case (.dataset, .number), (.dataset, .range): return .success(.of(.dataset))
    case (.signatures, .number): return .success(.of(.signatureLayer))
    case (.clustering, .number), (.clustering, .range): return .success(.of(.clustering))
    case (.table, .number), (.table, .range): return .success(.of(.table))
    default:
      return .failure(
        TypingError("\(kind.withArticle) cannot be indexed by \(index.withArticle)"))
    }
  }

  /// What `for x in sequence` binds `x` to, or the error.
  static func loopItem(_ sequence: StaticType) -> Result<StaticType, TypingError> {
    guard let kind = sequence.kind else { return .success(.unknown) }
    switch kind {
    case .list: return .success(StaticType(kind: sequence.element, element: nil))
    case .range: return .success(.of(.number))
    case .table: return .success(.of(.table))
    default:
      return .failure(
        TypingError("'for' needs a list, a range or a table, not \(kind.withArticle)"))
    }
  }

  /// The fields of each kind of value with the type each gives, in the order help lists them;
  /// a table also answers its column names.
  static func fields(of kind: ValueKind) -> [(name: String, type: StaticType)] {
    let number = StaticType.of(.number), numbers = StaticType.list(of: .number)
    let texts = StaticType.list(of: .text)
    switch kind {
    case .dataset:
      return [
        ("count", number), ("features", numbers), ("classes", texts), ("labels", texts),
        ("name", .of(.text)),
      ]
    case .model:
      return [
        ("layers", .list(of: .layer)), ("history", .of(.history)), ("parameters", number),
        ("inputs", numbers), ("outputs", number), ("classes", texts), ("trained", .of(.bool)),
        ("signature_widths", numbers), ("seconds", number),
      ]
    case .history:
      return [
        ("count", number), ("loss", numbers), ("accuracy", numbers), ("val_loss", numbers),
        ("val_accuracy", numbers), ("batch_loss", numbers), ("seconds", number),
        ("last", .of(.table)),
      ]
    case .list: return [("count", number), ("first", .unknown), ("last", .unknown)]
    case .range: return [("count", number)]
    case .table: return [("count", number), ("columns", texts)]
    case .text: return [("count", number)]
    case .figure: return [("kind", .of(.text)), ("title", .of(.text))]
    case .signatures:
      return [("count", number), ("layers", number), ("widths", numbers), ("classes", texts)]
    case .signatureLayer: return [("count", number), ("width", number), ("name", .of(.text))]
    case .clustering:
      return [
        ("k", .unknown), ("layers", number), ("silhouette", .unknown), ("inertia", .unknown),
        ("sizes", .unknown), ("count", number),
      ]
    case .projection:
      return [("count", number), ("trustworthiness", number), ("method", .of(.text))]
    case .novelty:
      return [
        ("auroc", number), ("aupr", number), ("fpr95", number), ("layer", .of(.text)),
        ("best", .of(.text)), ("method", .of(.option)), ("scores", .of(.table)),
      ]
    default: return []
    }
  }

  /// The type of `base.name`, or the error `run` gives for a field the kind does not have.
  static func field(_ base: StaticType, _ name: String) -> Result<StaticType, TypingError> {
    guard let kind = base.kind else { return .success(.unknown) }
    let fields = self.fields(of: kind)
    if let field = fields.first(where: { $0.name == name }) { return .success(field.type) }
    // A table's columns are known only when it is built.
    if kind == .table { return .success(.unknown) }
    return .failure(missingField(kind, name, among: fields.map(\.name)))
  }

  /// The error for a field a kind of value does not have.
  static func missingField(_ kind: ValueKind, _ name: String, among fields: [String])
    -> TypingError
  {
    TypingError(
      fields.isEmpty
        ? "\(kind.withArticle) has no fields" : "\(kind.withArticle) has no field '\(name)'",
      hint: nearestName(to: name, among: fields).map { "did you mean '\($0)'?" }
        ?? (fields.isEmpty ? nil : "its fields: " + fields.joined(separator: ", ")))
  }
}

/// A message and hint from a typing rule, placed by whoever applies the rule.
struct TypingError: Error, Sendable {
  var message: String
  var hint: String?

  init(_ message: String, hint: String? = nil) {
    self.message = message
    self.hint = hint
  }

  /// The error at a place in the source.
  func at(_ span: SourceSpan, kind: WorkbookError.Kind = .type) -> WorkbookError {
    WorkbookError(kind: kind, message: message, span: span, hint: hint)
  }
}

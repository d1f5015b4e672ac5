extension Value {
  /// The value an expression stands for by itself: a number, `true`/`false`, an option, or a
  /// string without interpolations; nil for anything to compute.
  ///
  /// The one reading of literals: the evaluator starts from it, and `check` and `--set` fold
  /// constant expressions with it.
  init?(literal expression: Expression) {
    switch expression {
    case .number(let x, _): self = .number(x)
    case .bool(let b, _): self = .bool(b)
    case .option(let name, _): self = .option(name)
    case .string(let parts, _):
      var text = ""
      for part in parts {
        guard case .text(let t) = part else { return nil }
        text += t
      }
      self = .text(text)
    default: return nil
    }
  }
}

/// Writing syntax trees back as source text, for the REPL's `:export` and for messages.
///
/// The printer writes one statement a line, one space around binary operators and after commas
/// and colons, none around range operators (`0..<5`), and blocks indented by two spaces. It adds
/// parentheses only where the tree needs them (parsed trees keep theirs as `parenthesized`
/// nodes), so that parsing the text gives back the same tree, locations aside. Comments are not
/// part of the tree and are not written.
extension Expression {
  /// The expression as source text.
  var source: String {
    switch self {
    case .number(let value, _):
      return formatNumber(value)
    case .string(let parts, _):
      var text = "\""
      for part in parts {
        switch part {
        case .text(let string): text += escapedForLiteral(string)
        case .interpolation(let expression): text += "\\(" + expression.source + ")"
        }
      }
      return text + "\""
    case .bool(let value, _):
      return value ? "true" : "false"
    case .list(let elements, _):
      return "[" + elements.map(\.source).joined(separator: ", ") + "]"
    case .range(let lower, let upper, let isClosed, _):
      return lower.source(above: .range) + (isClosed ? "..." : "..<")
        + upper.source(above: .range)
    case .option(let name, _):
      return "." + name
    case .variable(let identifier):
      return identifier.name
    case .call(let function, let arguments, let labelled, _):
      let all =
        arguments.map(\.source) + labelled.map { "\($0.label.name): \($0.value.source)" }
      return function.name + "(" + all.joined(separator: ", ") + ")"
    case .field(let base, let name, _):
      return base.source(atLeast: .postfix) + "." + name.name
    case .index(let base, let index, _):
      return base.source(atLeast: .postfix) + "[" + index.source + "]"
    case .negate(let operand, _):
      let inner = operand.source(atLeast: .unary)
      // `- -x` rather than `--x`, which reads like an operator that does not exist.
      return inner.hasPrefix("-") ? "- " + inner : "-" + inner
    case .binary(let op, let left, let right, _):
      let precedence = op.precedence
      let leftText =
        op.isComparison ? left.source(above: precedence) : left.source(atLeast: precedence)
      return leftText + " " + op.symbol + " " + right.source(above: precedence)
    case .parenthesized(let inner, _):
      return "(" + inner.source + ")"
    case .logical(let op, let left, let right, _):
      // Left associative: a right operand of the same operator needs parentheses.
      return left.source(atLeast: op.precedence) + " " + op.symbol + " "
        + right.source(above: op.precedence)
    case .not(let operand, _):
      return "not " + operand.source(atLeast: .not)
    }
  }

  /// The source, in parentheses unless the expression binds at least as tightly as `precedence`.
  private func source(atLeast precedence: Precedence) -> String {
    self.precedence >= precedence ? source : "(" + source + ")"
  }

  /// The source, in parentheses unless the expression binds more tightly than `precedence`.
  private func source(above precedence: Precedence) -> String {
    self.precedence > precedence ? source : "(" + source + ")"
  }
}

extension Statement {
  /// The statement as source text, its lines indented by `indentation`, without a final line
  /// break.
  public func source(indentation: String = "") -> String {
    switch self {
    case .expression(let expression):
      return indentation + expression.source
    case .assignment(let target, let value, _):
      return indentation + target.name + " = " + value.source
    case .destructuring(let targets, let value, _):
      return indentation + targets.map(\.name).joined(separator: ", ") + " = " + value.source
    case .forLoop(let variable, let sequence, let body, _):
      var lines = [indentation + "for \(variable.name) in \(sequence.source) {"]
      lines += body.map { $0.source(indentation: indentation + "  ") }
      lines.append(indentation + "}")
      return lines.joined(separator: "\n")
    case .ifStatement(let branches, let otherwise, _):
      var lines: [String] = []
      for (i, branch) in branches.enumerated() {
        let head = "if \(branch.condition.source) {"
        lines.append(i == 0 ? indentation + head : indentation + "} else " + head)
        lines += branch.body.map { $0.source(indentation: indentation + "  ") }
      }
      if let otherwise {
        lines.append(indentation + "} else {")
        lines += otherwise.map { $0.source(indentation: indentation + "  ") }
      }
      lines.append(indentation + "}")
      return lines.joined(separator: "\n")
    case .function(let definition):
      let parameters = definition.parameters.map { p in
        p.defaultValue.map { "\(p.name.name): \($0.source)" } ?? p.name.name
      }
      var lines = [
        indentation + "func \(definition.name.name)(\(parameters.joined(separator: ", "))) {"
      ]
      lines += definition.body.map { $0.source(indentation: indentation + "  ") }
      lines.append(indentation + "}")
      return lines.joined(separator: "\n")
    case .returnStatement(let value, _):
      return indentation + "return" + (value.map { " " + $0.source } ?? "")
    }
  }
}

extension Cell {
  /// The cell's statements as source text, one a line, each ending with a line break.
  public var source: String {
    statements.map { $0.source() + "\n" }.joined()
  }
}

/// A number as a literal that reads back as the same `Double`: whole numbers as integers
/// (`14`), others in Swift's shortest round-trip form (`0.05`, `1e-05`).
func formatNumber(_ value: Double) -> String {
  if value == value.rounded(), abs(value) < 1e15 {
    // `-0.0` prints as `0`; a literal cannot be negative anyway.
    return String(Int64(value))
  }
  return "\(value)"
}

/// Text escaped for a string literal: `\`, `"`, line breaks, tabs and NUL.
func escapedForLiteral(_ text: String) -> String {
  var result = ""
  // Unicode scalars, not characters: `\r` followed by `\n` is one `Character` in Swift.
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\\": result += "\\\\"
    case "\"": result += "\\\""
    case "\n": result += "\\n"
    case "\t": result += "\\t"
    case "\r": result += "\\r"
    case "\0": result += "\\0"
    default: result.unicodeScalars.append(scalar)
    }
  }
  return result
}

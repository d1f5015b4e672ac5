/// Which names each cell of a workbook reads and writes, read from the syntax tree without
/// running anything, and which cells a change makes stale (`sigbook serve`, `--watch`, the
/// REPL's `:run` after `:load` of an edited file).
///
/// A cell **writes** the names it assigns at any depth (`x = …`, `a, b = …`, inside `for` and
/// `if` blocks, a `for` loop's variable) and the functions it defines (`func study(…)`); it
/// **reads** every name it uses before a statement at its top level has assigned it, and every
/// function it calls. A workbook function's body reads variables when it is called, so the
/// names its body reads (other than its parameters and its own locals) count as reads of the
/// cell that defines it: a change of those re-runs the definition, which re-runs its callers.
///
/// What the syntax tree cannot show is not tracked: a file one cell writes (`save`, `export`)
/// and another reads (`load_model`, `npy`).
public struct DependencyGraph: Sendable, Hashable {
  /// The names one cell reads and writes.
  public struct Names: Sendable, Hashable {
    /// Names the cell uses that it has not assigned before, functions it calls included.
    public var reads: Set<String>
    /// Names the cell assigns, and functions it defines.
    public var writes: Set<String>
    /// Names assigned by a top-level assignment (`x = …`, `a, b = …`), which always runs: the
    /// value such a statement gives replaces whatever came before.
    var assigns: Set<String>
    /// The names of each top-level statement, in order (empty for a statement's own names).
    /// A statement's reads include names an earlier statement of the cell assigned.
    public var statements: [Names]

    /// Creates a pair of name sets.
    public init(
      reads: Set<String> = [], writes: Set<String> = [], assigns: Set<String> = [],
      statements: [Names] = []
    ) {
      self.reads = reads
      self.writes = writes
      self.assigns = assigns
      self.statements = statements
    }
  }

  /// The names of each cell, in workbook order (element 0 is cell 1).
  public var cells: [Names]

  /// Reads the names of every cell.
  public init(cells: [Cell]) {
    self.cells = cells.map(Self.names(of:))
  }

  /// The names one cell reads and writes.
  public static func names(of cell: Cell) -> Names {
    var collector = NameCollector()
    collector.visit(cell.statements, assigned: [])
    let statements = cell.statements.map { statement in
      var one = NameCollector()
      one.visit([statement], assigned: [])
      let assigns: Set<String> =
        switch statement {
        case .assignment(let target, _, _): [target.name]
        case .destructuring(let targets, _, _): Set(targets.map(\.name))
        default: []
        }
      return Names(reads: one.reads, writes: one.writes, assigns: assigns)
    }
    return Names(
      reads: collector.reads, writes: collector.writes,
      assigns: statements.reduce(into: []) { $0.formUnion($1.assigns) }, statements: statements)
  }

  /// The cells (numbered from 1) that must run again when `changed` cells changed, or the
  /// values of some of their assignments did (a parameter set from the page).
  ///
  /// Names are followed statement by statement: a statement is affected when it reads a name
  /// whose value changed (or is an assignment whose value was changed), and then every name it
  /// writes changes too; a top-level assignment that is not affected gives its name the same
  /// value as before, whatever came earlier. A cell runs again when one of its statements is
  /// affected. A cell whose code changed is affected as a whole: all it writes, and wrote
  /// before, changes.
  ///
  /// - Parameters:
  ///   - changed: the numbers of the cells whose code changed.
  ///   - formerWrites: names changed cells wrote before they changed (a renamed variable
  ///     still makes the cells that read its old name stale), by cell number.
  ///   - changedValues: by cell number, the names whose top-level assignments in that cell now
  ///     assign another value (the rest of the cell is the same).
  /// - Returns: the stale cells (within the workbook's cells).
  /// - Complexity: O(statements × names).
  public func staleCells(
    changed: Set<Int>, formerWrites: [Int: Set<String>] = [:],
    changedValues: [Int: Set<String>] = [:]
  ) -> Set<Int> {
    var stale: Set<Int> = []
    var dirtyNames: Set<String> = []
    for (offset, names) in cells.enumerated() {
      let number = offset + 1
      if changed.contains(number) {
        stale.insert(number)
        dirtyNames.formUnion(names.writes)
        dirtyNames.formUnion(formerWrites[number] ?? [])
        continue
      }
      let seeds = changedValues[number] ?? []
      for statement in names.statements {
        if !statement.assigns.isDisjoint(with: seeds)
          || !statement.reads.isDisjoint(with: dirtyNames)
        {
          stale.insert(number)
          dirtyNames.formUnion(statement.writes)
        } else {
          dirtyNames.subtract(statement.assigns)
        }
      }
    }
    return stale
  }

  /// The numbers of the cells whose code differs between two versions of a workbook (ignoring
  /// where the code sits in the file), cells present in only one of them included.
  public static func changedCells(from old: [Cell], to new: [Cell]) -> Set<Int> {
    var changed: Set<Int> = []
    for index in 0..<max(old.count, new.count) {
      guard index < old.count, index < new.count, old[index].isEquivalent(to: new[index]),
        old[index].hasErrors == new[index].hasErrors
      else {
        changed.insert(index + 1)
        continue
      }
    }
    return changed
  }
}

/// Walks statements and expressions, collecting reads and writes.
private struct NameCollector {
  var reads: Set<String> = []
  var writes: Set<String> = []

  /// Visits a block; `assigned` holds the names certainly assigned before it in the cell (reads
  /// of those are the cell's own values, not inputs).
  mutating func visit(_ statements: [Statement], assigned: Set<String>) {
    var assigned = assigned
    for statement in statements {
      switch statement {
      case .expression(let expression):
        read(expression, assigned: assigned)
      case .assignment(let target, let value, _):
        read(value, assigned: assigned)
        writes.insert(target.name)
        assigned.insert(target.name)
      case .destructuring(let targets, let value, _):
        read(value, assigned: assigned)
        for target in targets {
          writes.insert(target.name)
          assigned.insert(target.name)
        }
      case .forLoop(let variable, let sequence, let body, _):
        read(sequence, assigned: assigned)
        writes.insert(variable.name)
        // The body may run several times: a name it reads before assigning may hold the value
        // of the previous round, which came from the cell itself, or of a cell before.
        visit(body, assigned: assigned.union([variable.name]))
      case .ifStatement(let branches, let otherwise, _):
        for branch in branches {
          read(branch.condition, assigned: assigned)
          visit(branch.body, assigned: assigned)
        }
        if let otherwise { visit(otherwise, assigned: assigned) }
      case .function(let definition):
        writes.insert(definition.name.name)
        assigned.insert(definition.name.name)
        var body = NameCollector()
        let parameters = Set(definition.parameters.map(\.name.name))
        for parameter in definition.parameters {
          if let value = parameter.defaultValue { read(value, assigned: assigned) }
        }
        body.visit(definition.body, assigned: parameters.union([definition.name.name]))
        // The body's own assignments are locals; what it reads from outside is read whenever
        // the function is called.
        reads.formUnion(body.reads.subtracting(assigned))
      case .returnStatement(let value, _):
        if let value { read(value, assigned: assigned) }
      }
    }
  }

  mutating func read(_ expression: Expression, assigned: Set<String>) {
    switch expression {
    case .number, .bool, .option: break
    case .string(let parts, _):
      for case .interpolation(let inner) in parts { read(inner, assigned: assigned) }
    case .list(let items, _):
      for item in items { read(item, assigned: assigned) }
    case .range(let lower, let upper, _, _):
      read(lower, assigned: assigned)
      read(upper, assigned: assigned)
    case .variable(let identifier):
      if !assigned.contains(identifier.name) { reads.insert(identifier.name) }
    case .call(let function, let arguments, let labelled, _):
      if !assigned.contains(function.name) { reads.insert(function.name) }
      for argument in arguments { read(argument, assigned: assigned) }
      for argument in labelled { read(argument.value, assigned: assigned) }
    case .field(let base, _, _):
      read(base, assigned: assigned)
    case .index(let base, let index, _):
      read(base, assigned: assigned)
      read(index, assigned: assigned)
    case .negate(let inner, _), .parenthesized(let inner, _), .not(let inner, _):
      read(inner, assigned: assigned)
    case .binary(_, let left, let right, _), .logical(_, let left, let right, _):
      read(left, assigned: assigned)
      read(right, assigned: assigned)
    }
  }
}

/// The variables and functions of a session at one moment, to run later cells again from it.
///
/// Values are immutable and share their storage, so a snapshot costs a dictionary, not copies
/// of the data.
public struct SessionSnapshot: Sendable {
  /// The variables in the order they were first assigned.
  public var variables: [(name: String, value: Value)]
  /// The workbook's functions.
  public var functions: [String: FunctionEntry]

  /// The empty session's snapshot.
  public static let empty = SessionSnapshot(variables: [], functions: [:])

  /// The value of a variable.
  public func value(of name: String) -> Value? {
    variables.last { $0.name == name }?.value
  }
}

extension Session {
  /// The session's variables and functions as they are now.
  public func snapshot() -> SessionSnapshot {
    SessionSnapshot(
      variables: variableOrder.compactMap { name in variables[name].map { (name, $0) } },
      functions: functions)
  }

  /// Puts the session back to a snapshot: every variable and function not in it is forgotten.
  public func restore(_ snapshot: SessionSnapshot) {
    reset()
    for (name, value) in snapshot.variables { assign(name, value) }
    functions = snapshot.functions
  }

  /// Takes the values of `names` from a snapshot, as if the cell that wrote them had run again
  /// (a cell whose inputs did not change writes the same values).
  public func adopt(_ names: Set<String>, from snapshot: SessionSnapshot) {
    for (name, value) in snapshot.variables where names.contains(name) { assign(name, value) }
    for (name, entry) in snapshot.functions where names.contains(name) { functions[name] = entry }
  }
}

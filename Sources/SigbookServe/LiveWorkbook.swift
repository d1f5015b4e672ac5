import Foundation
import Synchronization
import SigbookWorkbook

/// A workbook kept running for the page: its session, the state of every cell, and a worker
/// thread that re-runs the stale cells.
///
/// A change (a parameter set from the page, a saved file under `--watch`) makes stale the cells
/// it touches and those that depend on them (``DependencyGraph``); the worker re-runs only those,
/// in order, from a snapshot of the session as it was after the cell before the first of them,
/// so a cell that reassigns a variable sees the value a top-to-bottom run would give it. Cells
/// that are not stale keep their outputs and have their values taken from their last run.
///
/// The session is used on the worker thread only; everything else is guarded by `condition`.
public final class LiveWorkbook: @unchecked Sendable {
  /// What a cell shows.
  public enum Status: String, Sendable {
    /// Waiting to run (its inputs changed, or it never ran).
    case stale
    /// Running now.
    case running
    /// Ran and succeeded with the current inputs.
    case fresh
    /// Ran and failed.
    case failed
    /// Stopped by the Stop button; still stale.
    case stopped
  }

  /// One cell's state.
  public struct CellState: Sendable {
    public var status: Status = .stale
    public var outputs: [SessionOutput] = []
    public var error: WorkbookError?
    public var seconds: Double = 0
    /// How many times the cell has run (to the end or to an error).
    public var runs = 0
    /// Changes with every run, so that figure URLs change and the browser fetches them again.
    public var generation = 0
  }

  private enum CancelReason { case stop, superseded }

  /// The workbook file.
  public let path: String
  /// The file name, for locations.
  public let name: String
  /// The figures folder (`NAME.figures`), the only folder the page serves.
  public let figuresDirectory: String
  let hub = EventHub()
  /// Held while a status is read and sent: a status read on one thread and sent after a newer
  /// one sent from another would leave the page showing the older state (a cell "stale" while it
  /// runs) until the next change.
  private let publishing = NSLock()

  private let condition = NSCondition()
  // Guarded by `condition`:
  private var text: String
  private(set) var document: WorkbookDocument
  /// The cells as written in the file.
  private var writtenCells: [Cell]
  /// The cells with the parameters set from the page.
  private var cells: [Cell]
  private var graph: DependencyGraph
  private(set) var parameters: [Parameter]
  private var states: [CellState]
  private var stale: Set<Int>
  private var paused = false
  private var cancelReason: CancelReason?
  private var runningCell: Int?
  /// Whether a change made the running cell stale while it ran: its results are then dropped.
  private var runningInvalidated = false
  private var isShuttingDown = false
  private var generation = 0
  /// A problem with the file on disk (a syntax error after a save under `--watch`).
  private var fileProblem: String?

  // Used by the worker thread only:
  private let session: Session
  private var snapshots: [Int: SessionSnapshot] = [0: .empty]
  private let cancelled = CancelFlag()
  private let cellFailed: @Sendable (WorkbookError, String?) -> Void

  /// Reads and parses a workbook.
  ///
  /// - Parameters:
  ///   - path: the workbook.
  ///   - sessions: builds its session, as for `run` and the REPL (model formats, memory limit,
  ///     figures folder rules, cancellation); the Stop button adds its own cancellation.
  ///   - cellFailed: called on the worker thread with each failure of a cell and its source
  ///     line, so that the terminal shows it too.
  /// - Throws: its syntax errors, an error when it cannot be read, or the factory's refusal.
  public init(
    path: String, sessions: SessionFactory = SessionFactory(),
    cellFailed: @escaping @Sendable (WorkbookError, String?) -> Void = { _, _ in }
  ) throws(WorkbookErrors) {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    self.path = url.path
    name = url.lastPathComponent
    let parsed = try WorkbookFile.parsed(path: path)
    let text = parsed.text
    self.text = text
    document = parsed.document
    writtenCells = parsed.cells
    cells = parsed.cells
    graph = DependencyGraph(cells: parsed.cells)
    parameters = Parameter.parameters(of: parsed.cells, document: parsed.document)
    states = Array(repeating: CellState(), count: parsed.cells.count)
    stale = Set(parsed.cells.map(\.index))
    figuresDirectory = SessionFactory.figuresDirectory(ofWorkbook: url.path)
    do {
      session = try sessions.session(forWorkbook: url.path)
    } catch {
      throw WorkbookErrors([error], text: text)
    }
    self.cellFailed = cellFailed
    let flag = cancelled
    let interrupted = sessions.isCancelled
    session.isCancelled = { flag.isSet || interrupted() }
  }

  // MARK: Reading the state

  /// A consistent copy of what the page shows.
  struct View {
    var document: WorkbookDocument
    var writtenCells: [Cell]
    var cells: [Cell]
    var parameters: [Parameter]
    var states: [CellState]
    var isRunning: Bool
    var isPaused: Bool
    var fileProblem: String?
  }

  var view: View {
    condition.withLock {
      View(
        document: document, writtenCells: writtenCells, cells: cells, parameters: parameters,
        states: states,
        isRunning: runningCell != nil, isPaused: paused, fileProblem: fileProblem)
    }
  }

  /// The state of every cell, in order.
  public var cellStates: [CellState] { condition.withLock { states } }

  /// Whether no cell is stale (or the worker is paused after Stop or a failure) and none runs.
  public var isIdle: Bool {
    condition.withLock { runningCell == nil && (stale.isEmpty || paused) }
  }

  // MARK: Changes

  /// Starts the worker thread, which runs every cell once, then whatever becomes stale.
  public func start() {
    let thread = Thread { [self] in work() }
    thread.name = "sigbook-session"
    thread.stackSize = 64 << 20
    thread.start()
  }

  /// Stops the worker after the current statement (the server ends).
  public func shutDown() {
    condition.withLock {
      isShuttingDown = true
      cancelled.set(true)
      condition.broadcast()
    }
    hub.finishAll()
  }

  /// Sets a parameter from the page and makes stale the cells that depend on it.
  ///
  /// - Throws: when no parameter has that name or the value is refused.
  func set(_ name: String, to json: Any) throws(ParameterError) {
    condition.lock()
    guard let index = parameters.firstIndex(where: { $0.name == name }) else {
      condition.unlock()
      throw ParameterError("the workbook has no parameter '\(name)'")
    }
    // The value the control sent, as a literal of the parameter's kind, then through the
    // same check and rewrite as `run --set`.
    let updated: [Cell], changed: Set<Int>, value: Literal
    do {
      let literal = try parameters[index].check(parameters[index].literal(fromJSON: json))
      let result = try AssignmentOverride.apply(
        name, source: literal.source, to: cells, document: document, origin: "page")
      (updated, changed, value) = (result.cells, result.changed, result.value ?? literal)
    } catch let error as ParameterError {
      condition.unlock()
      throw error
    } catch let error as WorkbookError {
      condition.unlock()
      throw ParameterError(error.message)
    } catch {
      condition.unlock()
      throw ParameterError("'\(name)' cannot take that value")
    }
    parameters[index].value = value
    cells = updated
    graph = DependencyGraph(cells: cells)
    // Only the names computed from this one change: the cell's other assignments keep their
    // values, and so do the cells that read only those.
    markStale(changedValues: Dictionary(uniqueKeysWithValues: changed.map { ($0, [name]) }))
    condition.unlock()
    sendStatus()
  }

  /// Interrupts the running cell like Ctrl-C and pauses until the next change (or Run).
  public func stop() {
    condition.withLock {
      paused = true
      if runningCell != nil {
        cancelReason = .stop
        cancelled.set(true)
      }
    }
    sendStatus()
  }

  /// Runs the stale cells (after Stop or a failure).
  public func runStale() {
    condition.withLock {
      paused = false
      condition.broadcast()
    }
    sendStatus()
  }

  /// Reads the file again (`--watch`): the cells whose code changed, and those that depend on
  /// them, become stale. A file with syntax errors is reported on the page and not used.
  ///
  /// - Returns: whether the file changed.
  @discardableResult
  public func reload() -> Bool {
    guard let newText = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
    let changedStructure: Bool = condition.withLock {
      guard newText != text else { return false }
      text = newText
      let parsed = parseWorkbook(text: newText, file: name)
      guard parsed.errors.isEmpty else {
        fileProblem = parsed.errors.map {
          $0.rendered(sourceLine: WorkbookRunner.line($0.location.line, of: newText))
        }.joined(separator: "\n")
        return true
      }
      fileProblem = nil
      let changed = DependencyGraph.changedCells(from: writtenCells, to: parsed.cells)
      var formerWrites: [Int: Set<String>] = [:]
      for number in changed where number <= graph.cells.count {
        formerWrites[number] = graph.cells[number - 1].writes
      }
      document = parsed.document
      writtenCells = parsed.cells
      // Parameters set from the page keep their values where the workbook still has them.
      var newCells = parsed.cells
      var newParameters = Parameter.parameters(of: parsed.cells, document: parsed.document)
      for old in parameters where old.value != old.original {
        guard let i = newParameters.firstIndex(where: { $0.name == old.name }),
          newParameters[i].original == old.original
        else { continue }
        // A value the edited declaration no longer allows goes back to the written one.
        guard
          let kept = try? AssignmentOverride.apply(
            old.name, source: old.value.source, to: newCells, document: parsed.document,
            origin: "page")
        else { continue }
        newParameters[i].value = kept.value ?? old.value
        newCells = kept.cells
      }
      parameters = newParameters
      cells = newCells
      if states.count != cells.count {
        states = (0..<cells.count).map { $0 < states.count ? states[$0] : CellState() }
        for key in snapshots.keys where key > cells.count { snapshots[key] = nil }
      }
      graph = DependencyGraph(cells: cells)
      stale = stale.filter { $0 <= cells.count }
      markStale(changed: changed, formerWrites: formerWrites)
      return true
    }
    if changedStructure { hub.send(["type": "reload"]) }
    return changedStructure
  }

  /// Marks stale the changed cells and their dependents, cancels the running cell when it is
  /// one of them (or comes after the first), and wakes the worker. Called with the lock held.
  private func markStale(
    changed: Set<Int> = [], formerWrites: [Int: Set<String>] = [:],
    changedValues: [Int: Set<String>] = [:]
  ) {
    let newlyStale = graph.staleCells(
      changed: changed, formerWrites: formerWrites, changedValues: changedValues)
    guard !newlyStale.isEmpty else { return }
    stale.formUnion(newlyStale)
    for number in newlyStale where states[number - 1].status != .running {
      states[number - 1].status = .stale
    }
    if let running = runningCell, let first = newlyStale.min(), first <= running {
      runningInvalidated = true
      cancelReason = .superseded
      cancelled.set(true)
    }
    paused = false
    condition.broadcast()
  }

  // MARK: The worker

  private func work() {
    while true {
      condition.lock()
      while (stale.isEmpty || paused) && !isShuttingDown { condition.wait() }
      if isShuttingDown {
        condition.unlock()
        return
      }
      // Start after the last cell whose snapshot is known, at the latest at the first stale one.
      var first = stale.min() ?? 1
      while first > 1, snapshots[first - 1] == nil {
        first -= 1
        stale.insert(first)
      }
      cancelReason = nil
      cancelled.set(false)
      condition.unlock()
      pass(from: first)
    }
  }

  /// Runs the stale cells from `first` to the end, taking the values of the others from their
  /// snapshots; ends early when a cell fails, Stop is pressed or an earlier cell became stale.
  private func pass(from first: Int) {
    session.restore(snapshots[first - 1] ?? .empty)
    var number = first
    while true {
      condition.lock()
      guard number <= cells.count, !isShuttingDown, cancelReason == nil,
        (stale.min() ?? Int.max) >= number
      else {
        condition.unlock()
        return
      }
      let cell = cells[number - 1]
      let isStale = stale.contains(number) || snapshots[number] == nil
      if !isStale, let snapshot = snapshots[number] {
        condition.unlock()
        session.adopt(graph.cells[number - 1].writes, from: snapshot)
        snapshots[number] = session.snapshot()
        number += 1
        continue
      }
      stale.insert(number)
      runningCell = number
      runningInvalidated = false
      states[number - 1].status = .running
      let upcoming = generation + 1
      condition.unlock()
      sendStatus()
      hub.send(["type": "start", "cell": number])

      let (outputs, error, seconds) = run(cell, generation: upcoming)

      condition.lock()
      runningCell = nil
      var keepGoing = true
      var failure: WorkbookError?
      if runningInvalidated {
        // A change made the cell stale while it ran: its results are stale too.
        runningInvalidated = false
        states[number - 1].status = .stale
        keepGoing = false
      } else if let error, error.kind == .interrupted, cancelReason != nil {
        // Stopped: the cell stays stale and keeps its last outputs.
        states[number - 1].status = .stopped
        keepGoing = false
      } else {
        generation += 1
        states[number - 1] = CellState(
          status: error == nil ? .fresh : .failed, outputs: outputs, error: error,
          seconds: seconds, runs: states[number - 1].runs + 1, generation: generation)
        stale.remove(number)
        if error == nil {
          snapshots[number] = session.snapshot()
        } else {
          failure = error
          snapshots[number] = nil
          paused = true
          keepGoing = false
        }
      }
      let source = text
      condition.unlock()
      if let failure { cellFailed(failure, WorkbookRunner.line(failure.location.line, of: source)) }
      publishing.withLock {
        hub.send(cellEvent(number, condition.withLock { states[number - 1] }))
        hub.send(statusEvent())
      }
      if !keepGoing { return }
      number += 1
    }
  }

  /// Runs one cell, streaming its outputs and progress to the page.
  private func run(_ cell: Cell, generation: Int) -> (
    outputs: [SessionOutput], error: WorkbookError?, seconds: Double
  ) {
    guard !cell.hasErrors else {
      let error = WorkbookError(
        kind: .syntax, message: "the cell has syntax errors",
        location: SourceLocation(file: name, line: cell.firstLine, column: 1))
      return ([], error, 0)
    }
    var outputs: [SessionOutput] = []
    let hub = self.hub
    let number = cell.index
    session.emit = { output in
      outputs.append(output)
      hub.send([
        "type": "output", "cell": number,
        "html": Page.outputHTML(output, generation: generation),
      ])
    }
    session.progress = ProgressRelay(hub: hub, cell: number)
    let clock = ContinuousClock()
    let start = clock.now
    var failure: WorkbookError?
    do { try session.run(cell) } catch { failure = error }
    let elapsed = clock.now - start
    session.emit = { _ in }
    session.progress = nil
    let seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return (outputs, failure, seconds)
  }

  // MARK: Events

  func cellEvent(_ number: Int, _ state: CellState) -> [String: Any] {
    [
      "type": "cell", "cell": number, "status": state.status.rawValue, "runs": state.runs,
      "html": Page.outputsHTML(state, text: condition.withLock { text }),
    ]
  }

  /// Every cell's status, whether something runs, the parameters' values.
  func statusEvent() -> [String: Any] {
    let view = self.view
    return [
      "type": "status",
      "cells": view.states.enumerated().map { i, s in
        ["cell": i + 1, "status": s.status.rawValue, "runs": s.runs] as [String: Any]
      },
      "running": view.isRunning, "paused": view.isPaused,
      "problem": view.fileProblem ?? "",
      "parameters": Dictionary(
        view.parameters.map { ($0.name, $0.value.json) }, uniquingKeysWith: { a, _ in a }),
      // What each control shows for the value in effect (a refused value is put back to it).
      "controls": Dictionary(
        view.parameters.map { ($0.name, $0.controlValue) }, uniquingKeysWith: { a, _ in a }),
    ]
  }

  /// The status with each cell's text outputs and error message, for `/api/state`: what the
  /// page shows, as plain text that can be compared with what `run` prints.
  func stateEvent() -> [String: Any] {
    let states = cellStates
    var event = statusEvent()
    event["outputs"] = states.map { state in
      state.outputs.compactMap { output -> String? in
        switch output {
        case .value(let text), .printed(let text): text
        case .figure(let name, _): "figure: " + name
        case .timing: nil
        }
      }
    }
    event["errors"] = states.map { $0.error?.message ?? "" }
    event["streams"] = hub.count
    return event
  }

  /// The whole state, first on every new event stream.
  func syncEvent() -> [String: Any] {
    let view = self.view
    let text = condition.withLock { self.text }
    var event = statusEvent()
    event["type"] = "sync"
    event["outputs"] = view.states.map { Page.outputsHTML($0, text: text) }
    return event
  }

  private func sendStatus() { publishing.withLock { hub.send(statusEvent()) } }

  /// A new event stream for the page, starting with the whole state: read and subscribed in one
  /// step, so that no event falls between the two.
  ///
  /// A stream whose client fell too far behind gets the whole state again when it reads.
  func subscribe() -> EventHub.Stream {
    publishing.withLock {
      hub.subscribe(first: PageResponder.line(syncEvent())) { [weak self] in
        guard let self else { return "{}" }
        return self.publishing.withLock { PageResponder.line(self.syncEvent()) }
      }
    }
  }
}

/// Sends the progress of long operations to the page, at most once per percent.
private final class ProgressRelay: ProgressSink {
  let hub: EventHub
  let cell: Int
  var title = ""
  var lastPercent = -1

  init(hub: EventHub, cell: Int) {
    self.hub = hub
    self.cell = cell
  }

  func begin(_ title: String) {
    self.title = title
    lastPercent = -1
    hub.send(["type": "progress", "cell": cell, "text": title])
  }

  func update(fraction: Double, detail: String) {
    let percent = Int((fraction * 100).rounded(.down))
    guard percent != lastPercent else { return }
    lastPercent = percent
    hub.send(["type": "progress", "cell": cell, "text": "\(title) \(percent)% \(detail)"])
  }

  func end() { hub.send(["type": "progress", "cell": cell, "text": ""]) }
}

/// The Stop button's flag, polled by long operations through `Session.isCancelled`.
private final class CancelFlag: Sendable {
  private let value = Atomic<Bool>(false)
  var isSet: Bool { value.load(ordering: .relaxed) }
  func set(_ flag: Bool) { value.store(flag, ordering: .relaxed) }
}

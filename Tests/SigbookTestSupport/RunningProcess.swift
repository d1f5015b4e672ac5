import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// How a finished process ended and what it printed.
public struct ProcessResult: Sendable {
  /// The exit status, or the signal's number when a signal ended it (see `wasSignalled`).
  public var status: Int32
  /// Whether a signal ended the process (SIGKILL, an unhandled SIGINT…).
  public var wasSignalled: Bool
  /// Whether the runner killed it because it outlived its bound.
  public var timedOut: Bool
  public var stdout: String
  public var stderr: String
}

/// A process whose standard output and error are read as they come, each on a thread of its
/// own, so that neither pipe can fill and block it, and which a test can wait on: until a line
/// or text appears in either output, or until it ends.
///
/// Every wait has a bound: it only stops a broken build from hanging the suite, nothing is
/// timed. The process is killed when this object goes away while it still runs.
public final class RunningProcess: @unchecked Sendable {
  /// Which output to wait on.
  public enum Stream: Sendable { case stdout, stderr }

  public let process = Process()
  private let condition = NSCondition()
  private var out = Data()
  private var err = Data()
  private var closed = 0
  private var exited = false
  private var killedForTime = false

  /// Starts `executable` with `arguments` in `directory` (the current one when nil), with
  /// `environment` added to this process's, and `input` written to its standard input (which
  /// is then closed; `/dev/null` when nil).
  public init(
    _ executable: String, _ arguments: [String] = [], in directory: URL? = nil,
    environment: [String: String] = [:], input: Data? = nil
  ) throws {
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let outPipe = Pipe(), errPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    let inPipe = input.map { _ in Pipe() }
    process.standardInput = inPipe ?? FileHandle.nullDevice
    let condition = self.condition
    process.terminationHandler = { [weak self] _ in
      condition.withLock {
        self?.exited = true
        condition.broadcast()
      }
    }
    try process.run()
    drain(outPipe.fileHandleForReading, .stdout)
    drain(errPipe.fileHandleForReading, .stderr)
    if let inPipe, let input {
      // On a thread of its own too: a large input fills the pipe before the process reads it.
      let handle = inPipe.fileHandleForWriting
      Thread.detachNewThread {
        try? handle.write(contentsOf: input)
        try? handle.close()
      }
    }
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }

  /// Reads `handle` to its end on a thread of its own, appending to what `stream` holds.
  private func drain(_ handle: FileHandle, _ stream: Stream) {
    Thread.detachNewThread { [self] in
      while true {
        let data = handle.availableData
        condition.withLock {
          if data.isEmpty {
            closed += 1
          } else if stream == .stdout {
            out.append(data)
          } else {
            err.append(data)
          }
          condition.broadcast()
        }
        if data.isEmpty { break }
      }
    }
  }

  public var pid: Int32 { process.processIdentifier }
  public var isRunning: Bool { condition.withLock { !exited } }

  /// What the process printed to standard output so far.
  public var stdout: String { condition.withLock { String(decoding: out, as: UTF8.self) } }
  /// What the process printed to standard error so far.
  public var stderr: String { condition.withLock { String(decoding: err, as: UTF8.self) } }

  /// Waits until what `stream` holds satisfies `test`, or the process ends and its output is
  /// closed, or `bound` seconds pass; returns whether `test` held.
  @discardableResult
  public func waitFor(
    _ stream: Stream, upTo bound: Double = 300, _ test: (String) -> Bool
  ) -> Bool {
    let deadline = Date().addingTimeInterval(bound)
    condition.lock()
    defer { condition.unlock() }
    while true {
      if test(String(decoding: stream == .stdout ? out : err, as: UTF8.self)) { return true }
      if (exited && closed == 2) || Date() >= deadline { return false }
      _ = condition.wait(until: deadline)
    }
  }

  /// Waits until `text` appears in `stream`; returns whether it did.
  @discardableResult
  public func waitFor(_ text: String, in stream: Stream, upTo bound: Double = 300) -> Bool {
    waitFor(stream, upTo: bound) { $0.contains(text) }
  }

  /// Waits for the process to end, at most `bound` seconds: whether it ended.
  public func waitForExit(upTo bound: Double = 120) -> Bool {
    let deadline = Date().addingTimeInterval(bound)
    condition.lock()
    defer { condition.unlock() }
    while !exited && Date() < deadline { _ = condition.wait(until: deadline) }
    return exited
  }

  /// Sends `signal` to the process.
  public func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

  /// Whether `signal` is pending for the process: sent, and its handler not yet run (from the
  /// pending masks of `/proc/PID/status`). False once the process has gone.
  public func isPending(_ signal: Int32) -> Bool {
    guard
      let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    else { return false }
    let bit = UInt64(1) << UInt64(signal - 1)
    return status.split(separator: "\n").contains { line in
      (line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:"))
        && (UInt64(line.split(separator: "\t").last ?? "", radix: 16) ?? 0) & bit != 0
    }
  }

  /// Waits for the process to end (killing it after `bound` seconds) and for both outputs to
  /// close; returns how it ended and everything it printed.
  @discardableResult
  public func finish(upTo bound: Double = 600) -> ProcessResult {
    let deadline = Date().addingTimeInterval(bound)
    condition.lock()
    while !exited && Date() < deadline { _ = condition.wait(until: deadline) }
    if !exited {
      killedForTime = true
      kill(process.processIdentifier, SIGKILL)
    }
    while !exited || closed < 2 { condition.wait() }
    condition.unlock()
    process.waitUntilExit()
    return ProcessResult(
      status: process.terminationStatus,
      wasSignalled: process.terminationReason == .uncaughtSignal,
      timedOut: condition.withLock { killedForTime }, stdout: stdout, stderr: stderr)
  }

  /// `waitFor(_:upTo:_:)` for async code: the wait blocks a thread of its own rather than one
  /// of the few cooperative threads, which a server in the test process may need meanwhile.
  public func waitingFor(
    _ stream: Stream, upTo bound: Double = 300, _ test: @escaping @Sendable (String) -> Bool
  ) async -> Bool {
    await withCheckedContinuation { continuation in
      Thread { continuation.resume(returning: self.waitFor(stream, upTo: bound, test)) }.start()
    }
  }

  /// `finish(upTo:)` for async code, on a thread of its own.
  public func finishing(upTo bound: Double = 600) async -> ProcessResult {
    await withCheckedContinuation { continuation in
      Thread { continuation.resume(returning: self.finish(upTo: bound)) }.start()
    }
  }

  /// Runs a program to its end: `RunningProcess(…).finish(upTo:)`.
  public static func run(
    _ executable: String, _ arguments: [String] = [], in directory: URL? = nil,
    environment: [String: String] = [:], input: Data? = nil, upTo bound: Double = 600
  ) throws -> ProcessResult {
    try RunningProcess(
      executable, arguments, in: directory, environment: environment, input: input
    ).finish(upTo: bound)
  }
}

/// Whether `condition` holds before `bound` seconds pass, checked every `interval` seconds.
///
/// Only for states a program does not print (a file it has open, a count inside a server
/// running in the test process); the bound stops a broken build from hanging the suite.
public func poll(
  every interval: Double = 0.02, upTo bound: Double = 120, until condition: () throws -> Bool
)
  rethrows -> Bool
{
  let deadline = Date().addingTimeInterval(bound)
  while Date() < deadline {
    if try condition() { return true }
    usleep(useconds_t(interval * 1_000_000))
  }
  return try condition()
}

/// `poll(every:upTo:until:)` for async tests: suspends between checks instead of blocking.
public func pollAsync(
  every interval: Duration = .milliseconds(20), upTo bound: Duration = .seconds(120),
  until condition: () async throws -> Bool
) async throws -> Bool {
  let clock = ContinuousClock()
  let deadline = clock.now + bound
  while clock.now < deadline {
    if try await condition() { return true }
    try await Task.sleep(for: interval)
  }
  return try await condition()
}

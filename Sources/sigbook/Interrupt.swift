#if canImport(Glibc)
  import Glibc
#endif
import Synchronization

/// The presses of Ctrl-C (SIGINT) since the last `Interrupt.clear()`.
///
/// The one piece of state a signal handler may touch: a lock-free atomic, defined once in Swift.
/// (It used to be a `static` variable in the readline shim header, of which an optimised build
/// held two copies: the handler counted in one, the statements polled the other, and Ctrl-C was
/// never seen.) A global `let` is initialised lazily, so `Interrupt.install` touches it before
/// any handler can run.
private let sigintCount = Atomic<Int>(0)

/// The SIGINT handler: counts, and nothing else (async-signal-safe).
private let sigintHandler: @convention(c) (Int32) -> Void = { _ in
  sigintCount.wrappingAdd(1, ordering: .relaxed)
}

/// Ctrl-C, as a count that a signal handler bumps and long operations poll (through
/// `Session.isCancelled`) between steps.
///
/// Once installed, SIGINT never ends the process: a running statement stops at its next
/// cancellation point (training at the next batch, k-means at the next iteration, t-SNE and UMAP
/// at the next epoch…), and the REPL returns to its prompt while `run` stops with status 130.
enum Interrupt {
  /// When the handler is installed.
  enum Mode {
    /// While readline waits for a key: the read it interrupts fails with EINTR, which is how
    /// readline (with `rl_catch_signals` off) gets to call its signal event hook.
    case prompt
    /// While a statement runs: interrupted system calls (file reads and writes) carry on.
    case statement
  }

  /// The conventional exit status of a process stopped by SIGINT (128 + 2).
  static let exitStatus: Int32 = 130

  /// Installs the SIGINT handler for `mode`, and unblocks SIGINT, SIGHUP and SIGTERM on the
  /// calling thread: a process started with every signal blocked (Foundation's `Process` does
  /// that when the parent thread blocks them, as test runners do) would otherwise never see
  /// Ctrl-C, and would outlive its closed terminal.
  static func install(_ mode: Mode) {
    _ = sigintCount.load(ordering: .relaxed)
    var signals = sigset_t()
    sigemptyset(&signals)
    for signal in [SIGINT, SIGHUP, SIGTERM] { sigaddset(&signals, signal) }
    _ = pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    var action = sigaction()
    action.__sigaction_handler.sa_handler = sigintHandler
    sigemptyset(&action.sa_mask)
    action.sa_flags = mode == .prompt ? 0 : Int32(SA_RESTART)
    _ = sigaction(SIGINT, &action, nil)
  }

  /// Whether Ctrl-C was pressed (or SIGINT received) since the last `clear()`.
  static var isRequested: Bool { sigintCount.load(ordering: .relaxed) > 0 }

  /// Forgets earlier presses of Ctrl-C.
  static func clear() { sigintCount.store(0, ordering: .relaxed) }
}

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

/// When the last SIGINT arrived, in nanoseconds of the monotonic clock (0: none yet).
private let lastPress = Atomic<Int>(0)

/// Whether a second SIGINT within a second of the first ends the process at once.
private let quitsOnSecondPress = Atomic<Bool>(false)

/// What a second Ctrl-C prints on its way out.
private let quitMessage: StaticString = "\ninterrupted twice: quitting now\n"

/// The SIGINT handler: counts, and nothing else (async-signal-safe) — unless `run` asked a
/// second press within a second to quit, which then writes one line and `_exit`s: no Swift
/// runtime, no locks, no allocation. Files being written need no cleaning: their temporaries
/// have no name until they are complete (see `AtomicFile`).
private let sigintHandler: @convention(c) (Int32) -> Void = { _ in
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  let nanoseconds = Int(now.tv_sec) &* 1_000_000_000 &+ Int(now.tv_nsec)
  let previous = lastPress.exchange(nanoseconds, ordering: .relaxed)
  let count = sigintCount.wrappingAdd(1, ordering: .relaxed).newValue
  if quitsOnSecondPress.load(ordering: .relaxed) && count > 1 && previous > 0
    && nanoseconds &- previous < 1_000_000_000
  {
    // Literals, not `Interrupt`'s statics, which Swift may initialise lazily (not
    // async-signal-safe).
    _ = write(2, quitMessage.utf8Start, quitMessage.utf8CodeUnitCount)
    _exit(130)
  }
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

  /// Makes a second Ctrl-C within a second of the first end the process at once with status
  /// 130 (`sigbook run`: the user gave up waiting for the next cancellation point). The REPL
  /// leaves it off: there repeated presses never end the session.
  static func quitOnSecondPress() {
    // Touched here so that the handler never initialises a global.
    _ = (lastPress.load(ordering: .relaxed), quitMessage.utf8CodeUnitCount)
    quitsOnSecondPress.store(true, ordering: .relaxed)
  }

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

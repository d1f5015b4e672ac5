import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a program with `posix_spawn`, every descriptor above standard error closed in the child,
/// and waits for it with `waitpid`.
///
/// For programs that leave a daemon behind, such as the tmux client that starts the tmux server.
/// Foundation's `Process` learns that a child ended when a socket it hands the child closes, so a
/// daemon forked from that child keeps the socket open and `waitUntilExit()` never returns; and
/// the daemon would also keep whatever pipes the other tests had open when it was forked.
public enum Spawn {
  private typealias CloseFrom =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

  /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), found at run time since
  /// Swift's Glibc module does not declare it.
  private static let closeFrom: CloseFrom? = dlsym(
    UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np"
  ).map { unsafeBitCast($0, to: CloseFrom.self) }

  public struct Failure: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
  }

  /// Runs `path` with `arguments`, standard input and error on `/dev/null`; returns its exit
  /// status and, when `capturesOutput`, what it printed (otherwise its output goes to
  /// `/dev/null` too).
  @discardableResult
  public static func run(_ path: String, _ arguments: [String], capturesOutput: Bool = true) throws
    -> (status: Int32, output: String)
  {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var pipe: [Int32] = [-1, -1]
    if capturesOutput {
      // Close-on-exec, so that no other child started meanwhile keeps the pipe open.
      guard Glibc.pipe(&pipe) == 0 else { throw Failure(description: "pipe failed") }
      for end in pipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
      posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
    } else {
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    _ = closeFrom?(&actions, 3)

    // Every signal unblocked and at its default action in the child, whatever the test thread
    // blocks: tmux passes both on to the REPL, which must still end when its terminal closes.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    if capturesOutput { close(pipe[1]) }
    guard spawned == 0 else {
      if capturesOutput { close(pipe[0]) }
      throw Failure(description: "cannot start \(path): \(String(cString: strerror(spawned)))")
    }
    var output = Data()
    if capturesOutput {
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = read(pipe[0], &buffer, buffer.count)
        if count > 0 {
          output.append(contentsOf: buffer[0..<count])
        } else if count == 0 || errno != EINTR {
          break
        }
      }
      close(pipe[0])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    // WEXITSTATUS, or 128 + the signal for a child a signal ended.
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exit, String(decoding: output, as: UTF8.self))
  }
}

import Foundation
import SigbookTensor

/// What a Jupyter front-end tells a kernel it starts: where to listen and how to sign messages
/// (the connection file, `kernel-*.json`).
public struct ConnectionFile: Codable, Sendable, Equatable {
  /// `tcp` or `ipc`.
  var transport: String
  /// The address to bind (`127.0.0.1`); for `ipc`, the path prefix of the sockets.
  var ip: String
  var shellPort: Int
  var controlPort: Int
  var iopubPort: Int
  var stdinPort: Int
  var hbPort: Int
  /// The HMAC key; empty means messages are not signed.
  var key: String
  /// `hmac-sha256` (the only scheme this kernel knows), or empty with an empty key.
  var signatureScheme: String

  enum CodingKeys: String, CodingKey {
    case transport, ip, key
    case shellPort = "shell_port", controlPort = "control_port", iopubPort = "iopub_port"
    case stdinPort = "stdin_port", hbPort = "hb_port", signatureScheme = "signature_scheme"
  }

  init(
    transport: String = "tcp", ip: String = "127.0.0.1", shellPort: Int, controlPort: Int,
    iopubPort: Int, stdinPort: Int, hbPort: Int, key: String,
    signatureScheme: String = "hmac-sha256"
  ) {
    self.transport = transport
    self.ip = ip
    self.shellPort = shellPort
    self.controlPort = controlPort
    self.iopubPort = iopubPort
    self.stdinPort = stdinPort
    self.hbPort = hbPort
    self.key = key
    self.signatureScheme = signatureScheme
  }

  /// Reads a connection file's fields; `transport`, `ip`, `key` and `signature_scheme` may be
  /// left out (tcp, 127.0.0.1, no signing), the five ports may not.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    transport = try c.decodeIfPresent(String.self, forKey: .transport) ?? "tcp"
    ip = try c.decodeIfPresent(String.self, forKey: .ip) ?? "127.0.0.1"
    shellPort = try c.decode(Int.self, forKey: .shellPort)
    controlPort = try c.decode(Int.self, forKey: .controlPort)
    iopubPort = try c.decode(Int.self, forKey: .iopubPort)
    stdinPort = try c.decode(Int.self, forKey: .stdinPort)
    hbPort = try c.decode(Int.self, forKey: .hbPort)
    key = try c.decodeIfPresent(String.self, forKey: .key) ?? ""
    signatureScheme = try c.decodeIfPresent(String.self, forKey: .signatureScheme) ?? ""
  }

  /// Reads and checks a connection file.
  ///
  /// - Throws: a ``KernelError`` naming the file when it cannot be read, is not a connection
  ///   file, or asks for a transport or signature scheme this kernel does not speak.
  public static func read(_ path: String) throws(KernelError) -> ConnectionFile {
    let data: Data
    do {
      data = Data(try GuardedFile(path: path).contents(limit: 1 << 20))
    } catch {
      throw KernelError("cannot read the connection file '\(path)': \(describe(error))")
    }
    let file: ConnectionFile
    do {
      file = try JSONDecoder().decode(ConnectionFile.self, from: data)
    } catch DecodingError.keyNotFound(let key, _) {
      throw KernelError(
        "'\(path)' is not a Jupyter connection file: it has no '\(key.stringValue)'")
    } catch DecodingError.typeMismatch(_, let context) {
      let field = context.codingPath.map(\.stringValue).joined(separator: ".")
      throw KernelError(
        "'\(path)' is not a Jupyter connection file: "
          + (field.isEmpty ? "it is not a JSON object" : "'\(field)' has the wrong type"))
    } catch {
      throw KernelError("'\(path)' is not a Jupyter connection file: it is not a JSON object")
    }
    guard file.transport == "tcp" || file.transport == "ipc" else {
      throw KernelError(
        "the connection file asks for transport '\(file.transport)'; "
          + "this kernel speaks tcp and ipc")
    }
    guard file.key.isEmpty || file.signatureScheme == "hmac-sha256" else {
      throw KernelError(
        "the connection file asks for signature scheme '\(file.signatureScheme)'; "
          + "this kernel signs with hmac-sha256")
    }
    return file
  }

  /// The ZeroMQ address of a port, exactly as the file gives it: `tcp://IP:PORT`, or for ipc
  /// `ipc://IP-PORT` (jupyter_client's naming).
  func address(_ port: Int) -> String {
    transport == "ipc" ? "ipc://\(ip)-\(port)" : "tcp://\(ip):\(port)"
  }
}

/// A failure of the kernel that stops it from starting (a bad connection file, a port in use).
public struct KernelError: Error, CustomStringConvertible, Sendable {
  /// What went wrong, as one line for standard error.
  public let description: String
  init(_ description: String) { self.description = description }
}

/// A reading failure in words: `No such file or directory`.
func describe(_ error: FileReadError) -> String {
  switch error {
  case .cannotOpen(let code), .readFailed(let code): FileReadError.systemText(code)
  case .isFolder: "it is a folder"
  case .notRegularFile: "it is not a regular file"
  case .tooLarge(let size): "it is too large (\(size) bytes)"
  case .grew: "it grew while it was read"
  }
}

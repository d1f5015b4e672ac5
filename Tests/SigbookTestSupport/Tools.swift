import Foundation

/// A failure of a helper program the tests run, with what it printed.
public struct ToolFailure: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// `python3` (through `/usr/bin/env`), which checks sigbook's files against NumPy, safetensors
/// and nbformat when they are installed.
public enum Python {
  /// Whether `python3` can import every one of `modules`.
  public static func imports(_ modules: String...) -> Bool {
    (try? run("import " + modules.joined(separator: ", "), [])) != nil
  }

  /// Whether `python3` imports NumPy.
  public static let hasNumPy = imports("numpy")

  /// Runs `python3 -c script arguments…`; returns its standard output, or throws with its
  /// standard error when it fails.
  @discardableResult
  public static func run(_ script: String, _ arguments: [String]) throws -> String {
    let result = try RunningProcess.run(
      "/usr/bin/env", ["python3", "-c", script] + arguments)
    guard result.status == 0, !result.wasSignalled else {
      throw ToolFailure("python3 exited with \(result.status): \(result.stderr)")
    }
    return result.stdout
  }
}

/// poppler-utils (`pdfinfo`, `pdffonts`, `pdftoppm`), which read the PDFs the way a user's
/// viewer does.
public enum Poppler {
  /// The folder holding all three tools, if they are installed.
  public static let folder: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map(String.init).first { dir in
      ["pdfinfo", "pdffonts", "pdftoppm"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: dir + "/" + $0)
      }
    }
  }()

  public static let isInstalled = folder != nil

  /// Runs a tool and returns its standard output; throws when it fails.
  public static func run(_ tool: String, _ arguments: [String]) throws -> String {
    let result = try RunningProcess.run((folder ?? "/usr/bin") + "/" + tool, arguments)
    guard result.status == 0, !result.wasSignalled else {
      throw ToolFailure(
        "\(tool) \(arguments.joined(separator: " ")) failed: \(result.stderr)")
    }
    return result.stdout
  }
}

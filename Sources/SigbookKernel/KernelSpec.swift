import Foundation
import SigbookPlot
import SigbookTensor
import SigbookWorkbook

/// The kernelspec that tells Jupyter how to start `sigbook kernel`: a `kernels/sigbook` folder
/// holding `kernel.json` and the logos, where `jupyter kernelspec list` looks.
public enum KernelSpec {
  /// Where a kernelspec goes.
  public enum Location: Sendable, Equatable {
    /// The user's Jupyter data folder: `$JUPYTER_DATA_DIR`, else `$XDG_DATA_HOME/jupyter`, else
    /// `~/.local/share/jupyter` (jupyter_core's order on Linux).
    case user
    /// `DIR/share/jupyter` (a virtual environment's or Conda's prefix).
    case prefix(String)
    /// `/usr/local/share/jupyter`, on Jupyter's system path.
    case system

    /// The `kernels/sigbook` folder of this location.
    public var folder: String {
      let environment = ProcessInfo.processInfo.environment
      let data: String
      switch self {
      case .user:
        if let dir = environment["JUPYTER_DATA_DIR"], !dir.isEmpty {
          data = dir
        } else if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
          data = xdg + "/jupyter"
        } else {
          // `$HOME` first, as Python's `expanduser` reads it.
          let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
          data = home + "/.local/share/jupyter"
        }
      case .prefix(let dir):
        data = URL(fileURLWithPath: dir).standardizedFileURL.path + "/share/jupyter"
      case .system: data = "/usr/local/share/jupyter"
      }
      return data + "/kernels/" + JupyterLanguage.name
    }
  }

  /// `kernel.json` for the executable at `binary` (an absolute path).
  static func kernelJSON(binary: String) -> Data {
    let spec: [String: Any] = [
      "argv": [binary, "kernel", "--connection-file", "{connection_file}"],
      "display_name": JupyterLanguage.name, "language": JupyterLanguage.name,
      "interrupt_mode": "message", "metadata": [String: Any](),
    ]
    return
      ((try? JSONSerialization.data(
        withJSONObject: spec, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
      ?? Data()) + Data("\n".utf8)
  }

  /// The logo: three layers of nodes joined by paths, the colours of sigbook's palette.
  static let logoSVG = """
    <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
    <rect width="64" height="64" rx="10" fill="#ffffff"/>
    <g stroke="#8a8a8a" stroke-width="2.5" fill="none">
    <path d="M12 18 L32 32 L52 20 M12 32 L32 32 L52 44 M12 46 L32 32 M12 18 L32 14 L52 20 \
    M12 46 L32 50 L52 44"/>
    </g>
    <g stroke="none">
    <circle cx="12" cy="18" r="6" fill="#0072b2"/><circle cx="12" cy="32" r="6" fill="#0072b2"/>
    <circle cx="12" cy="46" r="6" fill="#0072b2"/><circle cx="32" cy="14" r="6" fill="#e69f00"/>
    <circle cx="32" cy="32" r="6" fill="#e69f00"/><circle cx="32" cy="50" r="6" fill="#e69f00"/>
    <circle cx="52" cy="20" r="6" fill="#009e73"/><circle cx="52" cy="44" r="6" fill="#009e73"/>
    </g>
    </svg>

    """

  /// Writes the kernelspec for `binary` at `location`: `kernel.json`, `logo-svg.svg` and
  /// `logo-64x64.png` (rendered from the SVG), each atomically.
  ///
  /// - Returns: the folder written.
  /// - Throws: a ``KernelError`` saying which file could not be written.
  @discardableResult
  public static func install(binary: String, at location: Location) throws(KernelError) -> String {
    let folder = location.folder
    do {
      try FileManager.default.createDirectory(
        atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw KernelError("cannot create the folder '\(folder)': \(error.localizedDescription)")
    }
    var files: [(path: String, contents: Data)] = [
      (folder + "/kernel.json", kernelJSON(binary: binary)),
      (folder + "/logo-svg.svg", Data(logoSVG.utf8)),
    ]
    if let png = try? SVGRenderer.png(logoSVG, dpi: 96) {
      files.append((folder + "/logo-64x64.png", Data(png)))
    }
    do {
      try AtomicFile.write(files)
    } catch {
      throw KernelError(error.description)
    }
    return folder
  }

  /// Removes the kernelspec at `location`, only if it is sigbook's (its `kernel.json` starts
  /// `sigbook kernel`).
  ///
  /// - Returns: the folder removed, or nil when there was none.
  /// - Throws: a ``KernelError`` when the folder holds another kernel or cannot be removed.
  @discardableResult
  public static func remove(at location: Location) throws(KernelError) -> String? {
    let folder = location.folder
    let specPath = folder + "/kernel.json"
    guard FileManager.default.fileExists(atPath: folder) else { return nil }
    let data = (try? GuardedFile(path: specPath).contents(limit: 1 << 20)).map { Data($0) }
    let spec = data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    let argv = spec?["argv"] as? [String] ?? []
    guard argv.count >= 2, argv[1] == "kernel" else {
      throw KernelError("'\(folder)' does not hold sigbook's kernel.json: it was left as it is")
    }
    do {
      try FileManager.default.removeItem(atPath: folder)
    } catch {
      throw KernelError("cannot remove '\(folder)': \(error.localizedDescription)")
    }
    return folder
  }
}

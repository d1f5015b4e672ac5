#if canImport(Glibc)
  import Glibc
#endif
import Foundation
import SigbookTensor
import SigbookNN
import SigbookPlot

/// How every surface that runs a workbook — `run`, `repl`, `serve`, the kernel — builds its
/// session: the one place that sets model formats, the memory limit, figure formats, the
/// figures folder rules and cancellation.
///
/// The command line makes one factory (with the ONNX format it links) and hands it to
/// ``WorkbookRunner``, the REPL and the served page, so that a workbook that loads an `.onnx`
/// model, or is refused a symbolic-link figures folder, behaves the same on each of them.
/// What differs between surfaces — where outputs and progress go — is set by each afterwards.
public struct SessionFactory: Sendable {
  /// Model formats whose code lives outside the engine (SigbookONNX's `ONNXFormat`).
  public var modelFormats: [any ModelFormat]
  /// The most memory one operation may allocate (`--max-memory`).
  public var memoryLimit: MemoryLimit
  /// The formats every figure is written in (`run --figures`); SVG always.
  public var figureFormats: [FigureFormat]
  /// The resolution of PNG figures written because of ``figureFormats``.
  public var figureDPI: Double
  /// Checked by long operations between steps (Ctrl-C); a surface may add its own reasons.
  public var isCancelled: @Sendable () -> Bool

  /// A factory; every argument has the engine's default.
  public init(
    modelFormats: [any ModelFormat] = [], memoryLimit: MemoryLimit = .standard(),
    figureFormats: [FigureFormat] = [.svg], figureDPI: Double = SVGRenderer.defaultDPI,
    isCancelled: @escaping @Sendable () -> Bool = { false }
  ) {
    self.modelFormats = modelFormats
    self.memoryLimit = memoryLimit
    self.figureFormats = figureFormats
    self.figureDPI = figureDPI
    self.isCancelled = isCancelled
  }

  /// The figures folder of a workbook: `NAME.figures` beside `NAME.sigbook`.
  public static func figuresDirectory(ofWorkbook path: String) -> String {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    return url.deletingLastPathComponent().path + "/"
      + url.deletingPathExtension().lastPathComponent + ".figures"
  }

  /// The session of a workbook file: files read from its folder, written in its
  /// `NAME.figures` folder.
  ///
  /// - Throws: when the figures folder is a symbolic link (a workbook must not write through
  ///   it to wherever it points), located at the workbook's first line.
  public func session(forWorkbook path: String) throws(WorkbookError) -> Session {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    return try session(
      file: url.lastPathComponent, baseDirectory: url.deletingLastPathComponent().path,
      figuresDirectory: Self.figuresDirectory(ofWorkbook: path))
  }

  /// The REPL's session in a folder: files read from it, written in its `sigbook.figures`.
  ///
  /// - Throws: when `sigbook.figures` is a symbolic link.
  public func session(inFolder folder: String) throws(WorkbookError) -> Session {
    try session(
      file: "<repl>", baseDirectory: folder, figuresDirectory: folder + "/sigbook.figures")
  }

  /// The Jupyter kernel's session: files read from `folder` (where the front-end starts the
  /// kernel: the notebook's folder), written in the notebook's `NAME.figures` folder beside it
  /// when `notebook` names a `.ipynb` file (a path relative to `folder`, or absolute), else in
  /// `folder/sigbook.figures`, as the REPL. (Some JupyterLab versions first name a session
  /// with a UUID, not the notebook's path: that is no notebook, so no folder is named after it.)
  ///
  /// - Throws: when that figures folder is a symbolic link.
  public func session(forNotebook notebook: String?, inFolder folder: String)
    throws(WorkbookError) -> Session
  {
    guard let notebook, notebook.hasSuffix(".ipynb"), notebook.count > ".ipynb".count else {
      return try session(
        file: "<kernel>", baseDirectory: folder, figuresDirectory: folder + "/sigbook.figures")
    }
    let url = URL(fileURLWithPath: URL(fileURLWithPath: notebook).lastPathComponent)
    let beside = notebook.hasPrefix("/") ? (notebook as NSString).deletingLastPathComponent : folder
    return try session(
      file: url.lastPathComponent, baseDirectory: folder,
      figuresDirectory: beside + "/" + url.deletingPathExtension().lastPathComponent + ".figures")
  }

  private func session(file: String, baseDirectory: String, figuresDirectory: String)
    throws(WorkbookError) -> Session
  {
    do {
      try Session.checkFiguresFolder(figuresDirectory)
    } catch {
      throw WorkbookError(
        kind: error.kind, message: error.message,
        location: SourceLocation(file: file, line: 1, column: 1), hint: error.hint)
    }
    let session = Session(
      file: file, baseDirectory: baseDirectory, figuresDirectory: figuresDirectory)
    configure(session)
    return session
  }

  /// Applies the factory's settings to a session.
  func configure(_ session: Session) {
    for format in modelFormats { session.modelFormats[format.fileExtension] = format }
    session.memoryLimit = memoryLimit
    session.figureFormats = figureFormats
    session.figureDPI = figureDPI
    session.isCancelled = isCancelled
  }
}

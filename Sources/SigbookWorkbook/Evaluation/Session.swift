#if canImport(Glibc)
  import Glibc
#endif
import Foundation
import SigbookTensor
import SigbookNN
import SigbookPlot

/// What running statements shows, in the order it happens.
public enum SessionOutput: Sendable, Equatable {
  /// The display of an expression statement's value.
  case value(String)
  /// A line written by `print`.
  case printed(String)
  /// A figure written to a file.
  case figure(name: String, path: String)
  /// How long `time(…)` took to compute its argument (written as `label`): shown on standard
  /// error and in the report, never among the printed outputs.
  case timing(label: String, seconds: Double)
}

/// Where long operations report how far along they are (a progress bar on a terminal).
///
/// The engine never writes to the terminal itself; the command line implements this.
public protocol ProgressSink: AnyObject {
  /// A new operation starts (`fit`, `kmeans`…).
  func begin(_ title: String)
  /// The current operation is `fraction` done; `detail` is a short status (`loss 0.031`).
  func update(fraction: Double, detail: String)
  /// The current operation ended (successfully or not).
  func end()
}

/// A workbook session: the variables that statements define and read, where files are read
/// from and written to, and where outputs go.
///
/// A session runs statements one at a time; the same statements run against a fresh session
/// always give the same outputs and files.
public final class Session {
  /// The variables, by name.
  public private(set) var variables: [String: Value] = [:]
  /// The variable names in the order they were first assigned.
  public private(set) var variableOrder: [String] = []
  /// Where relative paths of files to read are resolved (the workbook's folder).
  public var baseDirectory: String
  /// Where figures, exports and saved models go (`NAME.figures/`), created on demand.
  public var figuresDirectory: String
  /// Receives every output as it happens.
  public var emit: (SessionOutput) -> Void
  /// While ``emit`` receives a shown value's display (`.value`), the value itself (a surface
  /// that shows tables as HTML reads it there); nil otherwise.
  public internal(set) var shownValue: Value?
  /// Receives progress of long operations; nil shows nothing.
  public var progress: (any ProgressSink)?
  /// Checked by long operations between steps; when it returns true they stop with an
  /// `interrupted` error (Ctrl-C).
  public var isCancelled: () -> Bool = { false }
  /// The file name used in locations (`one-vs-seven.sigbook`, `<repl>`).
  public var file: String
  /// The most memory the session may hold (`--max-memory`), with what its variables hold now
  /// as ``MemoryLimit/held``: operations estimate what they need before allocating and are
  /// refused beyond what is left. 75% of the physical memory by default.
  public var memoryLimit: MemoryLimit {
    get {
      var limit = configuredMemoryLimit
      limit.held = heldBytes
      return limit
    }
    set {
      configuredMemoryLimit = newValue
      configuredMemoryLimit.held = 0
    }
  }
  private var configuredMemoryLimit: MemoryLimit = .standard()
  /// What each variable holds, kept as it is assigned.
  private var footprints: [String: MemoryFootprint] = [:]

  /// The bytes the session's variables (and the locals of the workbook functions running) hold,
  /// buffers shared between them counted once.
  var heldBytes: Int { heldFootprint.total }

  /// What the variables and running functions' locals hold, buffer by buffer.
  var heldFootprint: MemoryFootprint {
    var all = MemoryFootprint()
    for footprint in footprints.values { all.add(footprint) }
    for frame in frames { for value in frame.values { all.add(value.footprint) } }
    return all
  }

  /// The number of the cell (or REPL input) being run, for naming figures.
  var cellNumber = 0
  /// The number of the cell (or REPL input) being run.
  public var currentCell: Int { cellNumber }
  /// Figures of the current cell, written when it ends: bound ones under their variable's name.
  var pendingFigures: [(name: String, figure: Figure)] = []
  /// Counts the cell (or REPL input) runs of this session: a re-run of a cell is a new run.
  var cellRun = 0
  /// The figure files this session wrote, by file name (see `writeFigure`).
  var writtenFigures: [String: WrittenFigure] = [:]
  /// The functions the workbook defined (`func study(…) { … }`), by name.
  public internal(set) var functions: [String: FunctionEntry] = [:]
  /// The local variables of the workbook functions being run, innermost last.
  var frames: [[String: Value]] = []
  /// The formats every figure is written in; SVG is always written (`sigbook run --figures`).
  public var figureFormats: [FigureFormat] = [.svg]
  /// The resolution of PNGs written because ``figureFormats`` lists PNG, in dots per inch.
  public var figureDPI: Double = SVGRenderer.defaultDPI
  /// Model formats whose code lives outside the engine, by file extension (`onnx`): the command
  /// line registers SigbookONNX's here, so that the engine does not depend on swift-protobuf.
  public var modelFormats: [String: any ModelFormat] = [:]
  /// Every file written by this session, in order.
  private(set) var writtenFiles: [String] = []
  /// Files this session has read and parsed, by path, with the size and modification time they
  /// had (see `cachedRead`).
  private var readCache: [String: (stamp: FileStamp, value: Any)] = [:]

  /// Creates an empty session.
  ///
  /// - Parameters:
  ///   - file: the name used in error locations.
  ///   - baseDirectory: where files to read are looked up.
  ///   - figuresDirectory: where figures and other files are written.
  ///   - emit: receives outputs as they happen.
  public init(
    file: String, baseDirectory: String, figuresDirectory: String,
    emit: @escaping (SessionOutput) -> Void = { _ in }
  ) {
    self.file = file
    self.baseDirectory = baseDirectory
    self.figuresDirectory = figuresDirectory
    self.emit = emit
  }

  /// Sets a variable.
  func assign(_ name: String, _ value: Value) {
    if variables.updateValue(value, forKey: name) == nil { variableOrder.append(name) }
    let replaced = footprints.updateValue(value.footprint, forKey: name)
    // The value replaced is gone (unless shared): its memory goes back to the system.
    if let replaced, replaced.total >= 1 << 20 { MemoryLimit.releaseFreedMemory() }
  }

  /// Forgets every variable and function (`:reset`).
  public func reset() {
    variables = [:]
    variableOrder = []
    footprints = [:]
    pendingFigures = []
    functions = [:]
    frames = []
  }

  /// The value of a name: a local of the function being run, else a workbook variable.
  func lookup(_ name: String) -> Value? {
    frames.last?[name] ?? variables[name]
  }

  /// The path a file to read is found at: absolute paths (and `~/…`) as they are, others
  /// relative to `baseDirectory` — or, when no such file is there, in `figuresDirectory`, so
  /// that a file the session wrote (`save(net, "m.safetensors")`) is read back by the same name.
  func readPath(_ path: String) -> String {
    let expanded = (path as NSString).expandingTildeInPath
    if expanded.hasPrefix("/") { return expanded }
    let beside = baseDirectory + "/" + expanded
    let written = figuresDirectory + "/" + expanded
    if !FileManager.default.fileExists(atPath: beside),
      FileManager.default.fileExists(atPath: written)
    {
      return written
    }
    return beside
  }

  /// The path a file to write goes to: inside `figuresDirectory` (created on demand), where
  /// everything a workbook writes belongs.
  ///
  /// `name` is relative to the figures folder and may name a subfolder that exists there
  /// (`runs/x.npy`). A name that would leave the folder — absolute, starting with `~`, holding
  /// `..`, or through a symbolic link that points out of it — is refused.
  ///
  /// - Throws: a failure naming the problem when the name leaves the folder, a subfolder does
  ///   not exist, or the folder cannot be created.
  func writePath(_ name: String) throws(CallFailure) -> String {
    guard !name.isEmpty, !name.hasPrefix("/"), !name.hasPrefix("~"),
      !name.split(separator: "/").contains("..")
    else {
      throw CallFailure(
        "'\(name)' leaves the figures folder: files are written inside '\(figuresFolderName)'",
        hint: "write a file name such as \"result.npy\"")
    }
    if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
      throw CallFailure(
        "a file name cannot hold a NUL, a line break or another control character: "
          + String(reflecting: name),
        hint: "write a file name such as \"result.npy\"")
    }
    if let long = name.split(separator: "/").first(where: { $0.utf8.count > 255 }) {
      throw CallFailure(
        "a file name is at most 255 bytes, but '\(long.prefix(40))…' is \(long.utf8.count)",
        hint: "write a shorter file name")
    }
    try makeFiguresDirectory()
    let path = figuresDirectory + "/" + name
    try checkInsideFiguresDirectory(path, name: name)
    return path
  }

  /// The figures folder's own name (`one-vs-seven.figures`), for messages.
  var figuresFolderName: String { URL(fileURLWithPath: figuresDirectory).lastPathComponent }

  /// Refuses a path in the figures folder whose folder, or which itself, is a symbolic link
  /// that leads out of the folder.
  private func checkInsideFiguresDirectory(_ path: String, name: String) throws(CallFailure) {
    guard let folder = Self.resolved(figuresDirectory) else {
      throw CallFailure("cannot find the folder '\(figuresDirectory)'", kind: .io)
    }
    func isInside(_ resolved: String) -> Bool {
      resolved == folder || resolved.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }
    let parent = (path as NSString).deletingLastPathComponent
    guard let resolvedParent = Self.resolved(parent) else {
      let subfolder = (name as NSString).deletingLastPathComponent
      throw CallFailure(
        "cannot write '\(name)': there is no folder '\(subfolder)' in '\(figuresFolderName)'",
        kind: .io)
    }
    var status = stat()
    let isLink = lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK
    let target = isLink ? Self.resolved(path) : resolvedParent
    guard let target, isInside(target) else {
      throw CallFailure(
        "'\(name)' leads out of the figures folder through a symbolic link"
          + (target.map { " (to '\($0)')" } ?? ""),
        hint: "write a file name inside '\(figuresFolderName)' that is not a link")
    }
  }

  /// The path with every symbolic link resolved, or nil when it does not exist.
  private static func resolved(_ path: String) -> String? {
    guard let pointer = realpath(path, nil) else { return nil }
    defer { free(pointer) }
    return String(cString: pointer)
  }

  /// Refuses a figures folder that is a symbolic link: everything a workbook writes would go
  /// wherever the link points, outside the workbook's folder.
  ///
  /// - Throws: a failure naming the folder and its target.
  static func checkFiguresFolder(_ folder: String) throws(CallFailure) {
    var status = stat()
    guard lstat(folder, &status) == 0, (status.st_mode & S_IFMT) == S_IFLNK else { return }
    let name = URL(fileURLWithPath: folder).lastPathComponent
    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: folder)) ?? "?"
    throw CallFailure(
      "the figures folder '\(name)' is a symbolic link (to '\(target)'): sigbook writes only "
        + "into a real folder beside the workbook", kind: .io,
      hint: "remove the link '\(folder)'; sigbook creates the folder when it writes")
  }

  func makeFiguresDirectory() throws(CallFailure) {
    try Self.checkFiguresFolder(figuresDirectory)
    do {
      try FileManager.default.createDirectory(
        atPath: figuresDirectory, withIntermediateDirectories: true)
    } catch {
      throw CallFailure("cannot create the folder '\(figuresDirectory)'", kind: .io)
    }
  }

  /// Writes `contents` to `path` whole or not at all (see ``AtomicFile``).
  func writeFile(_ contents: Data, to path: String) throws(CallFailure) {
    do {
      try AtomicFile.write(contents, to: path)
      writtenFiles.append(path)
    } catch {
      throw CallFailure(error.description, kind: .io)
    }
  }

  /// A figure file this session wrote: from which figure, at which resolution, in which run of
  /// which cell, and whether `save` asked for it by name.
  struct WrittenFigure: Equatable {
    var svg: String
    var dpi: Double?
    var cell: Int
    var run: Int
    var isAsked: Bool
  }

  /// Writes a figure in the figures folder and reports every file written: always `NAME.svg`,
  /// then `NAME.pdf` and `NAME.png` when the name asks for that format (`save(f, "x.pdf")`) or
  /// ``figureFormats`` lists it; PDF and PNG are rendered from the SVG by ``SVGRenderer``.
  ///
  /// A figure is one output however often it is saved: a file this session already wrote from
  /// the same figure in this cell run, or — for `save` — in another cell whose output still
  /// shows it, is neither written nor reported again, so `save(flows, "flows.pdf")` after
  /// `flows = sankey(…)` writes and reports the PDF alone. What `save` asks for wins over the
  /// run-wide defaults: a file in the format its name asks for (a PNG with its `dpi`) is not
  /// overwritten by the `--figures` copy of the same figure. Showing a figure again (`flows` on
  /// a line of its own in a later cell) shows it again.
  ///
  /// - Parameters:
  ///   - figure: the figure.
  ///   - name: `NAME`, `NAME.svg`, `NAME.pdf` or `NAME.png`.
  ///   - dpi: the PNG's resolution; ``figureDPI`` when nil.
  ///   - isSave: whether `save` asks for it (rather than a cell's end writing its figures).
  /// - Returns: the paths written, SVG first.
  /// - Throws: when the name leaves the figures folder, a file cannot be written or rendering
  ///   fails.
  @discardableResult
  func writeFigure(_ figure: Figure, name: String, dpi: Double? = nil, isSave: Bool = false)
    throws(CallFailure) -> [String]
  {
    let svgName = try Self.figureFileName(name)
    let stem = String(svgName.dropLast(".svg".count))
    let asked = FigureFormat(fileName: name)
    var formats = figureFormats
    if let asked, !formats.contains(asked) { formats.append(asked) }
    try makeFiguresDirectory()
    var paths: [String] = []
    for format in FigureFormat.allCases where format == .svg || formats.contains(format) {
      let fileName = stem + "." + format.rawValue
      let isAsked = isSave && format == asked
      let written = WrittenFigure(
        svg: figure.svg, dpi: format == .png && isAsked ? dpi : nil, cell: cellNumber,
        run: cellRun, isAsked: isAsked)
      if let prior = writtenFigures[fileName], prior.svg == figure.svg {
        let sameFile = !isAsked || prior.dpi == written.dpi
        let isRepeat = prior.run == cellRun || (isSave && prior.cell != cellNumber)
        let isDefaultCopy = !isSave && prior.isAsked && format != .svg
        if (sameFile && isRepeat) || isDefaultCopy { continue }
      }
      let path = try writePath(fileName)
      let bytes: [UInt8]
      do {
        switch format {
        case .svg: bytes = Array(figure.svg.utf8)
        case .pdf: bytes = try SVGRenderer.pdf(figure.svg, title: figure.title)
        case .png:
          progress?.begin("png")
          defer { progress?.end() }
          let dpi = written.dpi ?? figureDPI
          bytes = try SVGRenderer.png(figure.svg, dpi: dpi) { [progress] done in
            progress?.update(fraction: done, detail: fileName)
            return self.isCancelled()
          }
        }
      } catch {
        if isCancelled() { throw CallFailure("interrupted", kind: .interrupted) }
        throw CallFailure("cannot write '\(fileName)': \(error.message)", kind: .io)
      }
      try writeFile(Data(bytes), to: path)
      writtenFigures[fileName] = written
      emit(.figure(name: fileName, path: path))
      paths.append(path)
    }
    return paths
  }

  /// The SVG file name for a figure: `name.svg` (`name.pdf` and `name.png` also give
  /// `name.svg`); names that would leave the figures folder are refused.
  static func figureFileName(_ name: String) throws(CallFailure) -> String {
    var fileName = name
    if let format = FigureFormat(fileName: name) {
      fileName = String(name.dropLast(format.rawValue.count + 1))
    }
    fileName += ".svg"
    guard !name.isEmpty, fileName != ".svg", !fileName.hasPrefix("/"), !fileName.hasPrefix("~"),
      !fileName.split(separator: "/").contains(".."), !fileName.contains("/")
    else {
      throw CallFailure(
        "a figure name must be a plain file name inside the figures folder, not '\(name)'",
        hint: "write save(figure, \"name.svg\")")
    }
    return fileName
  }

  /// Writes the current cell's figures and forgets them.
  ///
  /// A variable bound to figures several times in a cell (in a loop) is written once, with its
  /// last figure, in the order the names first appeared.
  func flushFigures() throws(CallFailure) {
    let figures = pendingFigures
    pendingFigures = []
    var seen: Set<String> = []
    for (name, _) in figures where seen.insert(name).inserted {
      if let last = figures.last(where: { $0.name == name }) {
        _ = try writeFigure(last.figure, name: name)
      }
    }
  }

  /// The name of the next unnamed figure of a kind in this cell: `cell4-scatter`, then
  /// `cell4-scatter-2`…
  func unnamedFigureName(kind: String) -> String {
    let base = "cell\(cellNumber)-\(kind)"
    let used = pendingFigures.filter { $0.name == base || $0.name.hasPrefix(base + "-") }.count
    return used == 0 ? base : "\(base)-\(used + 1)"
  }
}

/// A file's size and modification time: when both are unchanged, so are its contents (as far as
/// a cache of what was parsed from it needs).
struct FileStamp: Equatable {
  var size: Int64
  var modified: timespec

  init?(path: String) {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    size = Int64(info.st_size)
    modified = info.st_mtim
  }

  static func == (a: FileStamp, b: FileStamp) -> Bool {
    a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
      && a.modified.tv_nsec == b.modified.tv_nsec
  }
}

extension Session {
  /// What `parse` makes of the file at `path`, parsed once per session while the file keeps its
  /// size and modification time: a workbook that takes the sample twice (its 1s and 7s, then
  /// unseen 3s and 4s) reads and inflates it once. Values are immutable, so sharing is safe.
  func cachedRead<T>(of path: String, _ parse: () throws -> T) throws -> T {
    let stamp = FileStamp(path: path)
    if let stamp, let entry = readCache[path], entry.stamp == stamp, let value = entry.value as? T {
      return value
    }
    let value = try parse()
    if let stamp { readCache[path] = (stamp, value) }
    return value
  }
}

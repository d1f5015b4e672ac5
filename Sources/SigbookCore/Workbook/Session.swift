#if canImport(Glibc)
  import Glibc
#endif
import Foundation

/// What running statements shows, in the order it happens.
public enum SessionOutput: Sendable, Equatable {
  /// The display of an expression statement's value.
  case value(String)
  /// A line written by `print`.
  case printed(String)
  /// A figure written to a file.
  case figure(name: String, path: String)
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
  /// Receives progress of long operations; nil shows nothing.
  public var progress: (any ProgressSink)?
  /// Checked by long operations between steps; when it returns true they stop with an
  /// `interrupted` error (Ctrl-C).
  public var isCancelled: () -> Bool = { false }
  /// The file name used in locations (`one-vs-seven.sigbook`, `<repl>`).
  public var file: String

  /// The number of the cell (or REPL input) being run, for naming figures.
  var cellNumber = 0
  /// The number of the cell (or REPL input) being run.
  public var currentCell: Int { cellNumber }
  /// Figures of the current cell, written when it ends: bound ones under their variable's name.
  var pendingFigures: [(name: String, figure: Figure)] = []
  /// Every file written by this session, in order.
  public private(set) var writtenFiles: [String] = []

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
  public func assign(_ name: String, _ value: Value) {
    if variables.updateValue(value, forKey: name) == nil { variableOrder.append(name) }
  }

  /// Forgets every variable (`:reset`).
  public func reset() {
    variables = [:]
    variableOrder = []
    pendingFigures = []
  }

  /// The path a file to read is found at: absolute paths as they are, others relative to
  /// `baseDirectory`.
  public func readPath(_ path: String) -> String {
    let expanded = (path as NSString).expandingTildeInPath
    return expanded.hasPrefix("/") ? expanded : baseDirectory + "/" + expanded
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

  func makeFiguresDirectory() throws(CallFailure) {
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

  /// Writes a figure as `NAME.svg` in the figures folder and reports it.
  ///
  /// - Throws: when the name leaves the figures folder or the file cannot be written.
  func writeFigure(_ figure: Figure, name: String) throws(CallFailure) -> String {
    let fileName = try Self.figureFileName(name)
    let path = try writePath(fileName)
    try writeFile(Data(figure.svg.utf8), to: path)
    emit(.figure(name: fileName, path: path))
    return path
  }

  /// The file name for a figure: `name.svg`; names that would leave the figures folder are
  /// refused.
  static func figureFileName(_ name: String) throws(CallFailure) -> String {
    let fileName = name.hasSuffix(".svg") ? name : name + ".svg"
    guard !name.isEmpty, !fileName.hasPrefix("/"), !fileName.hasPrefix("~"),
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

import Foundation

/// A new folder under the system's temporary folder, removed when this object goes away.
public final class TemporaryFolder {
  public let url: URL

  public init() throws {
    url = try makeTemporaryDirectory()
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  /// Writes `bytes` to `name` in the folder and returns the file's path.
  @discardableResult
  public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let file = url.appendingPathComponent(name)
    try Data(bytes).write(to: file)
    return file.path
  }

  /// Writes `text` as UTF-8 to `name` in the folder and returns the file's path.
  @discardableResult
  public func write(_ name: String, text: String) throws -> String {
    try write(name, Array(text.utf8))
  }

  /// Writes `text` as UTF-8 to `name` in the folder and returns the file's path.
  @discardableResult
  public func write(_ name: String, _ text: String) throws -> String {
    try write(name, Array(text.utf8))
  }

  /// The text of `name` in the folder.
  public func read(_ name: String) throws -> String {
    try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
  }

  /// Whether `name` exists in the folder.
  public func exists(_ name: String) -> Bool {
    FileManager.default.fileExists(atPath: path(name))
  }

  /// The path of `name` in the folder.
  public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  /// A figures folder `t.figures` in this folder, holding a symbolic link `out` back to this
  /// folder (a way out that writes must not take); returns its path.
  public func figuresFolderWithLinkOut() throws -> String {
    let figures = url.appendingPathComponent("t.figures").path
    try FileManager.default.createDirectory(atPath: figures, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      atPath: figures + "/out", withDestinationPath: url.path)
    return figures
  }
}

/// Creates a new, empty folder under the system's temporary folder; the caller removes it.
public func makeTemporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("sigbook-test-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// A mutable value shared by reference, for closures that record what they see.
public final class Box<T> {
  public var value: T
  public init(_ value: T) { self.value = value }
}

import Foundation
import Testing

@testable import SigbookTensor
@testable import SigbookData

/// A fresh folder under the system's temporary directory, removed when the value goes away.
final class DataTestFolder {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory
      .appendingPathComponent("sigbook-data-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  /// Writes `bytes` to `name` in the folder and returns the file's path.
  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let file = url.appendingPathComponent(name)
    try Data(bytes).write(to: file)
    return file.path
  }

  /// A figures folder `t.figures` in this folder, holding a symbolic link `out` back to this
  /// folder (a way out that writes must not take); returns its path.
  func figuresFolderWithLinkOut() throws -> String {
    let figures = url.appendingPathComponent("t.figures").path
    try FileManager.default.createDirectory(atPath: figures, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      atPath: figures + "/out", withDestinationPath: url.path)
    return figures
  }

  /// Writes `text` as UTF-8 to `name` in the folder and returns the file's path.
  @discardableResult
  func write(_ name: String, text: String) throws -> String {
    try write(name, Array(text.utf8))
  }

  /// The path of `name` in the folder.
  func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

@Suite("Gzip") struct GzipTests {
  /// Deterministic, somewhat compressible bytes.
  static func bytes(_ n: Int, seed: Int = 1) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<n).map { _ in UInt8(generator.nextInt(below: 16)) }
  }

  @Test func compressedFileReadsBackAndRawFileReadsAsIs() throws {
    let folder = try DataTestFolder()
    let original = Self.bytes(300_000)
    let gz = try folder.write("data.bin.gz", try Gzip.compress(original))
    let raw = try folder.write("data.bin", original)
    #expect(try Gzip.readFile(gz) == original)
    #expect(try Gzip.readFile(raw) == original)
    #expect(Gzip.hasMagic(try Gzip.compress([])))
    #expect(try Gzip.inflate(try Gzip.compress([]), path: "empty.gz") == [])
  }

  @Test func concatenatedMembersAreJoinedAndTheBufferGrows() throws {
    // The trailer of the last member announces only its own size, so the output must grow.
    let a = Self.bytes(200_000, seed: 2)
    let b = Self.bytes(10, seed: 3)
    let joined = try Gzip.compress(a) + Gzip.compress(b, level: 9)
    #expect(try Gzip.inflate(joined, path: "joined.gz") == a + b)
  }

  @Test func gzNameWithoutMagicIsRefused() throws {
    let folder = try DataTestFolder()
    let path = try folder.write("plain.csv.gz", text: "1,2,3\n")
    let error = try #require(throws: DataError.self) { try Gzip.readFile(path) }
    #expect(error.description == "'\(path)' is not a gzip file")
  }

  @Test func truncatedStreamIsReported() throws {
    let folder = try DataTestFolder()
    let compressed = try Gzip.compress(Self.bytes(50_000))
    for keep in [compressed.count / 2, compressed.count - 4, 12] {
      let path = try folder.write("cut-\(keep).gz", Array(compressed.prefix(keep)))
      let error = try #require(throws: DataError.self) { try Gzip.readFile(path) }
      #expect(error.description == "'\(path)': gzip data is truncated")
    }
  }

  @Test func corruptStreamIsReportedWithZlibsMessage() throws {
    let folder = try DataTestFolder()
    var compressed = try Gzip.compress(Self.bytes(50_000))
    for i in 20..<60 { compressed[i] ^= 0x5a }
    let path = try folder.write("corrupt.gz", compressed)
    let error = try #require(throws: DataError.self) { try Gzip.readFile(path) }
    #expect(error.description.hasPrefix("'\(path)': corrupt gzip data: "))
    #expect(error.description.count > "'\(path)': corrupt gzip data: ".count)
  }

  @Test func missingFileAndFolderAreExplained() throws {
    let folder = try DataTestFolder()
    let missing = folder.path("nothing.csv")
    let error = try #require(throws: DataError.self) { try Gzip.readFile(missing) }
    #expect(error.description == "cannot read '\(missing)': no such file")
    let asFile = try #require(throws: DataError.self) { try Gzip.readFile(folder.url.path) }
    #expect(asFile.description == "cannot read '\(folder.url.path)': it is a folder")
  }
}

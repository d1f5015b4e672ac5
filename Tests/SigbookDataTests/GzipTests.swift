import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData

@Suite("Gzip") struct GzipTests {
  /// Deterministic, somewhat compressible bytes.
  static func bytes(_ n: Int, seed: Int = 1) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<n).map { _ in UInt8(generator.nextInt(below: 16)) }
  }

  @Test func compressedFileReadsBackAndRawFileReadsAsIs() throws {
    let folder = try TemporaryFolder()
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
    let folder = try TemporaryFolder()
    let path = try folder.write("plain.csv.gz", text: "1,2,3\n")
    let error = try #require(throws: DataError.self) { try Gzip.readFile(path) }
    #expect(error.description == "'\(path)' is not a gzip file")
  }

  @Test func truncatedStreamIsReported() throws {
    let folder = try TemporaryFolder()
    let compressed = try Gzip.compress(Self.bytes(50_000))
    for keep in [compressed.count / 2, compressed.count - 4, 12] {
      let path = try folder.write("cut-\(keep).gz", Array(compressed.prefix(keep)))
      let error = try #require(throws: DataError.self) { try Gzip.readFile(path) }
      #expect(error.description == "'\(path)': gzip data is truncated")
    }
  }

  @Test func corruptStreamIsReportedWithZlibsMessage() throws {
    let folder = try TemporaryFolder()
    var compressed = try Gzip.compress(Self.bytes(50_000))
    for i in 20..<60 { compressed[i] ^= 0x5a }
    let path = try folder.write("corrupt.gz", compressed)
    let error = try #require(throws: DataError.self) { try Gzip.readFile(path) }
    #expect(error.description.hasPrefix("'\(path)': corrupt gzip data: "))
    #expect(error.description.count > "'\(path)': corrupt gzip data: ".count)
  }

  @Test func missingFileAndFolderAreExplained() throws {
    let folder = try TemporaryFolder()
    let missing = folder.path("nothing.csv")
    let error = try #require(throws: DataError.self) { try Gzip.readFile(missing) }
    #expect(error.description == "cannot read '\(missing)': no such file")
    let asFile = try #require(throws: DataError.self) { try Gzip.readFile(folder.url.path) }
    #expect(asFile.description == "cannot read '\(folder.url.path)': it is a folder")
  }
}

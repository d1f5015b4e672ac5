import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookData
@testable import SigbookTensor

@Suite("IDX reader") struct IDXReaderTests {
  @Test(arguments: [false, true])
  func roundTripsRawAndGzipFiles(gzip: Bool) throws {
    let folder = try TemporaryFolder()
    let suffix = gzip ? ".gz" : ""
    func encode(_ bytes: [UInt8]) throws -> [UInt8] { gzip ? try Gzip.compress(bytes) : bytes }
    let images = try folder.write(
      "t10k-images-idx3-ubyte" + suffix,
      try encode(IDXFixture.images(count: 3, rows: 2, columns: 2, pixels: IDXFixture.pixels)))
    let labels = try folder.write(
      "t10k-labels-idx1-ubyte" + suffix, try encode(IDXFixture.labels(IDXFixture.labelValues)))

    let read = try IDXReader.readImages(images)
    #expect(read.count == 3 && read.rows == 2 && read.columns == 2)
    #expect(read.pixels == IDXFixture.pixels)
    #expect(try IDXReader.readLabels(labels) == IDXFixture.labelValues)

    let data = try Dataset.idx(images: images, labels: labels, name: "tiny")
    #expect(data.name == "tiny")
    #expect(data.features.shape == [3, 1, 2, 2])
    #expect(data.features.scalars == IDXFixture.pixels.map { Float($0) / 255 })
    #expect(data.classNames == ["1", "7"])
    #expect(data.labels == [1, 0, 1])
    #expect(data.features.max() <= 1 && data.features.min() >= 0)
  }

  @Test func wrongMagicNumberSaysExpectedAndFound() throws {
    let folder = try TemporaryFolder()
    let labels = try folder.write("labels", IDXFixture.labels(IDXFixture.labelValues))
    let images = try folder.write(
      "images", IDXFixture.images(count: 3, rows: 2, columns: 2, pixels: IDXFixture.pixels))
    let asImages = try #require(throws: DataError.self) { try IDXReader.readImages(labels) }
    #expect(
      asImages.description
        == "'\(labels)' is not an IDX image file: expected magic number 0x00000803 "
        + "but found 0x00000801")
    let asLabels = try #require(throws: DataError.self) { try IDXReader.readLabels(images) }
    #expect(
      asLabels.description
        == "'\(images)' is not an IDX label file: expected magic number 0x00000801 "
        + "but found 0x00000803")
    let text = try folder.write("text", text: "hello, world")
    let fromText = try #require(throws: DataError.self) { try IDXReader.readImages(text) }
    #expect(fromText.description.hasSuffix("but found 0x68656c6c"))
  }

  @Test func otherDataTypesAreUnsupported() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write(
      "floats", IDXFixture.images(count: 1, rows: 1, columns: 1, pixels: [0, 0, 0, 0], type: 0x0d))
    let error = try #require(throws: DataError.self) { try IDXReader.readImages(path) }
    #expect(
      error.description
        == "'\(path)': unsupported IDX data type 0x0d (float32); "
        + "sigbook reads unsigned bytes (0x08)"
    )
  }

  @Test func truncatedFilesSayHowManyBytesWereExpected() throws {
    let folder = try TemporaryFolder()
    let images = try folder.write(
      "images.gz",
      try Gzip.compress(
        IDXFixture.images(count: 3, rows: 2, columns: 2, pixels: Array(IDXFixture.pixels[0..<5]))))
    let error = try #require(throws: DataError.self) { try IDXReader.readImages(images) }
    #expect(
      error.description == "'\(images)' is truncated: expected 12 bytes of pixel data but found 5")

    let labels = try folder.write("labels", IDXFixture.labels([1, 2], count: 3))
    let labelError = try #require(throws: DataError.self) { try IDXReader.readLabels(labels) }
    #expect(
      labelError.description == "'\(labels)' is truncated: expected 3 bytes of labels but found 2")

    let header = try folder.write("header", [0, 0, 8, 3, 0, 0])
    let headerError = try #require(throws: DataError.self) { try IDXReader.readImages(header) }
    #expect(
      headerError.description
        == "'\(header)' is truncated: expected 16 bytes of IDX header but found 6")
  }

  @Test func labelCountMustMatchImageCount() throws {
    let folder = try TemporaryFolder()
    let images = try folder.write(
      "images", IDXFixture.images(count: 3, rows: 2, columns: 2, pixels: IDXFixture.pixels))
    let labels = try folder.write("labels", IDXFixture.labels([7, 1]))
    let error = try #require(throws: DataError.self) {
      try Dataset.idx(images: images, labels: labels)
    }
    #expect(error.description == "'\(labels)' has 2 labels but '\(images)' has 3 images")
  }

  @Test func gzNameOnARawIDXFileIsRefused() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write(
      "train-images-idx3-ubyte.gz",
      IDXFixture.images(count: 3, rows: 2, columns: 2, pixels: IDXFixture.pixels))
    let error = try #require(throws: DataError.self) { try IDXReader.readImages(path) }
    #expect(error.description == "'\(path)' is not a gzip file")
  }
}

extension IDXReaderTests {
  /// A header of 2³² − 1 images of 65,535 × 65,535 pixels: the product overflows 64 bits, and
  /// was computed unchecked (a trap) before it was compared with the limit.
  @Test func headersWhoseProductOverflowsAreRefused() throws {
    let folder = try TemporaryFolder()
    let images = try folder.write(
      "h", [0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff])
    let labels = try folder.write("l", [0, 0, 8, 1, 0, 0, 0, 0])
    let error = try #require(throws: DataError.self) {
      try Dataset.idx(images: images, labels: labels)
    }
    #expect(
      error.description
        == "'\(images)' announces 4,294,967,295 images of 65535 × 65535 pixels (more than 2⁶³ "
        + "values); sigbook reads at most 268,435,456 values")
  }

  /// Ctrl-C while a gzip file is inflated: reading stops between chunks of 4 MiB, here after the
  /// first of the 5 MiB of pixels, and nothing is kept. It used to run to the end.
  @Test func inflatingStopsWhenInterrupted() throws {
    let folder = try TemporaryFolder()
    let pixels = [UInt8](repeating: 7, count: 5 << 20)
    let images = try folder.write(
      "i.gz", Gzip.compress(IDXFixture.images(count: 5120, rows: 32, columns: 32, pixels: pixels)))
    var polls = 0
    let interrupted = try #require(throws: ReadInterrupted.self) {
      try IDXReader.readImages(
        images,
        isCancelled: {
          polls += 1
          return polls > 1
        })
    }
    #expect(interrupted.path == images && polls == 2)
    #expect(try IDXReader.readImages(images).pixels.count == 5 << 20)
  }
}

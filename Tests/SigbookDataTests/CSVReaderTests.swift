import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookData

@Suite("CSV reader") struct CSVReaderTests {
  @Test func headerNamesTheLabelColumnAndTextLabelsSortAsText() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write(
      "flowers.csv",
      text: "species,length,width\r\nsetosa, 1.5 ,-2\r\n\r\nvirginica,2.25,3e2\r\n\"iris\",0.125,+4"
    )
    let data = try Dataset.csv(path: path, label: "species")
    #expect(data.name == "flowers")
    #expect(data.features.shape == [3, 2])
    #expect(data.features.scalars == [1.5, -2, 2.25, 300, 0.125, 4])
    #expect(data.classNames == ["iris", "setosa", "virginica"])
    #expect(data.labels == [1, 2, 0])
  }

  @Test func withoutHeaderTheLastColumnIsTheLabelAndNumbersSortNumerically() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("digits.csv", text: "0,1,10\n2,3,9\n4,5,7.0\n6,7,9\n")
    let data = try Dataset.csv(path: path)
    #expect(data.features.shape == [4, 2])
    #expect(data.features.scalars == [0, 1, 2, 3, 4, 5, 6, 7])
    #expect(data.classNames == ["7", "9", "10"])
    #expect(data.labels == [2, 1, 0, 1])
  }

  @Test func textLabelsWithoutHeaderAreNotMistakenForAHeader() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("pets.csv", text: "0.5,1,cat\n1.5,2,dog\n")
    let data = try Dataset.csv(path: path)
    #expect(data.count == 2)
    #expect(data.classNames == ["cat", "dog"])
  }

  @Test func gzipCSVAndImageReshaping() throws {
    let folder = try TemporaryFolder()
    let text = "0,255,51,102,3\n255,0,0,0,4\n"
    let path = try folder.write("tiny.csv.gz", try Gzip.compress(Array(text.utf8)))
    let data = try Dataset.csv(path: path)
    #expect(data.name == "tiny")
    let images = try data.reshapedAsImages(channels: 1, height: 2, width: 2, dividedBy: 255)
    #expect(images.features.shape == [2, 1, 2, 2])
    #expect(images.features.scalars == [0, 1, 0.2, 0.4, 1, 0, 0, 0])
    let error = try #require(throws: DataError.self) {
      try data.reshapedAsImages(height: 3, width: 3)
    }
    #expect(
      error.description
        == "'tiny' has 4 values per input, which cannot be shaped as 1 × 3 × 3 images")
  }

  @Test func rowOfTheWrongWidthNamesFileLineAndCounts() throws {
    let folder = try TemporaryFolder()
    let short = try folder.write("short.csv", text: "a,b,label\n1,2,0\n\n3,4\n")
    let error = try #require(throws: DataError.self) { try Dataset.csv(path: short) }
    #expect(error.description == "'\(short)' line 4: expected 3 fields but found 2")
    let long = try folder.write("long.csv", text: "1,2,0\n3,4,5,6,1\n")
    let longError = try #require(throws: DataError.self) { try Dataset.csv(path: long) }
    #expect(longError.description == "'\(long)' line 2: expected 3 fields but found 5")
  }

  @Test func nonNumericFeatureNamesLineAndColumn() throws {
    let folder = try TemporaryFolder()
    let named = try folder.write("named.csv", text: "a,b,label\n1,2,0\n3,x4,1\n")
    let error = try #require(throws: DataError.self) { try Dataset.csv(path: named) }
    #expect(
      error.description == "'\(named)' line 3, column 2 ('b'): expected a number but found 'x4'")
    let bare = try folder.write("bare.csv", text: "1,2,0\n3,,1\n")
    let bareError = try #require(throws: DataError.self) { try Dataset.csv(path: bare) }
    #expect(bareError.description == "'\(bare)' line 2, column 2: expected a number but found ''")
    let nan = try folder.write("nan.csv", text: "1,2,0\nnan,1,1\n")
    let nanError = try #require(throws: DataError.self) { try Dataset.csv(path: nan) }
    #expect(nanError.description == "'\(nan)' line 2, column 1: expected a number but found 'nan'")
  }

  @Test func emptyFilesAndHeaderOnlyFilesAreRefused() throws {
    let folder = try TemporaryFolder()
    let empty = try folder.write("empty.csv", text: "\n  \n")
    let error = try #require(throws: DataError.self) { try Dataset.csv(path: empty) }
    #expect(error.description == "'\(empty)' is empty")
    let header = try folder.write("header.csv", text: "a,b,label\n")
    let headerError = try #require(throws: DataError.self) { try Dataset.csv(path: header) }
    #expect(headerError.description == "'\(header)' has a header but no data rows")
  }

  @Test func unknownLabelColumnListsTheColumns() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("named.csv", text: "a,b,label\n1,2,0\n")
    let error = try #require(throws: DataError.self) { try Dataset.csv(path: path, label: "class") }
    #expect(
      error.description == "'\(path)' has no column 'class'; its columns are 'a', 'b', 'label'")
    let bare = try folder.write("bare.csv", text: "1,2,0\n")
    let bareError = try #require(throws: DataError.self) {
      try Dataset.csv(path: bare, label: "class")
    }
    #expect(
      bareError.description
        == "'\(bare)' has no header row, so it has no column 'class' "
        + "(without a header the label is the last column)")
  }

  @Test func labelColumnMayBeAnyColumnAndMatchesCaseInsensitively() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("first.csv", text: "Label,x,y\n1,0.5,0.25\n0,1,2\n")
    let data = try Dataset.csv(path: path, label: "label")
    #expect(data.features.scalars == [0.5, 0.25, 1, 2])
    #expect(data.classNames == ["0", "1"] && data.labels == [1, 0])
  }

  /// How fast it parses is a row of `sigbook bench` (X1), not a test: no timed unit tests.
  @Test func embeddedSampleParses() throws {
    let path = try Dataset.locateSample(environment: [:])
    let data = try Dataset.csv(path: path)
    #expect(data.features.shape == [5000, 784])
    #expect(data.classNames == (0...9).map(String.init))
    #expect(data.countsPerClass() == Array(repeating: 500, count: 10))
  }
}

extension CSVReaderTests {
  /// `Double(_:)` follows `strtod`, which reads `0x10` as 16 and stops at a NUL byte: a CSV
  /// field must be a decimal number, and a NUL byte anywhere is refused with its place.
  @Test func hexadecimalNumbersAndNULBytesAreRefused() throws {
    let hex = try #require(throws: DataError.self) {
      try CSVReader.parse(
        Array("a,b,label\n1,2,0\n3,0x10,1\n".utf8), path: "h.csv", label: nil, name: "h")
    }
    #expect(
      hex.description
        == "'h.csv' line 3, column 2 ('b'): expected a decimal number but found '0x10'")
    for text in ["1,2,0\n3,0x1p4,1\n", "1,2,0\n3,1e,1\n", "1,2,0\n3,.,1\n", "1,2,0\n3,1_0,1\n"] {
      #expect(throws: DataError.self, "\(text)") {
        try CSVReader.parse(Array(text.utf8), path: "h.csv", label: nil, name: "h")
      }
    }
    let nul = try #require(throws: DataError.self) {
      try CSVReader.parse(Array("1,2,0\n3,4\u{0},1\n".utf8), path: "n.csv", label: nil, name: "n")
    }
    #expect(
      nul.description
        == "'n.csv' line 2, column 2: holds a NUL byte; a CSV file is text (is it a binary file?)")
    // Decimal numbers in every form still read, on the fast path and through Double.
    let ok = try CSVReader.parse(
      Array("1.5,-.5,+2.,1e3,0\n1E-2,3,-0,12345678901234567890,1\n".utf8), path: "d.csv",
      label: nil, name: "d")
    #expect(ok.features.scalars == [1.5, -0.5, 2, 1000, 0.01, 3, 0, 12345678901234567890])
  }
}

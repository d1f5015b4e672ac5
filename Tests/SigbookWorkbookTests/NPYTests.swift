import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookData
@testable import SigbookAnalysis
@testable import SigbookWorkbook

/// NumPy arrays as datasets (`npy`) and as signature sets (`signatures_from`).
@Suite("NumPy arrays") struct NPYTests {
  @Test func readsEveryTypeSigbookWrites() throws {
    let folder = try TemporaryFolder()
    let x = folder.path("x.npy"), y = folder.path("y.npy")
    try NPY.encode([1, 2, 3, 4, 5, 6], shape: [3, 2]).write(to: URL(fileURLWithPath: x))
    try NPY.encode([7, 1, 7], shape: [3]).write(to: URL(fileURLWithPath: y))
    let data = try Dataset.npy(features: x, labels: y)
    #expect(data.features.shape == [3, 2] && data.features.scalars == [1, 2, 3, 4, 5, 6])
    #expect(data.classNames == ["1", "7"] && data.labels == [1, 0, 1] && data.name == "x")
  }

  @Test func scalesBytesAndWidensDoubles() throws {
    let folder = try TemporaryFolder()
    let pixels = try folder.write(
      "p.npy",
      NPYFixture.bytes(
        descr: "|u1", shape: "(2, 1, 2, 2)", data: [0, 255, 51, 102] + [0, 0, 0, 255]))
    let data = try Dataset.npy(features: pixels)
    #expect(data.features.shape == [2, 1, 2, 2] && data.features.scalars[1] == 1)
    #expect(data.features.scalars[2] == Float(51) / 255 && data.classNames == ["all"])
    let doubles: [Double] = [0.5, -2]
    let d = try folder.write(
      "d.npy",
      NPYFixture.bytes(
        descr: "<f8", shape: "(2,)",
        data: doubles.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
    )
    #expect(try Dataset.npy(features: d).features.scalars == [0.5, -2])
  }

  static let badFiles: [(name: String, bytes: [UInt8], message: String)] = [
    ("text.npy", Array("hello".utf8), "is not a NumPy .npy file"),
    (
      "short.npy", NPYFixture.bytes(descr: "<f4", shape: "(4,)", data: [0, 0, 0, 0]),
      "is truncated: expected 16 bytes of float32 data but found 4"
    ),
    (
      "c.npy", NPYFixture.bytes(descr: "<c16", shape: "(1,)", data: []),
      "values of NumPy type '<c16'"
    ),
    (
      "f.npy", NPYFixture.bytes(descr: "<f4", shape: "(1, 1)", data: [0, 0, 0, 0], fortran: true),
      "Fortran order"
    ),
  ]

  @Test(arguments: badFiles)
  func badFilesAreExplainedByName(_ c: (name: String, bytes: [UInt8], message: String)) throws {
    let folder = try TemporaryFolder()
    let path = try folder.write(c.name, c.bytes)
    let error = try #require(throws: DataError.self) { try Dataset.npy(features: path) }
    #expect(
      error.description.contains("'\(path)'") && error.description.contains(c.message), "\(error)")
  }

  @Test func signaturesFromArraysClusterLikeSigbooksOwn() throws {
    let folder = try TemporaryFolder()
    let h1 = folder.path("h1.npy"), h2 = folder.path("h2.npy"), y = folder.path("y.npy")
    try NPY.encode([0, 0, 0.1, 0, 5, 5, 5.1, 5], shape: [4, 2]).write(to: URL(fileURLWithPath: h1))
    try NPY.encode([1, 1, 9, 9], shape: [4, 1, 1]).write(to: URL(fileURLWithPath: h2))
    try NPY.encode([3, 3, 8, 8], shape: [4]).write(to: URL(fileURLWithPath: y))
    let session = Session(
      file: "t.sigbook", baseDirectory: folder.url.path, figuresDirectory: folder.path("t.figures"))
    let out = try runSource(
      "sig = signatures_from([\"h1.npy\", \"h2.npy\"], labels: \"y.npy\")\nsig.layers\nsig.count\n"
        + "c = kmeans(sig, k: 2, seed: 1)\nlayer_report(c)[0].nmi",
      session: session)
    #expect(out == ["2", "4", "1"])
    let mismatch = folder.path("h3.npy")
    try NPY.encode([1, 2, 3], shape: [3]).write(to: URL(fileURLWithPath: mismatch))
    let error = try #require(throws: DataError.self) {
      try SignatureSet.npy(layers: [h1, mismatch])
    }
    #expect(error.description.contains("has 3 rows but"))
  }
}

extension NPYTests {
  /// Headers NumPy would not write are refused, saying what was found, instead of loading data
  /// of another shape (a duplicated key was read as its first value, a nested tuple as `[3]`).
  static let badHeaders: [(header: String, reason: String)] = [
    (
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'shape': (1,), }",
      "has the key 'shape' twice"
    ),
    (
      "{'descr': '<f4', 'fortran_order': False, 'shape': ((3,), 4), }",
      "its 'shape' ((3,), 4) holds (3,); a shape holds non-negative whole numbers"
    ),
    (
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }",
      "its 'shape' is 3 rather than a tuple such as (3, 4)"
    ),
    (
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }",
      "its 'shape' (-3,) holds -3; a shape holds non-negative whole numbers"
    ),
    (
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}",
      "has the key 'extra'; numpy writes only 'descr', 'fortran_order' and 'shape'"
    ),
    ("{'descr': '<f4', 'shape': (3,), }", "has no 'fortran_order'"),
    (
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }",
      "its 'fortran_order' is 0 rather than True or False"
    ),
    (
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3.5,), }",
      "expected a whole number but found '.5,), }'"
    ),
    (
      "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
      "has a number too large for a size"
    ),
    (
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } x",
      "has 'x' after the dictionary; numpy pads it with spaces only"
    ),
    (
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2) ",
      "expected ',' or '}' but found the end of the header"
    ),
  ]

  @Test(arguments: badHeaders)
  func headersNumPyWouldNotWriteAreRefused(_ c: (header: String, reason: String)) throws {
    let folder = try TemporaryFolder()
    let path = try folder.write(
      "h.npy", NPYFixture.bytes(header: c.header, data: [UInt8](repeating: 0, count: 48)))
    let error = try #require(throws: DataError.self) { try NPY.read(path) }
    #expect(
      error.description.hasPrefix("cannot read '\(path)': its .npy header \(c.reason): "),
      "\(error)")
  }

  @Test func headersAsNumPyWritesThemAreRead() throws {
    let headers = [
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
      "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L, 3L)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3,), }",
    ]
    for header in headers {
      let contents = try NPY.decode(
        NPYFixture.bytes(header: header, data: [UInt8](repeating: 0, count: 24)), path: "a.npy")
      #expect(contents.shape == [2, 3], "\(header)")
    }
    let scalar = try NPY.decode(
      NPYFixture.bytes(
        header: "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data: [0, 0, 0x80, 0x3f]),
      path: "s.npy")
    #expect(scalar.shape == [] && scalar.values == [1])
  }

  /// 1e300 is a finite float64 but infinite as a float32: refused with its position.
  @Test func doublesBeyondTheRangeOfFloatAreRefused() throws {
    let folder = try TemporaryFolder()
    let doubles: [Double] = [0.5, -2, 1e300, 3]
    let path = try folder.write(
      "big.npy",
      NPYFixture.bytes(
        descr: "<f8", shape: "(2, 2)",
        data: doubles.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
    )
    let error = try #require(throws: DataError.self) { try Dataset.npy(features: path) }
    #expect(
      error.description
        == "'\(path)' holds 1e+300 at [1, 0], beyond the ±3.4e38 of the 32-bit floats sigbook "
        + "computes in (scale or clip the values first)")
  }

  /// A gzipped array is inflated in chunks, Ctrl-C polled between them, and no further than its
  /// shape says: 5 MiB of float32 stop after the first 4 MiB when interrupted, and 1 GiB of
  /// zeros after a 4-value array is not inflated (it used to be, up to the 1 GiB file limit).
  @Test func gzippedArraysAreInflatedAsFarAsTheirShapeAndStopOnCtrlC() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write(
      "x.npy.gz",
      Gzip.compress([UInt8](NPY.encode([Float](repeating: 1, count: 5 << 18), shape: [5 << 18]))))
    var polls = 0
    let interrupted = try #require(throws: ReadInterrupted.self) {
      try NPY.read(
        path,
        isCancelled: {
          polls += 1
          return polls > 1
        })
    }
    #expect(interrupted.path == path && polls == 2)
    // The 16-byte array, then 17 gzip members of 64 MiB of zeros: more than the file limit
    // allows once inflated.
    let small = try Gzip.compress([UInt8](NPY.encode([Float]([1, 2, 3, 4]), shape: [4])))
    let zeros = try Gzip.compress([UInt8](repeating: 0, count: 64 << 20))
    let padded = try folder.write(
      "p.npy.gz", small + Array([[UInt8]](repeating: zeros, count: 17).joined()))
    #expect(try NPY.read(padded).values == [1, 2, 3, 4])
  }
}

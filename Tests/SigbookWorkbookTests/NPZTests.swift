import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookData
@testable import SigbookWorkbook

/// `export(sig, "sig.npz")`: a whole signature set as one NumPy `.npz`, read back here entry by
/// entry and, where python3 has NumPy, by `numpy.load`.
@Suite("Signature sets as .npz") struct NPZTests {
  /// One stored entry of a ZIP archive.
  struct Entry {
    var name: String
    var bytes: [UInt8]
    var crc: UInt32
  }

  static func le16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
  static func le32(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
  }

  /// The entries of a ZIP archive, walked through its local headers, and the number of entries
  /// its end record gives.
  static func entries(_ b: [UInt8]) throws -> (entries: [Entry], recorded: Int) {
    var entries: [Entry] = []
    var i = 0
    while i + 30 <= b.count, le32(b, i) == 0x0403_4b50 {
      #expect(le16(b, i + 8) == 0, "entry \(entries.count) is not stored")
      let size = Int(le32(b, i + 18)), nameLength = le16(b, i + 26), extra = le16(b, i + 28)
      let name = String(decoding: b[(i + 30)..<(i + 30 + nameLength)], as: UTF8.self)
      let start = i + 30 + nameLength + extra
      entries.append(
        Entry(name: name, bytes: Array(b[start..<(start + size)]), crc: le32(b, i + 14)))
      i = start + size
    }
    let end = try #require(
      stride(from: b.count - 22, through: 0, by: -1).first { le32(b, $0) == 0x0605_4b50 })
    return (entries, le16(b, end + 10))
  }

  static let workbook = """
    d = synthetic(.two_gaussians, n: 40, seed: 1)
    net = fit(mlp(2, 5, 3, 2), d, epochs: 1, seed: 1)
    sig = signatures(net, d)
    export(sig, "sig.npz")
    """

  /// Runs the workbook in a fresh folder; returns the session and the archive's path.
  static func exported() throws -> (session: Session, path: String, folder: URL) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "sigbook-npz-\(UUID().uuidString)")
    let session = Session(
      file: "t.sigbook", baseDirectory: folder.path, figuresDirectory: folder.path + "/t.figures")
    _ = try runSource(workbook, session: session)
    return (session, folder.path + "/t.figures/sig.npz", folder)
  }

  @Test func everyLayerLabelsAndPredictionsAreArraysOfTheArchive() throws {
    let (session, path, folder) = try Self.exported()
    defer { try? FileManager.default.removeItem(at: folder) }
    guard case .signatures(let sig)? = session.variables["sig"] else {
      Issue.record("no signature set")
      return
    }
    let (entries, recorded) = try Self.entries(
      Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    #expect(
      entries.map(\.name) == [
        "H1.npy", "H2.npy", "labels.npy", "class_names.npy", "predictions.npy",
        "prediction_names.npy",
      ])
    #expect(recorded == entries.count)
    for entry in entries {
      #expect(NPZ.crc32(of: Data(entry.bytes)) == entry.crc, "\(entry.name): CRC")
    }
    for (i, layer) in sig.layers.enumerated() {
      let array = try NPY.decode(entries[i].bytes, path: entries[i].name)
      #expect(array.shape == [sig.count, layer.rowSize])
      #expect(array.floats == layer.scalars)
    }
    let labels = try NPY.decode(entries[2].bytes, path: "labels.npy")
    #expect(labels.isInteger && labels.values.map { Int($0) } == sig.labels)
    let predictions = try NPY.decode(entries[4].bytes, path: "predictions.npy")
    #expect(predictions.values.map { Int($0) } == sig.predictions)
    // class_names: '<U1', two texts of one UTF-32 code point each.
    #expect(String(decoding: entries[3].bytes.prefix(64), as: UTF8.self).contains("'<U1'"))
    #expect(Array(entries[3].bytes.suffix(8)) == [0x30, 0, 0, 0, 0x31, 0, 0, 0])
  }

  @Test func aSignatureSetExportsOnlyAsNPZ() throws {
    let error = try errorOf(
      "d = synthetic(.two_gaussians, n: 20)\nsig = signatures(mlp(2, 3, 2), d)\nexport(sig, \"s.npy\")"
    )
    #expect(error.message == "a signature set exports as one .npz (all its layers), not 's.npy'")
  }

  @Test(.enabled(if: Python.hasNumPy, "needs python3 with NumPy to read the .npz"))
  func numpyLoadReadsTheArchive() throws {
    let (_, path, folder) = try Self.exported()
    defer { try? FileManager.default.removeItem(at: folder) }
    let text = try Python.run(
      "import sys, numpy as np\nz = np.load(sys.argv[1])\n"
        + "print(sorted(z.files), z['H1'].shape, z['H2'].dtype, [str(c) for c in z['class_names']], z['labels'].sum())",
      [path])
    #expect(
      text.hasPrefix(
        "['H1', 'H2', 'class_names', 'labels', 'prediction_names', 'predictions'] (40, 5) float32 ['0', '1'] 20"
      ), "\(text)")
  }
}

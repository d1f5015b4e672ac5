import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookONNX

/// Malformed ONNX files that crashed the importer or hung it: each is now refused with an error
/// that names the file, the node and the cause.
@Suite("ONNX malformed files") struct ONNXMalformedTests {
  @Test(arguments: ONNXModelBuilder.crashers.map { ($0.name, $0.message) })
  func crashingModelsAreRefusedByNode(_ name: String, _ message: String) throws {
    let folder = try TemporaryFolder()
    let model = try #require(ONNXModelBuilder.crashers.first { $0.name == name }?.model)
    try folder.write("w.bin", [UInt8](repeating: 0, count: 16))
    let error = try ONNXErrorTests.error(folder.write("\(name).onnx", model))
    #expect(error.contains(message), "\(error)")
  }

  /// The external data file must be a regular file holding the bytes the tensor needs; it is
  /// opened without blocking and checked before anything is read.
  @Test func externalDataMustBeARegularFileOfTheRightSize() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write(
      "m.onnx", ONNXModelBuilder.externalModel(offset: "0", length: "16"))
    // A FIFO: `open` for reading used to wait for a writer for ever.
    #expect(mkfifo(folder.path("w.bin"), 0o600) == 0)
    #expect(
      try ONNXErrorTests.error(path).contains(
        "initializer 'w' is stored in 'w.bin', which is not a regular file"))
    try FileManager.default.removeItem(atPath: folder.path("w.bin"))
    // A link to /dev/zero, which never ends: refused without reading.
    try FileManager.default.createSymbolicLink(
      atPath: folder.path("w.bin"), withDestinationPath: "/dev/zero")
    #expect(
      try ONNXErrorTests.error(path).contains(
        "initializer 'w' is stored in 'w.bin', which is not a regular file"))
    try FileManager.default.removeItem(atPath: folder.path("w.bin"))
    // Too short for the tensor.
    try folder.write("w.bin", [UInt8](repeating: 0, count: 10))
    #expect(
      try ONNXErrorTests.error(path).contains(
        "initializer 'w' needs bytes 0 to 16 of 'w.bin', which holds 10 bytes"))
    // A length that is not the tensor's.
    let wrongLength = try folder.write(
      "l.onnx", ONNXModelBuilder.externalModel(offset: "0", length: "8"))
    #expect(
      try ONNXErrorTests.error(wrongLength).contains(
        "initializer 'w' should hold 16 bytes but its external data length is 8"))
    // The right bytes at an offset load.
    let values: [Float] = [1, 2, 3, 4]
    try folder.write(
      "w.bin",
      [9, 9, 9] + values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    let shifted = try folder.write(
      "o.onnx", ONNXModelBuilder.externalModel(offset: "3", length: nil))
    let net = try ONNXImporter.load(path: shifted, inputShape: nil, classNames: nil)
    #expect(net.predict(Tensor(shape: [1, 4], scalars: [1, 1, 1, 1])).scalars == [10])
  }

  /// A 6 GB sparse file (no disk used) holding the 16 bytes at its start, named without a
  /// length: only those 16 bytes are read. It used to be read whole (6 GB of memory) and then
  /// refused for holding more bytes than the tensor.
  @Test func aHugeSparseExternalFileIsReadOnlyAsFarAsTheTensor() throws {
    let folder = try TemporaryFolder()
    let values: [Float] = [1, 2, 3, 4]
    let data = try folder.write(
      "w.bin", values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: data))
    try handle.truncate(atOffset: 6 << 30)
    try handle.close()
    // No length: the tensor's own size says how far to read.
    let path = try folder.write("m.onnx", ONNXModelBuilder.externalModel(offset: "0", length: nil))
    let net = try ONNXImporter.load(path: path, inputShape: nil, classNames: nil)
    #expect(net.predict(Tensor(shape: [1, 4], scalars: [1, 0, 0, 1])).scalars == [5])
  }

  /// Writes the crashing models to `SIGBOOK_WRITE_ONNX_CORPUS` (the fuzz corpus,
  /// `Fixtures/fuzz-corpus/`) when it is set: how the committed files were made.
  @Test(
    .enabled(
      if: ProcessInfo.processInfo.environment["SIGBOOK_WRITE_ONNX_CORPUS"] != nil,
      "writes the corpus only when SIGBOOK_WRITE_ONNX_CORPUS names a folder"))
  func writeCorpus() throws {
    let folder = try #require(ProcessInfo.processInfo.environment["SIGBOOK_WRITE_ONNX_CORPUS"])
    for (name, model, _) in ONNXModelBuilder.crashers {
      let data: Data = try model.serializedBytes()
      try data.write(to: URL(fileURLWithPath: folder + "/\(name).onnx"))
    }
    let external: Data = try ONNXModelBuilder.externalModel(offset: "0", length: "16")
      .serializedBytes()
    try external.write(to: URL(fileURLWithPath: folder + "/external-data.onnx"))
  }
}

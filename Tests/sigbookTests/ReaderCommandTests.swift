import Foundation
import SigbookTestSupport
import Testing

/// The reader defects that showed through `sigbook run`: a trap on an IDX header, an ONNX
/// external data FIFO that blocked for ever, and values that became infinite without a word.
/// Each workbook now stops with an error naming the file (or the argument) and the cause.
@Suite(
  "Readers (command line)",
  .enabled(if: Binary.isBuilt, "needs the built sigbook binary (swift build)"))
struct ReaderCommandTests {
  /// Runs `code` as the one cell of `t.sigbook` in `folder`.
  static func run(_ code: String, in folder: TemporaryFolder) throws -> ProcessResult {
    try folder.write("t.sigbook", "```sigbook\n\(code)\n```\n")
    return try Binary.run(["run", "t.sigbook"], in: folder.url)
  }

  static func write(_ bytes: [UInt8], _ name: String, in folder: TemporaryFolder) throws {
    try Data(bytes).write(to: folder.url.appendingPathComponent(name))
  }

  @Test func idxHeadersWhoseSizesOverflowAreRefused() throws {
    let folder = try TemporaryFolder()
    let header: [UInt8] = [0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff]
    try Self.write(header, "h", in: folder)
    try Self.write([0, 0, 8, 1, 0, 0, 0, 0], "l", in: folder)
    let message =
      "announces 4,294,967,295 images of 65535 × 65535 pixels (more than 2⁶³ values); "
      + "sigbook reads at most 268,435,456 values"
    let direct = try Self.run("d = idx(images: \"h\", labels: \"l\")", in: folder)
    #expect(
      direct.status == 1 && direct.stderr.contains("/h' \(message)"), "\(direct.stderr)")
    try FileManager.default.createDirectory(
      at: folder.url.appendingPathComponent("m"), withIntermediateDirectories: true)
    try Self.write(header, "m/t10k-images-idx3-ubyte", in: folder)
    try Self.write([0, 0, 8, 1, 0, 0, 0, 0], "m/t10k-labels-idx1-ubyte", in: folder)
    let mnist = try Self.run("d = mnist(split: .test, path: \"m\")", in: folder)
    #expect(mnist.status == 1 && mnist.stderr.contains(message), "\(mnist.stderr)")
  }

  /// `load_onnx` of a model whose external data is a FIFO: `open` used to wait for a writer for
  /// ever (and Ctrl-C did nothing); now the FIFO is refused at once.
  @Test func onnxExternalDataInAFIFOIsRefused() throws {
    let folder = try TemporaryFolder()
    let model = Binary.packageRoot.appendingPathComponent(
      "Tests/SigbookONNXTests/Fixtures/fuzz-corpus/external-data.onnx")
    try FileManager.default.copyItem(at: model, to: folder.url.appendingPathComponent("m.onnx"))
    #expect(mkfifo(folder.url.appendingPathComponent("w.bin").path, 0o600) == 0)
    let result = try Self.run("net = load_onnx(\"m.onnx\")", in: folder)
    #expect(result.status == 1)
    #expect(
      result.stderr.contains(
        "/m.onnx': initializer 'w' is stored in 'w.bin', which is not a regular file"),
      "\(result.stderr)")
  }

  @Test func valuesBeyondFloatAreRefusedAtTheirSource() throws {
    let folder = try TemporaryFolder()
    var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
    let n = header.utf8.count
    let values: [Double] = [1, 1e300]
    try Self.write(
      [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xff), UInt8(n >> 8)] + Array(header.utf8)
        + values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) },
      "big.npy", in: folder)
    let npy = try Self.run("d = npy(\"big.npy\")", in: folder)
    #expect(
      npy.status == 1 && npy.stderr.contains("/big.npy' holds 1e+300 at [1], beyond the ±3.4e38"),
      "\(npy.stderr)")
    let synthetic = try Self.run("d = synthetic(.two_gaussians, n: 10, sigma: 1e308)", in: folder)
    #expect(
      synthetic.status == 1
        && synthetic.stderr.contains("sigma 1e+308 is too large")
        && !synthetic.stderr.contains("NaN"), "\(synthetic.stderr)")
    let noise = try Self.run(
      "d = noise(synthetic(.two_gaussians, n: 10), sigma: 1e308)", in: folder)
    #expect(
      noise.status == 1 && noise.stderr.contains("sigma 1e+308 is too large"), "\(noise.stderr)")
  }
}

import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookData
@testable import SigbookTensor
@testable import SigbookNN
@testable import SigbookWorkbook

/// Runs `source` in a fresh session whose memory limit is `limit` and returns the error.
func memoryErrorOf(_ source: String, limit: Int) throws -> WorkbookError {
  let session = Session(
    file: "t.sigbook", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-memory.figures")
  session.memoryLimit = MemoryLimit(bytes: limit)
  return try #require(throws: WorkbookError.self) { _ = try runSource(source, session: session) }
}

/// The memory guard: estimates for small cases equal hand-computed numbers, and requests beyond
/// a session's limit are refused with what they would take, the limit and what to do.
@Suite("Memory guard") struct MemoryGuardTests {
  static let parsed: [(text: String, bytes: Int?)] = [
    ("4G", 4 << 30), ("512M", 512 << 20), ("1.5G", 3 << 29), ("700K", 700 << 10),
    ("4GiB", 4 << 30), ("2gb", 2 << 30), ("2048", 2048), ("1T", 1 << 40),
    ("", nil), ("0", nil), ("-1G", nil), ("4Q", nil), ("G", nil), ("1e3", nil),
    ("99999999999T", nil),
  ]

  @Test(arguments: parsed)
  func limitsAreWrittenAsPeopleWriteThem(_ c: (text: String, bytes: Int?)) {
    #expect(MemoryLimit(parsing: c.text)?.bytes == c.bytes)
  }

  @Test func theDefaultIsThreeQuartersOfPhysicalMemory() throws {
    #expect(
      MemoryLimit.memTotal(inMeminfo: "MemTotal:       16384 kB\nMemFree: 1 kB\n") == 16 << 20)
    #expect(MemoryLimit.memTotal(inMeminfo: "MemFree: 1 kB\n") == nil)
    let total = try #require(MemoryLimit.physicalMemory())
    #expect(MemoryLimit.standard().bytes == total / 4 * 3)
    #expect(Session(file: "t", baseDirectory: "/", figuresDirectory: "/f").memoryLimit.bytes > 0)
  }

  // MARK: estimates, by hand

  @Test func modelAndTrainingEstimates() throws {
    // mlp(2, 4, 2): 2·4 + 4 + 4·2 + 2 = 22 parameters.
    let net = try Model.mlp([2, 4, 2])
    #expect(MemoryEstimate.model(parameters: net.parameterCount) == 88)
    // Adam: 22 · 4 · (2 + 2) = 352; batch 10: inputs 8·10·2 = 160; layer outputs dense 4, relu 4,
    // dense 2, softmax 2 → 8·10·12 = 960.
    #expect(MemoryEstimate.training(model: net, batch: 10, optimizerSlots: 2) == 352 + 160 + 960)
    // A convolution conv(1, 2, kernel: 3, padding: 1) on 4 × 4: 2·9 + 2 = 20 parameters; SGD
    // 20·4·2 = 160; input 8·1·16 = 128; output [2, 4, 4] 8·32 = 256; im2col 4·1·9·16 = 576.
    let conv = try Model.sequential(
      [.conv(inChannels: 1, outChannels: 2, kernel: 3, stride: 1, padding: 1)],
      inputShape: [1, 4, 4])
    #expect(
      MemoryEstimate.training(model: conv, batch: 1, optimizerSlots: 0) == 160 + 128 + 256 + 576)
  }

  @Test func analysisEstimates() {
    // 10 inputs, widths 32 and 64: 4·10·96 + 16·10.
    #expect(MemoryEstimate.signatures(n: 10, widths: [32, 64]) == 3840 + 160)
    // pca of 100 points of 3 features to 2: 4·300 + 4·200 + 32·9.
    #expect(MemoryEstimate.pca(n: 100, d: 3, dims: 2) == 1200 + 800 + 288)
    // 100 points, 5 neighbours: 12·500 + 4·2²⁰ + 4·100·3.
    #expect(MemoryEstimate.neighbours(n: 100, d: 3, k: 5) == 6000 + 4_194_304 + 1200)
    // t-SNE of 100 points, perplexity 10: 30 neighbours.
    #expect(
      MemoryEstimate.tsne(n: 100, d: 3, perplexity: 10)
        == MemoryEstimate.neighbours(n: 100, d: 3, k: 30) + 40 * 100 * 30 + 200 * 100)
    // Perplexity beyond the points: n − 1 neighbours.
    #expect(
      MemoryEstimate.tsne(n: 10, d: 3, perplexity: 50)
        == MemoryEstimate.neighbours(n: 10, d: 3, k: 9) + 40 * 10 * 9 + 200 * 10)
    #expect(
      MemoryEstimate.umap(n: 100, d: 3, neighbors: 15)
        == MemoryEstimate.neighbours(n: 100, d: 3, k: 15) + 44 * 100 * 15 + 64 * 100)
    // Silhouettes of 100 points for k = 2, 3: one-hot 4·100·5, a block 4·100·100, a copy
    // 4·100·3, per point 16·100.
    #expect(MemoryEstimate.silhouette(n: 100, d: 3, ks: [2, 3]) == 2000 + 40_000 + 1200 + 1600)
    #expect(MemoryEstimate.list(count: 1000) == 48_000)
    #expect(MemoryEstimate.dataset(n: 1000, features: 2) == 8000 + 8000)
    #expect(MemoryEstimate.images(count: 16, pixels: 784) == 100_352)
    #expect(MemoryEstimate.file(size: 1000, expansion: 2) == 3000)
    // Overflow saturates, and every limit refuses it.
    #expect(MemoryEstimate.pca(n: 1, d: Int.max / 2, dims: 1) == .max)
    #expect(throws: MemoryRefusal.self) {
      try MemoryLimit.unlimited.check(.max, for: "x", advice: "y")
    }
  }

  // MARK: refusals through the language

  static let refusals: [(source: String, limit: Int, message: String, hint: String)] = [
    (
      "mlp(784, 1000, 1000, 10)", 1 << 20,
      "mlp(784, 1000, 1000, 10), with 1,796,010 parameters, would need about 6.9 MiB, more than the memory limit of 1 MiB",
      "use fewer or narrower layers, or raise the limit with --max-memory (now 1 MiB)"
    ),
    (
      "synthetic(.two_gaussians, n: 100000)", 1 << 20,
      "synthetic data of 100,000 points would need about 1.5 MiB, more than the memory limit of 1 MiB",
      "use fewer points (n:), or raise the limit with --max-memory (now 1 MiB)"
    ),
    (
      "sum(0...1e9)", 1 << 30,
      "a list of the 1,000,000,001 numbers of 0...1000000000 would need about 44.7 GiB, more than the memory limit of 1 GiB",
      "loop over the range with for instead of making a list, or use a shorter range, or raise the limit with --max-memory (now 1 GiB)"
    ),
    (
      "xs = [1] + (0..<100000)", 1 << 20,
      "a list of the 100,001 numbers of 0..<100000 would need about 4.6 MiB, more than the memory limit of 1 MiB",
      "loop over the range with for instead of making a list, or use a shorter range, or raise the limit with --max-memory (now 1 MiB)"
    ),
    (
      "d = synthetic(.two_gaussians, n: 20000)\nnet = mlp(2, 64, 2)\nfit(net, d, batch: 20000)",
      8 << 20,
      "training mlp(2, 64, 2) in batches of 20,000 would need about 20.4 MiB, more than the 7.7 MiB left of the memory limit of 8 MiB (the session's variables hold 313.8 KiB)",
      "use a smaller batch or a smaller model, or raise the limit with --max-memory (now 8 MiB)"
    ),
    (
      "d = synthetic(.two_gaussians, n: 20000)\nnet = mlp(2, 512, 2)\nsignatures(net, d)", 16 << 20,
      "the signatures of 20,000 inputs (512 values each) would need about 39.4 MiB, more than the 15.7 MiB left of the memory limit of 16 MiB (the session's variables hold 322.5 KiB)",
      "sample the data first (subset(data, per_class: 500)), or raise the limit with --max-memory (now 16 MiB)"
    ),
    (
      "d = synthetic(.two_gaussians, n: 100000)\nkmeans(d, k: 2...5, sample: 100000)", 16 << 20,
      "kmeans of 100,000 points for k = 2…5 would need about 401.7 MiB, more than the 14.5 MiB left of the memory limit of 16 MiB (the session's variables hold 1.5 MiB)",
      "sample the data (subset(data, per_class: 500)), try fewer k, or pass a smaller sample:, or raise the limit with --max-memory (now 16 MiB)"
    ),
    (
      "d = synthetic(.two_gaussians, n: 100000)\ntsne(d)", 16 << 20,
      "tsne of 100,000 points would need about 470.2 MiB, more than the 14.5 MiB left of the memory limit of 16 MiB (the session's variables hold 1.5 MiB)",
      "sample the data (subset(data, per_class: 500)) or use a smaller perplexity:, or raise the limit with --max-memory (now 16 MiB)"
    ),
    (
      "d = synthetic(.two_gaussians, n: 100000)\numap(d)", 16 << 20,
      "umap of 100,000 points would need about 91.0 MiB, more than the 14.5 MiB left of the memory limit of 16 MiB (the session's variables hold 1.5 MiB)",
      "sample the data (subset(data, per_class: 500)) or use fewer neighbors:, or raise the limit with --max-memory (now 16 MiB)"
    ),
    (
      "d = mnist_sample(per_class: 100)\npca(d)", 8 << 20,
      "pca of 1,000 points of 784 features would need about 21.8 MiB, more than the 5.0 MiB left of the memory limit of 8 MiB (the session's variables hold 3.0 MiB)",
      "sample the data, or project a narrower layer, or raise the limit with --max-memory (now 8 MiB)"
    ),
    (
      "d = mnist_sample(per_class: 100)\nimages(d, count: 1000)", 4 << 20,
      "a grid of 1,000 images of 28 × 28 pixels would need about 6.0 MiB, more than the 1.0 MiB left of the memory limit of 4 MiB (the session's variables hold 3.0 MiB)",
      "show fewer images (count:), or raise the limit with --max-memory (now 4 MiB)"
    ),
    (
      "d = synthetic(.two_gaussians, n: 1000)\nnet = fit(mlp(2, 4, 2), d, epochs: 1)\nnovelty(net, reference: d, normal: d, novel: d)",
      1 << 20,
      "novelty against 1,000 reference inputs would need about 4.1 MiB, more than the 1008.3 KiB left of the memory limit of 1 MiB (the session's variables hold 15.7 KiB)",
      "sample the reference data (subset(train, per_class: 500)), or raise the limit with --max-memory (now 1 MiB)"
    ),
  ]

  @Test(arguments: refusals)
  func requestsBeyondTheLimitAreRefused(
    _ c: (source: String, limit: Int, message: String, hint: String)
  ) throws {
    let error = try memoryErrorOf(c.source, limit: c.limit)
    #expect(error.message == c.message)
    #expect(error.hint == c.hint)
  }

  /// A CSV file is counted row by row as it is read: 2,000 rows of 100 values fill 1 MiB.
  @Test func readingALargeFileIsRefusedWhileReading() throws {
    let folder = try TemporaryFolder()
    let row = Array(repeating: "0.5", count: 100).joined(separator: ",") + ",1\n"
    let path = try folder.write("big.csv", text: String(repeating: row, count: 2000))
    let error = try memoryErrorOf("csv(\"\(path)\")", limit: 1 << 20)
    #expect(
      error.message
        == "reading '\(path)' (2,000 rows so far) would need about 1.6 MiB, more than the memory limit of 1 MiB"
    )
  }

  /// Gzipped IDX and `.npy` files are measured by what their headers announce, not by their
  /// size: 1 MiB of zero pixels (or of float32 zeros) in a few KiB of gzip is refused under a
  /// 2 MiB limit before it is inflated. They were estimated from the compressed size and read
  /// whole.
  @Test func gzippedIDXAndNPYFilesAreMeasuredByTheirHeaders() throws {
    let folder = try TemporaryFolder()
    let images = try folder.write(
      "i.idx.gz",
      Gzip.compress(
        IDXFixture.images(
          count: 1024, rows: 32, columns: 32, pixels: [UInt8](repeating: 0, count: 1 << 20))))
    let labels = try folder.write(
      "l.idx.gz", Gzip.compress(IDXFixture.labels([UInt8](repeating: 1, count: 1024))))
    #expect(try FileManager.default.attributesOfItem(atPath: images)[.size] as? Int ?? 0 < 8192)
    let idx = try memoryErrorOf(
      "idx(images: \"\(images)\", labels: \"\(labels)\")", limit: 2 << 20)
    #expect(
      idx.message
        == "reading '\(images)' (1,024 images of 32 × 32 pixels) would need about 6 MiB, more than the memory limit of 2 MiB"
    )
    let zeros = NPY.encode([Float](repeating: 0, count: 1 << 18), shape: [1024, 256])
    let array = try folder.write("x.npy.gz", Gzip.compress([UInt8](zeros)))
    let npy = try memoryErrorOf("npy(\"\(array)\")", limit: 2 << 20)
    #expect(
      npy.message
        == "reading '\(array)' (shape [1024, 256], float32) would need about 5.0 MiB, more than the memory limit of 2 MiB"
    )
  }

  @Test func aRangeCountsWithoutBeingMade() throws {
    let session = Session(file: "t", baseDirectory: "/tmp", figuresDirectory: "/tmp/x.figures")
    session.memoryLimit = MemoryLimit(bytes: 1 << 20)
    #expect(try runSource("(0...1e14).count", session: session) == ["100000000000001"])
    #expect(try runSource("sum(1...100)", session: session) == ["5050"])
  }

  @Test func doublingAListInALoopIsStopped() throws {
    let error = try memoryErrorOf("x = [1]\nfor i in 0...100 {\n  x = x + x\n}", limit: 1 << 20)
    #expect(
      error.message
        == "a list of 16,384 items would need about 768 KiB, more than the 640 KiB left of the memory limit of 1 MiB (the session's variables hold 384 KiB)"
    )
  }
}

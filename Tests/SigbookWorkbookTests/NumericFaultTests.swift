import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor

/// Degenerate numbers and sizes through the workbook language: each gives a sensible result or
/// a clear error (expected versus found, with a hint where there is one) — never a trap, never
/// NaN in what is shown.
@Suite("Numeric faults") struct NumericFaultTests {
  /// What running `source` showed, none of it NaN.
  static func finiteOutputs(_ source: String) throws -> [String] {
    let outputs = try runSource(source)
    for output in outputs {
      #expect(!output.lowercased().contains("nan"), "NaN shown: \(output)")
    }
    return outputs
  }

  @Test func nonFiniteValuesInFilesAreRefusedNamingTheFile() throws {
    let folder = try TemporaryFolder()
    let csv = try folder.write("nan.csv", text: "a,b,label\n1,nan,0\n2,3,1\n")
    var error = try errorOf("csv(\"\(csv)\")")
    #expect(error.message == "'\(csv)' line 2, column 2 ('b'): expected a number but found 'nan'")
    let inf = try folder.write("inf.csv", text: "a,b,label\n1,2,0\n2,inf,1\n")
    error = try errorOf("csv(\"\(inf)\")")
    #expect(error.message == "'\(inf)' line 3, column 2 ('b'): expected a number but found 'inf'")
    var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }".utf8)
    header += [UInt8](repeating: 32, count: 117 - header.count) + [10]
    var npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + header
    for x: Float in [1, .nan, 2, 3] {
      npy += withUnsafeBytes(of: x.bitPattern.littleEndian, Array.init)
    }
    let path = try folder.write("nan.npy", npy)
    error = try errorOf("npy(\"\(path)\")")
    #expect(
      error.message
        == "'\(path)' holds NaN at [0, 1]; sigbook reads finite numbers only (replace them first, with np.nan_to_num or by dropping those rows)"
    )
  }

  @Test func aDivergingFitIsExplained() throws {
    let error = try errorOf(
      "d = synthetic(.two_gaussians, n: 40, seed: 1)\nfit(mlp(2, 16, 2, activation: .tanh), d, lr: 1000000, epochs: 3, optimizer: .adam)"
    )
    #expect(error.message.hasPrefix("the loss grew from "))
    #expect(
      error.message.hasSuffix("training diverged and stopped (try a smaller lr than 1000000)"))
    #expect(error.kind == .runtime)
  }

  static let errors: [(source: String, message: String)] = [
    // k larger than the number of points
    ("kmeans(synthetic(.two_gaussians, n: 40), k: 50)", "cannot make 50 clusters of 40 points"),
    // an empty selection, then every analysis
    (
      "d = synthetic(.two_gaussians, n: 10)[0..<0]\nkmeans(d, k: 2)",
      "cannot make 2 clusters of 0 points"
    ),
    ("d = synthetic(.two_gaussians, n: 10)[0..<0]\npca(d)", "pca needs at least 2 points, not 0"),
    (
      "d = synthetic(.two_gaussians, n: 10)[0..<0]\ntsne(d)",
      "tsne needs at least 4 inputs but got 0"
    ),
    (
      "d = synthetic(.two_gaussians, n: 10)[0..<0]\numap(d)",
      "umap needs at least 4 inputs but got 0"
    ),
    (
      "d = synthetic(.two_gaussians, n: 10)\nwhere(d, label: 5)",
      "'d' has no class '5' (its classes: 0, 1)"
    ),
    // one-point and two-point datasets
    ("kmeans(synthetic(.two_gaussians, n: 10)[0..<1], k: 2)", "cannot make 2 clusters of 1 point"),
    ("pca(synthetic(.two_gaussians, n: 10)[0..<1])", "pca needs at least 2 points, not 1"),
    ("tsne(synthetic(.two_gaussians, n: 10)[0..<2])", "tsne needs at least 4 inputs but got 2"),
    ("umap(synthetic(.two_gaussians, n: 10)[0..<2])", "umap needs at least 4 inputs but got 2"),
    // identical points
    (
      "kmeans(synthetic(.two_gaussians, n: 50, sigma: 0), k: 3)",
      "cannot make 3 clusters of 50 points: only 2 of them are distinct"
    ),
    (
      "d = synthetic(.two_gaussians, n: 10)\nnet = fit(mlp(2, 4, 2), d, epochs: 1)\nnovelty(net, reference: d[0..<1], normal: d, novel: d, method: .mahalanobis)",
      "cannot make 2 clusters of 1 point"
    ),
    ("umap(synthetic(.two_gaussians, n: 10), neighbors: 0)", "neighbors must be at least 2, not 0"),
    (
      "tsne(synthetic(.two_gaussians, n: 10), perplexity: 0)",
      "perplexity must be positive, not 0.0"
    ),
  ]

  @Test(arguments: errors)
  func degenerateInputsAreExplained(_ c: (source: String, message: String)) throws {
    #expect(try errorOf(c.source).message == c.message)
  }

  static let results: [(source: String, output: String)] = [
    // one class: fitting, layer report (NMI and ARI 0, as scikit-learn gives), novelty
    (
      "d = where(synthetic(.two_gaussians, n: 40, seed: 1), label: 0)\nnet = fit(mlp(2, 4, 2), d, epochs: 2)\nr = layer_report(kmeans(signatures(net, d), k: 2))\nprint(r[0].nmi, r[0].ari)",
      "0 0"
    ),
    // an empty selection through signatures
    (
      "d = synthetic(.two_gaussians, n: 10)\nnet = fit(mlp(2, 4, 2), d, epochs: 1)\nsignatures(net, d[0..<0]).count",
      "0"
    ),
  ]

  @Test(arguments: results)
  func degenerateInputsGiveSensibleResults(_ c: (source: String, output: String)) throws {
    #expect(try Self.finiteOutputs(c.source).last == c.output)
  }

  /// Identical, collinear, one-, two- and few-point data through every projection and score.
  static let sensible: [String] = [
    "c = concat(synthetic(.two_gaussians, n: 2, sigma: 0)[0..<1], synthetic(.two_gaussians, n: 2, sigma: 0)[0..<1], synthetic(.two_gaussians, n: 2, sigma: 0)[0..<1], synthetic(.two_gaussians, n: 2, sigma: 0)[0..<1])\nprint(pca(c).count, tsne(c, iterations: 30).count, umap(c).count)",
    "c = synthetic(.two_gaussians, n: 20, sigma: 0)\nprint(pca(c).count, tsne(c, iterations: 30).count, umap(c).count)",
    "d = synthetic(.two_gaussians, n: 40, seed: 1)\nprint(tsne(d, perplexity: 1000, iterations: 20).count, umap(d, neighbors: 1000).count)",
    "p = synthetic(.two_gaussians, n: 10)[0..<2]\nk = kmeans(p, k: 2)\nprint(k.k, silhouette(k).count, pca(p).count)",
    "d = synthetic(.two_gaussians, n: 20, sigma: 0)\nnet = fit(mlp(2, 4, 2), d, epochs: 1)\nprint(novelty(net, reference: d, normal: d, novel: d, method: .mahalanobis).auroc)",
    "d = synthetic(.two_gaussians, n: 10)\nnet = fit(mlp(2, 4, 2), d, epochs: 1)\np = d[0..<1]\nprint(novelty(net, reference: p, normal: d, novel: d).auroc, novelty(net, reference: p, normal: d, novel: d, method: .centroid).auroc)",
  ]

  @Test(arguments: sensible)
  func degenerateDataGivesFiniteResults(_ source: String) throws {
    let outputs = try Self.finiteOutputs(source)
    #expect(!outputs.isEmpty)
  }

  @Test func collinearPointsProjectWithoutNaN() throws {
    let folder = try TemporaryFolder()
    let rows = (0..<30).map { "\($0),\(2 * $0),\($0 % 2)" }.joined(separator: "\n")
    let path = try folder.write("line.csv", text: "x,y,label\n" + rows + "\n")
    let outputs = try Self.finiteOutputs(
      "d = csv(\"\(path)\")\nprint(pca(d).count, tsne(d, iterations: 30).count, umap(d).count)")
    #expect(outputs == ["30 30 30"])
  }
}

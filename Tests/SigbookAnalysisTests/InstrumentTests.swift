import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookAnalysis

/// A committed fixture of `scripts/make-instrument-fixtures.py` as a tensor.
func instrumentFixture(_ name: String) throws -> Tensor {
  let url = try #require(
    Bundle.module.url(forResource: "Fixtures/instruments/\(name)", withExtension: nil))
  let array = try NPY.read(url.path)
  return Tensor(shape: array.shape, scalars: array.floats)
}

func instrumentReference(_ name: String) throws -> Data {
  let url = try #require(
    Bundle.module.url(forResource: "Fixtures/instruments/\(name)", withExtension: nil))
  return try Data(contentsOf: url)
}

/// Linear probes against scikit-learn's `LogisticRegression` on the same data, and against a
/// case solved by hand.
@Suite("Linear probes")
struct LinearProbeTests {
  struct Reference: Decodable {
    let coefficients: [[Double]]
    let intercepts: [Double]
    let train_accuracy: Double
    let test_accuracy: Double
    let test_log_loss: Double
  }

  static func signatures(_ part: String) throws -> SignatureSet {
    let labels = try instrumentFixture("probe_\(part)_labels.npy").scalars.map { Int($0) }
    return SignatureSet(
      layers: try (1...3).map { try instrumentFixture("probe_\(part)_h\($0).npy") },
      layerNames: ["H1", "H2", "H3"], labels: labels, classNames: ["a", "b", "c", "d"],
      predictions: nil, predictionNames: [], modelSummary: "a fixture", dataName: part)
  }

  @Test("each layer's probe is scikit-learn's LogisticRegression")
  func equalsScikitLearn() throws {
    let references = try JSONDecoder().decode(
      [Reference].self, from: instrumentReference("probe.json"))
    let train = try Self.signatures("train"), test = try Self.signatures("test")
    for (h, reference) in references.enumerated() {
      let fit = try LogisticRegression(
        fitting: train.layers[h], labels: train.labels, classes: 4, c: 1, standardize: true,
        tolerance: 1e-9)
      #expect(fit.converged)
      let d = fit.features
      for k in 0..<4 {
        for j in 0..<d {
          #expect(abs(fit.weights[k * d + j] - reference.coefficients[k][j]) < 1e-4)
        }
        #expect(abs(fit.intercepts[k] - reference.intercepts[k]) < 1e-4)
      }
      let tested = fit.score(test.layers[h], labels: test.labels)
      #expect(tested.accuracy == reference.test_accuracy, "H\(h + 1)")
      #expect(abs(tested.logLoss - reference.test_log_loss) < 1e-6, "H\(h + 1)")
      #expect(
        fit.score(train.layers[h], labels: train.labels).accuracy == reference.train_accuracy)
    }
    let table = try LinearProbes.table(
      train: train, test: test, c: 1, standardize: true, control: true, seed: 0, tolerance: 1e-9)
    #expect(
      table.columns.suffix(3) == ["control_train_accuracy", "control_test_accuracy", "selectivity"])
    #expect(table.column("test_accuracy") == references.map { .number($0.test_accuracy) })
  }

  /// x = −1 of class 0 and x = +1 of class 1, C = 1, features as they are: by symmetry the
  /// weights are ±w and the intercepts equal, and the optimum of
  /// 2·log(1 + e^(−2w)) + w²/C solves w = 2C / (1 + e^(2w)).
  @Test func symmetricPairSolvedByHand() throws {
    let x = Tensor(shape: [2, 1], scalars: [-1, 1])
    let fit = try LogisticRegression(
      fitting: x, labels: [0, 1], classes: 2, c: 1, standardize: false, tolerance: 1e-10)
    var w = 0.5
    for _ in 0..<200 { w = (w + 2 / (1 + exp(2 * w))) / 2 }
    #expect(abs(fit.weights[1] - w) < 1e-6 && abs(fit.weights[0] + w) < 1e-6)
    #expect(abs(fit.intercepts[0] - fit.intercepts[1]) < 1e-6)
    #expect(fit.score(x, labels: [0, 1]).accuracy == 1)
    let p = fit.probabilities(x)
    #expect(abs(p[1] - 1 / (1 + exp(2 * w))) < 1e-6)
  }

  @Test func badInputsAreExplained() throws {
    let x = Tensor(shape: [2, 1], scalars: [.nan, 1])
    #expect(throws: AnalysisError.nonFiniteValues(what: "the signatures")) {
      try LogisticRegression(fitting: x, labels: [0, 1], classes: 2, c: 1, standardize: true)
    }
    let train = try Self.signatures("train")
    var other = try Self.signatures("test")
    other.classNames = ["a", "b", "c", "z"]
    #expect(
      throws: AnalysisError.invalidArgument(
        "the test inputs have class 'z', which the training inputs lack; a probe can only learn the classes it is trained on"
      )
    ) {
      try LinearProbes.table(
        train: train, test: other, c: 1, standardize: true, control: false, seed: 0)
    }
  }
}

/// CKA against a NumPy implementation with n × n kernel matrices, in float64, and its
/// invariances.
@Suite("CKA")
struct CKATests {
  @Test(
    "CKA equals the NumPy reference",
    arguments: [
      ("linear", CKA.Kernel.linear), ("rbf0.8", .rbf(bandwidth: 0.8)),
      ("rbf0.4", .rbf(bandwidth: 0.4)),
    ])
  func equalsReference(name: String, kernel: CKA.Kernel) throws {
    let reference = try JSONDecoder().decode(
      [String: Double].self, from: instrumentReference("cka.json"))
    let x = try instrumentFixture("cka_x.npy"), y = try instrumentFixture("cka_y.npy")
    for unbiased in [false, true] {
      let value = try CKA.matrix([x], [y], kernel: kernel, unbiased: unbiased)[0][0]
      let expected = try #require(reference[name + (unbiased ? "_unbiased" : "")])
      #expect(
        abs(value - expected) < 1e-5, "\(name) unbiased \(unbiased): \(value) against \(expected)")
    }
  }

  @Test("a layer with itself is 1, also rotated and scaled")
  func invariances() throws {
    let x = try instrumentFixture("cka_x.npy")
    // An orthogonal transform (a rotation in the plane of features 0 and 3, a reflection of
    // feature 5), times 7.5, plus a shift.
    let (c, s) = (Float(cos(0.7)), Float(sin(0.7)))
    var rotated = x.scalars
    for i in 0..<x.rows {
      let a = rotated[i * 6], b = rotated[i * 6 + 3]
      rotated[i * 6] = c * a - s * b
      rotated[i * 6 + 3] = s * a + c * b
      rotated[i * 6 + 5] = -rotated[i * 6 + 5]
      for j in 0..<6 { rotated[i * 6 + j] = 7.5 * rotated[i * 6 + j] + 3 }
    }
    let y = Tensor(shape: x.shape, scalars: rotated)
    for kernel in [CKA.Kernel.linear, .rbf(bandwidth: 0.8)] {
      for unbiased in [false, true] {
        let m = try CKA.matrix([x, y], [x, y], kernel: kernel, unbiased: unbiased)
        for value in m.joined() { #expect(abs(value - 1) < 1e-5, "\(kernel) \(unbiased)") }
      }
    }
  }

  /// Batches: 1,000 inputs in batches of 250 give nearly what the whole set gives, and the same
  /// every time.
  @Test func batchesAreDeterministic() throws {
    var g = SeededGenerator(seed: 3)
    let n = 1000
    let x = Tensor.normal(shape: [n, 4], standardDeviation: 1, generator: &g)
    let noise = Tensor.normal(shape: [n, 3], standardDeviation: 0.5, generator: &g)
    var values = noise.scalars
    for i in 0..<n { for j in 0..<3 { values[i * 3 + j] += x.scalars[i * 4 + j] } }
    let y = Tensor(shape: [n, 3], scalars: values)
    let whole = try CKA.matrix([x], [y], kernel: .rbf(bandwidth: 0.8), unbiased: true, batch: n)
    let batched = try CKA.matrix([x], [y], kernel: .rbf(bandwidth: 0.8), unbiased: true, batch: 250)
    let again = try CKA.matrix([x], [y], kernel: .rbf(bandwidth: 0.8), unbiased: true, batch: 250)
    #expect(batched == again)
    #expect(abs(batched[0][0] - whole[0][0]) < 0.02, "\(batched) against \(whole)")
  }
}

/// Novelty measures against scikit-learn on the same scores, ties among them.
@Suite("Novelty measures")
struct NoveltyMeasureTests {
  struct Case: Decodable {
    let normal: [Double]
    let novel: [Double]
    let auroc: Double
    let aupr: Double
    let fpr95: Double
  }

  @Test func aurocAuprAndFpr95EqualScikitLearn() throws {
    let cases = try JSONDecoder().decode(
      [Case].self, from: instrumentReference("novelty_metrics.json"))
    for c in cases {
      let row = NoveltyResult.Row(
        name: "H1", dimensions: 1, normalScores: c.normal, novelScores: c.novel)
      #expect(abs(try #require(row.auroc) - c.auroc) < 1e-6)
      #expect(abs(try #require(row.aupr) - c.aupr) < 1e-6)
      #expect(abs(try #require(row.fpr95) - c.fpr95) < 1e-6)
    }
  }

  /// Output scores: −max logit and the energy, for several outputs and for one.
  @Test func logitScores() {
    let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0, 0, 0])
    #expect(NoveltyResult.maxLogitScores(logits) == [-3, 0])
    let energy = NoveltyResult.energyScores(logits)
    #expect(abs(energy[0] + log(exp(1.0) + exp(2) + exp(3))) < 1e-12)
    #expect(abs(energy[1] + log(3.0)) < 1e-12)
    let one = Tensor(shape: [2, 1], scalars: [2, -1])
    #expect(NoveltyResult.maxLogitScores(one) == [-2, 0])
    #expect(abs(NoveltyResult.energyScores(one)[0] + log(1 + exp(2.0))) < 1e-12)
  }
}

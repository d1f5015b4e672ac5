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

  /// scikit-learn's fits (probe.json) and the training and test signatures they were made on.
  static func fixtures() throws -> ([Reference], SignatureSet, SignatureSet) {
    let references = try JSONDecoder().decode(
      [Reference].self, from: instrumentReference("probe.json"))
    return (references, try signatures("train"), try signatures("test"))
  }

  @Test("each layer's probe is scikit-learn's LogisticRegression")
  func equalsScikitLearn() throws {
    let (references, train, test) = try Self.fixtures()
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

  /// At scikit-learn's tolerance (1e-4) the fit reads the features in single precision, in
  /// chunks of rows: it stops earlier than the reference fit (1e-9), so its test accuracy may
  /// differ from scikit-learn's converged one, by one of the 160 test inputs at most.
  @Test("single precision at tolerance 1e-4 scores as scikit-learn")
  func singlePrecisionScoresAsScikitLearn() throws {
    let (references, train, test) = try Self.fixtures()
    for (h, reference) in references.enumerated() {
      let fit = try LogisticRegression(
        fitting: train.layers[h], labels: train.labels, classes: 4, c: 1, standardize: true)
      #expect(fit.converged)
      let tested = fit.score(test.layers[h], labels: test.labels)
      let inputs = Double(test.count)
      #expect(abs(tested.accuracy - reference.test_accuracy) * inputs <= 1.001, "H\(h + 1)")
    }
  }

  /// Three chunks of rows (1,500 ≥ 2 × 512): the chunks on every core or one after another
  /// give the same bits, and the table (which puts large sets' rows on every core) equals
  /// fits made one chunk after another; with either kernel.
  @Test(arguments: [LogisticRegression.SingleEvaluation.Kernel.best, .blas])
  func rowChunksOnEveryCoreChangeNoBit(kernel: LogisticRegression.SingleEvaluation.Kernel) throws {
    var g = SeededGenerator(seed: 11)
    let x = Tensor.normal(shape: [1500, 12], standardDeviation: 1, generator: &g)
    // The class is the largest of the first three features: learnable, not separable.
    let labels = (0..<1500).map { i in
      (0..<3).max { x.scalars[i * 12 + $0] < x.scalars[i * 12 + $1] } ?? 0
    }
    let serial = try LogisticRegression(
      fitting: x, labels: labels, classes: 3, c: 1, standardize: true, parallelRows: false,
      kernel: kernel)
    let parallel = try LogisticRegression(
      fitting: x, labels: labels, classes: 3, c: 1, standardize: true, parallelRows: true,
      kernel: kernel)
    #expect(serial.weights == parallel.weights && serial.intercepts == parallel.intercepts)
    #expect(serial.iterations == parallel.iterations && serial.iterations > 1)
  }

  /// The vector kernel's evaluation at a random point, on three chunks of rows (the last
  /// partial), a feature count that is no multiple of the vectors' 8 lanes and an odd number of
  /// classes: its loss and gradient equal sgemm's within single precision, and its gradient
  /// equals the central differences of its loss.
  @Test(
    .enabled(
      if: LogisticRegression.SingleEvaluation.bestVariant != nil,
      "needs a processor with a variant of the vector kernel (AVX2 with FMA)"))
  func vectorKernelMatchesBLASAndFiniteDifferences() {
    var g = SeededGenerator(seed: 5)
    let n = 1100, d = 37, k = 7
    let x = Tensor.normal(shape: [n, d], standardDeviation: 1, generator: &g)
    let labels = (0..<n).map { _ in g.nextInt(below: k) }
    let theta = (0..<(k * d + k)).map { _ in 0.2 * g.nextNormal() }
    let (penalty, count) = (1e-3, k * d + k)
    let fast = LogisticRegression.SingleEvaluation(
      data: x.scalars, labels: labels, n: n, d: d, k: k, parallel: true)
    let blas = LogisticRegression.SingleEvaluation(
      data: x.scalars, labels: labels, n: n, d: d, k: k, parallel: false, kernel: .blas)
    #expect(fast.variant != nil && blas.variant == nil)
    var gradient = [Double](repeating: 0, count: count), expected = gradient, ignored = gradient
    let loss = fast.loss(theta, penalty: penalty, gradient: &gradient)
    let reference = blas.loss(theta, penalty: penalty, gradient: &expected)
    #expect(abs(loss - reference) <= 1e-6 * max(1, abs(reference)))
    for i in 0..<count { #expect(abs(gradient[i] - expected[i]) <= 1e-5, "component \(i)") }
    // The loss is summed from single-precision logits (about 1e-7 of it): a step of 1e-2 keeps
    // that rounding near 1e-5 of the difference quotient, the truncation smaller.
    let h = 1e-2
    for i in Array(stride(from: 0, to: k * d, by: 11)) + Array((k * d)..<count) {
      var plus = theta, minus = theta
      plus[i] += h
      minus[i] -= h
      let quotient =
        (fast.loss(plus, penalty: penalty, gradient: &ignored)
          - fast.loss(minus, penalty: penalty, gradient: &ignored)) / (2 * h)
      #expect(abs(quotient - gradient[i]) <= 1e-4, "component \(i)")
    }
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

  /// The joint pass (one symmetric product of all representations side by side) and the pair
  /// by pair one (for wide layers) give the same cross-products.
  @Test func jointAndPairwiseCrossProductsAgree() throws {
    var g = SeededGenerator(seed: 4)
    let layers = [
      Tensor.normal(shape: [1500, 7], standardDeviation: 1, generator: &g),
      Tensor.uniform(shape: [1500, 3], low: 0, high: 2, generator: &g),
    ]
    let means = layers.map(CKA.columnMeans)
    let joint = try CKA.jointCrossNorms(layers, means: means, isCancelled: { false })
    for i in 0..<2 {
      for j in i..<2 {
        let pair = CKA.crossNorm(layers[i], means[i], layers[j], means[j])
        #expect(abs(joint[i][j] - pair) < 1e-9 * pair, "\(i) \(j): \(joint[i][j]) against \(pair)")
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

/// ViM on features that live in a plane of four dimensions: the origin solves W·u = −b, inputs
/// in the plane have no residual, inputs off it score higher by α times their distance to it.
@Suite("Virtual-logit matching")
struct VirtualLogitTests {
  @Test func residualsOffThePrincipalPlaneScoreHigher() throws {
    var g = SeededGenerator(seed: 9)
    let weight = Tensor(shape: [2, 4], scalars: [1, 0, 0.5, 0, 0, 1, 0, 0.5])
    let bias = Tensor(shape: [2], scalars: [0.3, -0.2])
    // Reference features: u plus a spread in the plane of axes 0 and 1.
    let n = 200
    let plane = Tensor.normal(shape: [n, 2], standardDeviation: 2, generator: &g)
    func logits(_ x: Tensor) -> Tensor {
      var z = Tensor.matmul(x, weight, transposeB: true)
      for i in 0..<x.rows { for j in 0..<2 { z[flat: i * 2 + j] += bias[flat: j] } }
      return z
    }
    let fit0 = try VirtualLogit(
      features: Tensor(shape: [n, 4], scalars: [Float](repeating: 0, count: n * 4)),
      logits: Tensor(shape: [n, 2], scalars: [Float](repeating: 0, count: n * 2)), weight: weight,
      bias: bias)
    let u = fit0.origin
    // W·u = −b.
    for k in 0..<2 {
      let wu = (0..<4).reduce(0.0) { $0 + Double(weight[flat: k * 4 + $1]) * u[$1] }
      #expect(abs(wu + Double(bias[flat: k])) < 1e-9)
    }
    // A little spread off the plane (σ = 0.05), so that the residuals have a scale.
    let off = Tensor.normal(shape: [n, 2], standardDeviation: 0.05, generator: &g)
    var values = [Float](repeating: 0, count: n * 4)
    for i in 0..<n {
      for f in 0..<4 { values[i * 4 + f] = Float(u[f]) }
      values[i * 4] += plane[flat: i * 2]
      values[i * 4 + 1] += plane[flat: i * 2 + 1]
      values[i * 4 + 2] += off[flat: i * 2]
      values[i * 4 + 3] += off[flat: i * 2 + 1]
    }
    let x = Tensor(shape: [n, 4], scalars: values)
    let fit = try VirtualLogit(
      features: x, logits: logits(x), weight: weight, bias: bias, dimensions: 2)
    // α is the mean top logit over the mean residual norm of the reference inputs.
    let z = logits(x)
    let top = (0..<n).reduce(0.0) { $0 + Double(max(z[flat: $1 * 2], z[flat: $1 * 2 + 1])) }
    let norms = fit.residualNorms(x)
    #expect(abs(fit.alpha - (top / Double(n)) / (norms.reduce(0, +) / Double(n))) < 1e-6)
    // At u plus a step in the plane: almost no residual; 1.5 off it along axis 3: about 1.5.
    var inPlane = Tensor(shape: [1, 4], scalars: u.map { Float($0) })
    inPlane[flat: 0] += 1
    var away = inPlane
    away[flat: 3] += 1.5
    let residual = fit.residualNorms(away)[0], none = fit.residualNorms(inPlane)[0]
    #expect(none < 0.05 && abs(residual - 1.5) < 0.05, "\(none) \(residual)")
    let both = Tensor.concatenate([inPlane, away])
    let scores = fit.scores(both, logits: logits(both))
    let energyGap =
      NoveltyResult.energyScores(logits(away))[0] - NoveltyResult.energyScores(logits(inPlane))[0]
    #expect(
      abs(scores[1] - scores[0] - (fit.alpha * (residual - none) + energyGap)) < 1e-4,
      "\(scores) alpha \(fit.alpha) gap \(energyGap)")
  }
}

/// ViM against OpenOOD's computation on committed features (`scripts/make-instrument-fixtures.py`).
@Suite("ViM against OpenOOD")
struct VirtualLogitReferenceTests {
  struct Reference: Decodable {
    let dim: Int
    let alpha: Double
    let normal: [Double]
    let novel: [Double]
  }

  @Test func scoresEqualOpenOOD() throws {
    let reference = try JSONDecoder().decode(Reference.self, from: instrumentReference("vim.json"))
    let weight = try instrumentFixture("vim_weight.npy"),
      bias = try instrumentFixture("vim_bias.npy")
    func logits(_ x: Tensor) -> Tensor {
      var z = Tensor.matmul(x, weight, transposeB: true)
      for i in 0..<x.rows {
        for j in 0..<bias.count { z[flat: i * bias.count + j] += bias[flat: j] }
      }
      return z
    }
    let x = try instrumentFixture("vim_reference.npy")
    let fit = try VirtualLogit(
      features: x, logits: logits(x), weight: weight, bias: bias, dimensions: reference.dim)
    #expect(abs(fit.alpha - reference.alpha) < 1e-4 * reference.alpha)
    for (name, expected) in [("normal", reference.normal), ("novel", reference.novel)] {
      let features = try instrumentFixture("vim_\(name).npy")
      let scores = fit.scores(features, logits: logits(features))
      for (a, b) in zip(scores, expected) {
        #expect(abs(a - b) < 1e-4 * max(1, abs(b)), "\(name): \(a) against \(b)")
      }
    }
  }
}

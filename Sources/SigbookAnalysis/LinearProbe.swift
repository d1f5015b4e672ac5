import CKernels
import COpenBLAS
import Foundation
import SigbookTensor
import SigbookData
import Synchronization

/// A multinomial logistic regression with an L2 penalty, fitted by L-BFGS in Double: the
/// model of scikit-learn's `LogisticRegression(C:, solver: "lbfgs")` — the intercepts not
/// penalised —, minimising `Σᵢ −log pᵢ[yᵢ] + ‖W‖² / (2C)` (divided by n, which moves no
/// minimum) until no component of the gradient (of the mean) exceeds `tolerance` — 1e-4 by
/// default, scikit-learn's `tol` —, in at most 1,000 iterations.
struct LogisticRegression: Sendable {
  let classes: Int
  let features: Int
  /// `[classes, features]`, row-major, acting on standardised features.
  var weights: [Double]
  var intercepts: [Double]
  /// What is subtracted from each feature and what it is then divided by (0 and 1 when the
  /// features are used as they are).
  var mean: [Double]
  var scale: [Double]
  /// L-BFGS iterations, and whether the gradient reached the tolerance.
  var iterations: Int
  var converged: Bool

  /// Fits the regression to the rows of `x` (`[n, d]`) and their classes.
  ///
  /// - Parameters:
  ///   - c: the inverse of the penalty's strength, as scikit-learn's `C`.
  ///   - standardize: each feature centred and scaled to unit variance (over these rows) first.
  ///   - tolerance: the largest gradient component at which the fit has converged.
  ///   - parallelRows: each evaluation's chunks of rows on every core (the same numbers).
  ///   - kernel: what computes each chunk of a single-precision evaluation (tests compare them).
  /// - Throws: `AnalysisError` for non-finite values, fewer than two rows, a non-positive `c`,
  ///   or `.cancelled`.
  init(
    fitting x: Tensor, labels: [Int], classes: Int, c: Double, standardize: Bool,
    tolerance: Double = 1e-4, parallelRows: Bool = false,
    kernel: SingleEvaluation.Kernel = .best, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) {
    let n = x.rows, d = x.rowSize
    guard n >= 2 else {
      throw .invalidArgument("a probe needs at least 2 training inputs, not \(n)")
    }
    guard c > 0, c.isFinite else {
      throw .invalidArgument("c must be a positive number, not \(c)")
    }
    guard x.scalars.allSatisfy(\.isFinite) else { throw .nonFiniteValues(what: "the signatures") }
    self.classes = classes
    features = d
    (mean, scale) = Self.standardization(x, standardize: standardize)
    let data = Self.standardized(x, mean: mean, scale: scale)
    let k = classes
    let penalty = 1 / (c * Double(n))
    let start = [Double](repeating: 0, count: k * d + k)
    let outcome: LBFGS.Outcome
    if tolerance >= 1e-6 {
      // The two products of each evaluation read all the features: at a tolerance of 1e-6 or
      // more they read them in single precision (half the memory traffic, whose rounding, about
      // 1e-7 of each sum, is far below what that tolerance tells apart); tighter, in Double.
      let evaluation = SingleEvaluation(
        data: data.map { Float($0) }, labels: labels, n: n, d: d, k: k, parallel: parallelRows,
        kernel: kernel)
      outcome = LBFGS(gradientTolerance: tolerance).minimize(from: start, isCancelled: isCancelled)
      { theta, gradient in
        evaluation.loss(theta, penalty: penalty, gradient: &gradient)
      }
    } else {
      var logits = [Double](repeating: 0, count: n * k)
      outcome = LBFGS(gradientTolerance: tolerance).minimize(from: start, isCancelled: isCancelled)
      { theta, gradient in
        Self.logits(data, n: n, d: d, k: k, theta: theta, into: &logits)
        let loss = Self.softmaxResiduals(&logits, labels: labels, k: k)
        Self.doubleGradient(
          data, residual: logits, theta: theta, n: n, d: d, k: k, penalty: penalty,
          into: &gradient)
        for j in 0..<k {
          var sum = 0.0
          for i in 0..<n { sum += logits[i * k + j] }
          gradient[k * d + j] = sum / Double(n)
        }
        return loss / Double(n) + penalty * Self.squares(theta, count: k * d) / 2
      }
    }
    if isCancelled() { throw .cancelled }
    weights = Array(outcome.x[0..<(k * d)])
    intercepts = Array(outcome.x[(k * d)...])
    iterations = outcome.iterations
    converged = outcome.converged
  }

  /// Σ θᵢ² over the first `count` entries (the weights, not the intercepts).
  static func squares(_ theta: [Double], count: Int) -> Double {
    var squares = 0.0
    for i in 0..<count { squares += theta[i] * theta[i] }
    return squares
  }

  /// Row by row, `logits` (`[rows, k]`) becomes pᵢ − yᵢ (the softmax less the one-hot label);
  /// returns Σᵢ −log pᵢ[yᵢ].
  static func softmaxResiduals(_ logits: inout [Double], labels: [Int], k: Int) -> Double {
    var loss = 0.0
    for i in labels.indices {
      let row = i * k
      var top = -Double.infinity
      for j in 0..<k { top = max(top, logits[row + j]) }
      let labelled = logits[row + labels[i]]
      var sum = 0.0
      for j in 0..<k {
        let e = exp(logits[row + j] - top)
        logits[row + j] = e
        sum += e
      }
      loss += top + log(sum) - labelled
      for j in 0..<k { logits[row + j] /= sum }
      logits[row + labels[i]] -= 1
    }
    return loss
  }

  /// The loss and its gradient with the features in single precision, the rows taken in
  /// chunks of `chunkRows`, and its partial sums added in chunk order — so the numbers are the
  /// same whether the chunks run on one core (inside `ParallelFits`) or on all of them
  /// (`parallel`), and on any number of cores.
  ///
  /// A chunk is one call of `CKernels`' `sigbook_softmax_regression_chunk` where the processor
  /// has a variant of it (AVX2 with FMA): logits, softmax, residuals and the gradient in one
  /// pass over the chunk's rows, 32 at a time while they are in the L1 cache. Elsewhere (or
  /// with `.blas`) its two products go through sgemm, the softmax in Double between them.
  final class SingleEvaluation: @unchecked Sendable {
    /// 512 rows of 256 features are 512 KB: within a core's L2 cache.
    static let chunkRows = 512

    /// What computes a chunk.
    enum Kernel: Sendable {
      /// The vector kernel where the processor has one, else `.blas`.
      case best
      /// Two sgemm products, the softmax between them in Double.
      case blas
    }

    /// The vector kernel's variant on this processor, nil where it has none.
    /// (The kernel has an AVX2 variant only, which runs on AVX-512 processors too.)
    static let bestVariant: Int32? =
      VectorVariant.avx2.isSupported ? VectorVariant.avx2.rawValue : nil

    let labels: [Int]
    let n: Int, d: Int, k: Int
    let parallel: Bool
    let chunks: Int
    /// The kernel's variant, or nil for sgemm.
    let variant: Int32?
    let scratchCount: Int
    // Owned storage: the features and the labels; then scratch, written by the chunks (each
    // its own part) and read after them.
    let data: UnsafeMutableBufferPointer<Float>
    let classes: UnsafeMutableBufferPointer<Int32>
    let weights: UnsafeMutableBufferPointer<Float>
    let biases: UnsafeMutableBufferPointer<Float>
    let residuals: UnsafeMutableBufferPointer<Float>
    let scratch: UnsafeMutableBufferPointer<Float>
    let partialGradients: UnsafeMutableBufferPointer<Float>
    let partialIntercepts: UnsafeMutableBufferPointer<Double>
    let partialLosses: UnsafeMutableBufferPointer<Double>

    init(
      data: [Float], labels: [Int], n: Int, d: Int, k: Int, parallel: Bool,
      kernel: Kernel = .best
    ) {
      self.labels = labels
      (self.n, self.d, self.k, self.parallel) = (n, d, k, parallel)
      chunks = (n + Self.chunkRows - 1) / Self.chunkRows
      variant = kernel == .best && d <= Int(Int32.max) / max(1, k) ? Self.bestVariant : nil
      let usesKernel = variant != nil
      scratchCount = usesKernel ? sigbook_softmax_regression_scratch(Int32(k)) : 0
      func zeros<T: Numeric>(_ count: Int) -> UnsafeMutableBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
        buffer.initialize(repeating: 0)
        return buffer
      }
      self.data = .allocate(capacity: data.count)
      _ = self.data.initialize(from: data)
      classes = .allocate(capacity: labels.count)
      _ = classes.initialize(from: labels.lazy.map { Int32(truncatingIfNeeded: $0) })
      weights = zeros(k * d)
      biases = zeros(k)
      // The kernel keeps the residuals in its scratch; sgemm needs them all.
      residuals = zeros(usesKernel ? 0 : n * k)
      scratch = zeros(chunks * scratchCount)
      partialGradients = zeros(chunks * k * d)
      partialIntercepts = zeros(chunks * k)
      partialLosses = zeros(chunks)
    }

    deinit {
      for buffer in [data, weights, biases, residuals, scratch, partialGradients] {
        buffer.deallocate()
      }
      classes.deallocate()
      partialIntercepts.deallocate()
      partialLosses.deallocate()
    }

    /// The mean loss plus the penalty at `theta` (W `[k, d]` then b `[k]`), its gradient
    /// written into `gradient`.
    func loss(_ theta: [Double], penalty: Double, gradient: inout [Double]) -> Double {
      let (n, d, k) = (self.n, self.d, self.k)
      for i in 0..<(k * d) { weights[i] = Float(theta[i]) }
      for j in 0..<k { biases[j] = Float(theta[k * d + j]) }
      let intercepts = Array(theta[(k * d)...])
      // Each chunk writes its own rows of the residuals and its own partial sums only.
      let chunk: @Sendable (Int) -> Void = { c in
        if let variant = self.variant {
          self.partialLosses[c] = self.kernelChunk(c, variant: variant)
        } else {
          self.partialLosses[c] = self.chunk(c, intercepts: intercepts)
        }
      }
      if parallel {
        Parallel.forEach(chunks, chunk)
      } else {
        for c in 0..<chunks { chunk(c) }
      }
      let weightCount = k * d, mean = 1 / Double(n)
      for i in 0..<weightCount {
        var sum = 0.0
        for c in 0..<chunks { sum += Double(partialGradients[c * weightCount + i]) }
        gradient[i] = penalty * theta[i] + sum * mean
      }
      for j in 0..<k {
        var sum = 0.0
        for c in 0..<chunks { sum += partialIntercepts[c * k + j] }
        gradient[weightCount + j] = sum * mean
      }
      let loss = partialLosses.reduce(0, +)
      return loss * mean + penalty * LogisticRegression.squares(theta, count: weightCount) / 2
    }

    /// The rows of chunk `c`.
    private func rows(_ c: Int) -> (first: Int, count: Int) {
      let first = c * Self.chunkRows
      return (first, min(n, first + Self.chunkRows) - first)
    }

    /// Chunk `c` by the vector kernel; returns the chunk's Σ −log pᵢ[yᵢ].
    private func kernelChunk(_ c: Int, variant: Int32) -> Double {
      let (d, k) = (self.d, self.k)
      let (first, m) = rows(c)
      var loss = 0.0
      let status = sigbook_softmax_regression_chunk(
        variant, data.baseAddress.map { $0 + first * d }, Int32(m), Int32(d), Int32(k),
        weights.baseAddress, biases.baseAddress, classes.baseAddress.map { $0 + first },
        partialGradients.baseAddress.map { $0 + c * k * d },
        partialIntercepts.baseAddress.map { $0 + c * k }, &loss,
        scratch.baseAddress.map { $0 + c * scratchCount })
      precondition(status == 0, "the softmax regression kernel refused its arguments")
      return loss
    }

    /// Chunk `c`'s rows by sgemm: logits, pᵢ − yᵢ, and the chunk's share of the weights'
    /// gradient ((P − Y)ᵀ·X) and of the intercepts' (Σ (P − Y)), neither yet divided by n;
    /// returns the chunk's Σ −log pᵢ[yᵢ].
    private func chunk(_ c: Int, intercepts: [Double]) -> Double {
      let (d, k) = (self.d, self.k)
      let (first, m) = rows(c)
      guard let xs = data.baseAddress, let z = residuals.baseAddress,
        let g = partialGradients.baseAddress, let intercept = partialIntercepts.baseAddress
      else { return 0 }
      let rows = xs + first * d, logits = z + first * k
      cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(k), Int32(d), 1, rows, Int32(d),
        weights.baseAddress, Int32(d), 0, logits, Int32(k))
      var loss = 0.0
      let b = intercept + c * k
      for j in 0..<k { b[j] = 0 }
      var row = [Double](repeating: 0, count: k)
      for i in 0..<m {
        let label = labels[first + i]
        var top = -Double.infinity
        for j in 0..<k {
          row[j] = Double(logits[i * k + j]) + intercepts[j]
          top = max(top, row[j])
        }
        let labelled = row[label]
        var sum = 0.0
        for j in 0..<k {
          row[j] = exp(row[j] - top)
          sum += row[j]
        }
        loss += top + log(sum) - labelled
        for j in 0..<k {
          let residual = row[j] / sum - (j == label ? 1 : 0)
          logits[i * k + j] = Float(residual)
          b[j] += residual
        }
      }
      cblas_sgemm(
        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(d), Int32(m), 1, logits,
        Int32(k), rows, Int32(d), 0, g + c * k * d, Int32(d))
      return loss
    }
  }

  /// ∂/∂W in Double: (P − Y)ᵀ·X / n + W / (C·n) into the first k·d entries of `gradient`.
  static func doubleGradient(
    _ data: [Double], residual: [Double], theta: [Double], n: Int, d: Int, k: Int,
    penalty: Double, into gradient: inout [Double]
  ) {
    theta.withUnsafeBufferPointer { w in
      gradient.withUnsafeMutableBufferPointer { g in
        for i in 0..<(k * d) { g[i] = penalty * w[i] }
        data.withUnsafeBufferPointer { xs in
          cblas_dgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(d), Int32(n), 1 / Double(n),
            residual, Int32(k), xs.baseAddress, Int32(d), 1, g.baseAddress, Int32(d))
        }
      }
    }
  }

  /// The probability of each class for each row of `x`, `[n, classes]` row-major.
  func probabilities(_ x: Tensor) -> [Double] {
    let n = x.rows, k = classes
    let data = Self.standardized(x, mean: mean, scale: scale)
    var p = [Double](repeating: 0, count: n * k)
    Self.logits(data, n: n, d: features, k: k, theta: weights + intercepts, into: &p)
    for i in 0..<n {
      let row = i * k
      var top = -Double.infinity
      for j in 0..<k { top = max(top, p[row + j]) }
      var sum = 0.0
      for j in 0..<k {
        p[row + j] = exp(p[row + j] - top)
        sum += p[row + j]
      }
      for j in 0..<k { p[row + j] /= sum }
    }
    return p
  }

  /// The fraction of rows whose most probable class is their label, and the mean log-loss
  /// (−log p of the label, p at least 1e-15 as scikit-learn's `log_loss` clips it).
  func score(_ x: Tensor, labels: [Int]) -> (accuracy: Double, logLoss: Double) {
    let p = probabilities(x), k = classes
    var correct = 0, loss = 0.0
    for (i, label) in labels.enumerated() {
      let row = Array(p[(i * k)..<((i + 1) * k)])
      // The first of equal maxima, as NumPy's argmax.
      var best = 0
      for j in 1..<k where row[j] > row[best] { best = j }
      if best == label { correct += 1 }
      loss -= log(max(row[label], 1e-15))
    }
    let n = Double(max(labels.count, 1))
    return (Double(correct) / n, loss / n)
  }

  /// Z = X·Wᵀ + b for `theta` = W (`[k, d]`) then b (`[k]`).
  static func logits(
    _ data: [Double], n: Int, d: Int, k: Int, theta: [Double], into z: inout [Double]
  ) {
    theta.withUnsafeBufferPointer { w in
      z.withUnsafeMutableBufferPointer { z in
        for i in 0..<n { for j in 0..<k { z[i * k + j] = w[k * d + j] } }
        data.withUnsafeBufferPointer { xs in
          cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(k), Int32(d), 1,
            xs.baseAddress, Int32(d), w.baseAddress, Int32(d), 1, z.baseAddress, Int32(k))
        }
      }
    }
  }

  /// Each feature's mean and standard deviation (population, as scikit-learn's
  /// `StandardScaler`; a constant feature is divided by 1), or 0 and 1.
  static func standardization(_ x: Tensor, standardize: Bool) -> (mean: [Double], scale: [Double]) {
    let n = x.rows, d = x.rowSize
    var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 1, count: d)
    guard standardize else { return (mean, scale) }
    var squares = [Double](repeating: 0, count: d)
    x.scalars.withUnsafeBufferPointer { xs in
      for i in 0..<n { for j in 0..<d { mean[j] += Double(xs[i * d + j]) } }
      for j in 0..<d { mean[j] /= Double(n) }
      for i in 0..<n {
        for j in 0..<d {
          let v = Double(xs[i * d + j]) - mean[j]
          squares[j] += v * v
        }
      }
    }
    for j in 0..<d {
      let sd = (squares[j] / Double(n)).squareRoot()
      scale[j] = sd > 1e-12 * max(1, abs(mean[j])) ? sd : 1
    }
    return (mean, scale)
  }

  static func standardized(_ x: Tensor, mean: [Double], scale: [Double]) -> [Double] {
    let d = mean.count
    var out = [Double](repeating: 0, count: x.count)
    x.scalars.withUnsafeBufferPointer { xs in
      for i in 0..<x.count {
        let j = i % d
        out[i] = (Double(xs[i]) - mean[j]) / scale[j]
      }
    }
    return out
  }
}

/// Linear probes (Alain & Bengio, 2016): for each signature layer, a logistic regression trained
/// on one set of inputs to tell their classes from that layer alone, scored on another. The
/// layer from which the test accuracy is high is one whose code makes the classes linearly
/// separable.
///
/// With a control task (after Hewitt & Liang, 2019) every input also gets a random class — the
/// labels shuffled, so each class keeps its count — and a second probe learns those: what a
/// probe of this capacity learns from nothing. Its training accuracy shows how much it can
/// memorise; its test accuracy is near chance for inputs that never repeat (images), and the
/// selectivity is the test accuracy less the control's.
public enum LinearProbes {
  /// One row per layer: width, train and test accuracy, test log-loss, L-BFGS iterations
  /// (and the control's accuracies and the selectivity).
  ///
  /// - Parameters:
  ///   - progress: called with the fraction done (0…1) at every check for Ctrl-C, one call at a
  ///     time: each fit counts for its L-BFGS iterations out of the most it may take (1,000),
  ///     and wholly once it ends — fits that converge early jump ahead.
  ///   - isCancelled: checked before every L-BFGS iteration of every fit; when it returns true
  ///     all fits stop.
  /// - Throws: `AnalysisError` when the two sets differ in layers or widths, the test set has
  ///   a class the training set lacks, or a fit fails.
  public static func table(
    train: SignatureSet, test: SignatureSet, c: Double, standardize: Bool, control: Bool,
    seed: Int, tolerance: Double = 1e-4, progress: ((Double) -> Void)? = nil,
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> Table {
    guard train.widths == test.widths else {
      throw .invalidArgument(
        "the training signatures have layers of widths \(train.widths) but the test ones \(test.widths); probe signatures of one network"
      )
    }
    var testLabels: [Int] = []
    for label in test.labels {
      let name = test.classNames[label]
      guard let index = train.classNames.firstIndex(of: name) else {
        throw .invalidArgument(
          "the test inputs have class '\(name)', which the training inputs lack; a probe can only learn the classes it is trained on"
        )
      }
      testLabels.append(index)
    }
    let classes = train.classNames.count
    var generator = SeededGenerator(seed: UInt64(truncatingIfNeeded: seed))
    let controlTrain = generator.permutation(train.count).map { train.labels[$0] }
    let controlTest = generator.permutation(test.count).map { testLabels[$0] }
    // The fits (each layer's, and its control's) are independent: on all cores (ParallelFits),
    // so results do not depend on the core count; once the caller's check says stop, all stop.
    typealias Fit = (
      train: (accuracy: Double, logLoss: Double), test: (accuracy: Double, logLoss: Double),
      iterations: Int
    )
    let tasks = control ? 2 : 1
    let trainLabels = train.labels, scoredLabels = testLabels
    let jobs = train.layers.count * tasks, budget = LBFGS().maxIterations
    // Each fit's iterations so far (`budget` once it ends), read for the progress bar.
    let steps = Mutex([Int](repeating: 0, count: jobs))
    let checked = { () -> Bool in
      let cancelled = isCancelled()
      if let progress {
        let done = steps.withLock { $0.reduce(0, +) }
        progress(Double(done) / Double(jobs * budget))
      }
      return cancelled
    }
    // Large sets: one fit at a time, each evaluation's rows on every core (the layers' fits
    // differ in cost, so fits side by side leave a core idle once the cheaper ones end);
    // small ones: the fits side by side. Either way the same numbers (`SingleEvaluation`).
    let rowsInParallel = train.count >= 2 * LogisticRegression.SingleEvaluation.chunkRows
    let fit = { @Sendable (job: Int, check: @Sendable () -> Bool) -> Result<Fit, AnalysisError> in
      defer { steps.withLock { $0[job] = budget } }
      func counted() -> Bool {
        steps.withLock { $0[job] = min(budget - 1, $0[job] + 1) }
        return check()
      }
      let h = job / tasks, isControl = job % tasks == 1
      let x = train.layers[h], y = test.layers[h]
      let labels = isControl ? controlTrain : trainLabels
      let scored = isControl ? controlTest : scoredLabels
      return Result { () throws(AnalysisError) -> Fit in
        let fit = try LogisticRegression(
          fitting: x, labels: labels, classes: classes, c: c, standardize: standardize,
          tolerance: tolerance, parallelRows: rowsInParallel, isCancelled: counted)
        return (fit.score(x, labels: labels), fit.score(y, labels: scored), fit.iterations)
      }
    }
    let fits: [Result<Fit, AnalysisError>]
    if rowsInParallel {
      BLAS.beginSingleThreaded()
      defer { BLAS.endSingleThreaded() }
      fits = withoutActuallyEscaping(checked) { checked in
        nonisolated(unsafe) let poll = checked
        return (0..<jobs).map { fit($0, { poll() }) }
      }
    } else {
      fits = ParallelFits.map(jobs, isCancelled: checked, fit)
    }
    if isCancelled() { throw .cancelled }
    var rows: [[Table.Cell]] = []
    for h in train.layers.indices {
      let fit = try fits[h * tasks].get()
      var row: [Table.Cell] = [
        .text(train.layerNames[h]), .number(Double(train.layers[h].rowSize)),
        .number(fit.train.accuracy), .number(fit.test.accuracy), .number(fit.test.logLoss),
        .number(Double(fit.iterations)),
      ]
      if control {
        let shuffled = try fits[h * tasks + 1].get()
        row += [
          .number(shuffled.train.accuracy), .number(shuffled.test.accuracy),
          .number(fit.test.accuracy - shuffled.test.accuracy),
        ]
      }
      rows.append(row)
    }
    var columns = [
      "layer", "width", "train_accuracy", "test_accuracy", "test_log_loss", "iterations",
    ]
    if control { columns += ["control_train_accuracy", "control_test_accuracy", "selectivity"] }
    let title =
      "linear probes of \(train.modelSummary): \(NumberFormat.grouped(train.count)) training and \(NumberFormat.grouped(test.count)) test inputs, L2 with C = \(NumberFormat.display(c))\(standardize ? ", features standardised" : "")"
    return Table(title: title, columns: columns, rows: rows)
  }
}

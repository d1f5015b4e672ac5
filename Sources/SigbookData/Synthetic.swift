import SigbookTensor

/// The two-dimensional toy data sets of `Dataset.synthetic(_:n:sigma:epsilon:seed:)`.
///
/// Each has two classes, `"0"` and `"1"`; the raw values are the workbook names.
public enum SyntheticKind: String, Sendable, CaseIterable {
  /// Two round blobs centred at (−1, 0) (class 0) and (1, 0) (class 1): linearly separable.
  case twoGaussians = "two_gaussians"
  /// Four blobs at the corners (±1, ±1), labelled as XOR: (−1, −1) and (1, 1) are class 0,
  /// (−1, 1) and (1, −1) class 1. No line separates them; one hidden layer does.
  case fourGaussians = "four_gaussians"
  /// Points uniform in the square [−2, 2)², in a 4 × 4 checkerboard of unit cells: class 0 where
  /// ⌊x + 2⌋ + ⌊y + 2⌋ is even, class 1 where it is odd.
  case checkerboard
}

extension Dataset {
  /// A two-dimensional, two-class toy data set.
  ///
  /// Input `i` belongs to class `i % 2` before label noise (for four Gaussians, blob `i % 4`), so
  /// the classes are balanced (their sizes differ by at most one) and interleaved. Blob points are
  /// the blob's centre plus normal noise of standard deviation `sigma` in each coordinate;
  /// checkerboard points are drawn uniformly until one falls in a cell of the wanted class, and
  /// `sigma` is not used (the board's edges stay sharp; use `epsilon` for label noise).
  /// Then exactly `round(epsilon · n)` labels, chosen at random without repetition, are flipped.
  ///
  /// Seeded: the points and the flipped labels come from `SeededGenerator(seed:)`, so the same
  /// arguments give the same data set on every machine.
  ///
  /// - Parameters:
  ///   - kind: the shape of the classes.
  ///   - n: the number of points, at least 2 and at most `DataLimits.values / 2`.
  ///   - sigma: the standard deviation of each blob, in the units of the coordinates (≥ 0).
  ///   - epsilon: the fraction of labels flipped, in [0, 1].
  ///   - spread: how many times wider class 1's blobs are than class 0's (≥ 0; 1 by default):
  ///     a widely spread class beside a tight one.
  ///   - seed: the seed of the generator.
  /// - Returns: features `[n, 2]`, classes `["0", "1"]`, named after the kind
  ///   (`"two_gaussians"`).
  /// - Throws: `DataError.invalidArgument` when `n`, `sigma` or `epsilon` is out of range, or
  ///   when `sigma` is so large that a coordinate is beyond the range of a 32-bit float.
  public static func synthetic(
    _ kind: SyntheticKind, n: Int = 1000, sigma: Double = 0.1, epsilon: Double = 0,
    spread: Double = 1, seed: Int = 0
  ) throws -> Dataset {
    guard n >= 2 else {
      throw DataError.invalidArgument("synthetic data needs n ≥ 2 points, not \(n)")
    }
    guard n <= DataLimits.values / 2 else {
      throw DataError.invalidArgument(
        "synthetic data of \(NumberFormat.grouped(n)) points would hold \(NumberFormat.grouped(2 * n)) "
          + "values; a dataset holds at most \(NumberFormat.grouped(DataLimits.values)), so n ≤ "
          + NumberFormat.grouped(DataLimits.values / 2))
    }
    guard sigma >= 0, sigma.isFinite else {
      throw DataError.invalidArgument("sigma must be a finite number ≥ 0, not \(sigma)")
    }
    guard spread >= 0, spread.isFinite else {
      throw DataError.invalidArgument("spread must be a finite number ≥ 0, not \(spread)")
    }
    guard epsilon >= 0, epsilon <= 1 else {
      throw DataError.invalidArgument("epsilon must be between 0 and 1, not \(epsilon)")
    }
    var generator = SeededGenerator(seed: seed)
    var labels = [Int](repeating: 0, count: n)
    let features = Tensor(shape: [n, 2]) { out in
      for i in 0..<n {
        var x = 0.0
        var y = 0.0
        switch kind {
        case .twoGaussians:
          labels[i] = i % 2
          let s = labels[i] == 0 ? sigma : sigma * spread
          x = (labels[i] == 0 ? -1 : 1) + s * generator.nextNormal()
          y = s * generator.nextNormal()
        case .fourGaussians:
          // Corners in turn: (−1, −1), (−1, 1), (1, 1), (1, −1); opposite corners share a class.
          let blob = i % 4
          labels[i] = blob % 2
          let s = labels[i] == 0 ? sigma : sigma * spread
          x = (blob < 2 ? -1 : 1) + s * generator.nextNormal()
          y = (blob == 0 || blob == 3 ? -1 : 1) + s * generator.nextNormal()
        case .checkerboard:
          labels[i] = i % 2
          // Float coordinates (exact in Double) so that storing them cannot change their cell.
          repeat {
            x = Double(4 * generator.nextFloat() - 2)
            y = Double(4 * generator.nextFloat() - 2)
          } while Int((x + 2).rounded(.down) + (y + 2).rounded(.down)) % 2 != labels[i]
        }
        out[2 * i] = Float(x)
        out[2 * i + 1] = Float(y)
      }
    }
    try features.requireFinite(
      "synthetic(.\(kind.rawValue), sigma: \(sigma)\(spread == 1 ? "" : ", spread: \(spread)"))",
      argument: "sigma", value: sigma * max(spread, 1))
    let flips = Int((epsilon * Double(n)).rounded())
    for i in generator.sample(flips, from: n) { labels[i] = 1 - labels[i] }
    return Dataset(name: kind.rawValue, features: features, labels: labels, classNames: ["0", "1"])
  }
}

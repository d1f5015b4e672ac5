import SigbookTestSupport
import Testing

@testable import SigbookData
@testable import SigbookTensor

@Suite("Synthetic data") struct SyntheticTests {
  @Test(arguments: SyntheticKind.allCases)
  func shapesBalanceAndSeeds(kind: SyntheticKind) throws {
    let a = try Dataset.synthetic(kind, n: 101, seed: 5)
    #expect(a.name == kind.rawValue)
    #expect(a.features.shape == [101, 2])
    #expect(a.classNames == ["0", "1"])
    #expect(a.countsPerClass() == [51, 50])
    #expect(a == (try Dataset.synthetic(kind, n: 101, seed: 5)))
    #expect(a.features != (try Dataset.synthetic(kind, n: 101, seed: 6)).features)
    #expect(a.features.isFinite)
  }

  @Test(arguments: SyntheticKind.allCases)
  func epsilonFlipsExactlyRoundEpsilonTimesNLabels(kind: SyntheticKind) throws {
    let clean = try Dataset.synthetic(kind, n: 1000, epsilon: 0, seed: 9)
    let noisy = try Dataset.synthetic(kind, n: 1000, epsilon: 0.1234, seed: 9)
    #expect(noisy.features == clean.features)
    #expect(zip(clean.labels, noisy.labels).filter { $0 != $1 }.count == 123)
    let all = try Dataset.synthetic(kind, n: 10, epsilon: 1, seed: 9)
    #expect(all.labels == (try Dataset.synthetic(kind, n: 10, seed: 9)).labels.map { 1 - $0 })
  }

  @Test func twoGaussiansSitLeftAndRight() throws {
    let data = try Dataset.synthetic(.twoGaussians, n: 2000, sigma: 0.1, seed: 1)
    for c in 0..<2 {
      let xs = data.filter(label: c).features.flattenedRows.transposed().rows(0..<1)
      #expect(abs(xs.mean() - (c == 0 ? -1 : 1)) < 0.02)
    }
  }

  @Test func fourGaussiansAreLabelledAsXOR() throws {
    let data = try Dataset.synthetic(.fourGaussians, n: 400, sigma: 0.1, seed: 2)
    let xy = data.features.scalars
    for i in 0..<data.count {
      #expect(data.labels[i] == (xy[2 * i] * xy[2 * i + 1] < 0 ? 1 : 0))
    }
  }

  @Test func checkerboardLabelsFollowTheCells() throws {
    let data = try Dataset.synthetic(.checkerboard, n: 500, seed: 3)
    let xy = data.features.scalars
    #expect(xy.allSatisfy { $0 >= -2 && $0 < 2 })
    for i in 0..<data.count {
      let cell = Int((xy[2 * i] + 2).rounded(.down) + (xy[2 * i + 1] + 2).rounded(.down))
      #expect(data.labels[i] == cell % 2)
    }
  }

  @Test func argumentsOutOfRangeAreRefused() throws {
    let cases: [(n: Int, sigma: Double, epsilon: Double, message: String)] = [
      (1, 0.1, 0, "synthetic data needs n ≥ 2 points, not 1"),
      (10, -1, 0, "sigma must be a finite number ≥ 0, not -1.0"),
      (10, 0.1, 1.5, "epsilon must be between 0 and 1, not 1.5"),
    ]
    for c in cases {
      let error = try #require(throws: DataError.self) {
        try Dataset.synthetic(.twoGaussians, n: c.n, sigma: c.sigma, epsilon: c.epsilon)
      }
      #expect(error.description == c.message)
    }
  }
}

extension SyntheticTests {
  /// A sigma so large that coordinates overflow 32-bit floats is refused where it is given,
  /// rather than showing later as a NaN loss.
  @Test func sigmaThatOverflowsFloatsIsRefused() throws {
    let error = try #require(throws: DataError.self) {
      try Dataset.synthetic(.twoGaussians, n: 10, sigma: 1e308)
    }
    #expect(
      error.description
        == "synthetic(.two_gaussians, sigma: 1e+308) makes the value at [0, 0] infinite in 32-bit "
        + "floats (at most ±3.4e38); sigma 1e+308 is too large")
    let data = try Dataset.synthetic(.twoGaussians, n: 10, sigma: 1e30)
    #expect(data.features.isFinite)
    let noisy = try #require(throws: DataError.self) { try data.noise(sigma: 1e308) }
    #expect(
      noisy.description
        == "noise(two_gaussians, sigma: 1e+308) makes the value at [0, 0] infinite in 32-bit "
        + "floats (at most ±3.4e38); sigma 1e+308 is too large")
  }

  @Test func spreadWidensClassOneOnly() throws {
    let even = try Dataset.synthetic(.twoGaussians, n: 400, sigma: 0.2, seed: 3)
    let wide = try Dataset.synthetic(.twoGaussians, n: 400, sigma: 0.2, spread: 3, seed: 3)
    // The same draws: class 0's points are unchanged, class 1's are 3 times as far from (1, 0).
    for i in 0..<400 {
      let (x0, y0) = (even.features[flat: 2 * i], even.features[flat: 2 * i + 1])
      let (x1, y1) = (wide.features[flat: 2 * i], wide.features[flat: 2 * i + 1])
      if even.labels[i] == 0 {
        #expect(x0 == x1 && y0 == y1)
      } else {
        #expect(abs((x1 - 1) - 3 * (x0 - 1)) < 1e-5 && abs(y1 - 3 * y0) < 1e-5)
      }
    }
    #expect(throws: DataError.self) { try Dataset.synthetic(.twoGaussians, spread: -1) }
  }
}

import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookAnalysis

@Suite("Metrics") struct MetricsTests {
  @Test func purityCountsTheMajorityLabelOfEachCluster() {
    // Cluster 0 holds labels {0, 0, 1} (majority 2), cluster 1 holds {1, 1, 2} (majority 2): 4/6.
    let purity = Metrics.purity(clusters: [0, 0, 0, 1, 1, 1], labels: [0, 0, 1, 1, 1, 2])
    #expect(isClose(purity, 4.0 / 6, tolerance: 1e-9))
    #expect(Metrics.purity(clusters: [5, 5, 9, 9], labels: [1, 1, 0, 0]) == 1)
    // One cluster: the share of the largest class, 3/5.
    #expect(
      isClose(
        Metrics.purity(clusters: [0, 0, 0, 0, 0], labels: [1, 1, 1, 2, 2]), 0.6, tolerance: 1e-9))
  }

  @Test func adjustedRandIndexOnScikitLearnsExamples() {
    #expect(Metrics.adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 1]) == 1)
    #expect(Metrics.adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]) == 1)
    // Contingency rows {2,0}, {0,1}, {0,1}: Σn²ᵢⱼ = 6, Σa² = 6, Σb² = 8, n = 4 (ordered pairs):
    // tp = 6 − 4 = 2, fp = 8 − 6 = 2, fn = 6 − 6 = 0, tn = 16 − 2 − 0 − 6 = 8;
    // ARI = 2·(2·8 − 0)/((2 + 0)(0 + 8) + (2 + 2)(2 + 8)) = 32/56 = 4/7.
    #expect(
      isClose(Metrics.adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1]), 4.0 / 7, tolerance: 1e-9))
    #expect(
      isClose(Metrics.adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2]), 4.0 / 7, tolerance: 1e-9))
    // Every point alone against all together: Σn²ᵢⱼ = 4, Σa² = 4, Σb² = 16: tp = 0, fp = 12,
    // fn = 0, tn = 0 → ARI = 0.
    #expect(Metrics.adjustedRandIndex([0, 1, 2, 3], [0, 0, 0, 0]) == 0)
    // Below chance: [0,0,1,1] vs [0,1,0,1]: Σn² = 4, Σa² = Σb² = 8, tp = 0, fp = fn = 4, tn = 4;
    // ARI = 2·(0 − 16)/((4)(8) + (4)(8)) = −0.5.
    #expect(isClose(Metrics.adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]), -0.5, tolerance: 1e-9))
    #expect(Metrics.adjustedRandIndex([], []) == 1)
  }

  @Test func normalizedMutualInformationSpecialCasesAndAHandValue() {
    #expect(
      isClose(Metrics.normalizedMutualInformation([0, 0, 1, 1], [1, 1, 0, 0]), 1, tolerance: 1e-9))
    #expect(Metrics.normalizedMutualInformation([3, 3, 3], [7, 7, 7]) == 1)
    // Independent labelings: every cell holds n/4, I = Σ ¼·ln(4·1/(2·2)) = 0.
    #expect(Metrics.normalizedMutualInformation([0, 0, 1, 1], [0, 1, 0, 1]) == 0)
    // One labeling constant, the other not: I = 0.
    #expect(Metrics.normalizedMutualInformation([0, 0, 0, 0], [0, 1, 2, 3]) == 0)
    // u = [0,0,1,1], v = [0,0,0,1]: H(u) = ln 2, H(v) = ln 4 − ¾·ln 3,
    // H(v | u) = ½·0 + ½·ln 2, so I = H(v) − H(v | u) = 3/2·ln 2 − ¾·ln 3 and
    // NMI = 2I/(H(u) + H(v)) = (3·ln 2 − 3/2·ln 3)/(3·ln 2 − ¾·ln 3) ≈ 0.343711.
    let expected = (3 * log(2.0) - 1.5 * log(3.0)) / (3 * log(2.0) - 0.75 * log(3.0))
    #expect(
      isClose(
        Metrics.normalizedMutualInformation([0, 0, 1, 1], [0, 0, 0, 1]), expected, tolerance: 1e-9))
    #expect(
      isClose(
        Metrics.normalizedMutualInformation([0, 0, 0, 1], [0, 0, 1, 1]), expected, tolerance: 1e-9))
    #expect(abs(expected - 0.343711) < 1e-6)
  }

  @Test func aurocCountsPairsAndHalvesTies() {
    // Positives 0.35, 0.8; negatives 0.1, 0.4: of the 4 pairs, 0.35 < 0.4 is the only one
    // ordered wrongly → 3/4.
    let twoNegativesFirst = [false, false, true, true]
    #expect(Metrics.auroc(scores: [0.1, 0.4, 0.35, 0.8], isPositive: twoNegativesFirst) == 0.75)
    // Positives 0.5, 0.9; negatives 0.5, 0.1: pairs (0.5, 0.5) tie → ½, the others are right:
    // (½ + 1 + 1 + 1)/4 = 0.875.
    let twoPositivesFirst = [true, true, false, false]
    #expect(Metrics.auroc(scores: [0.5, 0.9, 0.5, 0.1], isPositive: twoPositivesFirst) == 0.875)
    // All scores equal: every pair ties → 0.5.
    #expect(Metrics.auroc(scores: [1, 1, 1], isPositive: [true, false, false]) == 0.5)
    #expect(Metrics.auroc(scores: [0.2, 0.1], isPositive: [true, false]) == 1)
    #expect(Metrics.auroc(scores: [0.2, 0.1], isPositive: [false, true]) == 0)
    #expect(Metrics.auroc(scores: [0.2, 0.1], isPositive: [true, true]) == nil)
  }

  @Test func confusionMatrixRowsAreTrueClasses() {
    let m = Metrics.confusionMatrix(labels: [0, 0, 1, 2, 2, 2], predictions: [0, 1, 1, 2, 0, 2])
    #expect(m == [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    #expect(
      Metrics.confusionMatrix(labels: [0], predictions: [0], classes: 2) == [[1, 0], [0, 0]])
  }
}

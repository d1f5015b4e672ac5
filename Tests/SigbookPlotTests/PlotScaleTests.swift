import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookPlot

@Suite("Scales and ticks") struct PlotScaleTests {
  static let niceCases: [(lower: Double, upper: Double, ticks: [Double], labels: [String])] = [
    (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1], ["0", "0.2", "0.4", "0.6", "0.8", "1"]),
    (0, 100, [0, 20, 40, 60, 80, 100], ["0", "20", "40", "60", "80", "100"]),
    (-3.7, 12.2, [0, 5, 10], ["0", "5", "10"]),
    (0.1, 0.7, [0.2, 0.4, 0.6], ["0.2", "0.4", "0.6"]),
    (0.001, 0.0095, [0.002, 0.004, 0.006, 0.008], ["0.002", "0.004", "0.006", "0.008"]),
    (-1, 1, [-1, -0.5, 0, 0.5, 1], ["-1", "-0.5", "0", "0.5", "1"]),
    (
      1e6, 5e6, [1e6, 2e6, 3e6, 4e6, 5e6], ["1000000", "2000000", "3000000", "4000000", "5000000"]
    ),
    (0.81, 0.985, [0.85, 0.9, 0.95], ["0.85", "0.9", "0.95"]),
  ]

  @Test(arguments: niceCases)
  func niceTicksUseStepsOfOneTwoOrFive(
    _ c: (lower: Double, upper: Double, ticks: [Double], labels: [String])
  ) {
    let ticks = Plot.niceTicks(lower: c.lower, upper: c.upper, count: 5)
    #expect(ticks.values == c.ticks)
    #expect([1, 2, 5].contains(ticks.mantissa))
    let scale = Plot.LinearScale(lower: c.lower, upper: c.upper, start: 0, end: 100)
    #expect(scale.ticks.map(scale.tickLabel) == c.labels)
  }

  @Test func degenerateDomainsStayUsable() {
    let same = Plot.LinearScale(lower: 3, upper: 3, start: 0, end: 100)
    #expect(same.lower < 3 && same.upper > 3 && !same.ticks.isEmpty)
    let zero = Plot.LinearScale(lower: 0, upper: 0, start: 0, end: 100)
    #expect(zero.lower == -1 && zero.upper == 1)
    let empty = Plot.LinearScale(fitting: [.nan], start: 0, end: 100)
    #expect(empty.position(empty.lower) == 0 && !empty.ticks.isEmpty)
  }

  @Test func niceDomainsEndOnTicks() {
    let scale = Plot.LinearScale(lower: 0.13, upper: 0.71, start: 300, end: 0, nice: true)
    #expect(scale.lower == 0 && scale.upper == 0.8)
    #expect(scale.ticks == [0, 0.2, 0.4, 0.6, 0.8])
    #expect(scale.position(0) == 300 && scale.position(0.8) == 0)
    #expect(abs(scale.position(0.4) - 150) < 1e-9)
  }

  @Test func integerTicksForCountsAndEpochs() {
    let k = Plot.LinearScale(lower: 1.6, upper: 10.4, start: 0, end: 1).integerTicks()
    #expect(k.ticks == (2...10).map(Double.init))
    #expect(k.ticks.map(k.tickLabel) == (2...10).map(String.init))
    let epochs = Plot.LinearScale(lower: 1, upper: 100, start: 0, end: 1).integerTicks()
    #expect(epochs.ticks == [20, 40, 60, 80, 100])
  }

  @Test func logTicksAreDecadesOrOneTwoFive() {
    let wide = Plot.LogScale(lower: 1e-3, upper: 100, start: 0, end: 1)
    #expect(wide.ticks == [0.001, 0.01, 0.1, 1, 10, 100])
    #expect(wide.ticks.map(wide.tickLabel) == ["0.001", "0.01", "0.1", "1", "10", "100"])
    let narrow = Plot.LogScale(lower: 1, upper: 50, start: 0, end: 1)
    #expect(narrow.ticks == [1, 2, 5, 10, 20, 50])
    let huge = Plot.LogScale(lower: 1e-8, upper: 1e8, start: 0, end: 1)
    #expect(huge.ticks.count <= 9)
    #expect(huge.ticks.map(huge.tickLabel).first == "1e-8")
    let nice = Plot.LogScale(lower: 0.03, upper: 7, start: 100, end: 0, nice: true)
    #expect(nice.lower == 0.01 && nice.upper == 10)
    #expect(abs(nice.position(0.1) - 100 * 2 / 3) < 1e-9)
  }

  @Test func overlappingLabelsAreThinned() {
    #expect(Plot.labelStride(positions: [0, 50, 100], widths: [20, 20, 20]) == 1)
    #expect(Plot.labelStride(positions: [0, 10, 20, 30, 40], widths: [15, 15, 15, 15, 15]) == 2)
  }
}

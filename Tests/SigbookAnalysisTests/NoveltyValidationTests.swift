import Testing

@testable import SigbookAnalysis

/// The headline row of a novelty result chosen on a validation split, never on the inputs scored.
@Suite("Novelty row chosen on validation")
struct NoveltyValidationTests {
  /// A row of 4 normal and 4 novel scores: AUROC 1 when every novel input scores above every
  /// normal one; interleaved, 10 of the 16 pairs ordered, AUROC 0.625.
  static func row(_ name: String, separating: Bool) -> NoveltyResult.Row {
    NoveltyResult.Row(
      name: name, dimensions: 1, normalScores: [0, 1, 2, 3],
      novelScores: separating ? [4, 5, 6, 7] : [0.5, 1.5, 2.5, 3.5])
  }

  static func result(_ rows: [NoveltyResult.Row]) -> NoveltyResult {
    NoveltyResult(
      method: .knn, rows: rows, normalLabels: ["a", "a", "a", "a"],
      novelLabels: ["b", "b", "b", "b"])
  }

  @Test func theRowBestOnValidationIsTheHeadlineWhateverItScoresOnTest() {
    // On validation H1 separates; on the test inputs H2 does. The headline is H1.
    let validation = Self.result([
      Self.row("H1", separating: true), Self.row("H2", separating: false),
      Self.row("all", separating: false),
    ])
    let test = Self.result([
      Self.row("H1", separating: false), Self.row("H2", separating: true),
      Self.row("all", separating: false),
    ])
    let chosen = test.choosingRow(on: validation)
    #expect(chosen.declared == "H1" && chosen.headline?.name == "H1")
    #expect(chosen.headline?.auroc == 0.625 && chosen.validationAUROC == 1)
    #expect(chosen.best?.name == "H2")
    #expect(chosen.table.title?.contains("chosen on the validation split: H1") == true)
  }

  @Test func tiesGoToTheFirstRow() {
    let validation = Self.result([
      Self.row("H1", separating: true), Self.row("H2", separating: true),
    ])
    let test = Self.result([Self.row("H1", separating: false), Self.row("H2", separating: false)])
    #expect(test.choosingRow(on: validation).declared == "H1")
  }
}

import SigbookData
import SigbookNN
import SigbookAnalysis
import SigbookPlot

/// A value a workbook session holds: what an expression evaluates to and a variable names.
///
/// Values are immutable: functions return new values and never change their arguments.
public indirect enum Value: Sendable {
  case number(Double)
  case text(String)
  case bool(Bool)
  case list([Value])
  /// An integer range: `2...10` (closed) or `0..<5` (half-open).
  case range(lower: Int, upper: Int, isClosed: Bool)
  /// A named choice of the function it is passed to: `.relu` (stored without the dot).
  case option(String)
  case dataset(Dataset)
  case model(Model)
  /// One layer of a `sequential` model, before it is built: `dense(784, 32)`, `relu()`.
  case layer(LayerSpec)
  case history(History)
  case table(Table)
  case figure(Figure)
  /// The hidden-layer outputs of a network for a dataset.
  case signatures(SignatureSet)
  /// Points to cluster or project: one signature layer (`sig[2]`).
  case points(PointSet)
  case clustering(Clustering)
  case projection(Projection)
  case novelty(NoveltyResult)
  /// What a statement that shows nothing evaluates to (`print(…)`, `save(…)`).
  case nothing

  /// The kind of the value, as the catalogue names it.
  public var kind: ValueKind {
    switch self {
    case .number: .number
    case .text: .text
    case .bool: .bool
    case .list: .list
    case .range: .range
    case .option: .option
    case .dataset: .dataset
    case .model: .model
    case .layer: .layer
    case .history: .history
    case .table: .table
    case .figure: .figure
    case .signatures: .signatures
    case .points: .signatureLayer
    case .clustering: .clustering
    case .projection: .projection
    case .novelty: .novelty
    case .nothing: .nothing
    }
  }

  /// How many integers a range holds, without making them.
  static func rangeCount(lower: Int, upper: Int, isClosed: Bool) -> Int {
    // Bounds are below 10¹⁵ in magnitude, so this cannot overflow.
    let end = isClosed ? upper + 1 : upper
    return max(0, end - lower)
  }

  /// The integers of a range, in order.
  static func rangeValues(lower: Int, upper: Int, isClosed: Bool) -> [Int] {
    let end = isClosed ? upper + 1 : upper
    return end > lower ? Array(lower..<end) : []
  }
}

/// The kinds of value, with the words messages use for them: the one list of kinds, which
/// ``Value/kind`` maps values to and the catalogue's `Accepts.kind` names.
public enum ValueKind: String, Sendable, CaseIterable, Hashable {
  case number, text, bool, list, range, option, dataset, model, layer, history, table, figure
  case signatures
  case signatureLayer = "signature layer"
  case clustering, projection
  case novelty = "novelty result"
  case nothing

  /// The kind with an article, for messages: "a number", "an option".
  var withArticle: String {
    switch self {
    case .option: "an option"
    case .nothing: "nothing"
    case .signatures: "signatures"
    default: "a \(rawValue)"
    }
  }

  /// What a parameter that takes this kind expects, for messages and docs: `a dataset`, `true
  /// or false`.
  var expected: String { self == .bool ? "true or false" : withArticle }

  /// The plural noun: "datasets", "signature sets".
  var plural: String {
    switch self {
    case .bool: "bools"
    case .signatures: "signature sets"
    case .nothing: "nothing"
    default: rawValue + "s"
    }
  }

  /// A short placeholder for signatures: `String`, `dataset`, `layer` (a signature layer).
  var shortName: String {
    switch self {
    case .number: "Number"
    case .text: "String"
    case .bool: "Bool"
    case .signatureLayer: "layer"
    default: expected.replacingFirst("a ", with: "").replacingFirst("an ", with: "")
    }
  }
}

import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN
@testable import SigbookAnalysis
@testable import SigbookWorkbook

/// `where` by cluster path, cluster, prediction and novelty score; `subset(except:)`;
/// `paths(top:)` — on hand-made data whose answers are known.
@Suite("Selection") struct SelectionTests {
  /// Six inputs `[index, x0, x1]` of classes "1" and "7"; a network that predicts the larger of
  /// x0 (→ "1") and x1 (→ "7"):
  ///
  /// | input | label | predicted | L1 | L2 |
  /// |---|---|---|---|---|
  /// | 0 | 7 | 1 | c0 | c0 |
  /// | 1 | 7 | 7 | c0 | c1 |
  /// | 2 | 1 | 1 | c1 | c1 |
  /// | 3 | 7 | 1 | c1 | c1 |
  /// | 4 | 1 | 7 | c1 | c1 |
  /// | 5 | 1 | 1 | c0 | c0 |
  static let data = Dataset(
    name: "d",
    features: Tensor(
      shape: [6, 3], scalars: [0, 1, 0, 1, 0, 1, 2, 1, 0, 3, 1, 0, 4, 0, 1, 5, 1, 0]),
    labels: [1, 1, 0, 1, 0, 0], classNames: ["1", "7"])

  static func layer(_ number: Int, _ assignments: [Int]) -> Clustering.Layer {
    let points = PointSet(
      points: Tensor(shape: [6, 1], scalars: assignments.map(Float.init)), name: "H\(number)",
      labels: data.labels, classNames: data.classNames, layer: number)
    let result = KMeansResult(
      k: 2, centres: Tensor(shape: [2, 1], scalars: [0, 1]), assignments: assignments,
      inertia: 0, iterations: 1, converged: true)
    return Clustering.Layer(points: points, result: result, scores: [], silhouette: nil)
  }

  static let clustering = Clustering(
    layers: [layer(1, [0, 0, 1, 1, 1, 0]), layer(2, [0, 1, 1, 1, 1, 0])])

  static func network() throws -> Model {
    var net = try Model(
      layers: [
        Dense(
          weight: Tensor(shape: [2, 3], scalars: [0, 1, 0, 0, 0, 1]), bias: Tensor(zeros: [2]))
      ],
      inputShape: [3])
    net.classNames = ["1", "7"]
    return net
  }

  /// Scores of two normal inputs and of four novel ones, for H1 and all layers together.
  static let novelty = NoveltyResult(
    method: .knn,
    rows: [
      .init(
        name: "H1", dimensions: 2, normalScores: [0.1, 0.2], novelScores: [0.9, 0.3, 0.6, 0.7]),
      .init(
        name: "all", dimensions: 4, normalScores: [0.2, 0.6], novelScores: [0.8, 0.1, 0.95, 0.4]),
    ],
    normalLabels: ["1", "7"], novelLabels: ["3", "3", "3", "3"])

  static let novel = Dataset(
    name: "threes", features: Tensor(shape: [4, 1], scalars: [0, 1, 2, 3]), labels: [0, 0, 0, 0],
    classNames: ["3"])
  static let normal = Dataset(
    name: "known", features: Tensor(shape: [2, 1], scalars: [0, 1]), labels: [0, 1],
    classNames: ["1", "7"])

  func session() throws -> Session {
    let session = Session(
      file: "t.sigbook", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-tests.figures")
    session.assign("d", .dataset(Self.data))
    session.assign("c", .clustering(Self.clustering))
    session.assign("c2", .clustering(Self.clustering.layer(2)))
    session.assign("net", .model(try Self.network()))
    session.assign("r", .novelty(Self.novelty))
    session.assign("threes", .dataset(Self.novel))
    session.assign("known", .dataset(Self.normal))
    return session
  }

  /// The first feature (the input's index) of every input `expression` selects.
  func selected(_ expression: String) throws -> [Int] {
    let session = try session()
    _ = try runSource("x = " + expression, session: session)
    guard case .dataset(let d)? = session.variables["x"] else {
      Issue.record("\(expression) gave no dataset")
      return []
    }
    let d0 = d.featureCount
    return (0..<d.count).map { Int(d.features.scalars[$0 * d0]) }
  }

  func error(_ expression: String) throws -> WorkbookError {
    let session = try session()
    return try #require(throws: WorkbookError.self) {
      _ = try runSource(expression, session: session)
    }
  }

  static let selections: [(expression: String, inputs: [Int])] = [
    // by cluster path, written loosely
    ("where(d, clusters: c, path: \"L1:c0 → L2:c0\")", [0, 5]),
    ("where(d, clusters: c, path: \"L1:c1->L2:c1\")", [2, 3, 4]),
    ("where(d, clusters: c, path: \" l1 : C0  ->  L2 : 1 \")", [1]),
    ("where(d, clusters: c, path: \"H1:c0 → H2:c1\")", [1]),
    // a path naming some layers only
    ("where(d, clusters: c, path: \"L2:c1\")", [1, 2, 3, 4]),
    // by one cluster
    ("where(d, clusters: c, layer: 1, cluster: 0)", [0, 1, 5]),
    ("where(d, clusters: c, layer: 2, cluster: 0)", [0, 5]),
    // one layer of a clustering keeps its own number: c[2]'s paths read L2:c…
    ("where(d, clusters: c2, path: \"L2:c0\")", [0, 5]),
    ("where(d, clusters: c2, cluster: 1)", [1, 2, 3, 4]),
    // with other conditions
    ("where(d, clusters: c, path: \"L2:c1\", label: 7)", [1, 3]),
    // by label and prediction: the 7s the network called 1
    ("where(d, label: 7, predicted: net, as: 1)", [0, 3]),
    ("where(d, label: 7, predicted: net)", [0, 3]),
    ("where(d, predicted: net)", [0, 3, 4]),
    ("where(d, predicted: net, as: 7)", [1, 4]),
    ("where(d, clusters: c, path: \"L1:c1\", predicted: net)", [3, 4]),
    // by novelty score: all layers together by default; higher is more unusual
    ("where(threes, novelty: r, top: 2)", [2, 0]),
    ("where(threes, novelty: r, above: 0.5)", [0, 2]),
    ("where(threes, novelty: r, below: 0.5)", [1, 3]),
    ("where(threes, novelty: r, layer: 1, above: 0.5)", [0, 2, 3]),
    ("where(threes, novelty: r, above: 0.2, top: 1)", [2]),
    ("where(known, novelty: r, among: .normal, above: 0.5)", [1]),
    ("where(known, novelty: r, among: .normal, label: 1, top: 5)", [0]),
    // classes left out
    ("subset(d, except: [7])", [2, 4, 5]),
    ("subset(d, except: [\"1\"])", [0, 1, 3]),
  ]

  @Test(arguments: selections)
  func selects(_ c: (expression: String, inputs: [Int])) throws {
    #expect(try selected(c.expression) == c.inputs)
  }

  static let errors: [(expression: String, message: String)] = [
    (
      "where(d, clusters: c, path: \"L3:c0\")",
      "the clustering has no layer L3; its layers are L1, L2"
    ),
    (
      "where(d, clusters: c2, path: \"L1:c0\")", "the clustering has no layer L1; its layers are L2"
    ),
    (
      "where(d, clusters: c, path: \"L1:c2\")",
      "layer L1 has no cluster c2; its clusters are c0 to c1"
    ),
    (
      "where(d, clusters: c, path: \"L1 c0\")",
      "'L1 c0' is not a step of a cluster path: expected steps like 'L1:c0 → L2:c1'"
    ),
    (
      "where(d, clusters: c, path: \"L1:c0 → \")",
      "'L1:c0 → ' is not a cluster path: expected steps like 'L1:c0 → L2:c1'"
    ),
    ("where(d, clusters: c, path: \"L1:c0 → L1:c1\")", "'L1:c0 → L1:c1' names layer L1 twice"),
    (
      "where(d, clusters: c, layer: 4, cluster: 0)",
      "the clustering has no layer 4; its layers are 1, 2"
    ),
    (
      "where(d, clusters: c, layer: 1, cluster: 5)",
      "layer 1 has no cluster 5; its clusters are 0 to 1"
    ),
    ("where(d, clusters: c, cluster: 0)", "cluster: needs layer: (the clustering has layers 1, 2)"),
    (
      "where(d, clusters: c)",
      "clusters: needs path: (\"L1:c0 → L2:c1\") or cluster: (with layer:) to select inputs"
    ),
    ("where(d, path: \"L1:c0\")", "path: needs clusters: a clustering"),
    (
      "where(d[0..<4], clusters: c, path: \"L1:c0\")",
      "the clustering was computed on 6 inputs but the dataset has 4"
    ),
    (
      "where(threes, clusters: c, path: \"L1:c0\")",
      "the clustering was computed on 6 inputs but 'threes' has 4"
    ),
    (
      "where(concat(d[1..<6], d[0..<1]), clusters: c, path: \"L1:c0\")",
      "the clustering was computed on other inputs than the dataset: input 1 is a '7' there but a '1' here"
    ),
    ("where(threes, novelty: r)", "novelty: needs above:, below: or top: to select inputs"),
    (
      "where(known, novelty: r, top: 1)",
      "the novelty result scored 4 novel inputs but 'known' has 2"
    ),
    (
      "where(threes, novelty: r, layer: 2, top: 1)",
      "the novelty result has no scores of layer 2; it scored H1, all"
    ),
    ("where(threes, novelty: r, top: -1)", "top: must be at least 0, not -1"),
    ("where(threes, above: 0.5)", "above: needs novelty: a novelty result"),
    ("where(d, layer: 1)", "layer: needs clusters: or novelty:"),
    ("subset(d, except: [9])", "'d' has no class '9' (its classes: 1, 7)"),
    ("subset(d, except: [1, 7])", "except: leaves out every class of 'd'"),
    ("subset(d, classes: [1], except: [7])", "give either classes: or except:, not both"),
    ("paths(c, top: 0)", "top: must be at least 1, not 0"),
  ]

  @Test(arguments: errors)
  func refuses(_ c: (expression: String, message: String)) throws {
    #expect(try error(c.expression).message == c.message)
  }

  @Test func pathsKeepsTheMostFrequent() throws {
    let session = try session()
    _ = try runSource("t = paths(c, top: 2)\nall = paths(c)", session: session)
    guard case .table(let top)? = session.variables["t"],
      case .table(let all)? = session.variables["all"]
    else {
      Issue.record("paths gave no table")
      return
    }
    #expect(all.count == 3)
    #expect(top.rows == Array(all.rows.prefix(2)))
    #expect(top.column("path") == [.text("L1:c1 → L2:c1"), .text("L1:c0 → L2:c0")])
    #expect(top.title == "the 2 most frequent of 3 distinct paths of 6 inputs")
  }

  @Test func pathsReadBackSelectTheirInputs() throws {
    // Every path `paths` writes selects exactly its count of inputs.
    let table = Self.clustering.pathTable
    for row in table.rows {
      guard case .text(let path) = row[0], case .number(let count) = row[1] else { continue }
      #expect(try Self.clustering.inputs(onPath: path).count == Int(count), "\(path)")
    }
  }
}

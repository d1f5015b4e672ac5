import SigbookData
import SigbookNN

/// Clusterings of one or more point sets — one per signature layer — with what was tried.
public struct Clustering: Sendable {
  /// The clustering of one point set.
  public struct Layer: Sendable {
    /// The points clustered (kept for projections, silhouettes and reports).
    public var points: PointSet
    /// The clustering kept.
    public var result: KMeansResult
    /// Every k tried with its mean silhouette (nil where undefined) and inertia.
    public var scores: [(k: Int, silhouette: Double?, inertia: Double)]
    /// The mean silhouette of the kept clustering (nil where undefined or not computed).
    public var silhouette: Double?

    public var k: Int { result.k }
    public var assignments: [Int] { result.assignments }
  }

  public var layers: [Layer]

  /// The number of inputs.
  public var count: Int { layers.first?.points.count ?? 0 }

  /// Clusters every point set by a k-means sweep, keeping each one's best k by silhouette.
  ///
  /// - Parameters:
  ///   - sets: the point sets (one per signature layer, or just one).
  ///   - ks: the numbers of clusters to try.
  ///   - restarts: k-means runs per k, best by inertia.
  ///   - silhouetteSample: the silhouette over this many points when there are more.
  ///   - seed: seeds every random choice.
  ///   - progress: the fraction done after each step.
  ///   - isCancelled: checked before each layer and throughout its sweep (before each k's
  ///     restarts and every block of silhouettes); when true, clustering stops.
  /// - Throws: `AnalysisError` (too few points, non-finite values, cancelled…).
  public init(
    _ sets: [PointSet], ks: [Int], restarts: Int = 10, silhouetteSample: Int? = nil,
    seed: Int = 0, progress: ((Double) -> Void)? = nil, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) {
    var layers: [Layer] = []
    for (i, set) in sets.enumerated() {
      if isCancelled() { throw .cancelled }
      let sweep = try KMeansSweep(
        set.points, ks: ks, restarts: restarts, silhouetteSample: silhouetteSample, seed: seed,
        progress: { done, total in
          progress?((Double(i) + Double(done) / Double(max(total, 1))) / Double(sets.count))
        }, isCancelled: isCancelled)
      layers.append(
        Layer(
          points: set, result: sweep.best.result,
          scores: sweep.entries.map { ($0.k, $0.silhouette, $0.inertia) },
          silhouette: sweep.best.silhouette))
    }
    self.layers = layers
  }

  init(layers: [Layer]) { self.layers = layers }

  /// The clustering of the layer numbered `number` (see `layerNumbers`: from 1, or from 0 when
  /// the signatures' first layer is the raw inputs), as a clustering of its own.
  ///
  /// - Precondition: `layerNumbers.contains(number)`.
  public func layer(_ number: Int) -> Clustering {
    Clustering(layers: [layers[layerNumbers.firstIndex(of: number) ?? number - 1]])
  }

  /// The clustering of the layers numbered `numbers` (`clusters[1...2]`: the hidden layers of
  /// signatures that include the inputs as layer 0), or nil when one of them is not here.
  public func layers(_ numbers: ClosedRange<Int>) -> Clustering? {
    let positions = numbers.compactMap { layerNumbers.firstIndex(of: $0) }
    guard !positions.isEmpty, positions.count == numbers.count else { return nil }
    return Clustering(layers: positions.map { layers[$0] })
  }

  /// Puts new point sets (the signatures of other inputs) into these clusters: each point goes
  /// to the nearest centre of its layer; k and centres stay as they are.
  ///
  /// - Precondition: as many sets as layers, each of the same width.
  public func assigning(_ sets: [PointSet]) -> Clustering {
    precondition(sets.count == layers.count, "\(sets.count) point sets for \(layers.count) layers")
    return Clustering(
      layers: zip(layers, sets).map { layer, set in
        let assignments = layer.result.assign(set.points)
        let result = KMeansResult(
          k: layer.k, centres: layer.result.centres, assignments: assignments,
          inertia: KMeans.exactInertia(
            set.points.scalars, centres: layer.result.centres.scalars, labels: assignments,
            features: set.dimensions),
          iterations: 0,
          converged: true)
        return Layer(points: set, result: result, scores: [], silhouette: nil)
      })
  }

  /// One row per layer: width, chosen k, silhouette, purity, NMI and ARI against the labels —
  /// from which layer the clusters follow the classes.
  public var report: Table {
    Table(
      title: "clusters of each layer against the labels",
      columns: ["layer", "width", "k", "silhouette", "purity", "nmi", "ari"],
      rows: layers.map { layer in
        let labels = layer.points.labels
        return [
          .text(layer.points.name), .number(Double(layer.points.dimensions)),
          .number(Double(layer.k)), layer.silhouette.map { .number($0) } ?? .empty,
          .number(Metrics.purity(clusters: layer.assignments, labels: labels)),
          .number(Metrics.normalizedMutualInformation(layer.assignments, labels)),
          .number(Metrics.adjustedRandIndex(layer.assignments, labels)),
        ]
      })
  }

  /// Mean silhouette for every k tried (rows) and layer (columns).
  public var silhouetteTable: Table {
    let ks = Array(Set(layers.flatMap { $0.scores.map(\.k) })).sorted()
    return Table(
      title: "mean silhouette by k (chosen: "
        + layers.map { "\($0.points.name) k = \($0.k)" }.joined(separator: ", ") + ")",
      columns: ["k"] + layers.map(\.points.name),
      rows: ks.map { k in
        [.number(Double(k))]
          + layers.map { layer in
            (layer.scores.first { $0.k == k }?.silhouette).map { .number($0) } ?? .empty
          }
      })
  }

  /// The number of each layer as people name it: the signature layer it clusters (`clusters[2]`
  /// is layer 2, H2), else its position from 1 (a clustering of a dataset is layer 1).
  public var layerNumbers: [Int] {
    layers.enumerated().map { i, layer in layer.points.layer ?? i + 1 }
  }

  /// The name of cluster `cluster` of the layer at `index` in paths and Sankey diagrams: `L2:c1`,
  /// with the layer's real number (see ``layerNumbers``).
  public func nodeName(layer index: Int, cluster: Int) -> String {
    "L\(layers[index].points.layer ?? index + 1):c\(cluster)"
  }

  /// How a path reads: `L1:c0 → L2:c1`, one cluster per layer.
  public func pathName(_ path: [Int]) -> String {
    path.enumerated().map { nodeName(layer: $0, cluster: $1) }.joined(separator: " → ")
  }

  /// The path of every input through the layers' clusters.
  var inputPaths: [[Int]] {
    (0..<count).map { i in layers.map { $0.assignments[i] } }
  }

  /// The distinct paths (`L1:c0 → L2:c1`, layers by their real number, so that the paths of
  /// `clusters[2]` read `L2:c0`), most frequent first, with their counts per class.
  var pathTable: Table {
    guard let first = layers.first else { return Table(columns: ["path", "count"], rows: []) }
    let classNames = first.points.classNames
    let labels = first.points.labels
    var counts: [[Int]: [Int]] = [:]
    for (i, path) in inputPaths.enumerated() {
      counts[path, default: [Int](repeating: 0, count: classNames.count)][labels[i]] += 1
    }
    let ordered = counts.sorted { a, b in
      let ta = a.value.reduce(0, +), tb = b.value.reduce(0, +)
      return ta != tb ? ta > tb : a.key.lexicographicallyPrecedes(b.key)
    }
    return Table(
      title: "\(ordered.count) distinct paths of \(count) inputs",
      columns: ["path", "count"] + classNames.map { "\($0)" } + ["majority"],
      rows: ordered.map { path, perClass in
        let label = pathName(path)
        let total = perClass.reduce(0, +)
        let top = perClass.indices.max { perClass[$0] < perClass[$1] } ?? 0
        return [.text(label), .number(Double(total))] + perClass.map { .number(Double($0)) }
          + [.text(classNames.isEmpty ? "" : classNames[top])]
      })
  }
}

/// From which layer the clusters follow the classes: one criterion for every study.
extension Clustering {
  /// How close to the best layer's NMI the separating layer must come.
  public static let separationMargin = 0.05
  /// The NMI below which no layer's clusters are said to follow the classes.
  public static let separationFloor = 0.5

  /// The first hidden layer whose clusters follow the classes: its NMI within
  /// `separationMargin` of the best hidden layer's, at least `separationFloor`, and, when the
  /// inputs are layer 0, more than `separationMargin` above theirs (what the pixels alone give).
  /// Nil when no layer qualifies.
  public var separatingLayer: String? {
    let nmi = layers.map {
      Metrics.normalizedMutualInformation($0.result.assignments, $0.points.labels)
    }
    let hidden = layers.indices.filter { (layers[$0].points.layer ?? $0 + 1) >= 1 }
    guard let best = hidden.map({ nmi[$0] }).max() else { return nil }
    let input = layers.indices.first { layers[$0].points.layer == 0 }.map { nmi[$0] }
    let floor = max(Self.separationFloor, (input ?? -.infinity) + Self.separationMargin)
    return hidden.first { nmi[$0] >= best - Self.separationMargin && nmi[$0] >= floor }
      .map { layers[$0].points.name }
  }
}

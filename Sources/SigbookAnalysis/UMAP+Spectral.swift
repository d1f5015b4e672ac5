import Foundation
import SigbookTensor

extension UMAP {
  /// The unscaled initial layout, 2n interleaved coordinates.
  static func initialLayout(
    _ x: Tensor, graph: SparseGraph, options: UMAPOptions, generator: inout SeededGenerator
  ) -> [Double] {
    switch options.initialization {
    case .random:
      return (0..<(2 * x.rows)).map { _ in 20 * generator.nextDouble() - 10 }
    case .pca:
      return ProjectionSupport.principalComponents(x)
    case .spectral:
      return spectralLayout(x, graph: graph, generator: &generator)
    }
  }

  /// umap-learn's `spectral_layout`: for a connected graph, the eigenvectors of the 2nd and 3rd
  /// smallest eigenvalues of the normalised Laplacian I − D^{−½} A D^{−½}; for several
  /// components (`multi_component_layout`), each component's own spectral layout scaled into
  /// a disc of half the distance to the nearest other component and placed at that component's
  /// position in a meta-layout. The meta-layout is the first two principal components of the
  /// components' centroids in the data (umap-learn embeds them spectrally) when there are more
  /// than four components, else the fixed points (±1, 0), (0, ±1). Components of fewer than
  /// four points are placed uniformly at random in their disc, and a component whose
  /// eigenvectors do not converge gets the PCA of its own rows.
  static func spectralLayout(_ x: Tensor, graph: SparseGraph, generator: inout SeededGenerator)
    -> [Double]
  {
    let n = graph.count
    let (labels, count) = graph.components()
    if count == 1 {
      return laplacianEigenvectors(graph) ?? ProjectionSupport.principalComponents(x)
    }
    var members = [[Int]](repeating: [], count: count)
    for i in 0..<n { members[labels[i]].append(i) }
    let meta = componentPositions(x, members: members)
    var layout = [Double](repeating: 0, count: 2 * n)
    for c in 0..<count {
      var nearest = Double.infinity
      for other in 0..<count where other != c {
        let dx = meta[2 * c] - meta[2 * other], dy = meta[2 * c + 1] - meta[2 * other + 1]
        let distance = (dx * dx + dy * dy).squareRoot()
        if distance > 0 { nearest = min(nearest, distance) }
      }
      let range = nearest.isFinite ? nearest / 2 : 1
      let vertices = members[c]
      var local: [Double]
      if vertices.count < 4 {
        local = (0..<(2 * vertices.count)).map { _ in range * (2 * generator.nextDouble() - 1) }
      } else {
        local =
          laplacianEigenvectors(graph.subgraph(vertices))
          ?? ProjectionSupport.principalComponents(x.rows(at: vertices))
        let largest = local.reduce(0) { max($0, abs($1)) }
        let scale = largest > 0 ? range / largest : 0
        for t in local.indices { local[t] *= scale }
      }
      for (p, v) in vertices.enumerated() {
        layout[2 * v] = local[2 * p] + meta[2 * c]
        layout[2 * v + 1] = local[2 * p + 1] + meta[2 * c + 1]
      }
    }
    return layout
  }

  /// Positions of the components in the plane, 2 × count interleaved.
  private static func componentPositions(_ x: Tensor, members: [[Int]]) -> [Double] {
    let count = members.count
    if count <= 4 {
      let fixed: [Double] = [1, 0, 0, 1, -1, 0, 0, -1]
      // umap-learn: rows of [I; −I] for k = ⌈count/2⌉, so two components sit at (±1, 0).
      if count <= 2 { return Array([1.0, 0, -1, 0].prefix(2 * count)) }
      return Array(fixed.prefix(2 * count))
    }
    let d = x.rowSize
    var centroids = [Float](repeating: 0, count: count * d)
    x.withUnsafeBufferPointer { v in
      for (c, rows) in members.enumerated() {
        var sums = [Double](repeating: 0, count: d)
        for i in rows {
          for j in 0..<d { sums[j] += Double(v[i * d + j]) }
        }
        for j in 0..<d { centroids[c * d + j] = Float(sums[j] / Double(rows.count)) }
      }
    }
    var meta = ProjectionSupport.principalComponents(Tensor(shape: [count, d], scalars: centroids))
    let largest = meta.reduce(0) { max($0, abs($1)) }
    if largest > 0 { for t in meta.indices { meta[t] /= largest } }
    return meta
  }

  /// The eigenvectors of the 2nd and 3rd smallest eigenvalues of the normalised Laplacian of
  /// a connected graph, 2m interleaved, each with its largest-magnitude entry positive; nil
  /// when the eigensolver does not converge.
  ///
  /// They are the 2nd and 3rd largest of N = D^{−½} A D^{−½}, whose largest, 1, has the known
  /// eigenvector D^{½}𝟙 / ‖D^{½}𝟙‖: the Krylov solver works on its orthogonal complement.
  static func laplacianEigenvectors(_ graph: SparseGraph) -> [Double]? {
    let m = graph.count
    guard m >= 4 else { return nil }
    var scale = [Double](repeating: 0, count: m)
    var trivial = [Double](repeating: 0, count: m)
    for i in 0..<m {
      var degree = 0.0
      for e in graph.rowStart[i]..<graph.rowStart[i + 1] { degree += graph.weights[e] }
      guard degree > 0 else { return nil }
      scale[i] = 1 / degree.squareRoot()
      trivial[i] = degree.squareRoot()
    }
    let norm = trivial.reduce(0) { $0 + $1 * $1 }.squareRoot()
    for i in 0..<m { trivial[i] /= norm }
    let (_, vectors, converged) = graph.rowStart.withUnsafeBufferPointer { rowStart in
      graph.columns.withUnsafeBufferPointer { columns in
        graph.weights.withUnsafeBufferPointer { weights in
          ProjectionSupport.largestEigenvectors(
            count: 2, dimension: m, deflating: trivial, tolerance: 1e-4, maxRestarts: 60
          ) { v, out in
            for i in 0..<m {
              var s = 0.0
              for e in rowStart[i]..<rowStart[i + 1] {
                let j = columns[e]
                s += weights[e] * scale[j] * v[j]
              }
              out[i] = scale[i] * s
            }
          }
        }
      }
    }
    guard converged, vectors.count == 2 * m else { return nil }
    var layout = [Double](repeating: 0, count: 2 * m)
    for c in 0..<2 {
      var largest = 0
      for i in 0..<m where abs(vectors[c * m + i]) > abs(vectors[c * m + largest]) { largest = i }
      let sign: Double = vectors[c * m + largest] < 0 ? -1 : 1
      for i in 0..<m { layout[2 * i + c] = sign * vectors[c * m + i] }
    }
    return layout
  }
}

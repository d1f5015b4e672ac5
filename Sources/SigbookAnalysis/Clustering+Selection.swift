import Foundation
import SigbookData

/// Which inputs took which clusters: the selections behind `where(data, clusters:, path:)`.
extension Clustering {
  /// One step of a cluster path: a layer (by its position in `layers`) and a cluster of it.
  struct PathStep: Sendable, Equatable {
    /// The position of the layer in `layers` (0-based).
    var layerIndex: Int
    /// The cluster, in `0 ..< k` of that layer.
    var cluster: Int

    init(layerIndex: Int, cluster: Int) {
      self.layerIndex = layerIndex
      self.cluster = cluster
    }
  }

  /// The position in `layers` of the layer numbered `number` (see `layerNumbers`).
  ///
  /// - Throws: `AnalysisError.invalidArgument` naming the layers that exist.
  public func layerIndex(number: Int) throws(AnalysisError) -> Int {
    try layerIndex(number: number, prefix: "")
  }

  /// `layerIndex(number:)` whose message writes layers with a prefix (`L2`, as paths do).
  private func layerIndex(number: Int, prefix: String) throws(AnalysisError) -> Int {
    guard let i = layerNumbers.firstIndex(of: number) else {
      throw .invalidArgument(
        "the clustering has no layer \(prefix)\(number); its layers are "
          + layerNumbers.map { prefix + String($0) }.joined(separator: ", "))
    }
    return i
  }

  /// Reads a path as `paths` writes it: steps `L1:c0` joined by `→` (or `->`).
  ///
  /// Reading is lenient: spaces anywhere, `l`/`L` (or `H`, as layers are named in reports), and a
  /// bare cluster number (`L1:0`) are accepted. `Lk` is layer k of the clustering's own numbers
  /// (`layerNumbers`), so the paths of `clusters[2]` read `L2:c…`. A path may name only some of
  /// the layers, each at most once.
  ///
  /// - Throws: `AnalysisError.invalidArgument` for text that is not a path, a layer or cluster
  ///   that does not exist (the message lists those that do), or a layer named twice.
  func parsePath(_ text: String) throws(AnalysisError) -> [PathStep] {
    let example = "steps like 'L1:c0 → L2:c1'"
    let parts = text.replacingOccurrences(of: "->", with: "→").split(
      separator: "→", omittingEmptySubsequences: false)
    var steps: [PathStep] = []
    for part in parts {
      let step = part.filter { !$0.isWhitespace }.lowercased()
      guard !step.isEmpty else {
        throw .invalidArgument("'\(text)' is not a cluster path: expected \(example)")
      }
      let pieces = step.split(separator: ":", omittingEmptySubsequences: false)
      guard pieces.count == 2, let head = pieces[0].first, head == "l" || head == "h",
        let number = Int(pieces[0].dropFirst()),
        let cluster = Int(pieces[1].hasPrefix("c") ? pieces[1].dropFirst() : pieces[1])
      else {
        let written = part.trimmingCharacters(in: .whitespaces)
        let whole = parts.count > 1 ? " in '\(text)'" : ""
        throw .invalidArgument(
          "'\(written)'\(whole) is not a step of a cluster path: expected \(example)")
      }
      let index = try layerIndex(number: number, prefix: "L")
      let k = layers[index].k
      guard cluster >= 0, cluster < k else {
        throw .invalidArgument(
          "layer L\(number) has no cluster c\(cluster); its clusters are c0 to c\(k - 1)")
      }
      guard !steps.contains(where: { $0.layerIndex == index }) else {
        throw .invalidArgument("'\(text)' names layer L\(number) twice")
      }
      steps.append(PathStep(layerIndex: index, cluster: cluster))
    }
    return steps
  }

  /// The indices of the inputs, in order, that took the path `text`: whose cluster at every
  /// layer the path names is the one it names there.
  ///
  /// The path is read as `paths` writes it, leniently (see `parsePath(_:)`): steps `L1:c0`
  /// joined by `→` or `->`, naming some or all of the layers by the clustering's own numbers.
  ///
  /// - Throws: `AnalysisError.invalidArgument` for text that is not a path, a layer or cluster
  ///   that does not exist (the message lists those that do), or a layer named twice.
  public func inputs(onPath text: String) throws(AnalysisError) -> [Int] {
    inputs(on: try parsePath(text))
  }

  /// The indices of the inputs, in order, whose cluster at every step's layer is that step's.
  ///
  /// - Precondition: every step names a layer and a cluster of this clustering.
  func inputs(on steps: [PathStep]) -> [Int] {
    (0..<count).filter { i in
      steps.allSatisfy { layers[$0.layerIndex].assignments[i] == $0.cluster }
    }
  }

  /// The indices of the inputs in `cluster` of the layer numbered `layer`.
  ///
  /// - Throws: `AnalysisError.invalidArgument` for a layer or cluster that does not exist.
  public func inputs(layer: Int, cluster: Int) throws(AnalysisError) -> [Int] {
    let index = try layerIndex(number: layer)
    let k = layers[index].k
    guard cluster >= 0, cluster < k else {
      throw .invalidArgument(
        "layer \(layer) has no cluster \(cluster); its clusters are 0 to \(k - 1)")
    }
    return inputs(on: [PathStep(layerIndex: index, cluster: cluster)])
  }

  /// The distinct paths table keeping only its `top` most frequent paths (all when nil).
  public func pathTable(top: Int?) -> Table {
    var table = pathTable
    guard let top, top < table.count else { return table }
    let distinct = table.count
    table.rows = Array(table.rows.prefix(max(top, 0)))
    table.title =
      "the \(table.count) most frequent of \(distinct) distinct paths of \(count) inputs"
    return table
  }
}

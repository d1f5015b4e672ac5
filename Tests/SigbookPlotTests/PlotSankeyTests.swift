import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookPlot

@Suite("Sankey layout") struct PlotSankeyTests {
  /// Random paths of `n` inputs with `labels` labels through `layers` layers of up to 10 clusters.
  static func randomInput(seed: Int, n: Int, layers: Int, labels: Int) -> Plot.SankeyInput {
    var g = SeededGenerator(seed: seed)
    let k = (0..<layers).map { _ in 2 + g.nextInt(below: 9) }
    let label = (0..<n).map { _ in g.nextInt(below: labels) }
    let assignments = (0..<layers).map { l in
      (0..<n).map { i in
        // Mostly follow the label, sometimes wander, so that ribbons both merge and cross.
        g.nextDouble() < 0.7 ? (label[i] * 7 + l) % k[l] : g.nextInt(below: k[l])
      }
    }
    return Plot.SankeyInput(
      assignments: assignments, labels: label, labelNames: (0..<labels).map(String.init))
  }

  static let inputs: [(name: String, input: Plot.SankeyInput, total: Int)] = [
    ("sample", FigureSamples.sankeyInput(name: "7"), 200),
    ("ten labels", randomInput(seed: 1, n: 1000, layers: 4, labels: 10), 1000),
    ("two labels", randomInput(seed: 2, n: 300, layers: 5, labels: 2), 300),
    ("one input", randomInput(seed: 3, n: 1, layers: 3, labels: 1), 1),
  ]

  @Test(arguments: inputs.indices)
  func bandWidthsAtEveryBoundarySumToTheInputs(_ index: Int) {
    let (name, input, total) = Self.inputs[index]
    let layout = Plot.sankeyLayout(input)
    let expected = Double(total) * layout.pixelsPerInput
    for l in 0..<(input.clusterCounts.count - 1) {
      let bands = layout.bands.filter { $0.flow.layer == l }
      let sum = bands.reduce(0) { $0 + $1.thickness }
      #expect(abs(sum - expected) <= 1e-9 * max(1, expected), "\(name): boundary \(l)")
      #expect(bands.reduce(0) { $0 + $1.flow.count } == total)
    }
    for l in 0..<input.clusterCounts.count {
      let heights = layout.nodes.filter { $0.layer == l }.reduce(0) { $0 + $1.rect.height }
      #expect(abs(heights - expected) <= 1e-9 * max(1, expected), "\(name): layer \(l)")
    }
  }

  @Test(arguments: inputs.indices)
  func ribbonsStartAndEndAtNodeEdges(_ index: Int) {
    let (name, input, _) = Self.inputs[index]
    let layout = Plot.sankeyLayout(input)
    let eps = 1e-9
    func node(_ layer: Int, _ cluster: Int) -> Plot.SankeyLayout.Node? {
      layout.nodes.first { $0.layer == layer && $0.cluster == cluster }
    }
    for band in layout.bands {
      guard let source = node(band.flow.layer, band.flow.from),
        let target = node(band.flow.layer + 1, band.flow.to)
      else {
        Issue.record("\(name): band without nodes")
        continue
      }
      #expect(band.sourceX == source.rect.maxX)
      #expect(band.targetX == target.rect.x)
      #expect(band.sourceY >= source.rect.y - eps)
      #expect(band.sourceY + band.thickness <= source.rect.maxY + eps)
      #expect(band.targetY >= target.rect.y - eps)
      #expect(band.targetY + band.thickness <= target.rect.maxY + eps)
      // Between the two columns there is no node box: the ribbon (monotone in x) crosses none.
      for other in layout.nodes {
        #expect(other.rect.maxX <= band.sourceX + eps || other.rect.x >= band.targetX - eps)
      }
    }
    // At every node the ribbons leaving it, and those arriving, are stacked without overlap.
    for n in layout.nodes {
      let leaving = layout.bands.filter { $0.flow.layer == n.layer && $0.flow.from == n.cluster }
        .map { ($0.sourceY, $0.thickness) }.sorted { $0.0 < $1.0 }
      let arriving = layout.bands.filter {
        $0.flow.layer + 1 == n.layer && $0.flow.to == n.cluster
      }.map { ($0.targetY, $0.thickness) }.sorted { $0.0 < $1.0 }
      for stack in [leaving, arriving] where stack.count > 1 {
        for (a, b) in zip(stack, stack.dropFirst()) { #expect(a.0 + a.1 <= b.0 + eps) }
      }
    }
  }

  @Test(arguments: inputs.indices)
  func nodesOfALayerDoNotOverlapAndStayInTheArea(_ index: Int) {
    let layout = Plot.sankeyLayout(Self.inputs[index].input)
    for l in Set(layout.nodes.map(\.layer)) {
      let column = layout.nodes.filter { $0.layer == l }.sorted { $0.rect.y < $1.rect.y }
      for (a, b) in zip(column, column.dropFirst()) {
        #expect(a.rect.maxY + Plot.SankeyLayout.nodeGap <= b.rect.y + 1e-9)
      }
      for node in column {
        #expect(node.rect.y >= layout.area.y - 1e-9 && node.rect.maxY <= layout.area.maxY + 1e-9)
        #expect(node.rect.maxX <= layout.width)
      }
    }
  }

  @Test func inputFromAssignmentsCountsClustersAndFlows() {
    let input = Plot.SankeyInput(
      assignments: [[0, 0, 1, 1], [1, 0, 0, 0]], labels: [0, 1, 1, 1], labelNames: ["a", "b"])
    #expect(input.clusterCounts == [[2, 2], [3, 1]])
    #expect(
      input.flows == [
        Plot.SankeyFlow(layer: 0, from: 0, to: 0, label: 1, count: 1),
        Plot.SankeyFlow(layer: 0, from: 0, to: 1, label: 0, count: 1),
        Plot.SankeyFlow(layer: 0, from: 1, to: 0, label: 1, count: 2),
      ])
  }

  @Test func nodeLabelsNameLayerClusterAndCount() {
    let input = Plot.SankeyInput(
      clusterCounts: [[3, 1], [4]],
      flows: [
        Plot.SankeyFlow(layer: 0, from: 0, to: 0, label: 0, count: 3),
        Plot.SankeyFlow(layer: 0, from: 1, to: 0, label: 1, count: 1),
      ], labelNames: ["1", "7"])
    let layout = Plot.sankeyLayout(input)
    #expect(Set(layout.nodes.map(\.label)) == ["L1:c0 (3)", "L1:c1 (1)", "L2:c0 (4)"])
    // The first layer is ordered by dominant label: the 1s above the 7s.
    let first = layout.nodes.filter { $0.layer == 0 }.sorted { $0.rect.y < $1.rect.y }
    #expect(first.map(\.dominantLabel) == [0, 1])
    let texts = ParsedSVG(Plot.sankey(input, title: "paths").svg).texts
    #expect(texts.contains("L2:c0 (4)") && texts.contains("7"))
  }

  @Test func inconsistentCountsNeverCutABand() {
    // Cluster 0 claims 1 input but sends 5: the node grows to hold its ribbons.
    let input = Plot.SankeyInput(
      clusterCounts: [[1], [2, 2]],
      flows: [
        Plot.SankeyFlow(layer: 0, from: 0, to: 0, label: 0, count: 2),
        Plot.SankeyFlow(layer: 0, from: 0, to: 1, label: 0, count: 3),
        Plot.SankeyFlow(layer: 7, from: 0, to: 1, label: 0, count: 3),
      ], labelNames: ["x"])
    let layout = Plot.sankeyLayout(input)
    #expect(layout.nodes.map(\.count) == [5, 2, 3])
    #expect(layout.bands.count == 2)
  }
}

extension Plot {
  /// What a Sankey diagram of cluster paths shows: per layer the size of every cluster, and the
  /// numbers of inputs of each label going from a cluster of one layer to a cluster of the next.
  struct SankeyInput: Sendable, Equatable {
    /// Per layer (first hidden layer first), the number of inputs in each cluster.
    var clusterCounts: [[Int]]
    /// The flows between consecutive layers.
    var flows: [SankeyFlow]
    /// The name of each label, by index (`"1"`, `"7"`).
    var labelNames: [String]
    /// Per column, the name of each node (`L2:c1`, or a predicted class); a column or node left
    /// out is named `L<column + 1>:c<cluster>`.
    var nodeNames: [[String]]
    /// The heading above each column (`H1`, `H2`, `prediction`); none when empty.
    var columnTitles: [String]

    /// An input from cluster sizes and flows.
    ///
    /// - Parameters:
    ///   - clusterCounts: per layer, the size of each cluster (clusters numbered from 0).
    ///   - flows: per pair of consecutive layers, label and pair of clusters, how many inputs.
    ///   - labelNames: the names of the labels, by index.
    ///   - nodeNames: per column, the name of each node (default `L1:c0`…).
    ///   - columnTitles: the heading above each column (default none).
    init(
      clusterCounts: [[Int]], flows: [SankeyFlow], labelNames: [String],
      nodeNames: [[String]] = [], columnTitles: [String] = []
    ) {
      self.clusterCounts = clusterCounts
      self.flows = flows
      self.labelNames = labelNames
      self.nodeNames = nodeNames
      self.columnTitles = columnTitles
    }

    /// The name of node `cluster` of column `layer`: from ``nodeNames``, else `L2:c1`.
    func nodeName(layer: Int, cluster: Int) -> String {
      layer < nodeNames.count && cluster < nodeNames[layer].count
        ? nodeNames[layer][cluster] : "L\(layer + 1):c\(cluster)"
    }

    /// The input for the paths of individual inputs: their cluster in every layer and their label.
    ///
    /// - Parameters:
    ///   - assignments: per layer, the cluster of every input (all layers list the same inputs in
    ///     the same order; extra inputs in a longer layer are ignored).
    ///   - labels: the label of every input.
    ///   - labelNames: the names of the labels, by index.
    ///   - nodeNames: per column, the name of each node (default `L1:c0`…).
    ///   - columnTitles: the heading above each column (default none).
    init(
      assignments: [[Int]], labels: [Int], labelNames: [String], nodeNames: [[String]] = [],
      columnTitles: [String] = []
    ) {
      let n = min(labels.count, assignments.map(\.count).min() ?? 0)
      var counts: [[Int]] = []
      for layer in assignments {
        let k = (layer.prefix(n).max() ?? -1) + 1
        var c = [Int](repeating: 0, count: max(k, 0))
        for i in 0..<n where layer[i] >= 0 { c[layer[i]] += 1 }
        counts.append(c)
      }
      var tally: [SankeyFlow: Int] = [:]
      for l in 0..<max(assignments.count - 1, 0) {
        for i in 0..<n where assignments[l][i] >= 0 && assignments[l + 1][i] >= 0 {
          let key = SankeyFlow(
            layer: l, from: assignments[l][i], to: assignments[l + 1][i], label: labels[i],
            count: 0)
          tally[key, default: 0] += 1
        }
      }
      let flows = tally.map { key, count in
        SankeyFlow(layer: key.layer, from: key.from, to: key.to, label: key.label, count: count)
      }.sorted { ($0.layer, $0.from, $0.to, $0.label) < ($1.layer, $1.from, $1.to, $1.label) }
      self.init(
        clusterCounts: counts, flows: flows, labelNames: labelNames, nodeNames: nodeNames,
        columnTitles: columnTitles)
    }
  }

  /// Inputs of one label going from cluster `from` of layer `layer` to cluster `to` of layer
  /// `layer + 1` (layers indexed from 0 in ``SankeyInput/clusterCounts``, clusters from 0).
  struct SankeyFlow: Sendable, Hashable {
    /// The source layer's index; the target is the next layer.
    var layer: Int
    /// The cluster in the source layer.
    var from: Int
    /// The cluster in the target layer.
    var to: Int
    /// The label of the inputs (index into ``SankeyInput/labelNames``).
    var label: Int
    /// How many inputs.
    var count: Int

    /// A flow from its layer, clusters, label and count.
    init(layer: Int, from: Int, to: Int, label: Int, count: Int) {
      self.layer = layer
      self.from = from
      self.to = to
      self.label = label
      self.count = count
    }
  }

  /// Where a Sankey diagram's nodes and bands are, in pixels: what ``sankey(_:title:)`` draws.
  struct SankeyLayout: Sendable {
    /// One cluster's box.
    struct Node: Sendable, Equatable {
      /// The layer's index (0 for L1).
      var layer: Int
      /// The cluster's index.
      var cluster: Int
      /// The inputs the node stands for: the largest of its count, inflow and outflow.
      var count: Int
      /// The label with most inputs through the node (−1 when no flow says).
      var dominantLabel: Int
      /// The box.
      var rect: Rect
      /// The text beside the box: `L2:c1 (140)`.
      var label: String
    }

    /// One ribbon: inputs of one label from one node to a node of the next layer.
    struct Band: Sendable, Equatable {
      /// The flow drawn.
      var flow: SankeyFlow
      /// Where the ribbon leaves the source: its right edge.
      var sourceX: Double
      /// The ribbon's top at the source.
      var sourceY: Double
      /// Where the ribbon reaches the target: its left edge.
      var targetX: Double
      /// The ribbon's top at the target.
      var targetY: Double
      /// The ribbon's thickness: `count · pixelsPerInput`.
      var thickness: Double
    }

    /// All nodes, layer by layer, top to bottom within a layer.
    var nodes: [Node]
    /// All bands, by layer, source position, target position and label.
    var bands: [Band]
    /// Pixels of height per input, the same for every node and band.
    var pixelsPerInput: Double
    /// The area the nodes are laid out in.
    var area: Rect
    /// The figure's size.
    var width: Double
    /// The figure's height.
    var height: Double
    /// The left edge of the legend.
    var legendOrigin: (x: Double, y: Double)

    /// The width of every node's box.
    static let nodeWidth = 14.0
    /// The smallest vertical gap between two nodes of a layer (a line of label text).
    static let nodeGap = 16.0
    /// The room above the columns for their headings, when they have any.
    static let headingHeight = 18.0

    /// The left edge of each column's nodes, first column first.
    var columnX: [Double]
  }

  /// Lays out a Sankey diagram: columns are layers, nodes clusters sized by count, bands flows.
  ///
  /// Node order: in the first layer by dominant label, then by mean label index, then by cluster;
  /// in every later layer by the barycentre of the inflows (the count-weighted mean height of the
  /// source ribbons), which keeps ribbons of a label together and reduces crossings. Within a node,
  /// outgoing ribbons are stacked in the order of their targets and incoming ones in the order of
  /// their sources, then by label, so ribbons of one pair of nodes never cross each other. Every
  /// band starts at its source's right edge and ends at its target's left edge.
  ///
  /// - Parameters:
  ///   - input: cluster sizes, flows and label names.
  ///   - title: the figure's title (to make room for it).
  /// - Returns: the geometry; ``sankey(_:title:)`` draws exactly this.
  static func sankeyLayout(_ input: SankeyInput, title: String = "") -> SankeyLayout {
    let layerCount = input.clusterCounts.count
    let flows = input.flows.filter {
      $0.layer >= 0 && $0.layer + 1 < layerCount && $0.from >= 0 && $0.to >= 0 && $0.count > 0
    }
    // Clusters per layer: those counted and those flows mention.
    var clusterCount = input.clusterCounts.map(\.count)
    for f in flows {
      clusterCount[f.layer] = max(clusterCount[f.layer], f.from + 1)
      clusterCount[f.layer + 1] = max(clusterCount[f.layer + 1], f.to + 1)
    }
    var outflow = clusterCount.map { [Int](repeating: 0, count: $0) }
    var inflow = outflow
    // Per node, inputs per label (from outflows, or inflows in the last layer).
    var byLabel = clusterCount.map { [[Int: Int]](repeating: [:], count: $0) }
    for f in flows {
      outflow[f.layer][f.from] += f.count
      inflow[f.layer + 1][f.to] += f.count
      byLabel[f.layer][f.from][f.label, default: 0] += f.count
      if f.layer + 2 == layerCount { byLabel[f.layer + 1][f.to][f.label, default: 0] += f.count }
    }
    var value = outflow
    for l in 0..<layerCount {
      for c in 0..<clusterCount[l] {
        let given = c < input.clusterCounts[l].count ? max(input.clusterCounts[l][c], 0) : 0
        value[l][c] = max(given, inflow[l][c], outflow[l][c])
      }
    }
    func dominant(_ l: Int, _ c: Int) -> Int {
      byLabel[l][c].max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
        ?? -1
    }
    func meanLabel(_ l: Int, _ c: Int) -> Double {
      let total = byLabel[l][c].values.reduce(0, +)
      guard total > 0 else { return -1 }
      return Double(byLabel[l][c].reduce(0) { $0 + $1.key * $1.value }) / Double(total)
    }

    // Geometry.
    let legend = categoryLegend(
      names: input.labelNames, present: Set(flows.map(\.label)), title: "label", mark: .box)
    let labels = (0..<layerCount).map { l in
      (0..<clusterCount[l]).map { c in "\(input.nodeName(layer: l, cluster: c)) (\(value[l][c]))" }
    }
    let lastLabelWidth =
      labels.last?.map { textWidth($0, size: FontSize.small) }.max() ?? 0
    let spacing = 200.0
    let plotHeight = 420.0
    let left = ChartLayout.pad + 8
    let hasHeadings = input.columnTitles.contains { !$0.isEmpty }
    let top = ChartLayout.titleHeight + 10 + (hasHeadings ? SankeyLayout.headingHeight : 0)
    let columnsWidth = Double(max(layerCount - 1, 0)) * spacing + SankeyLayout.nodeWidth
    let area = Rect(x: left, y: top, width: columnsWidth, height: plotHeight)
    let legendX = area.maxX + 6 + lastLabelWidth + 24
    let legendSize: (width: Double, height: Double) = legend?.size ?? (0, 0)
    var width = legendX + legendSize.width + ChartLayout.pad
    width = max(width, textWidth(title, size: FontSize.title, bold: true) + 2 * ChartLayout.pad)
    let height = top + max(plotHeight, legendSize.height) + ChartLayout.pad + 8

    // A cluster no input is in (a class the network never predicts, say) gets no node: an
    // empty box would only take room and push the others out of the area.
    let shown = (0..<layerCount).map { l in (0..<clusterCount[l]).filter { value[l][$0] > 0 } }
    let maxNodes = shown.map(\.count).max() ?? 0
    let totals = value.map { $0.reduce(0, +) }
    let maxTotal = max(totals.max() ?? 0, 1)
    let gapRoom = SankeyLayout.nodeGap * Double(max(maxNodes - 1, 0))
    let scale = max(plotHeight - gapRoom, plotHeight * 0.25) / Double(maxTotal)

    var nodes: [SankeyLayout.Node] = []
    // Top of each node, by layer and cluster; and the order of clusters in each layer.
    var nodeTop = clusterCount.map { [Double](repeating: 0, count: $0) }
    var order: [[Int]] = []
    for l in 0..<layerCount {
      let clusters = shown[l]
      var sorted: [Int]
      if l == 0 {
        sorted = clusters.sorted { a, b in
          let ka = (dominant(l, a), meanLabel(l, a))
          let kb = (dominant(l, b), meanLabel(l, b))
          return ka != kb ? ka < kb : a < b
        }
      } else {
        var centre = [Double](repeating: 0, count: clusterCount[l])
        var weight = [Double](repeating: 0, count: clusterCount[l])
        for f in flows where f.layer == l - 1 {
          let sourceMid = nodeTop[l - 1][f.from] + Double(value[l - 1][f.from]) * scale / 2
          centre[f.to] += sourceMid * Double(f.count)
          weight[f.to] += Double(f.count)
        }
        let key = (0..<clusterCount[l]).map { c in weight[c] > 0 ? centre[c] / weight[c] : .infinity
        }
        sorted = clusters.sorted { a, b in
          if key[a] != key[b] { return key[a] < key[b] }
          let da = dominant(l, a)
          let db = dominant(l, b)
          return da != db ? da < db : a < b
        }
      }
      order.append(sorted)
      let used = Double(totals[l]) * scale + SankeyLayout.nodeGap * Double(max(sorted.count - 1, 0))
      var y = top + max(0, (plotHeight - used) / 2)
      let x = left + Double(l) * spacing
      for c in sorted {
        let h = Double(value[l][c]) * scale
        nodeTop[l][c] = y
        nodes.append(
          SankeyLayout.Node(
            layer: l, cluster: c, count: value[l][c], dominantLabel: dominant(l, c),
            rect: Rect(x: x, y: y, width: SankeyLayout.nodeWidth, height: h), label: labels[l][c]))
        y += h + SankeyLayout.nodeGap
      }
    }

    // Bands: stack at the source by target position, at the target by source position.
    var rank = clusterCount.map { [Int](repeating: 0, count: $0) }
    for l in 0..<layerCount { for (i, c) in order[l].enumerated() { rank[l][c] = i } }
    let outgoing = flows.sorted {
      ($0.layer, rank[$0.layer][$0.from], rank[$0.layer + 1][$0.to], $0.label)
        < ($1.layer, rank[$1.layer][$1.from], rank[$1.layer + 1][$1.to], $1.label)
    }
    var sourceOffset = clusterCount.map { [Double](repeating: 0, count: $0) }
    var sourceY: [SankeyFlow: Double] = [:]
    for f in outgoing {
      sourceY[f] = nodeTop[f.layer][f.from] + sourceOffset[f.layer][f.from]
      sourceOffset[f.layer][f.from] += Double(f.count) * scale
    }
    let incoming = flows.sorted {
      ($0.layer, rank[$0.layer + 1][$0.to], rank[$0.layer][$0.from], $0.label)
        < ($1.layer, rank[$1.layer + 1][$1.to], rank[$1.layer][$1.from], $1.label)
    }
    var targetOffset = sourceOffset.map { $0.map { _ in 0.0 } }
    var targetY: [SankeyFlow: Double] = [:]
    for f in incoming {
      targetY[f] = nodeTop[f.layer + 1][f.to] + targetOffset[f.layer + 1][f.to]
      targetOffset[f.layer + 1][f.to] += Double(f.count) * scale
    }
    let bands = outgoing.map { f in
      SankeyLayout.Band(
        flow: f, sourceX: left + Double(f.layer) * spacing + SankeyLayout.nodeWidth,
        sourceY: sourceY[f] ?? 0, targetX: left + Double(f.layer + 1) * spacing,
        targetY: targetY[f] ?? 0, thickness: Double(f.count) * scale)
    }
    return SankeyLayout(
      nodes: nodes, bands: bands, pixelsPerInput: scale, area: area, width: width, height: height,
      legendOrigin: (legendX, top), columnX: (0..<layerCount).map { left + Double($0) * spacing })
  }

  /// The opacity of ribbons, so that crossing ribbons both show.
  static let bandOpacity = 0.55

  /// `sankey`: the paths of inputs through the clusters of successive layers.
  ///
  /// One column per layer, one grey box per cluster with height proportional to its inputs and a
  /// label `L2:c1 (140)` (layers from 1, clusters from 0, unless `nodeNames` names them), an
  /// optional heading above each column, and between consecutive layers one
  /// cubic Bézier ribbon per (source cluster, target cluster, label), as wide as its number of
  /// inputs and coloured by label (legend at the right). See `sankeyLayout(_:title:)` for the
  /// ordering.
  ///
  /// - Parameters:
  ///   - assignments: per layer (column), the cluster of every input; all layers list the same
  ///     inputs in the same order (extra inputs in a longer layer are ignored).
  ///   - labels: the label of every input, which colours its ribbons.
  ///   - labelNames: the names of the labels, by index.
  ///   - nodeNames: per column, the name of each node (default `L1:c0`…).
  ///   - columnTitles: the heading above each column (default none).
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `sankey`.
  public static func sankey(
    assignments: [[Int]], labels: [Int], labelNames: [String], nodeNames: [[String]] = [],
    columnTitles: [String] = [], title: String
  ) -> Figure {
    sankey(
      SankeyInput(
        assignments: assignments, labels: labels, labelNames: labelNames, nodeNames: nodeNames,
        columnTitles: columnTitles),
      title: title)
  }

  /// `sankey` of cluster sizes and flows already counted.
  static func sankey(_ input: SankeyInput, title: String) -> Figure {
    let layout = sankeyLayout(input, title: title)
    var document = SVGDocument(
      width: layout.width, height: layout.height, title: title,
      description:
        "Sankey diagram of \(input.clusterCounts.count) layers: clusters as boxes, inputs as ribbons"
    )
    addBaseStyles(to: &document)
    let present = Set(layout.bands.map(\.flow.label))
    for label in present.sorted() {
      let name = label < 0 ? "sb-bx" : "sb-b\(label)"
      document.style(
        "." + name, "fill: \(Palette.category(label).css); fill-opacity: \(number(bandOpacity))")
    }
    // Nodes light grey with a dark outline: no class colour (black among them) is theirs, so no
    // class's ribbons merge into the boxes they leave and enter.
    document.style(".sb-node", "fill: #d9d9d9; stroke: #555555; stroke-width: 1")
    document.style(".sb-backing", "fill: #ffffff; fill-opacity: 0.8")
    drawTitle(title, into: &document)
    if input.columnTitles.contains(where: { !$0.isEmpty }) {
      document.open("g", ["class": "sb-label", "font-weight": "bold"])
      for (x, heading) in zip(layout.columnX, input.columnTitles) where !heading.isEmpty {
        document.text(heading, x: x, y: layout.area.y - 10)
      }
      document.close()
    }

    document.open("g", ["class": "sb-bands"])
    for band in layout.bands {
      let x0 = band.sourceX
      let x1 = band.targetX
      let xm = (x0 + x1) / 2
      let y0 = band.sourceY
      let y1 = band.targetY
      let t = band.thickness
      let d =
        "M\(number(x0)) \(number(y0))C\(number(xm)) \(number(y0)) \(number(xm)) \(number(y1)) "
        + "\(number(x1)) \(number(y1))V\(number(y1 + t))C\(number(xm)) \(number(y1 + t)) "
        + "\(number(xm)) \(number(y0 + t)) \(number(x0)) \(number(y0 + t))Z"
      let label = band.flow.label
      document.add("path", ["class": label < 0 ? "sb-bx" : "sb-b\(label)", "d": d])
    }
    document.close()

    document.open("g", ["class": "sb-nodes"])
    for node in layout.nodes {
      document.add(
        "rect",
        [
          "class": "sb-node", "x": node.rect.x, "y": node.rect.y, "width": node.rect.width,
          "height": max(node.rect.height, 1),
        ])
    }
    document.close()

    document.open("g", ["class": "sb-small"])
    for node in layout.nodes {
      let x = node.rect.maxX + 4
      let baseline = node.rect.midY + FontSize.small * 0.35
      let w = textWidth(node.label, size: FontSize.small)
      document.add(
        "rect",
        [
          "class": "sb-backing", "x": x - 1, "y": node.rect.midY - FontSize.small * 0.6,
          "width": w + 2, "height": FontSize.small * 1.2,
        ])
      document.text(node.label, x: x, y: baseline)
    }
    document.close()

    var legend = categoryLegend(
      names: input.labelNames, present: present, title: "label", mark: .box)
    for i in legend?.entries.indices ?? 0..<0 { legend?.entries[i].opacity = bandOpacity }
    legend?.draw(into: &document, x: layout.legendOrigin.x, y: layout.legendOrigin.y)
    return Figure(kind: "sankey", document: document)
  }
}

extension Catalogue {
  static let titleParameter = Parameter.labelled(
    "title", .text, doc: "the figure's title", defaultText: "from the data", optional: true)

  /// The images of a dataset as greyscale images, or a failure if its inputs are not images.
  static func greyImages(_ call: Call, _ d: Dataset, count: Int, key: String = "data") throws(CallFailure) -> [Plot.GreyImage] {
    let shape = d.featureShape
    let (h, w): (Int, Int)
    if shape.count == 3, shape[0] == 1 {
      (h, w) = (shape[1], shape[2])
    } else if shape.count == 1, let side = Optional(Int(Double(shape[0]).squareRoot())), side * side == shape[0] {
      (h, w) = (side, side)
    } else {
      throw call.failure(
        "\(call.describe(key, fallback: "the data")) holds inputs of shape \(shape), not greyscale images",
        blaming: key)
    }
    return Plot.GreyImage.slices(of: d.features.scalars, count: min(count, d.count), width: w, height: h)
  }

  static let figures: [FunctionEntry] = [
    FunctionEntry(
      "scatter", category: "Figures",
      parameters: [
        .positional("projection", .projection, doc: "points from pca, tsne or umap"),
        .labelled("color", .option(["label", "cluster", "prediction"]), doc: "what colours the points", default: .option("label")),
        titleParameter,
      ],
      returns: .figure,
      summary: "The projected points, one dot per input, coloured by label, cluster or the network's prediction, with a legend.",
      example: "scatter(pca(sig[2]), color: .cluster)"
    ) { call in
      guard case .projection(let p)? = call.value("projection") else { return .nothing }
      let color = call.option("color")
      let categories: [Int], names: [String]
      switch color {
      case "cluster":
        guard let clusters = p.clusters else {
          throw call.failure("this projection has no clusters: project a clustering, as in pca(clusters[2])", blaming: "color")
        }
        categories = clusters
        names = (0..<((clusters.max() ?? -1) + 1)).map { "c\($0)" }
      case "prediction":
        guard let predictions = p.predictions else {
          throw call.failure("these points have no predictions (they do not come from a classifier's signatures)", blaming: "color")
        }
        categories = predictions
        names = p.predictionNames
      default:
        categories = p.labels
        names = p.classNames
      }
      let axis = ["pca": "PC", "tsne": "t-SNE", "umap": "UMAP"][p.method] ?? p.method
      let xs = (0..<p.count).map { Double(p.points[flat: $0 * p.points.rowSize]) }
      let ys = (0..<p.count).map { Double(p.points.rowSize > 1 ? p.points[flat: $0 * p.points.rowSize + 1] : 0) }
      return .figure(
        Plot.scatter(
          x: xs, y: ys, categories: categories, names: names,
          title: call.optionalText("title") ?? "\(p.method) of \(p.source)", xLabel: "\(axis) 1",
          yLabel: "\(axis) 2", legendTitle: color))
    },
    FunctionEntry(
      "sankey", category: "Figures",
      parameters: [
        .positional("clustering", .clustering, doc: "a clustering of signatures (one column per layer)"),
        .labelled("color", .option(["label", "prediction"]), doc: "what colours the flows", default: .option("label")),
        titleParameter,
      ],
      returns: .figure,
      summary: "The paths, seen: one column per layer, one node per cluster sized by its inputs, and ribbons between consecutive layers as wide as the number of inputs that go that way, coloured by label.",
      example: "flows = sankey(clusters)"
    ) { call in
      guard case .clustering(let c)? = call.value("clustering"), let first = c.layers.first else { return .nothing }
      var labels = first.points.labels, names = first.points.classNames
      if call.option("color") == "prediction" {
        guard let predictions = first.points.predictions else {
          throw call.failure("these signatures have no predictions", blaming: "color")
        }
        labels = predictions
        names = first.points.predictionNames
      }
      let input = Plot.SankeyInput(assignments: c.layers.map(\.assignments), labels: labels, labelNames: names)
      return .figure(Plot.sankey(input, title: call.optionalText("title") ?? "paths of \(grouped(c.count)) inputs through the clusters"))
    },
    FunctionEntry(
      "silhouette_plot", category: "Figures",
      parameters: [.positional("clustering", .clustering, doc: "a clustering from a k sweep"), titleParameter],
      returns: .figure,
      summary: "Mean silhouette against k, one line per layer, the chosen k of each marked.",
      example: "silhouette_plot(clusters)"
    ) { call in
      guard case .clustering(let c)? = call.value("clustering") else { return .nothing }
      let curves = c.layers.map { layer in
        let defined = layer.scores.filter { $0.silhouette != nil }
        return Plot.SilhouetteCurve(
          name: layer.points.name, ks: defined.map(\.k), scores: defined.compactMap(\.silhouette),
          chosenK: layer.k)
      }
      return .figure(Plot.silhouettePlot(curves, title: call.optionalText("title") ?? "mean silhouette by k"))
    },
    FunctionEntry(
      "loss_plot", category: "Figures",
      parameters: [.positional("model", .model, doc: "a trained model"), titleParameter],
      returns: .figure,
      summary: "Training (and validation) loss and accuracy per epoch, in two panels.",
      example: "loss_plot(net)"
    ) { call in
      let net = call.model("model")
      guard let history = net.history else {
        throw call.failure("\(call.describe("model", fallback: "the model")) has not been trained here: it has no history", blaming: "model")
      }
      let r = history.records
      let curves = Plot.TrainingCurves(
        loss: r.map(\.loss), accuracy: r.compactMap(\.accuracy), validationLoss: r.compactMap(\.validationLoss),
        validationAccuracy: r.compactMap(\.validationAccuracy))
      return .figure(Plot.lossPlot(curves, title: call.optionalText("title") ?? "training of \(net.summary)"))
    },
    FunctionEntry(
      "images", category: "Figures",
      parameters: [
        .positional("data", .dataset, doc: "a dataset of greyscale images"),
        .labelled("count", .integer, doc: "how many inputs, from the first", default: .number(16)),
        .labelled("columns", .integer, doc: "images per row", default: .number(8)),
        titleParameter,
      ],
      returns: .figure,
      summary: "A grid of the first inputs of a dataset with their labels.",
      example: "images(where(test, predicted: net), count: 8)"
    ) { call in
      let d = call.dataset("data")
      let pictures = try greyImages(call, d, count: max(0, call.int("count")))
      let labels = (0..<pictures.count).map { d.classNames[d.labels[$0]] }
      return .figure(
        Plot.images(pictures, labels: labels, columns: max(1, call.int("columns")), title: call.optionalText("title") ?? "\(d.name): \(pictures.count) of \(grouped(d.count)) inputs"))
    },
    FunctionEntry(
      "reconstructions", category: "Figures",
      parameters: [
        .positional("model", .model, doc: "an autoencoder"),
        .positional("data", .dataset, doc: "images to reconstruct"),
        .labelled("count", .integer, doc: "how many inputs, from the first", default: .number(10)),
        titleParameter,
      ],
      returns: .figure,
      summary: "Originals above, the autoencoder's reconstructions below.",
      example: "reconstructions(ae, test, count: 10)"
    ) { call in
      _ = try autoencoder(call)
      let (net, d) = try check(call)
      let count = min(max(0, call.int("count")), d.count)
      let subset = d.rows(0..<count)
      let originals = try greyImages(call, subset, count: count)
      let output = Dataset(name: d.name, features: net.predict(subset.features).reshaped(subset.features.shape), labels: subset.labels, classNames: d.classNames)
      let copies = try greyImages(call, output, count: count)
      return .figure(
        Plot.reconstructions(
          originals: originals, reconstructions: copies, labels: subset.labels.map { d.classNames[$0] },
          title: call.optionalText("title") ?? "reconstructions by \(net.summary)"))
    },
    FunctionEntry(
      "heatmap", category: "Figures",
      parameters: [
        .positional("signatures", .signatures, doc: "signatures"),
        .labelled("layer", .integer, doc: "the layer, from 1", default: .number(1)),
        .labelled("by", .option(["label", "prediction"]), doc: "how inputs are grouped", default: .option("label")),
        titleParameter,
      ],
      returns: .figure,
      summary: "The mean activation of each neuron of a layer (columns) for each class (rows), with a colour bar.",
      example: "heatmap(sig, layer: 2, by: .label)"
    ) { call in
      guard case .signatures(let sig)? = call.value("signatures") else { return .nothing }
      let layer = call.int("layer")
      guard layer >= 1, layer <= sig.layers.count else {
        throw call.failure("layer \(layer) is out of range: the signatures have layers 1 to \(sig.layers.count)", blaming: "layer")
      }
      var groups = sig.labels, names = sig.classNames
      if call.option("by") == "prediction" {
        guard let predictions = sig.predictions else { throw call.failure("these signatures have no predictions", blaming: "by") }
        groups = predictions
        names = sig.predictionNames
      }
      let x = sig.layers[layer - 1], d = x.rowSize
      var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: names.count)
      var counts = [Int](repeating: 0, count: names.count)
      x.withUnsafeBufferPointer { v in
        for (i, g) in groups.enumerated() {
          counts[g] += 1
          for j in 0..<d { sums[g][j] += Double(v[i * d + j]) }
        }
      }
      let present = names.indices.filter { counts[$0] > 0 }
      let input = Plot.HeatmapInput(
        values: present.map { g in sums[g].map { $0 / Double(counts[g]) } },
        rowNames: present.map { names[$0] }, columnNames: (0..<d).map(String.init),
        rowTitle: call.option("by"), columnTitle: "neuron of H\(layer)", valueTitle: "mean activation")
      return .figure(Plot.heatmap(input, title: call.optionalText("title") ?? "mean activation of H\(layer) by \(call.option("by"))"))
    },
    FunctionEntry(
      "boundary", category: "Figures",
      parameters: [
        .positional("model", .model, doc: "a classifier of 2-D inputs"),
        .positional("data", .dataset, doc: "2-D points to draw"),
        .labelled("resolution", .integer, doc: "grid cells along each axis", default: .number(100)),
        titleParameter,
      ],
      returns: .figure,
      summary: "The decision regions of a classifier of 2-D inputs on a grid over the data, paler where it is less sure, and the points.",
      example: "boundary(net, synthetic(.checkerboard))"
    ) { call in
      let (net, d) = try checkClassifier(call)
      guard d.featureCount == 2 else {
        throw call.failure("boundary draws 2-D inputs, but \(call.describe("data", fallback: "the data")) has \(d.featureCount) features", blaming: "data")
      }
      let resolution = min(max(call.int("resolution"), 2), 400)
      let xs = (0..<d.count).map { Double(d.features[flat: 2 * $0]) }
      let ys = (0..<d.count).map { Double(d.features[flat: 2 * $0 + 1]) }
      func padded(_ v: [Double]) -> (Double, Double) {
        let lo = v.min() ?? -1, hi = v.max() ?? 1
        let pad = max((hi - lo) * 0.08, 1e-3)
        return (lo - pad, hi + pad)
      }
      let (x0, x1) = padded(xs), (y0, y1) = padded(ys)
      var grid = Plot.DecisionGrid(xMin: x0, xMax: x1, yMin: y0, yMax: y1, columns: resolution, rows: resolution, classes: [])
      let centres = grid.cellCentres
      let points = Tensor(shape: [centres.count, 2], scalars: centres.flatMap { [Float($0.x), Float($0.y)] })
      let outputs = net.predict(points)
      grid.classes = net.classes(ofOutputs: outputs)
      grid.confidence = NoveltyResult.softmaxScores(outputs).map { 1 - $0 }
      let names = net.outputClassNames
      let labels = modelLabelsOrIndex(net, d)
      return .figure(
        Plot.boundary(grid, x: xs, y: ys, labels: labels, classNames: names, title: call.optionalText("title") ?? "decision regions of \(net.summary)"))
    },
    FunctionEntry(
      "confusion_plot", category: "Figures",
      parameters: [
        .positional("model", .model, doc: "a classifier"),
        .positional("data", .dataset, doc: "the inputs to classify"),
        titleParameter,
      ],
      returns: .figure,
      summary: "The confusion matrix as a grid: true classes in rows, predicted classes in columns, counts in the cells.",
      example: "confusion_plot(net, test)"
    ) { call in
      let (net, d) = try checkClassifier(call)
      // Rows and columns are the model's classes; inputs of classes it does not know are left out
      // (confusion(net, data) lists them).
      let names = net.outputClassNames
      let pairs = zip(net.modelLabels(for: d), net.predictedClasses(d.features))
        .compactMap { truth, predicted in truth.map { ($0, predicted) } }
      let counts = Metrics.confusionMatrix(
        labels: pairs.map(\.0), predictions: pairs.map(\.1), classes: names.count)
      return .figure(
        Plot.confusionPlot(counts: counts, classNames: names, title: call.optionalText("title") ?? "confusion of \(net.summary)"))
    },
    FunctionEntry(
      "roc", category: "Figures",
      parameters: [.positional("novelty", .novelty, doc: "a result of novelty"), titleParameter],
      returns: .figure,
      summary: "ROC curves of telling novel from normal inputs, one per layer, with their AUROC in the legend and the chance diagonal.",
      example: "roc(novelty(net, reference: train, normal: test, novel: threes))"
    ) { call in
      guard case .novelty(let n)? = call.value("novelty") else { return .nothing }
      let curves = n.rows.map { row in
        Plot.ROCCurve(
          name: row.name, scores: row.normalScores + row.novelScores,
          isPositive: [Bool](repeating: false, count: row.normalScores.count) + [Bool](repeating: true, count: row.novelScores.count))
      }
      return .figure(Plot.roc(curves, title: call.optionalText("title") ?? "novelty by \(n.method.rawValue)"))
    },
    FunctionEntry(
      "line", category: "Figures",
      parameters: [
        .labelled("x", .list(.number), doc: "the x values"),
        .labelled("y", .list(.number), doc: "the y values, as many as x"),
        titleParameter,
        .labelled("x_label", .text, doc: "the x axis title", default: .text("")),
        .labelled("y_label", .text, doc: "the y axis title", default: .text("")),
      ],
      returns: .figure,
      summary: "A line of y against x.",
      example: "line(x: [2, 10, 100], y: results, title: \"accuracy by width\")"
    ) { call in
      func numbers(_ key: String) -> [Double] {
        guard case .list(let items)? = call.value(key) else { return [] }
        return items.compactMap { if case .number(let x) = $0 { x } else { nil } }
      }
      let x = numbers("x"), y = numbers("y")
      guard x.count == y.count else {
        throw call.failure("x has \(x.count) values but y has \(y.count)", blaming: "y")
      }
      return .figure(
        Plot.line(x: x, y: y, title: call.optionalText("title") ?? "", xLabel: call.text("x_label"), yLabel: call.text("y_label")))
    },
  ]

  /// The dataset's labels as the model's class indices where the names match, else as they are.
  static func modelLabelsOrIndex(_ net: Model, _ d: Dataset) -> [Int] {
    net.modelLabels(for: d).enumerated().map { i, l in l ?? d.labels[i] }
  }
}

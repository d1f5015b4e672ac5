import SigbookTensor
import SigbookData
import SigbookNN
import SigbookAnalysis
import SigbookPlot

extension Catalogue {
  static let titleParameter = Parameter.labelled(
    "title", .kind(.text), doc: "the figure's title", defaultText: "from the data", optional: true)

  /// The first `count` inputs of a dataset as greyscale images, `[shown, height, width]`, or a
  /// failure if its inputs are not images.
  static func greyImages(_ call: Call, _ d: Dataset, count: Int, key: String = "data")
    throws(CallFailure) -> Tensor
  {
    let shape = d.featureShape
    let (h, w): (Int, Int)
    if shape.count == 3, shape[0] == 1 {
      (h, w) = (shape[1], shape[2])
    } else if shape.count == 1, let side = Optional(Int(Double(shape[0]).squareRoot())),
      side * side == shape[0]
    {
      (h, w) = (side, side)
    } else {
      throw call.failure(
        "\(call.describe(key, fallback: "the data")) holds inputs of shape \(shape), not greyscale images",
        blaming: key)
    }
    let shown = min(count, d.count)
    try call.requireMemory(
      MemoryEstimate.images(count: shown, pixels: MemoryEstimate.product(h, w)),
      for: "a grid of \(NumberFormat.grouped(shown)) images of \(h) × \(w) pixels",
      advice: "show fewer images (count:)", blaming: "count")
    return d.rows(0..<shown).features.reshaped([shown, h, w])
  }

  static let figures: [FunctionEntry] = [
    FunctionEntry(
      "scatter", category: "Figures",
      parameters: [
        .positional("projection", .kind(.projection), doc: "points from pca, tsne or umap"),
        .labelled(
          "color", .option(["label", "cluster", "prediction"]), doc: "what colours the points",
          default: .option("label")),
        .labelled(
          "unseen", classList,
          doc:
            "classes (by name or number) drawn as crosses instead of dots and marked (unseen) in the legend: inputs of classes the network never saw, among the known ones",
          defaultText: "none", optional: true),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "The projected points, one dot per input, coloured by label, cluster or the network's prediction, with a legend. With `unseen:` the inputs of those classes are crosses, drawn over the dots, so that unseen inputs stand out among known ones.",
      example: "scatter(pca(sig[2]), color: .cluster)"
    ) { call in
      guard case .projection(let p)? = call.value("projection") else { return .nothing }
      let color = call.option("color")
      let categories: [Int], names: [String]
      switch color {
      case "cluster":
        guard let clusters = p.clusters else {
          throw call.failure(
            "this projection has no clusters: project a clustering, as in pca(clusters[2])",
            blaming: "color")
        }
        categories = clusters
        names = (0..<((clusters.max() ?? -1) + 1)).map { "c\($0)" }
      case "prediction":
        guard let predictions = p.predictions else {
          throw call.failure(
            "these points have no predictions (they do not come from a classifier's signatures)",
            blaming: "color")
        }
        categories = predictions
        names = p.predictionNames
      default:
        categories = p.labels
        names = p.classNames
      }
      var crossed = Set<Int>()
      if let unseen = classNames(call.value("unseen")) {
        guard color == "label" || color == "prediction" else {
          throw call.failure(
            "unseen: marks classes, so it needs color: .label or .prediction", blaming: "unseen")
        }
        for name in unseen {
          guard let i = names.firstIndex(of: name) else {
            throw call.failure(
              "unseen: '\(name)' is not a class of these points; they have "
                + names.joined(separator: ", "), blaming: "unseen")
          }
          crossed.insert(i)
        }
      }
      let axis = ["pca": "PC", "tsne": "t-SNE", "umap": "UMAP"][p.method] ?? p.method
      let xs = (0..<p.count).map { Double(p.points[flat: $0 * p.points.rowSize]) }
      let ys = (0..<p.count).map {
        Double(p.points.rowSize > 1 ? p.points[flat: $0 * p.points.rowSize + 1] : 0)
      }
      return .figure(
        Plot.scatter(
          x: xs, y: ys, categories: categories, names: names,
          title: call.optionalText("title") ?? "\(p.method) of \(p.source)", xLabel: "\(axis) 1",
          yLabel: "\(axis) 2", legendTitle: color, crossed: crossed))
    },
    FunctionEntry(
      "sankey", category: "Figures",
      parameters: [
        .positional(
          "clustering", .kind(.clustering), doc: "a clustering of signatures (one column per layer)"
        ),
        .labelled(
          "color", .option(["label", "prediction"]), doc: "what colours the flows",
          default: .option("label")),
        .labelled(
          "output", .kind(.bool),
          doc: "adds the network's prediction of each input as a last column",
          default: .bool(false)),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "The paths, seen: one column per layer (headed H1, H2…, with the node's name for signatures taken at named nodes), one node per cluster (`L2:c1`, named as in paths) sized by its inputs, and ribbons between consecutive columns as wide as the number of inputs that go that way, coloured by label. With `output: true` a last column holds the network's predictions. A Sankey needs two or more columns: a single layer (`clusters[2]`) only with `output: true`.",
      example: "flows = sankey(clusters, output: true)"
    ) { call in
      guard case .clustering(let c)? = call.value("clustering"), let first = c.layers.first else {
        return .nothing
      }
      let output = call.bool("output")
      guard c.layers.count >= 2 || output else {
        throw call.failure(
          "a Sankey needs two or more layers; \(call.describe("clustering", fallback: "this clustering")) has one (\(first.points.name)) — pass the whole clustering",
          blaming: "clustering",
          hint: "or add output: true to follow its clusters to the network's predictions")
      }
      var labels = first.points.labels, names = first.points.classNames
      if call.option("color") == "prediction" {
        guard let predictions = first.points.predictions else {
          throw call.failure("these signatures have no predictions", blaming: "color")
        }
        labels = predictions
        names = first.points.predictionNames
      }
      var assignments = c.layers.map(\.assignments)
      var nodeNames = c.layers.indices.map { l in
        (0..<c.layers[l].k).map { c.nodeName(layer: l, cluster: $0) }
      }
      var titles = c.layers.map(\.points.nodeTitle)
      if output {
        guard let predictions = first.points.predictions else {
          throw call.failure(
            "output: true needs the network's predictions, but this clustering's points have none (they are not a classifier's signatures)",
            blaming: "output")
        }
        assignments.append(predictions)
        nodeNames.append(first.points.predictionNames)
        titles.append("prediction")
      }
      let what = output ? "through the clusters to the predictions" : "through the clusters"
      return .figure(
        Plot.sankey(
          assignments: assignments, labels: labels, labelNames: names, nodeNames: nodeNames,
          columnTitles: titles,
          title: call.optionalText("title")
            ?? "paths of \(NumberFormat.grouped(c.count)) inputs \(what)")
      )
    },
    FunctionEntry(
      "silhouette_plot", category: "Figures",
      parameters: [
        .positional("clustering", .kind(.clustering), doc: "a clustering from a k sweep"),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary: "Mean silhouette against k, one line per layer, the chosen k of each marked.",
      example: "silhouette_plot(clusters)"
    ) { call in
      guard case .clustering(let c)? = call.value("clustering") else { return .nothing }
      let defined = c.layers.map { $0.scores.filter { $0.silhouette != nil } }
      return .figure(
        Plot.silhouettePlot(
          names: c.layers.map(\.points.name), ks: defined.map { $0.map(\.k) },
          scores: defined.map { $0.compactMap(\.silhouette) }, chosenK: c.layers.map(\.k),
          title: call.optionalText("title") ?? "mean silhouette by k"))
    },
    FunctionEntry(
      "loss_plot", category: "Figures",
      parameters: [
        .positional("model", .kind(.model), doc: "one or more trained models", variadic: true),
        .labelled(
          "per", .option(["epoch", "batch"]), doc: "a point per epoch, or the loss of every batch",
          default: .option("epoch")),
        legendLabels("model"),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "Training (and validation) loss and accuracy per epoch, in two panels; with `per: .batch` the training loss of every batch (validation loss at the end of each epoch). Several models are drawn in a colour each, named in the legend by their variable or by `labels:`.",
      example: "loss_plot(sgd_net, adam_net, per: .batch, labels: [\"SGD\", \"Adam\"])"
    ) { call in
      let models = call.variadic.compactMap { v -> Model? in
        if case .model(let m) = v { m } else { nil }
      }
      guard !models.isEmpty else {
        throw call.failure("loss_plot needs one or more trained models", hint: "loss_plot(net)")
      }
      var histories: [History] = []
      for (i, net) in models.enumerated() {
        guard let history = net.history else {
          let name = call.variadicVariableName(i).map { "'\($0)'" } ?? "model \(i + 1)"
          throw call.failure(
            "\(name) has not been trained here: it has no history", blaming: "model")
        }
        histories.append(history)
      }
      let records = histories.map(\.records)
      let names = try legendNames(
        call, models.indices.map { models[$0].summary }, of: models.count == 1 ? "model" : "models")
      let perBatch = call.option("per") == "batch"
      let what = models.count == 1 ? models[0].summary : names.joined(separator: ", ")
      return .figure(
        Plot.lossPlot(
          loss: records.map { $0.map(\.loss) }, accuracy: records.map { $0.compactMap(\.accuracy) },
          validationLoss: records.map { $0.compactMap(\.validationLoss) },
          validationAccuracy: records.map { $0.compactMap(\.validationAccuracy) },
          batchLoss: histories.map(\.batchLosses), names: names, perBatch: perBatch,
          title: call.optionalText("title")
            ?? (perBatch ? "loss per batch of \(what)" : "training of \(what)")))
    },
    FunctionEntry(
      "images", category: "Figures",
      parameters: [
        .positional("data", .kind(.dataset), doc: "a dataset of greyscale images"),
        .labelled(
          "count", .integer, doc: "how many inputs, from the first", default: .number(16),
          maximum: CountLimit.panels),
        .labelled(
          "columns", .integer, doc: "images per row", default: .number(8),
          maximum: CountLimit.panels),
        .labelled(
          "caption", .option(["label", "prediction", "path"]),
          doc:
            "the text under each image: its label, the network's prediction, or its path through the clusters",
          default: .option("label")),
        .labelled(
          "net", .kind(.model),
          doc: "the classifier whose predictions are the captions (caption: .prediction)",
          defaultText: "none", optional: true),
        .labelled(
          "clusters", .kind(.clustering),
          doc: "a clustering of the signatures of these same inputs (caption: .path)",
          defaultText: "none", optional: true),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "A grid of the first inputs of a dataset, each captioned with its label, the network's prediction (`caption: .prediction, net: net`) or its path through the clusters (`caption: .path, clusters: c`, where c clusters the signatures of this same data), named as in paths: `L1:c0 → L2:c1`.",
      example:
        "images(test, count: 8, caption: .path, clusters: kmeans(signatures(net, test), k: 3))"
    ) { call in
      let d = call.dataset("data")
      let pictures = try greyImages(call, d, count: max(0, call.int("count")))
      let shown = pictures.rows
      let captions: [String]
      var title = "\(d.name): \(shown) of \(NumberFormat.grouped(d.count)) inputs"
      switch call.option("caption") {
      case "prediction":
        guard call.value("net") != nil else {
          throw call.failure(
            "caption: .prediction needs the network: pass net:", blaming: "caption",
            hint: "images(test, caption: .prediction, net: net)")
        }
        let net = try classifier(call, "net")
        _ = try check(call, model: "net")
        let predicted = net.predictedClasses(d.rows(0..<shown).features)
        captions = predicted.map { net.outputClassNames[$0] }
        title += " predicted by \(net.summary)"
      case "path":
        guard case .clustering(let c)? = call.value("clusters") else {
          throw call.failure(
            "caption: .path needs the clustering of these inputs' signatures: pass clusters:",
            blaming: "caption",
            hint: "images(test, caption: .path, clusters: kmeans(signatures(net, test)))")
        }
        try checkSameInputs(call, c, d)
        captions = (0..<shown).map { i in c.pathName(c.layers.map { $0.assignments[i] }) }
        title += " and their paths"
      default:
        captions = (0..<shown).map { d.classNames[d.labels[$0]] }
      }
      let progress = call.session.progress, isCancelled = call.session.isCancelled
      progress?.begin("images")
      defer { progress?.end() }
      do {
        return .figure(
          try Plot.images(
            pictures, labels: captions, columns: max(1, call.int("columns")),
            title: call.optionalText("title") ?? title
          ) { fraction in
            progress?.update(fraction: fraction, detail: "\(NumberFormat.grouped(shown)) images")
            return isCancelled()
          })
      } catch {
        throw CallFailure("interrupted", kind: .interrupted)
      }
    },
    FunctionEntry(
      "reconstructions", category: "Figures",
      parameters: [
        .positional("model", .kind(.model), doc: "an autoencoder"),
        .positional("data", .kind(.dataset), doc: "images to reconstruct"),
        .labelled(
          "count", .integer, doc: "how many inputs, from the first", default: .number(10),
          maximum: CountLimit.panels),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary: "Originals above, the autoencoder's reconstructions below.",
      example: "reconstructions(ae, test, count: 10)"
    ) { call in
      _ = try autoencoder(call)
      let (net, d) = try check(call)
      let count = min(max(0, call.int("count")), d.count)
      let subset = d.rows(0..<count)
      let originals = try greyImages(call, subset, count: count)
      let output = Dataset(
        name: d.name, features: net.predict(subset.features).reshaped(subset.features.shape),
        labels: subset.labels, classNames: d.classNames)
      let copies = try greyImages(call, output, count: count)
      return .figure(
        Plot.reconstructions(
          originals: originals, reconstructions: copies,
          labels: subset.labels.map { d.classNames[$0] },
          title: call.optionalText("title") ?? "reconstructions by \(net.summary)"))
    },
    FunctionEntry(
      "heatmap", category: "Figures",
      parameters: [
        .positional("signatures", .kind(.signatures), doc: "signatures"),
        .labelled("layer", .integer, doc: "the layer, from 1", default: .number(1)),
        .labelled(
          "by", .option(["label", "prediction"]), doc: "how inputs are grouped",
          default: .option("label")),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "The mean activation of each neuron of a layer (columns) for each class (rows), with a colour bar.",
      example: "heatmap(sig, layer: 2, by: .label)"
    ) { call in
      guard case .signatures(let sig)? = call.value("signatures") else { return .nothing }
      let layer = call.int("layer")
      guard sig.layerNumbers.contains(layer) else {
        throw call.failure(
          "layer \(layer) is out of range: the signatures have layers \(sig.layerNumbers.lowerBound) to \(sig.layerNumbers.upperBound)",
          blaming: "layer")
      }
      var groups = sig.labels, names = sig.classNames
      if call.option("by") == "prediction" {
        guard let predictions = sig.predictions else {
          throw call.failure("these signatures have no predictions", blaming: "by")
        }
        groups = predictions
        names = sig.predictionNames
      }
      let x = sig.layerTensor(layer), d = x.rowSize
      var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: names.count)
      var counts = [Int](repeating: 0, count: names.count)
      x.withUnsafeBufferPointer { v in
        for (i, g) in groups.enumerated() {
          counts[g] += 1
          for j in 0..<d { sums[g][j] += Double(v[i * d + j]) }
        }
      }
      let present = names.indices.filter { counts[$0] > 0 }
      return .figure(
        Plot.heatmap(
          values: present.map { g in sums[g].map { $0 / Double(counts[g]) } },
          rowNames: present.map { names[$0] }, columnNames: (0..<d).map(String.init),
          rowTitle: call.option("by"), columnTitle: "neuron of H\(layer)",
          valueTitle: "mean activation",
          title: call.optionalText("title")
            ?? "mean activation of H\(layer) by \(call.option("by"))"))
    },
    FunctionEntry(
      "boundary", category: "Figures",
      parameters: [
        .positional("model", .kind(.model), doc: "a classifier of 2-D inputs"),
        .positional("data", .kind(.dataset), doc: "2-D points to draw"),
        .labelled("resolution", .integer, doc: "grid cells along each axis", default: .number(100)),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "The decision regions of a classifier of 2-D inputs on a grid over the data, paler where it is less sure, and the points.",
      example: "boundary(net, synthetic(.checkerboard))"
    ) { call in
      let (net, d) = try checkClassifier(call)
      guard d.featureCount == 2 else {
        throw call.failure(
          "boundary draws 2-D inputs, but \(call.describe("data", fallback: "the data")) has \(d.featureCount) features",
          blaming: "data")
      }
      let resolution = min(max(call.int("resolution"), 2), 400)
      let xs = (0..<d.count).map { Double(d.features[flat: 2 * $0]) }
      let ys = (0..<d.count).map { Double(d.features[flat: 2 * $0 + 1]) }
      return .figure(
        Plot.boundary(
          x: xs, y: ys, labels: modelLabelsOrIndex(net, d), classNames: net.outputClassNames,
          resolution: resolution,
          title: call.optionalText("title") ?? "decision regions of \(net.summary)"
        ) { centres in
          let outputs = net.predict(centres)
          let sureness = NoveltyResult.softmaxScores(net.probabilities(ofOutputs: outputs))
          return (net.classes(ofOutputs: outputs), sureness.map { 1 - $0 })
        })
    },
    FunctionEntry(
      "confusion_plot", category: "Figures",
      parameters: [
        .positional("model", .kind(.model), doc: "a classifier"),
        .positional("data", .kind(.dataset), doc: "the inputs to classify"),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "The confusion matrix as a grid: true classes in rows, predicted classes in columns, counts in the cells.",
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
        Plot.confusionPlot(
          counts: counts, classNames: names,
          title: call.optionalText("title") ?? "confusion of \(net.summary)"))
    },
    FunctionEntry(
      "roc", category: "Figures",
      parameters: [
        .positional(
          "novelty", .kind(.novelty), doc: "one or more results of novelty", variadic: true),
        legendLabels("result"),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "ROC curves of telling novel from normal inputs, one per layer of each result, with their AUROC in the legend and the chance diagonal. Several results share one plot, each named in the legend by its variable (else by its method) or by `labels:`.",
      example: "roc(knn, softmax, labels: [\"k-NN\", \"softmax\"])"
    ) { call in
      let results = call.variadic.compactMap { v -> NoveltyResult? in
        if case .novelty(let n) = v { n } else { nil }
      }
      guard !results.isEmpty else {
        throw call.failure(
          "roc needs one or more novelty results",
          hint: "roc(novelty(net, reference: train, normal: test, novel: threes))")
      }
      let names = try legendNames(
        call, results.map(\.method.rawValue), of: results.count == 1 ? "result" : "results")
      let rows = results.enumerated().flatMap { i, n in n.rows.map { (result: i, row: $0) } }
      let title =
        results.count == 1
        ? "novelty by \(results[0].method.rawValue)" : "novelty: " + names.joined(separator: ", ")
      return .figure(
        Plot.roc(
          names: rows.map {
            results.count == 1 ? $0.row.name : "\(names[$0.result]) · \($0.row.name)"
          },
          scores: rows.map { $0.row.normalScores + $0.row.novelScores },
          isPositive: rows.map {
            [Bool](repeating: false, count: $0.row.normalScores.count)
              + [Bool](repeating: true, count: $0.row.novelScores.count)
          }, title: call.optionalText("title") ?? title))
    },
    FunctionEntry(
      "line", category: "Figures",
      parameters: [
        .labelled("x", .list(.number), doc: "the x values: a list or a range"),
        .labelled(
          "y", .oneOf([.list(.number), .list(.list(.number))]),
          doc: "the y values, as many as x: a list, or a list of lists for several series"),
        .labelled(
          "labels", .list(.kind(.text)), doc: "the name of each series, for the legend",
          defaultText: "series 1, series 2…", optional: true),
        titleParameter,
        .labelled("x_label", .kind(.text), doc: "the x axis title", default: .text("")),
        .labelled("y_label", .kind(.text), doc: "the y axis title", default: .text("")),
      ],
      returns: .kind(.figure),
      summary:
        "Lines of y against x: one series, or several (a list of lists) in a colour each with a legend.",
      example:
        "line(x: 1...3, y: [sgd_accs, adam_accs], labels: [\"sgd\", \"adam\"], title: \"accuracy by epoch\")"
    ) { call in
      func numbers(_ items: [Value]) -> [Double] {
        items.compactMap { if case .number(let x) = $0 { x } else { nil } }
      }
      guard case .list(let xs)? = call.value("x"), case .list(let ys)? = call.value("y") else {
        return .nothing
      }
      let x = numbers(xs)
      let isSeveral = ys.contains { if case .list = $0 { true } else { false } }
      let series: [[Double]] =
        isSeveral ? ys.map { if case .list(let s) = $0 { numbers(s) } else { [] } } : [numbers(ys)]
      for (i, y) in series.enumerated() where y.count != x.count {
        throw call.failure(
          isSeveral
            ? "series \(i + 1) of y has \(y.count) values but x has \(x.count)"
            : "x has \(x.count) values but y has \(y.count)",
          blaming: "y")
      }
      var names = (1...max(series.count, 1)).map { "series \($0)" }
      if case .list(let given)? = call.value("labels") {
        guard given.count == series.count else {
          throw call.failure(
            "labels has \(given.count) name\(given.count == 1 ? "" : "s") but y has \(series.count) series",
            blaming: "labels")
        }
        names = given.map { if case .text(let t) = $0 { t } else { "" } }
      } else if series.count == 1 {
        names = [call.text("y_label")]
      }
      return .figure(
        Plot.line(
          x: series.map { _ in x }, y: series, names: names,
          title: call.optionalText("title") ?? "", xLabel: call.text("x_label"),
          yLabel: call.text("y_label")))
    },
    FunctionEntry(
      "grid", category: "Figures",
      parameters: [
        .positional(
          "figure", .kind(.figure), doc: "the panels, left to right and top to bottom",
          variadic: true),
        .labelled(
          "columns", .integer, doc: "panels per row", default: .number(2),
          maximum: CountLimit.panels),
        .labelled(
          "title", .kind(.text), doc: "a title above the panels", defaultText: "none",
          optional: true),
        .labelled(
          "share_y", .kind(.bool),
          doc:
            "one y scale for panels of the same kind that can share it (line plots; loss plots' loss axis), so heights compare; false keeps each panel's own",
          default: .bool(true)),
      ],
      returns: .kind(.figure),
      summary:
        "Several figures as the panels of one: each keeps its own size and drawing, in rows of `columns`. Panels meant to be compared share their y scale: when every panel is a line plot, or every one a loss plot, they are drawn on one scale that fits them all (`share_y: false` frees them).",
      example: "grid(sankey(clusters), scatter(pca(sig[2])), columns: 2)"
    ) { call in
      let figures = call.variadic.compactMap { v -> Figure? in
        if case .figure(let f) = v { f } else { nil }
      }
      guard !figures.isEmpty else {
        throw call.failure(
          "grid needs one or more figures", hint: "grid(loss_plot(net), confusion_plot(net, test))")
      }
      let columns = call.int("columns")
      guard columns >= 1 else {
        throw call.failure("columns must be 1 or more, not \(columns)", blaming: "columns")
      }
      return .figure(
        Plot.grid(
          figures, columns: columns, title: call.optionalText("title") ?? "",
          shareY: call.bool("share_y")))
    },
  ]

  /// The legend name of each variadic argument: `labels:` when the call gives them (one per
  /// argument), else its variable's name when it was one, else `fallbacks[i]`; repeated names get
  /// ` (2)`, ` (3)`… so that no two entries read the same.
  static func legendNames(_ call: Call, _ fallbacks: [String], of what: String) throws(CallFailure)
    -> [String]
  {
    if case .list(let given)? = call.value("labels") {
      guard given.count == fallbacks.count else {
        throw call.failure(
          "labels has \(given.count) name\(given.count == 1 ? "" : "s") for \(fallbacks.count) \(what)",
          blaming: "labels")
      }
      return given.map { if case .text(let t) = $0 { t } else { "" } }
    }
    var seen: [String: Int] = [:]
    return fallbacks.indices.map { i in
      let name = call.variadicVariableName(i) ?? fallbacks[i]
      seen[name, default: 0] += 1
      return seen[name, default: 1] == 1 ? name : "\(name) (\(seen[name, default: 1]))"
    }
  }

  /// `labels:` of a function drawing several values, one legend name each.
  static func legendLabels(_ what: String) -> Parameter {
    .labelled(
      "labels", .list(.kind(.text)), doc: "the name of each \(what), for the legend",
      defaultText: "their variables' names", optional: true)
  }

  /// Checks that a clustering was computed on the signatures of exactly these inputs (the same
  /// number, with the same labels in the same order), else fails blaming `clusters`.
  static func checkSameInputs(_ call: Call, _ c: Clustering, _ d: Dataset) throws(CallFailure) {
    let clusters = call.describe("clusters", fallback: "the clustering")
    let data = call.describe("data", fallback: "the data")
    let fix =
      "cluster the signatures of this data: kmeans(signatures(net, \(call.describe("data", fallback: "data").replacingOccurrences(of: "'", with: ""))))"
    guard c.count == d.count, let points = c.layers.first?.points else {
      throw call.failure(
        "\(clusters) was computed on \(NumberFormat.grouped(c.count)) inputs but \(data) has \(NumberFormat.grouped(d.count)): a path needs the clustering of these same inputs",
        blaming: "clusters", hint: fix)
    }
    for i in 0..<d.count where points.classNames[points.labels[i]] != d.classNames[d.labels[i]] {
      throw call.failure(
        "\(clusters) was computed on other inputs than \(data): input \(i) is a \(points.classNames[points.labels[i]]) there but a \(d.classNames[d.labels[i]]) here",
        blaming: "clusters", hint: fix)
    }
  }

  /// The dataset's labels as the model's class indices where the names match, else as they are.
  static func modelLabelsOrIndex(_ net: Model, _ d: Dataset) -> [Int] {
    net.modelLabels(for: d).enumerated().map { i, l in l ?? d.labels[i] }
  }
}

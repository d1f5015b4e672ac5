import SigbookTensor
import SigbookData
import SigbookNN
import SigbookAnalysis
import SigbookPlot

/// The field's standard instruments: linear probes and representation similarity (CKA) on
/// signatures, attributions on a network and its inputs.
extension Catalogue {
  static let instruments: [FunctionEntry] = [
    FunctionEntry(
      "probe", category: "Instruments",
      parameters: [
        .positional("train", .kind(.signatures), doc: "the signatures the probes learn from"),
        .positional(
          "test", .kind(.signatures), doc: "the signatures they are scored on",
          defaultText: "a stratified part of train (split:)", optional: true),
        .labelled(
          "split", .number, doc: "without test: the fraction of train held out to score on",
          default: .number(0.25)),
        .labelled(
          "c", .number,
          doc: "the inverse strength of the L2 penalty (scikit-learn's C): smaller is stronger",
          default: .number(1)),
        .labelled(
          "standardize", .kind(.bool),
          doc: "scale each unit to zero mean and unit variance on the training inputs first",
          default: .bool(true)),
        .labelled(
          "control", .kind(.bool),
          doc: "also probe a control task (shuffled labels) and report the selectivity",
          default: .bool(false)),
        seedParameter,
      ],
      returns: .kind(.table),
      summary:
        "Linear probes (Alain & Bengio, 2016): for each signature layer, a multinomial logistic regression learns the classes from that layer alone and is scored on other inputs. The model and penalty are scikit-learn's `LogisticRegression(C: c)` — Σ −log p(label) + ‖W‖²/(2c), intercepts not penalised —, solved by L-BFGS (its iterates and sums in double precision, the features read in single precision) until no component of the mean loss's gradient exceeds 1e-4 (scikit-learn's `tol`), in at most 1,000 iterations. One row per layer: width, train and test accuracy, test log-loss, iterations. The layer from which test accuracy is high is where the classes become linearly separable. `control: true` (after Hewitt & Liang, 2019) gives every input a random class (the labels shuffled, counts kept) and probes that too: its train accuracy is what a probe of this capacity memorises, its test accuracy is near chance for inputs that never repeat, and selectivity is test accuracy less the control's. Without `test`, a stratified `split` of `train` is held out (the same inputs as `split(data, test: split, seed: seed)`). `probe_plot` draws the test accuracy by layer.",
      example: "probe(signatures(net, train), signatures(net, test), control: true)"
    ) { call in
      guard case .signatures(var train)? = call.value("train") else { return .nothing }
      let c = call.number("c")
      guard c > 0, c.isFinite else {
        throw call.failure(
          "c: must be a positive number, not \(NumberFormat.display(c))", blaming: "c")
      }
      var test: SignatureSet
      if case .signatures(let given)? = call.value("test") {
        test = given
      } else {
        let fraction = call.number("split")
        guard fraction > 0, fraction < 1 else {
          throw call.failure(
            "split: must be between 0 and 1 (the fraction held out), not \(NumberFormat.display(fraction))",
            blaming: "split")
        }
        (train, test) = train.split(testFraction: fraction, seed: call.int("seed"))
      }
      for (key, set) in [("train", train), ("test", test)] where set.count < 2 {
        throw call.failure(
          "\(key) has \(set.count) input\(set.count == 1 ? "" : "s"); a probe needs at least 2",
          blaming: call.value("test") == nil ? "split" : key)
      }
      let progress = call.session.progress
      progress?.begin("probe")
      defer { progress?.end() }
      let training = train, scored = test
      let detail = "\(train.layers.count) layer\(train.layers.count == 1 ? "" : "s")"
      return .table(
        try analysis { () throws(AnalysisError) in
          try LinearProbes.table(
            train: training, test: scored, c: c, standardize: call.bool("standardize"),
            control: call.bool("control"), seed: call.int("seed"),
            progress: { progress?.update(fraction: $0, detail: detail) },
            isCancelled: call.session.isCancelled)
        })
    },
    FunctionEntry(
      "probe_plot", category: "Instruments",
      parameters: [
        .positional(
          "probe", .kind(.table), doc: "the tables of probe(…), one line each", variadic: true),
        .labelled(
          "labels", .list(.kind(.text)), doc: "the name of each probe, for the legend",
          defaultText: "probe 1, probe 2…", optional: true),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "The test accuracy of linear probes by layer, one line per `probe` table (several runs, seeds or models on one plot); a probe with a control task adds its control accuracy, dashed.",
      example:
        "probe_plot(probe(sig_a, test_a), probe(sig_b, test_b), labels: [\"seed 1\", \"seed 2\"])"
    ) { call in
      let tables = call.variadic.compactMap { v -> Table? in
        if case .table(let t) = v { t } else { nil }
      }
      guard !tables.isEmpty else {
        throw call.failure("probe_plot needs one or more tables of probe(…)")
      }
      var names = (1...tables.count).map { tables.count == 1 ? "test accuracy" : "probe \($0)" }
      if case .list(let given)? = call.value("labels") {
        guard given.count == tables.count else {
          throw call.failure(
            "labels has \(given.count) name\(given.count == 1 ? "" : "s") for \(tables.count) probe table\(tables.count == 1 ? "" : "s")",
            blaming: "labels")
        }
        names = given.map { if case .text(let t) = $0 { t } else { "" } }
      }
      var xs: [[Double]] = [], ys: [[Double]] = [], lines: [String] = [], dashed = Set<Int>()
      for (i, table) in tables.enumerated() {
        guard let accuracy = table.column("test_accuracy")?.map(\.number) else {
          throw call.failure(
            "table \(i + 1) has no test_accuracy column: probe_plot draws tables of probe(…)")
        }
        // Each row at its layer's number (`H0 · input · 784` at 0), else at its position from 1.
        let numbers = (table.column("layer") ?? []).compactMap { cell -> Double? in
          guard case .text(let name) = cell, name.hasPrefix("H"),
            let n = Int(name.dropFirst().prefix { $0.isNumber })
          else { return nil }
          return Double(n)
        }
        let x =
          numbers.count == accuracy.count ? numbers : (0..<accuracy.count).map { Double($0 + 1) }
        xs.append(x)
        ys.append(accuracy)
        lines.append(names[i])
        if let control = table.column("control_test_accuracy")?.map(\.number) {
          dashed.insert(xs.count)
          xs.append(x)
          ys.append(control)
          lines.append(names[i] + " (control)")
        }
      }
      return .figure(
        Plot.line(
          x: xs, y: ys, names: lines, dashed: dashed,
          title: call.optionalText("title") ?? "linear probes: test accuracy by layer",
          xLabel: xs.contains { $0.contains(0) } ? "layer (0: the inputs)" : "layer",
          yLabel: "test accuracy", yRange: 0...1))
    },
    FunctionEntry(
      "cka", category: "Instruments",
      parameters: [
        .positional("a", .kind(.signatures), doc: "signatures"),
        .positional(
          "b", .kind(.signatures),
          doc:
            "signatures of the same inputs to compare with (another seed, architecture, or the network before training)",
          defaultText: "a itself", optional: true),
        .labelled(
          "kernel", .option(["linear", "rbf"]), doc: "the inputs' kernel",
          default: .option("linear")),
        .labelled(
          "bandwidth", .number,
          doc: "for .rbf: σ as a fraction of the median distance between inputs",
          default: .number(0.8)),
        .labelled(
          "unbiased", .kind(.bool),
          doc: "the unbiased HSIC estimator (Song et al. 2012) instead of the biased one",
          default: .bool(false)),
        .labelled(
          "batch", .integer,
          doc: "for .rbf: inputs per batch of the minibatch estimate (the whole set when smaller)",
          default: .number(1000), maximum: 10_000),
        seedParameter,
      ],
      returns: .kind(.table),
      summary:
        "Centred kernel alignment (Kornblith et al., 2019) between every layer of `a` (rows) and every layer of `b` (columns; `a` itself when absent): HSIC(K, L) / √(HSIC(K, K) · HSIC(L, L)) for the inputs' kernel matrices, 1 for representations equal up to a rotation and a scale. `.linear` is computed exactly on every input without an n × n matrix (‖XᵀY‖² and the rows' norms, in double precision); `.rbf` (exp(−d²/2σ²), σ = bandwidth × the median distance, as Kornblith et al.'s code) on seeded batches of `batch` inputs whose HSICs are summed (minibatch CKA, Nguyen et al., 2021). `unbiased: true` uses the unbiased HSIC estimator, which does not drift upward with few inputs and wide layers. `cka_plot` draws the table.",
      example: "cka(signatures(net, test), signatures(other, test))"
    ) { call in
      guard case .signatures(let a)? = call.value("a") else { return .nothing }
      var b = a
      if case .signatures(let given)? = call.value("b") { b = given }
      guard a.count == b.count else {
        throw call.failure(
          "a has \(NumberFormat.grouped(a.count)) inputs but b has \(NumberFormat.grouped(b.count)); cka compares representations of the same inputs",
          blaming: "b")
      }
      if a.labels != b.labels {
        throw call.failure(
          "a and b are signatures of different inputs (their labels differ); cka compares representations of the same inputs, in the same order",
          blaming: "b")
      }
      let kernel: CKA.Kernel =
        call.option("kernel") == "rbf" ? .rbf(bandwidth: call.number("bandwidth")) : .linear
      let progress = call.session.progress
      progress?.begin("cka")
      defer { progress?.end() }
      let detail = "\(NumberFormat.grouped(a.count)) inputs"
      let matrix = try analysis { () throws(AnalysisError) in
        try CKA.matrix(
          a.layers, b.layers, kernel: kernel, unbiased: call.bool("unbiased"),
          batch: call.int("batch"), seed: call.int("seed"),
          progress: { progress?.update(fraction: $0, detail: detail) },
          isCancelled: call.session.isCancelled)
      }
      let short = { (s: SignatureSet) in
        s.layerNames.map { String($0.split(separator: " ").first ?? Substring($0)) }
      }
      let columns = ["layer"] + short(b)
      let rows = zip(a.layerNames, matrix).map { name, values in
        [Table.Cell.text(name)] + values.map { Table.Cell.number($0) }
      }
      let kernelText =
        call.option("kernel") == "rbf"
        ? "RBF kernel, σ = \(NumberFormat.display(call.number("bandwidth"))) × median distance"
        : "linear kernel"
      let estimator = call.bool("unbiased") ? "unbiased HSIC" : "biased HSIC"
      let title =
        call.value("b") == nil
        ? "CKA between the layers of \(a.modelSummary) on \(NumberFormat.grouped(a.count)) inputs (\(kernelText), \(estimator))"
        : "CKA between the layers of \(a.modelSummary) (rows) and \(b.modelSummary) (columns) on \(NumberFormat.grouped(a.count)) inputs (\(kernelText), \(estimator))"
      return .table(Table(title: title, columns: columns, rows: rows))
    },
    FunctionEntry(
      "cka_plot", category: "Instruments",
      parameters: [
        .positional("cka", .kind(.table), doc: "a table of cka(…)"),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "A table of `cka` as a heatmap: a cell per pair of layers, coloured on a fixed scale from 0 to 1 with its value written in it.",
      example: "cka_plot(cka(sig))"
    ) { call in
      guard case .table(let table)? = call.value("cka") else { return .nothing }
      guard table.title?.contains("CKA between") == true, table.columns.first == "layer",
        table.columns.count > 1,
        table.rows.allSatisfy({
          $0.dropFirst().allSatisfy { if case .number = $0 { true } else { false } }
        })
      else {
        throw call.failure(
          "this table is not one of cka(…): it needs a layer column and numbers", blaming: "cka")
      }
      // cka(a, b) compares two sets: rows are a's layers, columns b's.
      let twoSets = table.title?.contains("(rows)") == true
      let rowNames = table.rows.map { row in
        if case .text(let t) = row[0] {
          String(t.split(separator: " ").first ?? Substring(t))
        } else {
          ""
        }
      }
      // The table's title says everything; the figure's keeps the kernel and the estimator.
      let detail = table.title.flatMap { t in
        t.range(of: " (", options: .backwards).map { String(t[$0.lowerBound...]) }
      }
      return .figure(
        Plot.heatmap(
          values: table.rows.map { $0.dropFirst().map(\.number) }, rowNames: rowNames,
          columnNames: Array(table.columns.dropFirst()),
          rowTitle: twoSets ? "layer of a" : "layer", columnTitle: twoSets ? "layer of b" : "layer",
          valueTitle: "CKA", domain: 0...1, showsValues: true,
          title: call.optionalText("title") ?? "CKA" + (detail ?? "")))
    },
    FunctionEntry(
      "attribution", category: "Instruments",
      parameters: [
        .positional("model", .kind(.model), doc: "a classifier: built, trained or loaded"),
        .positional("data", .kind(.dataset), doc: "the inputs to explain"),
        .labelled(
          "method", .option(Attribution.Method.allCases.map(\.rawValue)),
          doc: "how each input value's share is measured",
          default: .option("integrated_gradients")),
        .labelled(
          "target", .oneOf([.option(["predicted", "label"]), .integer, .kind(.text)]),
          doc:
            "the class explained: each input's predicted class, its label, or one class by number or name",
          default: .option("predicted")),
        .labelled(
          "steps", .integer, doc: "integrated gradients: quadrature points", default: .number(50),
          maximum: 1000),
        .labelled(
          "samples", .integer, doc: "smoothgrad: noisy copies of each input",
          default: .number(25), maximum: 1000),
        .labelled(
          "noise", .number, doc: "smoothgrad: σ as a fraction of each input's range",
          default: .number(0.15)),
        .labelled(
          "window", .integer, doc: "occlusion: the side of the square occluded",
          default: .number(4), maximum: CountLimit.width),
        .labelled(
          "stride", .integer, doc: "occlusion: the step between windows", default: .number(2),
          maximum: CountLimit.width),
        .labelled(
          "baseline", .number,
          doc: "the reference value: integrated gradients' start, what occlusion puts",
          default: .number(0)),
        seedParameter,
      ],
      returns: .kind(.dataset),
      summary:
        "An attribution map per input: how much each of its values drove the network's score of the target class — the logit when the network ends in a softmax or sigmoid —, computed at inference. `.gradient`: ∂score/∂x (Captum's `Saliency` with `abs=False`); `.smoothgrad`: the mean gradient over `samples` copies with Gaussian noise of σ = noise × the input's range (Smilkov et al. 2017); `.integrated_gradients`: (x − baseline) × the integral of the gradient along the straight path from the baseline, by Gauss–Legendre quadrature of `steps` points (Sundararajan et al. 2017; Captum's default method), whose maps add up to the score's rise from the baseline; `.occlusion`: the fall of the score when a `window` × `window` square (every channel) is set to the baseline, averaged over the windows covering each value (Zeiler & Fergus 2014; Captum's `Occlusion`). The maps are a dataset with the inputs' shape and labels: `attribution_plot` shows them, `kmeans` clusters them, `export` writes them.",
      example: "maps = attribution(net, subset(test, per_class: 2), method: .integrated_gradients)"
    ) { call in
      let net = try classifier(call)
      let (_, d) = try check(call)
      let targets: [Int]
      var targetText: String
      switch call.value("target") {
      case .option("label")?:
        targets = try d.labels.map { (label: Int) throws(CallFailure) -> Int in
          let name = d.classNames[label]
          guard let k = net.outputClassNames.firstIndex(of: name) else {
            throw call.failure(
              "the network has no output for class '\(name)'", blaming: "target",
              hint: "explain the predicted class: target: .predicted")
          }
          return k
        }
        targetText = "the label"
      case .number(let k)?:
        guard k >= 0, Int(k) < net.outputCount else {
          throw call.failure(
            "target: the network's classes are numbered 0 to \(net.outputCount - 1), not \(NumberFormat.display(k))",
            blaming: "target")
        }
        targets = [Int](repeating: Int(k), count: d.count)
        targetText = "class \(net.outputClassNames[Int(k)])"
      case .text(let name)?:
        guard let k = net.outputClassNames.firstIndex(of: name) else {
          throw call.failure(
            "target: the network has no class '\(name)'", blaming: "target",
            hint: "its classes are \(net.outputClassNames.joined(separator: ", "))")
        }
        targets = [Int](repeating: k, count: d.count)
        targetText = "class \(name)"
      default:
        targets = net.predictedClasses(d.features, isCancelled: call.session.isCancelled)
        targetText = "the predicted class"
      }
      var options = Attribution.Options()
      options.steps = call.int("steps")
      options.samples = call.int("samples")
      options.noise = call.number("noise")
      options.window = call.int("window")
      options.stride = call.int("stride")
      options.baseline = Float(call.number("baseline"))
      options.seed = call.int("seed")
      let method = Attribution.Method(rawValue: call.option("method")) ?? .integrated_gradients
      let progress = call.session.progress
      progress?.begin("attribution")
      defer { progress?.end() }
      let detail = "\(NumberFormat.grouped(d.count)) inputs"
      let maps = try analysis("data") { () throws(AnalysisError) in
        try Attribution.maps(
          model: net, inputs: d.features, targets: targets, method: method, options: options,
          progress: { progress?.update(fraction: $0, detail: detail) },
          isCancelled: call.session.isCancelled)
      }
      let methodName = method.rawValue.replacingOccurrences(of: "_", with: " ")
      return .dataset(
        Dataset(
          name: "\(methodName) of \(targetText), \(d.name)", features: maps, labels: d.labels,
          classNames: d.classNames))
    },
    FunctionEntry(
      "attribution_plot", category: "Instruments",
      parameters: [
        .positional("maps", .kind(.dataset), doc: "the maps of attribution(…)"),
        .positional("data", .kind(.dataset), doc: "the inputs they explain, in the same order"),
        .labelled(
          "count", .integer, doc: "how many inputs, from the first", default: .number(8),
          maximum: CountLimit.panels),
        .labelled(
          "columns", .integer, doc: "pairs per row", default: .number(4),
          maximum: CountLimit.panels),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "Each input beside its attribution map: the map in a diverging palette (red raises the class's score, blue lowers it) over the input drawn faint, each map scaled to its own largest value, the label under each pair.",
      example: "attribution_plot(maps, subset(test, per_class: 2))"
    ) { call in
      let maps = call.dataset("maps"), d = call.dataset("data")
      guard maps.count == d.count, maps.featureShape == d.featureShape else {
        throw call.failure(
          "maps has \(NumberFormat.grouped(maps.count)) maps of \(maps.featureShape) but data has \(NumberFormat.grouped(d.count)) inputs of \(d.featureShape); pass the inputs attribution explained",
          blaming: "data")
      }
      let count = max(0, call.int("count"))
      let pictures = try greyImages(call, d, count: count)
      return .figure(
        Plot.attributions(
          inputs: pictures, maps: maps.features,
          labels: (0..<pictures.rows).map { d.classNames[d.labels[$0]] },
          columns: max(1, call.int("columns")),
          title: call.optionalText("title") ?? "\(maps.name): \(pictures.rows) inputs"))
    },
    FunctionEntry(
      "top_inputs", category: "Instruments",
      parameters: [
        .positional(
          "x", .oneOf([.kind(.signatures), .kind(.clustering)]),
          doc: "signatures (for a unit) or a clustering of them (for a cluster)"),
        .positional("data", .kind(.dataset), doc: "the inputs they are the signatures of"),
        .labelled("layer", .integer, doc: "the layer, from 1", maximum: CountLimit.width),
        .labelled(
          "unit", .integer, doc: "the unit (neuron or channel value) of the layer, from 0",
          defaultText: "none", optional: true, maximum: CountLimit.width),
        .labelled(
          "cluster", .integer, doc: "the cluster of the layer, from 0", defaultText: "none",
          optional: true, maximum: CountLimit.width),
        .labelled(
          "n", .integer, doc: "how many inputs", default: .number(16),
          maximum: CountLimit.panels),
        .labelled(
          "columns", .integer, doc: "images per row", default: .number(8),
          maximum: CountLimit.panels),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "What a unit or a cluster responds to: the `n` inputs whose signature at `layer` excites `unit` most (its largest values first), or that sit nearest the centre of `cluster` (of a clustering of these same inputs' signatures), as a grid of images captioned with their label and the activation or distance.",
      example: "top_inputs(kmeans(sig, k: 5), test, layer: 2, cluster: 3)"
    ) { call in
      let d = call.dataset("data")
      let layer = call.int("layer")
      let points: PointSet
      var centre: [Float]?
      switch call.value("x") {
      case .clustering(let c)?:
        guard c.layerNumbers.contains(layer) else {
          throw call.failure(
            "layer: the clustering has layers \(c.layerNumbers.first ?? 1) to \(c.layerNumbers.last ?? 0), not \(layer)",
            blaming: "layer")
        }
        let l = c.layers[c.layerNumbers.firstIndex(of: layer) ?? layer - 1]
        points = l.points
        guard let k = call.optionalInt("cluster"), call.value("unit") == nil else {
          throw call.failure(
            "with a clustering, pass cluster: (0 to \(l.k - 1)) and no unit:", blaming: "cluster")
        }
        guard (0..<l.k).contains(k) else {
          throw call.failure(
            "cluster: layer \(layer) has clusters 0 to \(l.k - 1), not \(k)", blaming: "cluster")
        }
        let w = l.result.centres.rowSize
        centre = Array(l.result.centres.scalars[(k * w)..<((k + 1) * w)])
      case .signatures(let s)?:
        guard s.layerNumbers.contains(layer) else {
          throw call.failure(
            "layer: the signatures have layers \(s.layerNumbers.lowerBound) to \(s.layerNumbers.upperBound), not \(layer)",
            blaming: "layer")
        }
        points = s.layer(layer)
        let width = points.dimensions
        guard let unit = call.optionalInt("unit"), call.value("cluster") == nil else {
          throw call.failure(
            "with signatures, pass unit: (0 to \(width - 1)); for a cluster, pass a clustering",
            blaming: "unit")
        }
        guard (0..<width).contains(unit) else {
          throw call.failure(
            "unit: layer \(layer) has units 0 to \(width - 1), not \(unit)",
            blaming: "unit")
        }
      default: return .nothing
      }
      guard points.count == d.count,
        points.labels.map({ points.classNames[$0] })
          == d.labels.map({ d.classNames[$0] })
      else {
        throw call.failure(
          "data are not the inputs of these signatures (\(NumberFormat.grouped(points.count)) inputs, labels in another order)",
          blaming: "data")
      }
      let w = points.points.rowSize, values = points.points.scalars
      let keys: [Float]
      if let centre {
        keys = (0..<points.count).map { i in
          var sum: Float = 0
          for j in 0..<w {
            let e = values[i * w + j] - centre[j]
            sum += e * e
          }
          return sum.squareRoot()
        }
      } else {
        let unit = call.int("unit")
        keys = (0..<points.count).map { -values[$0 * w + unit] }
      }
      // Ascending keys (most excited or nearest first), ties in input order.
      let order = keys.indices.sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
      let chosen = Array(order.prefix(max(0, call.int("n"))))
      let shown = d.rows(at: chosen)
      let pictures = try greyImages(call, shown, count: chosen.count)
      let captions = chosen.map { i in
        "\(d.classNames[d.labels[i]]) · "
          + NumberFormat.display(Double(centre == nil ? -keys[i] : keys[i]))
      }
      let what =
        centre == nil
        ? "unit \(call.int("unit")) of H\(layer): the \(chosen.count) inputs exciting it most"
        : "cluster \(call.int("cluster")) of H\(layer): the \(chosen.count) inputs nearest its centre"
      return .figure(
        Plot.images(
          pictures, labels: captions, columns: max(1, call.int("columns")),
          title: call.optionalText("title") ?? what))
    },
  ]
}

extension Table.Cell {
  /// The number in the cell, NaN for text or an empty cell.
  fileprivate var number: Double {
    if case .number(let x) = self { x } else { .nan }
  }
}

extension SignatureSet {
  /// A stratified split: in each class, `testFraction` of the inputs (rounded) drawn at random
  /// for the test part — the same inputs as `Dataset.split` draws with this seed.
  func split(testFraction: Double, seed: Int) -> (train: SignatureSet, test: SignatureSet) {
    var generator = SeededGenerator(seed: seed)
    var isTest = [Bool](repeating: false, count: count)
    var perClass = [[Int]](repeating: [], count: classNames.count)
    for (i, label) in labels.enumerated() { perClass[label].append(i) }
    for all in perClass {
      let order = generator.permutation(all.count)
      let k = Int((testFraction * Double(all.count)).rounded())
      for i in order.prefix(k) { isTest[all[i]] = true }
    }
    return (
      rows(at: (0..<count).filter { !isTest[$0] }), rows(at: (0..<count).filter { isTest[$0] })
    )
  }
}

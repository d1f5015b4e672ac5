import SigbookTensor
import SigbookNN
import SigbookAnalysis

extension Catalogue {
  /// What clustering and projections accept: signatures, one layer of them, or a dataset.
  static let pointsInput = Accepts.oneOf([
    .kind(.signatures), .kind(.signatureLayer), .kind(.dataset),
  ])

  /// The point sets of a value: every layer of signatures, one layer, or a dataset's features.
  static func pointSets(_ value: Value?) -> [PointSet] {
    switch value {
    case .signatures(let s)?: s.pointSets
    case .points(let p)?: [p]
    case .dataset(let d)?: [PointSet(dataset: d)]
    case .clustering(let c)?: c.layers.map(\.points)
    default: []
    }
  }

  /// A classifier's class scores (its logits) for many inputs, 1,024 at a time.
  static func scores(_ net: Model, _ inputs: Tensor) -> Tensor {
    let n = inputs.rows
    let parts = stride(from: 0, to: n, by: 1024).map { start in
      net.scores(inputs.rows(start..<min(n, start + 1024)))
    }
    return parts.isEmpty ? Tensor(zeros: [0, net.outputCount]) : Tensor.concatenate(parts)
  }

  /// Calls an analysis function, turning its error into a failure of the call.
  static func analysis<T>(_ key: String? = nil, _ body: () throws(AnalysisError) -> T)
    throws(CallFailure) -> T
  {
    do { return try body() } catch {
      if case .cancelled = error { throw CallFailure("interrupted", kind: .interrupted) }
      throw CallFailure(error.description, parameter: key)
    }
  }

  /// The `input:` option of the entries that compute signatures: the raw inputs as layer 0.
  static let inputParameter = Parameter.labelled(
    "input", .kind(.bool),
    doc: "adds the raw inputs as a first layer, H0: the baseline of what the pixels already say",
    default: .bool(false))

  /// Signatures of a dataset through a model, checking that it fits.
  static func signatures(
    _ call: Call, model key: String, data: String, isCancelled: (() -> Bool)? = nil
  ) throws(CallFailure) -> SignatureSet {
    let net = call.model(key), d = call.dataset(data)
    do {
      try net.validate(
        inputs: d.features, labels: nil, dataName: call.describe(data, fallback: "the data"))
    } catch {
      throw call.failure(error.description, blaming: data)
    }
    let (nodes, pooling) = try signatureNodes(call, model: net)
    let indices = nodes ?? net.hiddenLayerIndices
    guard !indices.isEmpty else {
      throw call.failure(
        "\(call.describe(key, fallback: "the model")) has no hidden layer", blaming: key,
        hint:
          "take the outputs of named nodes: signatures(net, data, at: [\"…\"]); nodes(net) lists them"
      )
    }
    let widths = indices.map { net.pooledWidth(ofLayer: $0, pooling: pooling) ?? 0 }
    try call.requireMemory(
      MemoryEstimate.signatures(n: d.count, widths: widths),
      for:
        "the signatures of \(NumberFormat.grouped(d.count)) inputs (\(NumberFormat.grouped(widths.reduce(0, +))) values each)",
      advice: pooling == .none && indices.contains { net.layerShapes[$0].count > 1 }
        ? "sample the data first (subset(data, per_class: 500)) or pool the maps (pool: .mean)"
        : "sample the data first (subset(data, per_class: 500))",
      blaming: data)
    let set = SignatureSet(
      model: net, data: d, nodes: nodes, pooling: pooling, includingInput: call.bool("input"),
      isCancelled: isCancelled ?? call.session.isCancelled)
    if call.isCancelled { throw CallFailure("interrupted", kind: .interrupted) }
    return set
  }

  /// The nodes `at:` names (nil when it is absent: the model's own signature layers), in the
  /// order the model runs them, and the `pool:` option; each name checked, with the nearest
  /// one suggested, and each output checked against the pooling.
  static func signatureNodes(
    _ call: Call, model net: Model
  ) throws(CallFailure) -> ([Int]?, SignaturePooling) {
    // Not every caller's entry takes `pool:` (novelty reads its model's own layers).
    let pooling =
      call.value("pool") == nil ? .none : SignaturePooling(rawValue: call.option("pool")) ?? .none
    let names = net.layerNames
    var nodes: [Int]?
    if call.value("at") != nil {
      var chosen: [Int] = []
      for name in call.textList("at") {
        guard let i = net.layerIndex(named: name) else {
          let hint = nearestName(to: name, among: names).map { "did you mean '\($0)'?" }
          throw call.failure(
            "the model has no node named '\(name)'", blaming: "at",
            hint: hint ?? "nodes(net) lists the names")
        }
        chosen.append(i)
      }
      guard !chosen.isEmpty else { throw call.failure("'at:' names no node", blaming: "at") }
      nodes = Array(Set(chosen)).sorted()
    }
    for i in nodes ?? net.hiddenLayerIndices
    where net.pooledWidth(ofLayer: i, pooling: pooling) == nil {
      throw call.failure(
        "'\(names[i])' gives \(net.layerShapes[i]), not tokens [count, width] whose first is a class token",
        blaming: "pool", hint: "pool: .mean averages over the tokens or positions")
    }
    return (nodes, pooling)
  }

  /// A cancellation check that also reports progress: `fraction(polls)` after every poll, for
  /// steps that poll a known number of times (a batch, a block, a step of the eigensolver)
  /// but take no progress callback of their own. The check comes first, so that progress
  /// shown means the step after it runs (`run --progress` prints it as a line).
  static func countingPolls(
    _ call: Call, fraction: @escaping (Int) -> Double, detail: String
  ) -> () -> Bool {
    let progress = call.session.progress, isCancelled = call.session.isCancelled
    var polls = 0
    return {
      polls += 1
      let cancelled = isCancelled()
      progress?.update(fraction: min(1, fraction(polls)), detail: detail)
      return cancelled
    }
  }

  static let analysis: [FunctionEntry] = [
    FunctionEntry(
      "signatures_from", category: "Signatures and clusterings",
      parameters: [
        .positional(
          "files", .list(.kind(.text)), doc: "one .npy array [N, …] per hidden layer, H1 first"),
        .labelled(
          "labels", .kind(.text), doc: "a .npy vector of N whole-number labels",
          defaultText: "none (one class 'all')", optional: true),
      ],
      returns: .kind(.signatures),
      summary:
        "A signature set from activations computed anywhere (PyTorch forward hooks, a Keras model's layer outputs): one NumPy array per layer, one row per input (maps are flattened per input), and the inputs' labels. It clusters, paths and projects like `signatures(net, data)`, without predictions.",
      example: "sig = signatures_from([\"h1.npy\", \"h2.npy\"], labels: \"y.npy\")"
    ) { call in
      let files: [String] =
        if case .list(let items)? = call.value("files") {
          items.compactMap { if case .text(let t) = $0 { t } else { nil } }
        } else { [] }
      return try engine("files") {
        .signatures(
          try SignatureSet.npy(
            layers: files.map(call.session.readPath),
            labels: call.optionalText("labels").map(call.session.readPath)))
      }
    },
    FunctionEntry(
      "signatures", category: "Signatures and clusterings",
      parameters: [
        .positional("model", .kind(.model), doc: "the network"),
        .positional("data", .kind(.dataset), doc: "the inputs"),
        .labelled(
          "at", .oneOf([.kind(.text), .list(.kind(.text))]),
          doc: "the names of the nodes whose outputs make up the signature (nodes(net) lists them)",
          defaultText: "each hidden activation; each block's output for resnet and vit",
          optional: true, maximum: CountLimit.width),
        .labelled(
          "pool", .option(SignaturePooling.allCases.map(\.rawValue)),
          doc:
            "maps to one value per channel (mean or max over positions), tokens to one vector (mean or max over tokens, or the class token); none keeps every value",
          default: .option("none")),
        inputParameter,
      ],
      returns: .kind(.signatures),
      summary:
        "The signature of every input: the output of each hidden layer, with the inputs' labels and the network's predictions. A signature layer is the output of each ReLU, tanh or sigmoid that a layer with weights follows: after the activation, with a batch normalisation before it folded into the weights, before any pooling (a convolution's maps flattened per input, channel first, as PyTorch's `flatten`); the output layer is not one, and an autoencoder's code is. `sig.layers` is the number of layers, `sig[1]` the first; with `input: true` the raw inputs come first as layer 0 (`H0`), the baseline that layer_report, separating_layer, probe and novelty compare the network's layers with. `export(sig, \"sig.npz\")` writes them all for NumPy.",
      example: "sig = signatures(net, test)"
    ) { call in
      // Two passes (hidden layers, then predictions) of one poll per batch of 1,024.
      let n = call.dataset("data").count
      let batches = max(1, (n + 1023) / 1024)
      call.session.progress?.begin("signatures")
      defer { call.session.progress?.end() }
      let polls = countingPolls(
        call, fraction: { Double($0 - 1) / Double(2 * batches) },
        detail: "\(NumberFormat.grouped(n)) inputs")
      return .signatures(try signatures(call, model: "model", data: "data", isCancelled: polls))
    },
    FunctionEntry(
      "kmeans", category: "Signatures and clusterings",
      parameters: [
        .positional(
          "x", pointsInput, doc: "signatures (one clustering per layer), one layer, or a dataset"),
        .labelled(
          "k", .oneOf([.integer, .list(.integer)]),
          doc: "the number of clusters, or the range to choose from",
          default: .range(lower: 2, upper: 10, isClosed: true), defaultText: "2...10",
          maximum: CountLimit.width),
        .labelled(
          "select", .option(["silhouette"]), doc: "how k is chosen among several",
          default: .option("silhouette")),
        .labelled(
          "restarts", .integer, doc: "k-means runs per k, the lowest inertia kept",
          default: .number(10), maximum: CountLimit.restarts),
        .labelled(
          "sample", .integer, doc: "compute silhouettes on this many points when there are more",
          defaultText: "exact up to 10,000", optional: true, maximum: CountLimit.inputs),
        seedParameter,
      ],
      returns: .kind(.clustering),
      summary:
        "k-means (greedy k-means++ seeding, Lloyd iterations, then single-point moves while they lower the inertia, as Hartigan and Wong; best of `restarts` by inertia) for each k; with a range, the k of best mean silhouette is kept and every k's score remembered. On signatures, each layer is clustered on its own. Silhouette often prefers k = 2 or 3 even on ten classes (a few well separated groups of classes score higher than ten touching ones); to follow the classes through `paths`, fix k: `kmeans(sig, k: 10)`.",
      example: "clusters = kmeans(sig, k: 2...10, seed: 7)"
    ) { call in
      let sets = pointSets(call.value("x"))
      let ks: [Int]
      if case .number(let k)? = call.value("k") { ks = [Int(k)] } else { ks = call.intList("k") }
      guard !ks.isEmpty, ks.allSatisfy({ $0 >= 1 }) else {
        throw call.failure("'k:' needs numbers of clusters of at least 1", blaming: "k")
      }
      guard call.int("restarts") >= 1 else {
        throw call.failure("'restarts:' must be at least 1", blaming: "restarts")
      }
      let n = sets.first?.count ?? 0
      let sample = call.optionalInt("sample") ?? (n > 10_000 ? 10_000 : nil)
      let widest = sets.map(\.dimensions).max() ?? 0
      try call.requireMemory(
        MemoryEstimate.kmeans(n: n, d: widest, ks: ks, sample: sample),
        for:
          "kmeans of \(NumberFormat.grouped(n)) points for k = \(ks.count == 1 ? "\(ks[0])" : "\(ks.min() ?? 0)…\(ks.max() ?? 0)")",
        advice:
          "sample the data (subset(data, per_class: 500)), try fewer k, or pass a smaller sample:",
        blaming: "x")
      let progress = call.session.progress
      progress?.begin("kmeans")
      defer { progress?.end() }
      return .clustering(
        try analysis("x") { () throws(AnalysisError) in
          try Clustering(
            sets, ks: ks, restarts: call.int("restarts"), silhouetteSample: sample,
            seed: call.int("seed"),
            progress: {
              progress?.update(fraction: $0, detail: "k = \(ks.first ?? 0)…\(ks.last ?? 0)")
            },
            isCancelled: call.session.isCancelled)
        })
    },
    FunctionEntry(
      "silhouette", category: "Signatures and clusterings",
      parameters: [.positional("clustering", .kind(.clustering), doc: "a clustering from kmeans")],
      returns: .kind(.table),
      summary:
        "The mean silhouette of every k tried, for every layer (rows: k, columns: layers); the chosen k of each layer is in the title.",
      example: "silhouette(clusters)"
    ) { call in
      guard case .clustering(let c)? = call.value("clustering") else { return .nothing }
      return .table(c.silhouetteTable)
    },
    FunctionEntry(
      "layer_report", category: "Signatures and clusterings",
      parameters: [
        .positional("clustering", .kind(.clustering), doc: "a clustering of signatures")
      ],
      returns: .kind(.table),
      summary:
        "One row per layer: its width, the chosen k, the mean silhouette, and how well the clusters follow the labels — purity, normalised mutual information (arithmetic mean) and adjusted Rand index. The layer from which NMI and ARI are high is where the network tells the classes apart (`separating_layer` names it by one criterion); with the inputs as layer 0 (`signatures(net, data, input: true)`) the first row is the baseline.",
      example: "layer_report(clusters)"
    ) { call in
      guard case .clustering(let c)? = call.value("clustering") else { return .nothing }
      return .table(c.report)
    },
    FunctionEntry(
      "separating_layer", category: "Signatures and clusterings",
      parameters: [
        .positional("clustering", .kind(.clustering), doc: "a clustering of signatures")
      ],
      returns: .kind(.text),
      summary:
        "From which layer the network tells the classes apart, by one criterion for every study: the first hidden layer whose clusters' NMI with the labels is within \(NumberFormat.display(Clustering.separationMargin)) of the best hidden layer's and at least \(NumberFormat.display(Clustering.separationFloor)), and — when the signatures include the inputs (`signatures(net, data, input: true)`) — more than \(NumberFormat.display(Clustering.separationMargin)) above what clustering the raw inputs gives. \"none\" when no layer qualifies (the classes never part, or the pixels already part them as well).",
      example: "print(\"the classes part at\", separating_layer(clusters))"
    ) { call in
      guard case .clustering(let c)? = call.value("clustering") else { return .nothing }
      return .text(c.separatingLayer ?? "none")
    },
    FunctionEntry(
      "paths", category: "Signatures and clusterings",
      parameters: [
        .positional("clustering", .kind(.clustering), doc: "a clustering of signatures"),
        .labelled(
          "top", .integer, doc: "keep only the N most frequent paths", defaultText: "all",
          optional: true, maximum: CountLimit.inputs),
      ],
      returns: .kind(.table),
      summary:
        "The distinct paths inputs take through the layers' clusters (`L1:c0 → L2:c1`, layers numbered from 1), most frequent first, with their counts per class and the majority class. A path selects its inputs with `where(data, clusters: c, path: …)`. The paths follow the k each layer was clustered with: for one cluster per class, cluster with a fixed k (`kmeans(sig, k: 10)`) rather than the silhouette's choice.",
      example: "paths(clusters, top: 5)"
    ) { call in
      guard case .clustering(let c)? = call.value("clustering") else { return .nothing }
      if let top = call.optionalInt("top"), top < 1 {
        throw call.failure("top: must be at least 1, not \(top)", blaming: "top")
      }
      return .table(c.pathTable(top: call.optionalInt("top")))
    },
    FunctionEntry(
      "assign", category: "Signatures and clusterings",
      parameters: [
        .positional("clustering", .kind(.clustering), doc: "an existing clustering"),
        .positional(
          "x", pointsInput, doc: "new signatures (or a layer, or a dataset) of the same widths"),
      ],
      returns: .kind(.clustering),
      summary:
        "Puts new inputs — an unseen class, say — into the existing clusters: each point goes to the nearest centre of its layer. The clusters and k stay as they were.",
      example: "threes_clusters = assign(clusters, signatures(net, threes))"
    ) { call in
      guard case .clustering(let c)? = call.value("clustering") else { return .nothing }
      let sets = pointSets(call.value("x"))
      guard sets.count == c.layers.count else {
        throw call.failure(
          "the clustering has \(c.layers.count) layer\(c.layers.count == 1 ? "" : "s") but these points have \(sets.count)",
          blaming: "x")
      }
      for (layer, set) in zip(c.layers, sets) where layer.points.dimensions != set.dimensions {
        throw call.failure(
          "\(layer.points.name) is \(layer.points.dimensions) wide but the new points are \(set.dimensions) wide",
          blaming: "x")
      }
      return .clustering(c.assigning(sets))
    },
    FunctionEntry(
      "novelty", category: "Signatures and clusterings",
      parameters: [
        .positional("model", .kind(.model), doc: "the network"),
        .labelled(
          "reference", .kind(.dataset),
          doc: "inputs of the known classes the scores are measured against (the training data)"),
        .labelled("normal", .kind(.dataset), doc: "held-out inputs of the known classes"),
        .labelled("novel", .kind(.dataset), doc: "inputs of classes the network never saw"),
        .labelled(
          "method", .option(NoveltyMethod.allCases.map(\.rawValue)),
          doc: "how unusual a signature is", default: .option("knn")),
        .labelled(
          "k", .integer, doc: "the neighbour of .knn", default: .number(5),
          maximum: CountLimit.neighbours),
        .labelled(
          "layer", .integer,
          doc:
            "the layer whose figures are the result's, declared before the scores are seen (every layer stays in the table)",
          defaultText: "all layers together", optional: true, maximum: CountLimit.width),
        .labelled(
          "validation_normal", .kind(.dataset),
          doc:
            "held-out known inputs apart from normal:, on which (with validation_novel:) the headline row is chosen instead of declared",
          defaultText: "none", optional: true),
        .labelled(
          "validation_novel", .kind(.dataset),
          doc:
            "novel inputs apart from novel:, for choosing the headline row with validation_normal:",
          defaultText: "none", optional: true),
        inputParameter,
        seedParameter,
      ],
      returns: .kind(.novelty),
      summary:
        "Scores how unusual each input is, per signature layer and for all layers together (their signatures side by side; with `input: true` the raw inputs too, as a baseline row H0 that `all` leaves out), and measures how well the score tells novel from normal inputs: AUROC, AUPR (average precision, novel inputs positive) and FPR95 (the fraction of novel inputs taken for known ones when 95% of the known are, as OpenOOD reports it). Signature scores: `.knn`: distance to the k-th nearest reference signature, L2-normalised (Sun et al. 2022); `.centroid`: to the nearest k-means centre; `.mahalanobis`: to the nearest class mean under a shared covariance shrunk by 10% towards its mean variance (Lee et al. 2018); `.relative_mahalanobis`: that squared, less the squared distance to the mean of all reference signatures under their own covariance (Ren et al. 2021). Output scores (one row): `.softmax`: 1 − the top probability (MSP, the baseline; Hendrycks & Gimpel 2017); `.max_logit`: − the largest logit (Hendrycks et al. 2022); `.energy`: −log Σ exp(logits) (Liu et al. 2020); `.vim`: virtual-logit matching (Wang et al. 2022, as OpenOOD computes it) — the norm of the features the dense output layer reads, less the origin u = −W⁺b, outside their principal subspace (half the features, fitted on the reference inputs), times α = mean top logit / mean norm on the reference, less log Σ exp(logits). The result's `auroc`, `aupr` and `fpr95` are those of the row declared by `layer:` before the scores are seen (all layers together by default), or of the row of highest AUROC on a validation split — `validation_normal:` and `validation_novel:`, known and novel inputs apart from those scored — never the best of the rows on the inputs scored; the table's title says which; `n.best` names the row of highest AUROC, a choice made on the test inputs. `n.scores` is every input's score by row (normal inputs, then novel), and `export(n, \"scores.csv\")` writes it.",
      example: "novelty(net, reference: train, normal: test, novel: threes, method: .knn)"
    ) { call in
      let method = NoveltyMethod(rawValue: call.option("method")) ?? .knn
      guard call.int("k") >= 1 else { throw call.failure("'k:' must be at least 1", blaming: "k") }
      let validates =
        call.value("validation_normal") != nil || call.value("validation_novel") != nil
      if validates {
        guard call.value("validation_normal") != nil, call.value("validation_novel") != nil else {
          throw call.failure(
            "a validation split needs both validation_normal: and validation_novel:",
            blaming: call.value("validation_normal") == nil
              ? "validation_novel" : "validation_normal")
        }
        guard call.optionalInt("layer") == nil else {
          throw call.failure(
            "layer: declares the headline row, validation_normal: and validation_novel: choose it; give one or the other",
            blaming: "layer")
        }
        guard !method.readsOutputs else {
          throw call.failure(
            "the \(method.rawValue) score has one row, the network's output: there is no layer to choose",
            blaming: "validation_normal", hint: "drop validation_normal: and validation_novel:")
        }
        for key in ["validation_normal", "validation_novel"] where call.dataset(key).count == 0 {
          throw call.failure("'\(key):' has no inputs", blaming: key)
        }
      }
      for key in ["reference", "normal", "novel"] where call.dataset(key).count == 0 {
        throw call.failure("'\(key):' has no inputs", blaming: key)
      }
      let referenceCount = call.dataset("reference").count
      try call.requireMemory(
        MemoryEstimate.neighbours(
          n: referenceCount, d: call.model("model").hiddenLayerWidths.max() ?? 0,
          k: min(call.int("k"), referenceCount)),
        for: "novelty against \(NumberFormat.grouped(referenceCount)) reference inputs",
        advice: "sample the reference data (subset(train, per_class: 500))", blaming: "reference")
      // Progress by polls: one per batch of 1,024 in each of the signature passes, then per
      // layer (and all together) one before, one after and one per 512 queries.
      let counts = ["reference", "normal", "novel"].map { call.dataset($0).count }
      let signaturePolls = counts.map { 2 * max(1, ($0 + 1023) / 1024) }.reduce(0, +)
      let layers = call.model("model").hiddenLayerIndices.count
      let scoringPolls =
        (layers + (layers > 1 ? 1 : 0)) * (2 + (counts[1] + 511) / 512 + (counts[2] + 511) / 512)
      call.session.progress?.begin("novelty")
      defer { call.session.progress?.end() }
      let polls = countingPolls(
        call, fraction: { Double($0 - 1) / Double(signaturePolls + scoringPolls) },
        detail: "\(NumberFormat.grouped(counts[1] + counts[2])) inputs")
      let reference = try signatures(
        call, model: "model", data: "reference", isCancelled: polls)
      let normal = try signatures(call, model: "model", data: "normal", isCancelled: polls)
      let novel = try signatures(call, model: "model", data: "novel", isCancelled: polls)
      var probabilities: (Tensor, Tensor)?
      var logits: (Tensor, Tensor)?
      typealias Part = (features: Tensor, logits: Tensor)
      var vim: (fit: VirtualLogit, normal: Part, novel: Part)?
      if method == .vim {
        let net = try classifier(call)
        guard let head = net.classifierHead else {
          throw call.failure(
            "vim reads the features a dense output layer takes; \(call.describe("model", fallback: "this network"))'s scores come from another kind of layer",
            blaming: "method", hint: "try method: .energy or .knn")
        }
        func part(_ key: String) -> Part {
          let x = call.dataset(key).features
          return (
            net.hiddenOutputs(x, at: [head.features], pooling: .none)[0], Self.scores(net, x)
          )
        }
        let reference = part("reference")
        let fit = try analysis("reference") { () throws(AnalysisError) in
          try VirtualLogit(
            features: reference.features, logits: reference.logits, weight: head.weight,
            bias: head.bias)
        }
        vim = (fit, part("normal"), part("novel"))
        if call.isCancelled { throw CallFailure("interrupted", kind: .interrupted) }
      } else if method.readsOutputs {
        let net = try classifier(call)
        let isCancelled = call.session.isCancelled
        if method == .softmax {
          probabilities = (
            net.predictedProbabilities(call.dataset("normal").features, isCancelled: isCancelled),
            net.predictedProbabilities(call.dataset("novel").features, isCancelled: isCancelled)
          )
        } else {
          logits = (
            Self.scores(net, call.dataset("normal").features),
            Self.scores(net, call.dataset("novel").features)
          )
        }
        if call.isCancelled { throw CallFailure("interrupted", kind: .interrupted) }
      }
      let chosen = probabilities, chosenLogits = logits, chosenVim = vim
      let result = try analysis("layer") { () throws(AnalysisError) in
        try NoveltyResult(
          method: method, reference: reference, normal: normal, novel: novel,
          neighbours: call.int("k"), seed: call.int("seed"), probabilities: chosen,
          logits: chosenLogits, vim: chosenVim, declared: call.optionalInt("layer"),
          isCancelled: polls)
      }
      guard validates else { return .novelty(result) }
      let validationNormal = try signatures(
        call, model: "model", data: "validation_normal", isCancelled: polls)
      let validationNovel = try signatures(
        call, model: "model", data: "validation_novel", isCancelled: polls)
      let validation = try analysis("validation_normal") { () throws(AnalysisError) in
        try NoveltyResult(
          method: method, reference: reference, normal: validationNormal, novel: validationNovel,
          neighbours: call.int("k"), seed: call.int("seed"), isCancelled: polls)
      }
      return .novelty(result.choosingRow(on: validation))
    },
    FunctionEntry(
      "pca", category: "Projections",
      parameters: [
        .positional(
          "x", .oneOf([.kind(.signatureLayer), .kind(.dataset), .kind(.clustering)]),
          doc: "one signature layer, a dataset, or a one-layer clustering (its clusters are kept)"),
        .labelled(
          "dims", .integer, doc: "the number of components", default: .number(2),
          maximum: CountLimit.width),
      ],
      returns: .kind(.projection),
      summary:
        "Principal component analysis through the covariance matrix and its eigen-decomposition (Householder tridiagonalisation and implicit QL, in Double); components ordered by variance, signs fixed so results are reproducible.",
      example: "flat = pca(sig[2])"
    ) { call in
      let (set, clusters) = try projectionInput(call)
      try call.requireMemory(
        MemoryEstimate.pca(n: set.count, d: set.dimensions, dims: max(0, call.int("dims"))),
        for:
          "pca of \(NumberFormat.grouped(set.count)) points of \(NumberFormat.grouped(set.dimensions)) features",
        advice: "sample the data, or project a narrower layer", blaming: "x")
      // Progress by polls: one per block of 1,024 rows of the covariance, about three per
      // feature in the eigensolver, one per block of trustworthiness rows.
      let d = set.points.rowSize, n = set.count, m = min(n, 5000)
      let trustBlock = max(1, min(m, (1 << 20) / max(1, m)))
      let total = (n + 1023) / 1024 + 3 * d + 2 + (m + trustBlock - 1) / trustBlock
      call.session.progress?.begin("pca")
      defer { call.session.progress?.end() }
      let polls = countingPolls(
        call, fraction: { Double($0 - 1) / Double(total) },
        detail: "\(NumberFormat.grouped(n)) points")
      return .projection(
        try analysis("x") { () throws(AnalysisError) in
          try Projection.pca(set, clusters: clusters, dims: call.int("dims"), isCancelled: polls)
        })
    },
    FunctionEntry(
      "tsne", category: "Projections",
      parameters: [
        .positional(
          "x", .oneOf([.kind(.signatureLayer), .kind(.dataset), .kind(.clustering)]),
          doc: "one signature layer, a dataset, or a one-layer clustering"),
        .labelled(
          "perplexity", .number, doc: "the effective number of neighbours", default: .number(30)),
        .labelled(
          "iterations", .integer, doc: "gradient steps (the first 250 with early exaggeration)",
          default: .number(1000), maximum: CountLimit.steps),
        seedParameter,
      ],
      returns: .kind(.projection),
      summary:
        "t-SNE (van der Maaten and Hinton, 2008): affinities from the 3·perplexity nearest neighbours calibrated by binary search, Barnes–Hut gradients (θ = 0.5), early exaggeration 12, PCA initialisation (which makes the result independent of the seed, as in openTSNE).",
      example: "scatter(tsne(sig[2]), color: .prediction)"
    ) { call in
      let (set, clusters) = try projectionInput(call)
      let perplexity = call.number("perplexity")
      try call.requireMemory(
        MemoryEstimate.tsne(n: set.count, d: set.dimensions, perplexity: perplexity),
        for: "tsne of \(NumberFormat.grouped(set.count)) points",
        advice: "sample the data (subset(data, per_class: 500)) or use a smaller perplexity:",
        blaming: "x")
      return try embedding(call, "tsne", of: set) { progress throws(AnalysisError) in
        try Projection.tsne(
          set, clusters: clusters, perplexity: perplexity, iterations: call.int("iterations"),
          seed: call.int("seed"), progress: progress, isCancelled: call.session.isCancelled)
      }
    },
    FunctionEntry(
      "umap", category: "Projections",
      parameters: [
        .positional(
          "x", .oneOf([.kind(.signatureLayer), .kind(.dataset), .kind(.clustering)]),
          doc: "one signature layer, a dataset, or a one-layer clustering"),
        .labelled(
          "neighbors", .integer, doc: "the size of the neighbourhoods", default: .number(15),
          maximum: CountLimit.neighbours),
        .labelled("min_dist", .number, doc: "how tightly points may pack", default: .number(0.1)),
        seedParameter,
      ],
      returns: .kind(.projection),
      summary:
        "UMAP (McInnes, Healy and Melville, 2018): a fuzzy simplicial set from the nearest neighbours (exact up to 8,192 points, NN-descent above), spectral initialisation, and a seeded single-threaded layout by stochastic gradient descent with negative sampling.",
      example: "scatter(umap(sig[2]), color: .label)"
    ) { call in
      let (set, clusters) = try projectionInput(call)
      let neighbors = call.int("neighbors")
      try call.requireMemory(
        MemoryEstimate.umap(n: set.count, d: set.dimensions, neighbors: neighbors),
        for: "umap of \(NumberFormat.grouped(set.count)) points",
        advice: "sample the data (subset(data, per_class: 500)) or use fewer neighbors:",
        blaming: "x")
      return try embedding(call, "umap", of: set) { progress throws(AnalysisError) in
        try Projection.umap(
          set, clusters: clusters, neighbors: neighbors, minDistance: call.number("min_dist"),
          seed: call.int("seed"), progress: progress, isCancelled: call.session.isCancelled)
      }
    },
  ]

  /// Runs a t-SNE or UMAP of `set` under the session's progress line, turning its errors into
  /// failures of `x`.
  static func embedding(
    _ call: Call, _ method: String, of set: PointSet,
    _ body: (_ progress: @escaping (Double) -> Void) throws(AnalysisError) -> Projection
  ) throws(CallFailure) -> Value {
    let progress = call.session.progress
    progress?.begin(method)
    defer { progress?.end() }
    let points = "\(NumberFormat.grouped(set.count)) points"
    return .projection(
      try analysis("x") { () throws(AnalysisError) in
        try body { progress?.update(fraction: $0, detail: points) }
      })
  }

  /// The points to project and their clusters, if a clustering was given.
  static func projectionInput(_ call: Call) throws(CallFailure) -> (PointSet, [Int]?) {
    switch call.value("x") {
    case .clustering(let c)?:
      guard c.layers.count == 1, let layer = c.layers.first else {
        throw call.failure(
          "project one layer's clustering: clusters[2], not all \(c.layers.count) layers",
          blaming: "x")
      }
      return (layer.points, layer.assignments)
    case .points(let p)?: return (p, nil)
    case .dataset(let d)?: return (PointSet(dataset: d), nil)
    default: throw call.failure("nothing to project", blaming: "x")
    }
  }
}

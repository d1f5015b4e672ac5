import Foundation
import SigbookTensor
import SigbookData
import SigbookAnalysis

extension Catalogue {
  static let seedParameter = Parameter.labelled(
    "seed", .integer, doc: "seeds every random choice (the same seed gives the same result)",
    default: .number(0))

  /// Calls an engine function that throws a data error, as a failure of the call.
  static func engine<T>(_ key: String? = nil, _ body: () throws -> T) throws(CallFailure) -> T {
    do {
      return try body()
    } catch let error as DataError {
      let kind: WorkbookError.Kind
      switch error {
      case .unreadable, .notGzip, .truncatedGzip, .corruptGzip, .badMagic, .tooLarge: kind = .io
      default: kind = .value
      }
      throw failure(error, kind: kind, blaming: key)
    } catch let refusal as MemoryRefusal {
      throw CallFailure(refusal.message, kind: .runtime, parameter: key, hint: refusal.hint)
    } catch is ReadInterrupted {
      // The progress line says where it stopped (`csv stopped at 41%`).
      throw CallFailure("interrupted", kind: .interrupted)
    } catch {
      throw failure(error, blaming: key)
    }
  }

  /// Class names given as numbers (`7`) or texts (`"trouser"`), as texts.
  static func classNames(_ value: Value?) -> [String]? {
    guard case .list(let items)? = value else { return nil }
    return items.map { item in
      if case .text(let t) = item { return t }
      return item.inlineDisplay
    }
  }

  static let classList = Accepts.list(.oneOf([.integer, .kind(.text)]))

  static let data: [FunctionEntry] = [
    FunctionEntry(
      "mnist_sample", category: "Data",
      parameters: [
        .labelled(
          "digits", .list(.integer), doc: "the digits to keep, 0 to 9", defaultText: "all",
          optional: true),
        .labelled(
          "per_class", .integer, doc: "how many images of each digit, drawn at random",
          defaultText: "all (500)", optional: true, maximum: CountLimit.inputs),
        seedParameter,
      ],
      returns: .kind(.dataset),
      summary:
        "The 5,000-image MNIST sample embedded with sigbook (500 images of each digit, 28 × 28 pixels scaled to [0, 1], shaped [1, 28, 28]). Class names are the digits, in ascending order.",
      example: "digits = mnist_sample(digits: [1, 7])"
    ) { call in
      try engine {
        let path = try Dataset.samplePath()
        let sample = try call.session.cachedRead(of: path) { try Dataset.sample(at: path) }
        return .dataset(
          try sample.selecting(
            digits: call.optionalIntList("digits"), perClass: try Catalogue.perClass(call),
            seed: call.int("seed")))
      }
    },
    FunctionEntry(
      "mnist", category: "Data",
      parameters: [
        .labelled(
          "digits", .list(.integer), doc: "the digits to keep", defaultText: "all", optional: true),
        .labelled(
          "per_class", .integer, doc: "how many images of each digit, drawn at random",
          defaultText: "all", optional: true, maximum: CountLimit.inputs),
        .labelled(
          "split", .option(["train", "test"]), doc: "the 60,000 training or 10,000 test images",
          default: .option("train")),
        .labelled(
          "path", .kind(.text), doc: "the folder of the IDX files",
          defaultText: "$SIGBOOK_DATA/mnist",
          optional: true),
        seedParameter,
      ],
      returns: .kind(.dataset),
      summary:
        "The standard MNIST IDX files (train-images-idx3-ubyte[.gz] and the rest) from `path`, else $SIGBOOK_DATA/mnist. Each split reads only its own two files. When they cannot be found the error says where it looked and how to get them.",
      example: "test = mnist(split: .test, digits: [1, 7])"
    ) { call in
      let split: MNISTSplit = call.option("split") == "test" ? .test : .train
      return try engine("path") {
        .dataset(
          try Dataset.mnist(
            digits: call.optionalIntList("digits"), perClass: try Catalogue.perClass(call),
            split: split, path: call.optionalText("path").map(call.session.readPath),
            seed: call.int("seed"), memoryLimit: call.session.memoryLimit,
            isCancelled: call.session.isCancelled))
      }
    },
    FunctionEntry(
      "fashion_mnist", category: "Data",
      parameters: [
        .labelled(
          "classes", classList, doc: "classes by index (0–9) or name (\"trouser\", \"dress\"…)",
          defaultText: "all", optional: true),
        .labelled(
          "per_class", .integer, doc: "how many images of each class, drawn at random",
          defaultText: "all", optional: true, maximum: CountLimit.inputs),
        .labelled(
          "split", .option(["train", "test"]), doc: "the 60,000 training or 10,000 test images",
          default: .option("train")),
        .labelled(
          "path", .kind(.text), doc: "the folder of the IDX files",
          defaultText: "$SIGBOOK_DATA/fashion-mnist", optional: true),
        seedParameter,
      ],
      returns: .kind(.dataset),
      summary:
        "Fashion-MNIST (Zalando): 28 × 28 images of ten kinds of clothing, in MNIST's IDX format, from `path`, $SIGBOOK_DATA/fashion-mnist or /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).",
      example: "clothes = fashion_mnist(classes: [\"trouser\", \"dress\"], split: .test)"
    ) { call in
      let split: MNISTSplit = call.option("split") == "test" ? .test : .train
      let path = call.optionalText("path").map(call.session.readPath)
      let perClass = try Catalogue.perClass(call), seed = call.int("seed")
      return try engine("classes") {
        if case .list(let items)? = call.value("classes"), items.allSatisfy({ $0.kind == .number })
        {
          let indices = items.compactMap { v -> Int? in
            if case .number(let x) = v { Int(x) } else { nil }
          }
          return .dataset(
            try Dataset.fashionMNIST(
              classes: indices, perClass: perClass, split: split, path: path, seed: seed,
              memoryLimit: call.session.memoryLimit, isCancelled: call.session.isCancelled))
        }
        return .dataset(
          try Dataset.fashionMNIST(
            classes: classNames(call.value("classes")), perClass: perClass, split: split,
            path: path, seed: seed, memoryLimit: call.session.memoryLimit,
            isCancelled: call.session.isCancelled))
      }
    },
    FunctionEntry(
      "idx", category: "Data",
      parameters: [
        .labelled("images", .kind(.text), doc: "an IDX image file (ubyte, rank 3), gzip or raw"),
        .labelled("labels", .kind(.text), doc: "the matching IDX label file"),
      ],
      returns: .kind(.dataset),
      summary:
        "Images and labels from any pair of IDX files, as MNIST distributes them. Pixels are scaled to [0, 1]; class names are the distinct labels.",
      example:
        "digits = idx(images: \"t10k-images-idx3-ubyte.gz\", labels: \"t10k-labels-idx1-ubyte.gz\")"
    ) { call in
      // Each file's header says what it holds: that is checked against the memory left before
      // its body is read (a gzip file's own size says little of it).
      try engine("images") {
        .dataset(
          try Dataset.idx(
            images: call.session.readPath(call.text("images")),
            labels: call.session.readPath(call.text("labels")), name: "idx",
            memoryLimit: call.session.memoryLimit, isCancelled: call.session.isCancelled))
      }
    },
    FunctionEntry(
      "csv", category: "Data",
      parameters: [
        .positional("file", .kind(.text), doc: "a CSV file, optionally gzip-compressed"),
        .labelled(
          "label", .kind(.text), doc: "the name of the label column",
          defaultText: "the last column",
          optional: true),
      ],
      returns: .kind(.dataset),
      summary:
        "A dataset from a CSV file (optionally .gz): one input per row, every column but the label a feature. A header row is detected; without one the label is the last column.",
      example: "points = csv(\"points.csv\", label: \"class\")"
    ) { call in
      // The text is parsed as it is read (and inflated), and what the rows take is checked
      // against the memory left as they come: the file's size says little of it (a gzip file,
      // a narrow file of many short rows).
      let path = call.session.readPath(call.text("file")), progress = call.session.progress
      progress?.begin("csv")
      defer { progress?.end() }
      return try engine("file") {
        .dataset(
          try Dataset.csv(
            path: path, label: call.optionalText("label"), memoryLimit: call.session.memoryLimit,
            isCancelled: call.session.isCancelled,
            progress: { progress?.update(fraction: $0, detail: "reading '\(call.text("file"))'") }
          ))
      }
    },
    FunctionEntry(
      "npy", category: "Data",
      parameters: [
        .positional("file", .kind(.text), doc: "a .npy array of inputs [N, …], any shape, C order"),
        .labelled(
          "labels", .kind(.text), doc: "a .npy vector of N whole-number labels",
          defaultText: "none (one class 'all')", optional: true),
      ],
      returns: .kind(.dataset),
      summary:
        "A dataset from NumPy arrays saved with np.save: float32, float64, int32, int64 or uint8, little-endian, C order, any shape (the first dimension counts the inputs). uint8 values are pixels and are scaled to [0, 1]; others are kept as they are. The distinct labels, sorted, are the class names.",
      example: "shirts = npy(\"x.npy\", labels: \"y.npy\")"
    ) { call in
      // As for idx: the header's shape is checked against the memory left, not the file's size.
      try engine("file") {
        .dataset(
          try Dataset.npy(
            features: call.session.readPath(call.text("file")),
            labels: call.optionalText("labels").map(call.session.readPath),
            memoryLimit: call.session.memoryLimit, isCancelled: call.session.isCancelled))
      }
    },
    FunctionEntry(
      "synthetic", category: "Data",
      parameters: [
        .positional(
          "kind", .option(SyntheticKind.allCases.map(\.rawValue)),
          doc: "the shape of the two classes"),
        .labelled("n", .integer, doc: "the number of points", default: .number(1000)),
        .labelled("sigma", .number, doc: "the spread of each blob", default: .number(0.1)),
        .labelled(
          "epsilon", .number, doc: "the fraction of labels flipped at random", default: .number(0)),
        .labelled(
          "spread", .number,
          doc: "how many times wider class 1's blobs are than class 0's: a widely spread class",
          default: .number(1)),
        seedParameter,
      ],
      returns: .kind(.dataset),
      summary:
        "A 2-D toy dataset of two classes: two Gaussian blobs, four blobs in an XOR pattern, or a checkerboard; `epsilon` flips that fraction of the labels; `spread` widens class 1's blobs.",
      example: "xor = synthetic(.four_gaussians, n: 400, sigma: 0.2)"
    ) { call in
      let kind = SyntheticKind(rawValue: call.option("kind")) ?? .twoGaussians
      // Beyond what a dataset may hold, `Dataset.synthetic` gives its own message.
      let n = call.int("n")
      if n <= DataLimits.values / 2 {
        try call.requireMemory(
          MemoryEstimate.dataset(n: n, features: 2),
          for: "synthetic data of \(NumberFormat.grouped(n)) points",
          advice: "use fewer points (n:)",
          blaming: "n")
      }
      return try engine {
        .dataset(
          try Dataset.synthetic(
            kind, n: call.int("n"), sigma: call.number("sigma"), epsilon: call.number("epsilon"),
            spread: call.number("spread"),
            seed: call.int("seed")))
      }
    },
    FunctionEntry(
      "subset", category: "Data",
      parameters: [
        .positional("data", .kind(.dataset), doc: "the dataset"),
        .labelled(
          "classes", classList, doc: "the classes to keep, by name (or number)", defaultText: "all",
          optional: true),
        .labelled(
          "except", classList, doc: "the classes to leave out, by name (or number)",
          defaultText: "none", optional: true),
        .labelled(
          "per_class", .integer, doc: "how many inputs of each class, drawn at random",
          defaultText: "all", optional: true, maximum: CountLimit.inputs),
        seedParameter,
      ],
      returns: .kind(.dataset),
      summary:
        "Some classes of a dataset — those in `classes`, or all but those in `except` — and a random sample of each; classes are renumbered but keep their names.",
      example: "known = subset(digits, except: [3, 4])"
    ) { call in
      let d = call.dataset("data")
      func indices(_ key: String) throws(CallFailure) -> [Int]? {
        guard let names = classNames(call.value(key)) else { return nil }
        return try names.map { name throws(CallFailure) in
          guard let i = d.classIndex(named: name) else {
            throw call.failure(
              "\(call.describe("data", fallback: "the dataset")) has no class '\(name)' (its classes: \(d.classNames.joined(separator: ", ")))",
              blaming: key)
          }
          return i
        }
      }
      var chosen = try indices("classes")
      if let left = try indices("except") {
        guard chosen == nil else {
          throw call.failure("give either classes: or except:, not both", blaming: "except")
        }
        let kept = (0..<d.classCount).filter { !left.contains($0) }
        guard !kept.isEmpty else {
          throw call.failure(
            "except: leaves out every class of \(call.describe("data", fallback: "the dataset"))",
            blaming: "except")
        }
        chosen = kept
      }
      return try engine {
        .dataset(
          try d.subset(
            classes: chosen, perClass: try Catalogue.perClass(call), seed: call.int("seed")))
      }
    },
    FunctionEntry(
      "split", category: "Data",
      parameters: [
        .positional("data", .kind(.dataset), doc: "the dataset"),
        .labelled("test", .number, doc: "the fraction held out for testing", default: .number(0.2)),
        seedParameter,
      ],
      returns: .list(.kind(.dataset)),
      summary:
        "Splits a dataset into training and test parts, stratified: each class is split in the same proportion. Assign both at once.",
      example: "train, test = split(digits, test: 0.2, seed: 7)"
    ) { call in
      let d = call.dataset("data")
      let (train, test) = try engine("test") {
        try d.split(testFraction: call.number("test"), seed: call.int("seed"))
      }
      return .list([.dataset(train), .dataset(test)])
    },
    FunctionEntry(
      "concat", category: "Data",
      parameters: [
        .positional(
          "data", .kind(.dataset), doc: "two or more datasets of the same feature shape",
          variadic: true)
      ],
      returns: .kind(.dataset),
      summary: "Joins datasets input after input; classes with the same name are merged.",
      example: "both = concat(ones, sevens)"
    ) { call in
      let sets = call.variadic.compactMap { v -> Dataset? in
        if case .dataset(let d) = v { d } else { nil }
      }
      guard !sets.isEmpty else { throw call.failure("concat needs at least one dataset") }
      return try engine("data") { .dataset(try Dataset.concatenate(sets)) }
    },
    FunctionEntry(
      "noise", category: "Data",
      parameters: [
        .positional("data", .kind(.dataset), doc: "the dataset"),
        .labelled(
          "sigma", .number,
          doc: "the standard deviation of the Gaussian noise added to every feature"),
        seedParameter,
      ],
      returns: .kind(.dataset),
      summary: "The dataset with Gaussian noise added to every feature (not clipped).",
      example: "noisy = noise(test, sigma: 0.3)"
    ) { call in
      let d = call.dataset("data")
      // A copy of the features is made: checked before it is.
      try call.requireMemory(
        MemoryEstimate.product(4, d.features.count),
        for: "noise on \(call.describe("data", fallback: "the data"))",
        advice: "keep fewer copies of the data", blaming: "data")
      return try engine("sigma") {
        .dataset(try d.noise(sigma: call.number("sigma"), seed: call.int("seed")))
      }
    },
    FunctionEntry(
      "resize", category: "Data",
      parameters: [
        .positional("data", .kind(.dataset), doc: "a dataset of images"),
        .labelled(
          "height", .integer, doc: "the new height, in pixels",
          maximum: Dataset.maxResizedSide),
        .labelled(
          "width", .integer, doc: "the new width, in pixels", defaultText: "height (a square)",
          optional: true, maximum: Dataset.maxResizedSide),
      ],
      returns: .kind(.dataset),
      summary:
        "The dataset with every image resampled to `height` × `width` pixels, labels and classes kept: MNIST's 28 × 28 digits at USPS's 16 × 16, say. An axis that shrinks is area-averaged — each new pixel the mean of the input area it covers, partly covered pixels weighted by the part covered (OpenCV's `INTER_AREA`; for a whole factor, 28 → 14, the mean of each block, as Pillow's `BOX`) —; an axis that grows is interpolated linearly between the two nearest pixels, centres aligned (PyTorch's `interpolate(mode: \"bilinear\", align_corners: False)`, edges clamped). Every channel is resampled alike; vectors of a square number of values (784) are taken as square images and stay vectors.",
      example: "usps_sized = resize(mnist_sample(), height: 16, width: 16)"
    ) { call in
      let d = call.dataset("data")
      let height = call.int("height")
      let width = call.optionalInt("width") ?? height
      for (key, side) in [("height", height), ("width", width)] where side < 1 {
        throw call.failure("\(key): must be at least 1 pixel, not \(side)", blaming: key)
      }
      let perImage = MemoryEstimate.product(height, width, max(1, d.featureShape.first ?? 1))
      try call.requireMemory(
        MemoryEstimate.product(4, d.count, perImage),
        for:
          "\(NumberFormat.grouped(d.count)) images of \(height) × \(width) pixels",
        advice: "resize fewer inputs (subset(data, per_class: …)) or to a smaller size",
        blaming: "height")
      return try engine("data") { .dataset(try d.resized(height: height, width: width)) }
    },
    FunctionEntry(
      "where", category: "Data",
      parameters: [
        .positional("data", .kind(.dataset), doc: "the dataset"),
        .labelled(
          "label", .oneOf([.integer, .kind(.text)]), doc: "keep inputs of this class (by name)",
          defaultText: "any", optional: true),
        .labelled(
          "predicted", .kind(.model), doc: "a classifier whose predictions select inputs",
          defaultText: "none", optional: true),
        .labelled(
          "as", .oneOf([.integer, .kind(.text)]),
          doc:
            "with predicted:, keep inputs classified as this class; without it, keep the misclassified ones",
          defaultText: "misclassified", optional: true),
        .labelled(
          "clusters", .kind(.clustering),
          doc: "a clustering of the signatures of these very inputs (same inputs, same order)",
          defaultText: "none", optional: true),
        .labelled(
          "path", .kind(.text),
          doc:
            "with clusters:, keep inputs on this path (\"L1:c0 → L2:c1\", `->` too; naming some layers only is allowed)",
          defaultText: "none", optional: true),
        .labelled(
          "layer", .integer,
          doc:
            "with clusters: and cluster:, the layer (1 = H1; may be left out for a one-layer clustering); with novelty:, the layer whose scores are read",
          defaultText: "all layers", optional: true),
        .labelled(
          "cluster", .integer, doc: "with clusters:, keep inputs in this cluster of layer:",
          defaultText: "none", optional: true),
        .labelled(
          "novelty", .kind(.novelty),
          doc: "a novelty result whose scores select inputs (with above:, below: or top:)",
          defaultText: "none", optional: true),
        .labelled(
          "among", .option(NoveltyResult.Group.allCases.map(\.rawValue)),
          doc: "with novelty:, whether data is the result's novel: or normal: dataset",
          default: .option("novel")),
        .labelled(
          "above", .number, doc: "with novelty:, keep inputs scored above this",
          defaultText: "none", optional: true),
        .labelled(
          "below", .number, doc: "with novelty:, keep inputs scored below this",
          defaultText: "none", optional: true),
        .labelled(
          "top", .integer,
          doc: "with novelty:, keep the N inputs scored most unusual, most unusual first",
          defaultText: "all", optional: true, maximum: CountLimit.inputs),
      ],
      returns: .kind(.dataset),
      summary:
        "The inputs of a dataset that meet every condition given: of class `label`; with `predicted: net`, those the network classifies as class `as` (the 7s it called 1: `label: 7, predicted: net, as: 1`), or, without `as`, those it gets wrong; with `clusters: c`, those on a cluster path (`path: \"L1:c0 → L2:c0\"`) or in one cluster (`layer: 1, cluster: 0`) — c must cluster the signatures of these same inputs; with `novelty: result`, those whose novelty score (all layers together, or layer `layer`; higher is more unusual) is `above` or `below` a threshold, or the `top` N most unusual, most unusual first. With novelty:, data must be the result's novel: dataset (or its normal: one, with `among: .normal`). `top` is applied last, to the inputs meeting the other conditions.",
      example: "odd_sevens = where(test, label: 7, predicted: net, as: 1)"
    ) { call in
      let d = call.dataset("data")
      let name = call.describe("data", fallback: "the dataset")
      func className(_ key: String) -> String? {
        call.value(key).map { v in if case .text(let t) = v { t } else { v.inlineDisplay } }
      }
      var keep = Array(0..<d.count)
      if let label = className("label") {
        guard let i = d.classIndex(named: label) else {
          throw call.failure(
            "\(name) has no class '\(label)' (its classes: \(d.classNames.joined(separator: ", ")))",
            blaming: "label")
        }
        keep = keep.filter { d.labels[$0] == i }
      }
      if case .clustering(let c)? = call.value("clusters") {
        let members = try clusterMembers(call, c, data: d, name: name)
        keep = keep.filter { members.contains($0) }
      } else {
        for key in ["path", "cluster"] where call.value(key) != nil {
          throw call.failure("\(key): needs clusters: a clustering", blaming: key)
        }
      }
      if let net = call.optionalModel("predicted") {
        guard net.task == .classification else {
          throw call.failure("predicted: needs a classifier", blaming: "predicted")
        }
        do { try net.validate(inputs: d.features, labels: nil, dataName: name) } catch {
          throw call.failure(String(describing: error), blaming: "predicted")
        }
        let modelNames = net.outputClassNames
        let chosen = d.rows(at: keep)
        let predicted = net.predictedClasses(chosen.features).map {
          $0 < modelNames.count ? modelNames[$0] : "\($0)"
        }
        if let target = className("as") {
          guard modelNames.contains(target) else {
            throw call.failure(
              "the network has no class '\(target)' (its classes: \(modelNames.joined(separator: ", ")))",
              blaming: "as")
          }
          keep = predicted.indices.filter { predicted[$0] == target }.map { keep[$0] }
        } else {
          keep = predicted.indices.filter { predicted[$0] != d.classNames[chosen.labels[$0]] }.map {
            keep[$0]
          }
        }
      } else if call.value("as") != nil {
        throw call.failure("as: needs predicted: a network", blaming: "as")
      }
      if call.value("layer") != nil, call.value("clusters") == nil, call.value("novelty") == nil {
        throw call.failure("layer: needs clusters: or novelty:", blaming: "layer")
      }
      if case .novelty(let n)? = call.value("novelty") {
        keep = try noveltySelection(call, n, data: d, name: name, among: keep)
      } else {
        for key in ["above", "below", "top"] where call.value(key) != nil {
          throw call.failure("\(key): needs novelty: a novelty result", blaming: key)
        }
      }
      return .dataset(d.rows(at: keep))
    },
  ]
}

extension Catalogue {
  /// Refuses a selection whose clustering or novelty result was computed on other inputs than
  /// `data`: a different count, or another class at some position.
  static func checkSameInputs(
    _ call: Call, data: Dataset, name: String, labels: [String], computed: String,
    kind: String = "",
    key: String, hint: String
  ) throws(CallFailure) {
    guard labels.count == data.count else {
      throw call.failure(
        "\(computed) \(labels.count) \(kind)input\(labels.count == 1 ? "" : "s") but \(name) has \(data.count)",
        blaming: key, hint: hint)
    }
    if let i = labels.indices.first(where: { labels[$0] != data.classNames[data.labels[$0]] }) {
      throw call.failure(
        "\(computed) other \(kind)inputs than \(name): input \(i) is a '\(labels[i])' there but a '\(data.classNames[data.labels[i]])' here",
        blaming: key, hint: hint)
    }
  }

  /// The inputs (by index, as a set) that `where`'s `path:` or `layer:`/`cluster:` select.
  static func clusterMembers(_ call: Call, _ c: Clustering, data: Dataset, name: String)
    throws(CallFailure) -> Set<Int>
  {
    let labels =
      c.layers.first.map { layer in layer.points.labels.map { layer.points.classNames[$0] } } ?? []
    try checkSameInputs(
      call, data: data, name: name, labels: labels, computed: "the clustering was computed on",
      key: "clusters",
      hint: "cluster the signatures of the same data: kmeans(signatures(net, data))")
    if let path = call.optionalText("path") {
      for key in ["layer", "cluster"] where call.value(key) != nil {
        throw call.failure("give either path: or \(key):, not both", blaming: key)
      }
      return Set(
        try analysis("path") { () throws(AnalysisError) in try c.inputs(onPath: path) })
    }
    guard let cluster = call.optionalInt("cluster") else {
      throw call.failure(
        "clusters: needs path: (\"L1:c0 → L2:c1\") or cluster: (with layer:) to select inputs",
        blaming: "clusters")
    }
    let numbers = c.layerNumbers
    let layer: Int
    if let given = call.optionalInt("layer") {
      layer = given
    } else if numbers.count == 1, let only = numbers.first {
      layer = only
    } else {
      throw call.failure(
        "cluster: needs layer: (the clustering has layers \(numbers.map(String.init).joined(separator: ", ")))",
        blaming: "cluster")
    }
    // The layer first, so that a layer that does not exist is blamed on layer:.
    _ = try analysis("layer") { () throws(AnalysisError) in try c.layerIndex(number: layer) }
    return Set(
      try analysis("cluster") { () throws(AnalysisError) in
        try c.inputs(layer: layer, cluster: cluster)
      })
  }

  /// The inputs among `candidates` that `where`'s `novelty:` with `above:`, `below:` or `top:`
  /// keeps.
  static func noveltySelection(
    _ call: Call, _ n: NoveltyResult, data: Dataset, name: String, among candidates: [Int]
  ) throws(CallFailure) -> [Int] {
    let group = NoveltyResult.Group(rawValue: call.option("among")) ?? .novel
    try checkSameInputs(
      call, data: data, name: name, labels: n.labels(of: group),
      computed: "the novelty result scored", kind: "\(group.rawValue) ", key: "novelty",
      hint: group == .novel
        ? "select from the dataset given as novel:, or from normal: with among: .normal"
        : "select from the dataset given as normal:")
    let above = call.optionalNumber("above"), below = call.optionalNumber("below")
    let top = call.optionalInt("top")
    if let top, top < 0 {
      throw call.failure("top: must be at least 0, not \(top)", blaming: "top")
    }
    guard above != nil || below != nil || top != nil else {
      throw call.failure(
        "novelty: needs above:, below: or top: to select inputs", blaming: "novelty")
    }
    if call.value("clusters") != nil, call.value("layer") != nil {
      throw call.failure(
        "layer: is ambiguous with both clusters: and novelty:; select in two steps",
        blaming: "layer")
    }
    return try analysis("layer") { () throws(AnalysisError) in
      try n.inputs(
        group, layer: call.optionalInt("layer"), above: above, below: below, top: top,
        among: candidates)
    }
  }
}

extension Catalogue {
  /// The `per_class:` count, refused by its label when negative.
  static func perClass(_ call: Call) throws -> Int? {
    guard let count = call.optionalInt("per_class") else { return nil }
    guard count >= 0 else {
      throw call.failure("per_class must be at least 0, not \(count)", blaming: "per_class")
    }
    return count
  }
}

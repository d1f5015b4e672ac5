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
      case .unreadable, .notGzip, .truncatedGzip, .corruptGzip, .badMagic: kind = .io
      default: kind = .value
      }
      throw failure(error, kind: kind, blaming: key)
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

  static let classList = Accepts.list(.oneOf([.integer, .text]))

  static let data: [FunctionEntry] = [
    FunctionEntry(
      "mnist_sample", category: "Data",
      parameters: [
        .labelled("digits", .list(.integer), doc: "the digits to keep, 0 to 9", defaultText: "all", optional: true),
        .labelled("per_class", .integer, doc: "how many images of each digit, drawn at random", defaultText: "all (500)", optional: true),
        seedParameter,
      ],
      returns: .dataset,
      summary: "The 5,000-image MNIST sample embedded with sigbook (500 images of each digit, 28 × 28 pixels scaled to [0, 1], shaped [1, 28, 28]). Class names are the digits, in ascending order.",
      example: "digits = mnist_sample(digits: [1, 7])"
    ) { call in
      try engine {
        .dataset(
          try Dataset.mnistSample(
            digits: call.optionalIntList("digits"), perClass: call.optionalInt("per_class"),
            seed: call.int("seed")))
      }
    },
    FunctionEntry(
      "mnist", category: "Data",
      parameters: [
        .labelled("digits", .list(.integer), doc: "the digits to keep", defaultText: "all", optional: true),
        .labelled("per_class", .integer, doc: "how many images of each digit, drawn at random", defaultText: "all", optional: true),
        .labelled("split", .option(["train", "test"]), doc: "the 60,000 training or 10,000 test images", default: .option("train")),
        .labelled("path", .text, doc: "the folder of the IDX files", defaultText: "$SIGBOOK_DATA/mnist", optional: true),
        seedParameter,
      ],
      returns: .dataset,
      summary: "The standard MNIST IDX files (train-images-idx3-ubyte[.gz] and the rest) from `path`, else $SIGBOOK_DATA/mnist. Each split reads only its own two files. When they cannot be found the error says where it looked and how to get them.",
      example: "test = mnist(split: .test, digits: [1, 7])"
    ) { call in
      let split: MNISTSplit = call.option("split") == "test" ? .test : .train
      return try engine("path") {
        .dataset(
          try Dataset.mnist(
            digits: call.optionalIntList("digits"), perClass: call.optionalInt("per_class"),
            split: split, path: call.optionalText("path").map(call.session.readPath),
            seed: call.int("seed")))
      }
    },
    FunctionEntry(
      "fashion_mnist", category: "Data",
      parameters: [
        .labelled("classes", classList, doc: "classes by index (0–9) or name (\"trouser\", \"dress\"…)", defaultText: "all", optional: true),
        .labelled("per_class", .integer, doc: "how many images of each class, drawn at random", defaultText: "all", optional: true),
        .labelled("split", .option(["train", "test"]), doc: "the 60,000 training or 10,000 test images", default: .option("train")),
        .labelled("path", .text, doc: "the folder of the IDX files", defaultText: "$SIGBOOK_DATA/fashion-mnist", optional: true),
        seedParameter,
      ],
      returns: .dataset,
      summary: "Fashion-MNIST (Zalando): 28 × 28 images of ten kinds of clothing, in MNIST's IDX format, from `path`, $SIGBOOK_DATA/fashion-mnist or /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).",
      example: "clothes = fashion_mnist(classes: [\"trouser\", \"dress\"], split: .test)"
    ) { call in
      let split: MNISTSplit = call.option("split") == "test" ? .test : .train
      let path = call.optionalText("path").map(call.session.readPath)
      let perClass = call.optionalInt("per_class"), seed = call.int("seed")
      return try engine("classes") {
        if case .list(let items)? = call.value("classes"), items.allSatisfy({ $0.kind == .number }) {
          let indices = items.compactMap { v -> Int? in if case .number(let x) = v { Int(x) } else { nil } }
          return .dataset(
            try Dataset.fashionMNIST(classes: indices, perClass: perClass, split: split, path: path, seed: seed))
        }
        return .dataset(
          try Dataset.fashionMNIST(
            classes: classNames(call.value("classes")), perClass: perClass, split: split, path: path,
            seed: seed))
      }
    },
    FunctionEntry(
      "idx", category: "Data",
      parameters: [
        .labelled("images", .text, doc: "an IDX image file (ubyte, rank 3), gzip or raw"),
        .labelled("labels", .text, doc: "the matching IDX label file"),
      ],
      returns: .dataset,
      summary: "Images and labels from any pair of IDX files, as MNIST distributes them. Pixels are scaled to [0, 1]; class names are the distinct labels.",
      example: "digits = idx(images: \"t10k-images-idx3-ubyte.gz\", labels: \"t10k-labels-idx1-ubyte.gz\")"
    ) { call in
      try engine("images") {
        .dataset(
          try Dataset.idx(
            images: call.session.readPath(call.text("images")),
            labels: call.session.readPath(call.text("labels")), name: "idx"))
      }
    },
    FunctionEntry(
      "csv", category: "Data",
      parameters: [
        .positional("file", .text, doc: "a CSV file, optionally gzip-compressed"),
        .labelled("label", .text, doc: "the name of the label column", defaultText: "the last column", optional: true),
      ],
      returns: .dataset,
      summary: "A dataset from a CSV file (optionally .gz): one input per row, every column but the label a feature. A header row is detected; without one the label is the last column.",
      example: "points = csv(\"points.csv\", label: \"class\")"
    ) { call in
      try engine("file") {
        .dataset(try Dataset.csv(path: call.session.readPath(call.text("file")), label: call.optionalText("label")))
      }
    },
    FunctionEntry(
      "synthetic", category: "Data",
      parameters: [
        .positional("kind", .option(SyntheticKind.allCases.map(\.rawValue)), doc: "the shape of the two classes"),
        .labelled("n", .integer, doc: "the number of points", default: .number(1000)),
        .labelled("sigma", .number, doc: "the spread of each blob", default: .number(0.1)),
        .labelled("epsilon", .number, doc: "the fraction of labels flipped at random", default: .number(0)),
        seedParameter,
      ],
      returns: .dataset,
      summary: "A 2-D toy dataset of two classes: two Gaussian blobs, four blobs in an XOR pattern, or a checkerboard; `epsilon` flips that fraction of the labels.",
      example: "xor = synthetic(.four_gaussians, n: 400, sigma: 0.2)"
    ) { call in
      let kind = SyntheticKind(rawValue: call.option("kind")) ?? .twoGaussians
      return try engine {
        .dataset(
          try Dataset.synthetic(
            kind, n: call.int("n"), sigma: call.number("sigma"), epsilon: call.number("epsilon"),
            seed: call.int("seed")))
      }
    },
    FunctionEntry(
      "subset", category: "Data",
      parameters: [
        .positional("data", .dataset, doc: "the dataset"),
        .labelled("classes", classList, doc: "the classes to keep, by name (or number)", defaultText: "all", optional: true),
        .labelled("per_class", .integer, doc: "how many inputs of each class, drawn at random", defaultText: "all", optional: true),
        seedParameter,
      ],
      returns: .dataset,
      summary: "Some classes of a dataset and a random sample of each; classes are renumbered but keep their names.",
      example: "small = subset(digits, classes: [3, 8], per_class: 100)"
    ) { call in
      let d = call.dataset("data")
      var indices: [Int]?
      if let names = classNames(call.value("classes")) {
        indices = try names.map { name throws(CallFailure) in
          guard let i = d.classIndex(named: name) else {
            throw call.failure(
              "\(call.describe("data", fallback: "the dataset")) has no class '\(name)' (its classes: \(d.classNames.joined(separator: ", ")))",
              blaming: "classes")
          }
          return i
        }
      }
      let chosen = indices
      return try engine { .dataset(try d.subset(classes: chosen, perClass: call.optionalInt("per_class"), seed: call.int("seed"))) }
    },
    FunctionEntry(
      "split", category: "Data",
      parameters: [
        .positional("data", .dataset, doc: "the dataset"),
        .labelled("test", .number, doc: "the fraction held out for testing", default: .number(0.2)),
        seedParameter,
      ],
      returns: .list(.dataset),
      summary: "Splits a dataset into training and test parts, stratified: each class is split in the same proportion. Assign both at once.",
      example: "train, test = split(digits, test: 0.2, seed: 7)"
    ) { call in
      let d = call.dataset("data")
      let (train, test) = try engine("test") { try d.split(testFraction: call.number("test"), seed: call.int("seed")) }
      return .list([.dataset(train), .dataset(test)])
    },
    FunctionEntry(
      "concat", category: "Data",
      parameters: [.positional("data", .dataset, doc: "two or more datasets of the same feature shape", variadic: true)],
      returns: .dataset,
      summary: "Joins datasets input after input; classes with the same name are merged.",
      example: "both = concat(ones, sevens)"
    ) { call in
      let sets = call.variadic.compactMap { v -> Dataset? in if case .dataset(let d) = v { d } else { nil } }
      guard !sets.isEmpty else { throw call.failure("concat needs at least one dataset") }
      return try engine("data") { .dataset(try Dataset.concatenate(sets)) }
    },
    FunctionEntry(
      "noise", category: "Data",
      parameters: [
        .positional("data", .dataset, doc: "the dataset"),
        .labelled("sigma", .number, doc: "the standard deviation of the Gaussian noise added to every feature"),
        seedParameter,
      ],
      returns: .dataset,
      summary: "The dataset with Gaussian noise added to every feature (not clipped).",
      example: "noisy = noise(test, sigma: 0.3)"
    ) { call in
      let d = call.dataset("data")
      return try engine("sigma") { .dataset(try d.noise(sigma: call.number("sigma"), seed: call.int("seed"))) }
    },
    FunctionEntry(
      "where", category: "Data",
      parameters: [
        .positional("data", .dataset, doc: "the dataset"),
        .labelled("label", .oneOf([.integer, .text]), doc: "keep inputs of this class (by name)", defaultText: "any", optional: true),
        .labelled("predicted", .model, doc: "a classifier whose predictions select inputs", defaultText: "none", optional: true),
        .labelled("as", .oneOf([.integer, .text]), doc: "with predicted:, keep inputs classified as this class; without it, keep the misclassified ones", defaultText: "misclassified", optional: true),
      ],
      returns: .dataset,
      summary: "The inputs of a dataset that meet every condition given: of class `label`, and — with `predicted: net` — those the network classifies as class `as`, or, without `as`, those it gets wrong.",
      example: "odd_sevens = where(test, label: 7, predicted: net)"
    ) { call in
      var d = call.dataset("data")
      let name = call.describe("data", fallback: "the dataset")
      func className(_ key: String) -> String? { call.value(key).map { v in if case .text(let t) = v { t } else { v.inlineDisplay } } }
      if let label = className("label") {
        guard let i = d.classIndex(named: label) else {
          throw call.failure("\(name) has no class '\(label)' (its classes: \(d.classNames.joined(separator: ", ")))", blaming: "label")
        }
        d = d.filter(label: i)
      }
      if let net = call.optionalModel("predicted") {
        guard net.task == .classification else { throw call.failure("predicted: needs a classifier", blaming: "predicted") }
        do { try net.validate(inputs: d.features, labels: nil, dataName: name) } catch {
          throw call.failure(String(describing: error), blaming: "predicted")
        }
        let modelNames = net.classNames ?? (0..<net.classCount).map(String.init)
        let predicted = net.predictedClasses(d.features).map { $0 < modelNames.count ? modelNames[$0] : "\($0)" }
        let keep: [Int]
        if let target = className("as") {
          guard modelNames.contains(target) else {
            throw call.failure("the network has no class '\(target)' (its classes: \(modelNames.joined(separator: ", ")))", blaming: "as")
          }
          keep = predicted.indices.filter { predicted[$0] == target }
        } else {
          keep = predicted.indices.filter { predicted[$0] != d.classNames[d.labels[$0]] }
        }
        d = d.rows(at: keep)
      } else if call.value("as") != nil {
        throw call.failure("as: needs predicted: a network", blaming: "as")
      }
      return .dataset(d)
    },
  ]
}

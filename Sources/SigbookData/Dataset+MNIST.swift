import Foundation
import SigbookTensor

/// Which half of MNIST or Fashion-MNIST to read: 60,000 training or 10,000 test images.
public enum MNISTSplit: String, Sendable, CaseIterable {
  /// The training images, files `train-images-idx3-ubyte` and `train-labels-idx1-ubyte`.
  case train
  /// The test images, files `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`.
  case test

  /// The prefix of the split's file names.
  var filePrefix: String { self == .train ? "train" : "t10k" }
}

extension Dataset {
  /// The names of the ten Fashion-MNIST classes, by label value.
  static let fashionMNISTClassNames = [
    "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
    "ankle boot",
  ]

  /// The MNIST sample embedded with sigbook: 5,000 training images, 500 per digit.
  ///
  /// Read from `Data/mnist_5k.csv.gz` (784 pixel values 0–255 then the digit, one image a line)
  /// and found, in this order, at `$SIGBOOK_SAMPLE`, next to the executable
  /// (`../../Data/`, `../../../Data/` and `../share/sigbook/` from its folder, which cover
  /// `.build/release/`, `.build/<triple>/release/` and an installed `bin/`), and in the source
  /// checkout sigbook was built from. It is parsed on every call (about a tenth of a second)
  /// rather than cached, so the engine holds no global state.
  ///
  /// Pixels are scaled to [0, 1] and images shaped `[N, 1, 28, 28]`; the classes are the chosen
  /// digits in ascending order (`digits: [7, 1]` gives `["1", "7"]`, labels 0 and 1).
  ///
  /// - Parameters:
  ///   - digits: the digits to keep; `nil` keeps all ten.
  ///   - perClass: the number of images of each digit, a seeded random sample kept in file
  ///     order; `nil` keeps all 500.
  ///   - seed: the seed of the sample.
  /// - Throws: `DataError.notFound` listing the places looked when the file is nowhere,
  ///   `DataError.invalidArgument` for a digit outside 0…9 or `perClass` above 500, and the
  ///   errors of `Dataset.csv(path:label:)`.
  static func mnistSample(digits: [Int]? = nil, perClass: Int? = nil, seed: Int = 0)
    throws -> Dataset
  {
    try mnistSample(
      digits: digits, perClass: perClass, seed: seed,
      environment: ProcessInfo.processInfo.environment)
  }

  static func mnistSample(
    digits: [Int]?, perClass: Int?, seed: Int, environment: [String: String]
  ) throws -> Dataset {
    try sample(at: locateSample(environment: environment))
      .selecting(digits: digits, perClass: perClass, seed: seed)
  }

  /// The embedded sample's path (`$SIGBOOK_SAMPLE`, else beside the executable or the
  /// checkout).
  ///
  /// - Throws: `DataError.notFound` listing the places looked.
  public static func samplePath() throws -> String {
    try locateSample(environment: ProcessInfo.processInfo.environment)
  }

  /// All 5,000 images of the sample file at `path`, shaped and scaled as `mnistSample` gives
  /// them.
  public static func sample(at path: String) throws -> Dataset {
    var sample = try Dataset.csv(path: path)
      .reshapedAsImages(channels: 1, height: 28, width: 28, dividedBy: 255)
    sample.name = "mnist_sample"
    return sample
  }

  /// The file name of the embedded sample.
  static let sampleFileName = "mnist_5k.csv.gz"

  /// The root of the checkout sigbook was built from, if it is still there (it holds `Data/`
  /// and `Workbooks/`).
  public static var repositoryRoot: String? {
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { root.deleteLastPathComponent() }
    return FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path)
      ? root.path : nil
  }

  /// Where the embedded sample may be, in the order tried.
  ///
  /// - Parameters:
  ///   - environment: the process environment (`SIGBOOK_SAMPLE`).
  ///   - executables: paths of the running executable (`argv[0]`, `/proc/self/exe`).
  ///   - sourceFile: this source file, whose checkout holds `Data/`.
  static func sampleCandidates(
    environment: [String: String], executables: [String], sourceFile: String = #filePath
  ) -> [String] {
    var candidates: [String] = []
    if let path = environment["SIGBOOK_SAMPLE"], !path.isEmpty { candidates.append(path) }
    for executable in executables {
      let url = URL(fileURLWithPath: executable)
      for exe in [url, url.resolvingSymlinksInPath()] {
        let folder = exe.deletingLastPathComponent()
        for relative in ["../../Data/", "../../../Data/", "../share/sigbook/"] {
          candidates.append(
            folder.appendingPathComponent(relative + sampleFileName).standardizedFileURL.path)
        }
      }
    }
    // Sources/SigbookData/Dataset+MNIST.swift → the checkout's root.
    var root = URL(fileURLWithPath: sourceFile)
    for _ in 0..<3 { root.deleteLastPathComponent() }
    candidates.append(root.appendingPathComponent("Data/" + sampleFileName).path)
    var seen: Set<String> = []
    return candidates.filter { seen.insert($0).inserted }
  }

  /// The first candidate file that exists, or an error listing them all.
  static func locateSample(environment: [String: String]) throws -> String {
    var executables: [String] = []
    if let argument = CommandLine.arguments.first, argument.contains("/") {
      executables.append(argument)
    }
    if let path = Bundle.main.executablePath { executables.append(path) }
    let candidates = sampleCandidates(environment: environment, executables: executables)
    if let found = candidates.first(where: isFile) { return found }
    var looked = candidates.map { "'\($0)'" }
    if environment["SIGBOOK_SAMPLE"]?.isEmpty ?? true {
      looked.insert("$SIGBOOK_SAMPLE (not set)", at: 0)
    }
    throw DataError.notFound(
      what: "the embedded MNIST sample '\(sampleFileName)'", looked: looked,
      hint: "set SIGBOOK_SAMPLE to the path of the file")
  }

  /// The standard MNIST data set, from its four IDX files (raw or gzip).
  ///
  /// The folder is `path` when given, else `$SIGBOOK_DATA/mnist`. It holds
  /// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
  /// `t10k-labels-idx1-ubyte`, each possibly ending in `.gz` and possibly spelled with a dot
  /// (`train-images.idx3-ubyte`); a split reads only its own two files, so a folder with just
  /// the `t10k` files serves `.test`.
  ///
  /// Pixels are scaled to [0, 1], images shaped `[N, 1, 28, 28]`, and the classes are the chosen
  /// digits in ascending order.
  ///
  /// - Parameters:
  ///   - digits: the digits to keep; `nil` keeps all ten.
  ///   - perClass: the number of images of each digit, a seeded random sample kept in file
  ///     order; `nil` keeps them all.
  ///   - split: `.train` (60,000 images) or `.test` (10,000).
  ///   - path: the folder of the files.
  ///   - seed: the seed of the sample.
  ///   - memoryLimit: what the data set may take, checked as each file's header announces it.
  ///   - isCancelled: polled while the files are read and inflated (Ctrl-C).
  /// - Throws: `DataError.notFound` saying where it looked and how to get the files, the errors
  ///   of `Dataset.idx(images:labels:name:)`, and `DataError.invalidArgument` for a digit or
  ///   `perClass` the data does not have.
  public static func mnist(
    digits: [Int]? = nil, perClass: Int? = nil, split: MNISTSplit = .train, path: String? = nil,
    seed: Int = 0, memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> Dataset {
    try mnist(
      digits: digits, perClass: perClass, split: split, path: path, seed: seed,
      environment: ProcessInfo.processInfo.environment, memoryLimit: memoryLimit,
      isCancelled: isCancelled)
  }

  static func mnist(
    digits: [Int]?, perClass: Int?, split: MNISTSplit, path: String?, seed: Int,
    environment: [String: String], memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> Dataset {
    let files = try locateIDX(
      split: split, title: "MNIST", folderName: "mnist", path: path, environment: environment,
      defaults: [],
      hint: "download the four IDX files from the MNIST distribution and pass path: "
        + "or set SIGBOOK_DATA")
    let data = try idx(
      images: files.images, labels: files.labels, name: "mnist_\(split.rawValue)",
      memoryLimit: memoryLimit, isCancelled: isCancelled)
    return try data.selecting(digits: digits, perClass: perClass, seed: seed)
  }

  /// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017), classes chosen by name.
  ///
  /// The folder is `path` when given, else `$SIGBOOK_DATA/fashion-mnist`, else
  /// `/usr/share/datasets/fashion-mnist` (Debian's `dataset-fashion-mnist` package), with the
  /// same file names as MNIST (see `mnist(digits:perClass:split:path:seed:)`). The classes are
  /// named as in `fashionMNISTClassNames` and kept in that order.
  ///
  /// - Parameters:
  ///   - classes: the names of the classes to keep (`["trouser", "dress"]`, any case); `nil`
  ///     keeps all ten.
  ///   - perClass: the number of images of each class, a seeded random sample kept in file
  ///     order; `nil` keeps them all.
  ///   - split: `.train` (60,000 images) or `.test` (10,000).
  ///   - path: the folder of the files.
  ///   - seed: the seed of the sample.
  ///   - memoryLimit: what the data set may take, checked as each file's header announces it.
  ///   - isCancelled: polled while the files are read and inflated (Ctrl-C).
  /// - Throws: `DataError.unknownClass` listing the valid names, `DataError.notFound` saying
  ///   where it looked and how to install the files, and the errors of `Dataset.idx`.
  public static func fashionMNIST(
    classes: [String]? = nil, perClass: Int? = nil, split: MNISTSplit = .train,
    path: String? = nil, seed: Int = 0, memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> Dataset {
    var indices: [Int]?
    if let classes {
      indices = try classes.map { name in
        guard
          let i = fashionMNISTClassNames.firstIndex(where: { $0 == name.lowercased() })
            ?? (name.lowercased() == "t-shirt/top" ? 0 : nil)
        else {
          throw DataError.unknownClass(
            name: name, dataset: "fashion_mnist", valid: fashionMNISTClassNames)
        }
        return i
      }
    }
    return try fashionMNIST(
      indices: indices, perClass: perClass, split: split, path: path, seed: seed,
      environment: ProcessInfo.processInfo.environment, memoryLimit: memoryLimit,
      isCancelled: isCancelled)
  }

  /// Fashion-MNIST with classes chosen by index (0 `t-shirt` … 9 `ankle boot`).
  ///
  /// See `fashionMNIST(classes:perClass:split:path:seed:)`, of which this is the same with
  /// class indices in place of names.
  ///
  /// - Throws: `DataError.invalidArgument` for an index outside 0…9, and the errors of the
  ///   version with names.
  public static func fashionMNIST(
    classes: [Int], perClass: Int? = nil, split: MNISTSplit = .train, path: String? = nil,
    seed: Int = 0, memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> Dataset {
    try fashionMNIST(
      indices: classes, perClass: perClass, split: split, path: path, seed: seed,
      environment: ProcessInfo.processInfo.environment, memoryLimit: memoryLimit,
      isCancelled: isCancelled)
  }

  static func fashionMNIST(
    indices: [Int]?, perClass: Int?, split: MNISTSplit, path: String?, seed: Int,
    environment: [String: String], memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> Dataset {
    if let bad = indices?.first(where: { $0 < 0 || $0 >= fashionMNISTClassNames.count }) {
      throw DataError.invalidArgument(
        "fashion_mnist has no class \(bad); its class indices are 0 to 9")
    }
    let files = try locateIDX(
      split: split, title: "Fashion-MNIST", folderName: "fashion-mnist", path: path,
      environment: environment, defaults: ["/usr/share/datasets/fashion-mnist"],
      hint: "install them with 'apt-get install dataset-fashion-mnist', "
        + "or pass path: or set SIGBOOK_DATA")
    var data = try idx(
      images: files.images, labels: files.labels, name: "fashion_mnist_\(split.rawValue)",
      memoryLimit: memoryLimit, isCancelled: isCancelled)
    let labelValues = data.classNames.compactMap(Int.init)
    data.classNames = data.classNames.map { name in
      guard let value = Int(name), value < fashionMNISTClassNames.count else { return name }
      return fashionMNISTClassNames[value]
    }
    let wanted = indices.map { indices in
      indices.compactMap { labelValues.firstIndex(of: $0) }
    }
    if let indices, let wanted, wanted.count != indices.count {
      throw DataError.invalidArgument(
        "'\(files.labels)' holds no images of some of the classes \(indices)")
    }
    return try data.subset(classes: wanted, perClass: perClass, seed: seed)
  }

  /// The digits asked for, as classes in ascending order, with an optional sample of each.
  public func selecting(digits: [Int]?, perClass: Int?, seed: Int) throws -> Dataset {
    var classes: [Int]?
    if let digits {
      classes = try digits.map { digit in
        guard let c = classIndex(named: String(digit)) else {
          throw DataError.invalidArgument(
            "\(name) has no digit \(digit); its digits are "
              + classNames.joined(separator: ", "))
        }
        return c
      }
    }
    return try subset(classes: classes, perClass: perClass, seed: seed)
  }

  /// The image and label files of one split, from the first folder that holds both.
  static func locateIDX(
    split: MNISTSplit, title: String, folderName: String, path: String?,
    environment: [String: String], defaults: [String], hint: String
  ) throws -> (images: String, labels: String) {
    var folders: [(path: String, how: String)] = []
    var looked: [String] = []
    if let path {
      folders.append((path, "path:"))
    } else {
      if let root = environment["SIGBOOK_DATA"], !root.isEmpty {
        let folder = URL(fileURLWithPath: root).appendingPathComponent(folderName).path
        folders.append((folder, "$SIGBOOK_DATA/\(folderName)"))
      } else {
        looked.append("$SIGBOOK_DATA/\(folderName) ($SIGBOOK_DATA is not set)")
      }
      folders += defaults.map { ($0, "") }
    }
    let prefix = split.filePrefix
    for folder in folders {
      let images = idxFile(in: folder.path, stem: "\(prefix)-images", kind: "idx3-ubyte")
      let labels = idxFile(in: folder.path, stem: "\(prefix)-labels", kind: "idx1-ubyte")
      if let images, let labels { return (images, labels) }
      looked.append("'\(folder.path)'" + (folder.how.isEmpty ? "" : " (\(folder.how))"))
    }
    throw DataError.notFound(
      what: "the \(title) \(split.rawValue) files (\(prefix)-images-idx3-ubyte[.gz] and "
        + "\(prefix)-labels-idx1-ubyte[.gz])",
      looked: looked, hint: hint)
  }

  /// The first of `stem-kind`, `stem.kind`, each raw or `.gz`, that exists in `folder`.
  private static func idxFile(in folder: String, stem: String, kind: String) -> String? {
    let base = URL(fileURLWithPath: folder)
    for name in ["\(stem)-\(kind)", "\(stem).\(kind)"] {
      for suffix in ["", ".gz"] {
        let file = base.appendingPathComponent(name + suffix).path
        if isFile(file) { return file }
      }
    }
    return nil
  }
}

/// Whether `path` names an existing file (not a folder).
private func isFile(_ path: String) -> Bool {
  var isDirectory: ObjCBool = false
  return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    && !isDirectory.boolValue
}

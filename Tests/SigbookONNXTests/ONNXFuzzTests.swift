import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookNN
@testable import SigbookONNX

/// Seeded, structure-aware fuzzing of the ONNX importer: valid models (the fixtures and small
/// built ones) changed at the protobuf level — an operator, an attribute, a dimension, a data
/// type, a tensor's values, an input's shape, external data — or at the byte level, must load
/// or be refused with an error naming the file; a model that loads must run on one input.
///
/// The suite runs 2,000 inputs (`SIGBOOK_READER_FUZZ_COUNT` changes it; `scripts/fuzz` runs a
/// million in a release build). The models that crashed the importer are kept in
/// `Fixtures/fuzz-corpus/` and replayed on every run.
@Suite("ONNX fuzz") struct ONNXFuzzTests {
  @Test func mutatedModelsLoadOrAreRefused() throws {
    let folder = try TemporaryFolder()
    try folder.write("w.bin", (0..<64).map { UInt8($0) })
    var fuzzer = try ONNXFuzzer()
    var generator = SeededGenerator(seed: 4242)
    let recorder = CrashRecorder("onnx")
    let count = readerFuzzCount(default: 2000)
    var loaded = 0
    var problems: [String] = []
    // The model is decoded from the bytes as `load_onnx` decodes a file's (external data is
    // read from the folder); no file is written.
    let path = folder.path("fuzz.onnx")
    var times = FuzzTimes()
    for _ in 0..<count {
      let bytes = times.measure(\.mutate) { fuzzer.input(&generator) }
      times.measure(\.record) { recorder.record(bytes) }
      let (didLoad, problem) = times.measure(\.read) {
        Self.check(bytes, path: path, inputShape: fuzzer.lastInputShape)
      }
      if let problem, problems.count < 10 { problems.append(problem) }
      if didLoad { loaded += 1 }
    }
    recorder.finish()
    for problem in problems { Issue.record(Comment(rawValue: problem)) }
    print(
      "onnx fuzz: \(count) inputs, \(loaded) loaded, \(count - loaded) refused in "
        + times.description)
    #expect(count < 100 || loaded > count / 100, "only \(loaded) of \(count) models loaded")
  }

  /// The committed models that crashed the importer: each is refused now.
  @Test func corpusModelsAreRefused() throws {
    let folder = try TemporaryFolder()
    try folder.write("w.bin", [UInt8](repeating: 0, count: 16))
    let names = try FileManager.default.contentsOfDirectory(atPath: fixture("fuzz-corpus"))
      .filter { $0.hasSuffix(".onnx") && $0 != "external-data.onnx" }
    #expect(names.count == ONNXModelBuilder.crashers.count)
    for name in names {
      let bytes = try [UInt8](
        Data(contentsOf: URL(fileURLWithPath: fixture("fuzz-corpus/\(name)"))))
      let path = try folder.write(name, bytes)
      #expect(throws: ONNXError.self, "\(name)") {
        try ONNXImporter.load(path: path, inputShape: nil, classNames: nil)
      }
    }
  }

  /// Loads the model of `bytes` as the file `path` (and runs what loads on one input); says
  /// whether it loaded, and what is wrong, if anything: an output of another batch, an error
  /// that does not name the file.
  static func check(
    _ bytes: [UInt8], path: String, inputShape: [Int]?
  ) -> (loaded: Bool, problem: String?) {
    do {
      let model = try ONNXImporter.load(
        ONNXImporter.decode(Data(bytes), path: path), path: path, inputShape: inputShape,
        classNames: nil)
      let count = model.inputShape.reduce(1, *)
      guard count <= 1 << 16 else { return (true, nil) }
      let output = model.predict(
        Tensor(shape: [1] + model.inputShape, scalars: [Float](repeating: 0.5, count: count)))
      guard output.shape.first == 1 else {
        return (true, "output of shape \(output.shape) for one input")
      }
      return (true, nil)
    } catch {
      let named = error.description.hasPrefix("'\(path)': ")
      return (false, named ? nil : "the error '\(error)' does not name the file")
    }
  }
}

/// Makes the fuzz inputs of `ONNXFuzzTests`.
struct ONNXFuzzer {
  var seeds: [Onnx_ModelProto]
  var bytes: ByteMutator
  /// The `input:` shape given with the last input, if any.
  var lastInputShape: [Int]?

  static let interesting: [Int64] = [
    0, 1, 2, 3, -1, -2, 4, 16, 28, 1 << 16, 1 << 31, (1 << 31) - 1, 1 << 32, 1 << 40, 1 << 62,
    Int64.max, Int64.min,
  ]

  init() throws {
    var models = try ["mlp.onnx", "cnn.onnx", "cnn_fixed.onnx", "ae.onnx"].map(fixtureProto)
    models += ONNXModelBuilder.crashers.map(\.model)
    models.append(ONNXModelBuilder.externalModel(offset: "0", length: "16"))
    typealias B = ONNXModelBuilder
    models.append(
      B.model(
        input: [1, 6],
        initializers: [
          B.floats("w", [3, 6], (0..<18).map(Float.init)), B.floats("b", [3], [1, 2, 3]),
        ],
        nodes: [
          B.node("Gemm", ["x", "w", "b"], "h", [B.int("transB", 1)]), B.node("Relu", ["h"], "y"),
        ],
        output: "y"))
    models.append(
      B.model(
        input: [1, 1, 6, 6],
        initializers: [
          B.floats("k", [2, 1, 3, 3], (0..<18).map { Float($0) / 10 }),
          B.int64s("s", [2], [1, -1]),
          B.floats("w", [8, 2], (0..<16).map(Float.init)),
        ],
        nodes: [
          B.node("Conv", ["x", "k"], "c", [B.ints("pads", [1, 1, 1, 1])]),
          B.node(
            "MaxPool", ["c"], "p", [B.ints("kernel_shape", [3, 3]), B.ints("strides", [3, 3])]),
          B.node("Reshape", ["p", "s"], "f"), B.node("Gemm", ["f", "w"], "y"),
        ], output: "y"))
    seeds = models
    let serialized = try models.map { try [UInt8]($0.serializedBytes() as Data) }
    bytes = ByteMutator(seeds: serialized, fields: { _ in [] }, tokens: [])
  }

  /// One input: a model changed at the protobuf level (three times in four) or at the byte level.
  mutating func input(_ g: inout SeededGenerator) -> [UInt8] {
    lastInputShape =
      g.nextInt(below: 8) == 0
      ? [1 + g.nextInt(below: 3), 1 + g.nextInt(below: 8), 1 + g.nextInt(below: 8)] : nil
    if g.nextInt(below: 4) == 0 { return bytes.input(&g).bytes }
    var model = seeds[g.nextInt(below: seeds.count)]
    for _ in 0..<(g.nextInt(below: 3) == 0 ? 2 + g.nextInt(below: 3) : 1) { mutate(&model, &g) }
    return (try? [UInt8](model.serializedBytes() as Data)) ?? []
  }

  func pick<T>(_ items: [T], _ g: inout SeededGenerator) -> T? {
    items.isEmpty ? nil : items[g.nextInt(below: items.count)]
  }

  func number(_ g: inout SeededGenerator) -> Int64 {
    g.nextInt(below: 2) == 0
      ? Self.interesting[g.nextInt(below: Self.interesting.count)] : Int64(g.nextInt(below: 10))
  }

  func mutate(_ m: inout Onnx_ModelProto, _ g: inout SeededGenerator) {
    let nodes = m.graph.node.count, inits = m.graph.initializer.count
    switch g.nextInt(below: 12) {
    case 0 where nodes > 0:
      m.graph.node[g.nextInt(below: nodes)].opType =
        pick(ONNXImporter.operators.keys.sorted(), &g) ?? "Relu"
    case 1 where nodes > 0:
      // An attribute the operator may carry, of a random value.
      let i = g.nextInt(below: nodes)
      let names = ONNXImporter.operators[m.graph.node[i].opType].map { Array($0).sorted() } ?? []
      guard let name = pick(names + ["axis"], &g) else { return }
      var a = Onnx_AttributeProto()
      a.name = name
      switch g.nextInt(below: 4) {
      case 0: a.type = .int; a.i = number(&g)
      case 1: a.type = .ints; a.ints = (0..<g.nextInt(below: 5)).map { _ in number(&g) }
      case 2: a.type = .float; a.f = [Float.nan, .infinity, 1e30, -1, 0, 0.5][g.nextInt(below: 6)]
      default:
        a.type = .string;
        a.s = Data((pick(["SAME_UPPER", "VALID", "NOTSET", "reflect", ""], &g) ?? "").utf8)
      }
      m.graph.node[i].attribute.removeAll { $0.name == name }
      m.graph.node[i].attribute.append(a)
    case 2 where nodes > 1:
      let i = g.nextInt(below: nodes)
      if g.nextInt(below: 2) == 0 {
        m.graph.node.remove(at: i)
      } else {
        m.graph.node.insert(m.graph.node[i], at: g.nextInt(below: nodes))
      }
    case 3 where nodes > 0:
      // An input wired to another name of the graph.
      let i = g.nextInt(below: nodes)
      guard !m.graph.node[i].input.isEmpty else { return }
      let names = ["x", ""] + m.graph.initializer.map(\.name) + m.graph.node.flatMap(\.output)
      m.graph.node[i].input[g.nextInt(below: m.graph.node[i].input.count)] = pick(names, &g) ?? "x"
    case 4 where inits > 0:
      let i = g.nextInt(below: inits)
      guard !m.graph.initializer[i].dims.isEmpty else { return }
      m.graph.initializer[i].dims[g.nextInt(below: m.graph.initializer[i].dims.count)] = number(&g)
    case 5 where inits > 0:
      let i = g.nextInt(below: inits)
      if g.nextInt(below: 2) == 0 {
        m.graph.initializer[i].dims.append(number(&g))
      } else {
        m.graph.initializer[i].dims.removeLast(min(1, m.graph.initializer[i].dims.count))
      }
    case 6 where inits > 0:
      m.graph.initializer[g.nextInt(below: inits)].dataType = Int32(
        [0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 16, 99][g.nextInt(below: 12)])
    case 7 where inits > 0:
      // Special values in a tensor, or its data cut short.
      let i = g.nextInt(below: inits)
      var t = m.graph.initializer[i]
      let special: [Float] = [.nan, .infinity, -.infinity, 1e30, -1e30, 0]
      if !t.floatData.isEmpty {
        t.floatData[g.nextInt(below: t.floatData.count)] = special[g.nextInt(below: 6)]
      }
      if !t.int64Data.isEmpty { t.int64Data[g.nextInt(below: t.int64Data.count)] = number(&g) }
      if t.hasRawData, !t.rawData.isEmpty {
        if g.nextInt(below: 2) == 0 {
          t.rawData = t.rawData.prefix(g.nextInt(below: t.rawData.count))
        } else {
          var raw = [UInt8](t.rawData)
          let value = special[g.nextInt(below: 6)].bitPattern
          let at = g.nextInt(below: raw.count) & ~3
          for k in 0..<4 where at + k < raw.count {
            raw[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k))
          }
          t.rawData = Data(raw)
        }
      }
      m.graph.initializer[i] = t
    case 8 where !m.graph.input.isEmpty:
      var dims = m.graph.input[0].type.tensorType.shape.dim
      guard !dims.isEmpty else { return }
      let k = g.nextInt(below: dims.count)
      if g.nextInt(below: 4) == 0 { dims[k].dimParam = "n" } else { dims[k].dimValue = number(&g) }
      if g.nextInt(below: 6) == 0 { dims.remove(at: k) }
      m.graph.input[0].type.tensorType.shape.dim = dims
    case 9 where inits > 0:
      // External data of random location, offset and length.
      let i = g.nextInt(below: inits)
      var t = m.graph.initializer[i]
      t.clearRawData()
      t.floatData = []
      t.dataLocation = .external
      let tensorBytes: Int64 = t.dims.reduce(1, &*) &* 4
      let locations = ["w.bin", "", "/dev/zero", "../w.bin", "missing.bin", "."]
      let offsets = ["0", "3", "-1", "64", "9223372036854775809", "x"]
      let lengths = ["16", "0", "-5", "99999999999999999999", String(tensorBytes)]
      let entries: [(String, String)] = [
        ("location", pick(locations, &g) ?? "w.bin"), ("offset", pick(offsets, &g) ?? "0"),
        ("length", pick(lengths, &g) ?? "16"),
      ]
      t.externalData = entries.prefix(1 + g.nextInt(below: 3)).map { key, value in
        var e = Onnx_StringStringEntryProto()
        e.key = key
        e.value = value
        return e
      }
      m.graph.initializer[i] = t
    case 10:
      // A Constant node of interesting integers feeding a shape computation.
      let values = (0..<1 + g.nextInt(below: 4)).map { _ in number(&g) }
      let constant = ONNXModelBuilder.constant(
        "k\(g.nextInt(below: 4))", ONNXModelBuilder.int64s("k", [Int64(values.count)], values))
      m.graph.node.insert(constant, at: g.nextInt(below: nodes + 1))
      if nodes > 0 {
        let i = g.nextInt(below: m.graph.node.count)
        if m.graph.node[i].input.count > 1 { m.graph.node[i].input[1] = constant.output[0] }
      }
    default:
      if m.opsetImport.isEmpty { return }
      m.opsetImport[0].version = [1, 7, 9, 11, 13, 17, 99][g.nextInt(below: 7)]
    }
  }
}

import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN

/// Seeded, structure-aware fuzzing of the file readers (IDX, `.npy`, safetensors, CSV): mutated
/// valid files must be read or refused with an error that names the file — never a crash, and
/// what is read must hold as many values as its shape says.
///
/// The suite runs 3,000 inputs per reader (`SIGBOOK_READER_FUZZ_COUNT` changes it,
/// `SIGBOOK_FUZZ_READERS` picks readers; `scripts/fuzz` runs a million in a release build). The inputs that crashed a reader are kept
/// in `Fixtures/reader-corpus/` and replayed on every run.
@Suite("Reader fuzz") struct ReaderFuzzTests {
  enum Reader: String, CaseIterable, Sendable {
    case idx, npy, safetensors, csv
  }

  @Test(arguments: Reader.allCases)
  func mutatedFilesAreReadOrRefused(_ reader: Reader) throws {
    // `SIGBOOK_FUZZ_READERS=csv,npy` runs only those readers (a long run of one or two).
    if let only = ProcessInfo.processInfo.environment["SIGBOOK_FUZZ_READERS"],
      !only.split(separator: ",").contains(Substring(reader.rawValue))
    {
      return
    }
    let folder = try TemporaryFolder()
    let mutator = Self.mutator(for: reader)
    var generator = SeededGenerator(seed: UInt64(7000 + Reader.allCases.firstIndex(of: reader)!))
    let recorder = CrashRecorder(reader.rawValue)
    let count = readerFuzzCount(default: 3000)
    var accepted = 0
    var problems: [String] = []
    var times = FuzzTimes()
    for _ in 0..<count {
      let input = times.measure(\.mutate) { mutator.input(&generator).bytes }
      times.measure(\.record) { recorder.record(input) }
      switch times.measure(\.read, { Self.check(reader, input, folder: folder) }) {
      case .accepted: accepted += 1
      case .refused: break
      case .problem(let problem) where problems.count < 10:
        problems.append("\(problem) for input \(input.prefix(200))")
      case .problem: break
      }
    }
    recorder.finish()
    for problem in problems { Issue.record(Comment(rawValue: problem)) }
    print(
      "reader fuzz \(reader.rawValue): \(count) inputs, \(accepted) read, "
        + "\(count - accepted) refused in \(times.description)")
    // Structure-aware mutation keeps a share of the inputs readable; all refused would mean the
    // fuzzer tests only the first check.
    #expect(count < 100 || accepted > count / 100, "only \(accepted) of \(count) inputs were read")
  }

  /// The committed inputs that crashed or misled a reader: each is refused now.
  @Test func corpusInputsAreRefused() throws {
    let url = try #require(
      Bundle.module.url(forResource: "Fixtures/reader-corpus", withExtension: nil))
    let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    let folder = try TemporaryFolder()
    #expect(names.count >= 6)
    for name in names {
      let reader = try #require(Reader(rawValue: String(name.prefix { $0 != "-" })), "\(name)")
      let bytes = try [UInt8](Data(contentsOf: url.appendingPathComponent(name)))
      switch Self.check(reader, bytes, folder: folder) {
      case .refused: break
      case .accepted: Issue.record("\(name) was read")
      case .problem(let problem): Issue.record("\(name): \(problem)")
      }
    }
  }

  enum Outcome {
    case accepted, refused
    case problem(String)
  }

  /// Reads one input with `reader` and checks what came back.
  static func check(_ reader: Reader, _ bytes: [UInt8], folder: TemporaryFolder) -> Outcome {
    let path = "fuzz.\(reader.rawValue)"
    func refused(_ error: any Error, _ path: String) -> Outcome {
      "\(error)".contains("'\(path)'")
        ? .refused : .problem("the error '\(error)' does not name the file")
    }
    switch reader {
    case .idx:
      guard let file = try? folder.write("fuzz-idx", bytes) else { return .problem("cannot write") }
      var outcome = Outcome.refused
      do {
        let images = try IDXReader.readImages(file)
        guard images.pixels.count == images.count * images.rows * images.columns else {
          return .problem(
            "\(images.pixels.count) pixels for \(images.count) × \(images.rows) × \(images.columns)"
          )
        }
        outcome = .accepted
      } catch {
        if case .problem = refused(error, file) { return refused(error, file) }
      }
      // The same bytes as labels: another header, the same body.
      do {
        let labels = try IDXReader.readLabels(file)
        guard labels.count <= DataLimits.values else { return .problem("\(labels.count) labels") }
        return .accepted
      } catch {
        if case .problem = refused(error, file) { return refused(error, file) }
      }
      return outcome
    case .npy:
      do {
        let contents = try NPY.decode(bytes, path: path)
        guard DataLimits.product(contents.shape) == contents.values.count else {
          return .problem("shape \(contents.shape) with \(contents.values.count) values")
        }
        guard contents.values.allSatisfy({ Float($0).isFinite }) else {
          return .problem("a value that is not finite as a Float")
        }
        return .accepted
      } catch { return refused(error, path) }
    case .safetensors:
      // `readWeights` is `decodeWeights` of the file's bytes: the bytes are tried in memory.
      do {
        let contents = try Safetensors.decodeWeights(bytes, path: path)
        for (name, tensor) in contents.tensors
        where DataLimits.product(tensor.shape) != tensor.scalars.count || !tensor.isFinite {
          return .problem("tensor \(name) of shape \(tensor.shape) holds \(tensor.scalars.count)")
        }
        return .accepted
      } catch { return refused(error, path) }
    case .csv:
      do {
        let label = bytes.count % 3 == 0 ? "label" : nil
        let data = try CSVReader.parse(bytes, path: path, label: label, name: "fuzz")
        guard data.features.shape.count == 2, data.features.shape[0] == data.labels.count,
          data.features.isFinite, data.labels.allSatisfy({ $0 >= 0 && $0 < data.classNames.count })
        else { return .problem("features \(data.features.shape) for \(data.labels.count) labels") }
        return .accepted
      } catch { return refused(error, path) }
    }
  }

  /// The seeds, fields and vocabulary of each format.
  static func mutator(for reader: Reader) -> ByteMutator {
    var g = SeededGenerator(seed: 99)
    switch reader {
    case .idx:
      var seeds: [[UInt8]] = []
      for i in 0..<8 {
        let (count, rows, columns) = (
          1 + g.nextInt(below: 4), 1 + g.nextInt(below: 5), 1 + g.nextInt(below: 5)
        )
        let pixels = (0..<count * rows * columns).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let file =
          i % 4 == 3
          ? IDXFixture.labels(pixels)
          : IDXFixture.images(count: count, rows: rows, columns: columns, pixels: pixels)
        seeds.append(i % 2 == 1 ? ((try? Gzip.compress(file)) ?? file) : file)
      }
      return ByteMutator(
        seeds: seeds, fields: { _ in [0..<4, 4..<8, 8..<12, 12..<16, 2..<3, 3..<4] },
        tokens: ["\u{1f}\u{8b}"])
    case .npy:
      var seeds: [[UInt8]] = []
      for i in 0..<6 {
        let shape = (0..<1 + g.nextInt(below: 3)).map { _ in g.nextInt(below: 4) }
        let count = shape.reduce(1, *)
        let data =
          i % 2 == 0
          ? NPY.encode((0..<count).map { _ in g.nextFloat() }, shape: shape)
          : NPY.encode((0..<count).map { _ in g.nextInt(below: 10) }, shape: shape)
        seeds.append([UInt8](data))
      }
      seeds.append(
        NPYFixture.bytes(descr: "<f8", shape: "(2,)", data: [UInt8](repeating: 0x3f, count: 16)))
      seeds.append(NPYFixture.bytes(descr: "|u1", shape: "(2, 2)", data: [1, 2, 3, 4]))
      return ByteMutator(
        seeds: seeds, fields: { _ in [6..<7, 7..<8, 8..<10, 8..<12] },
        tokens: [
          "'shape'", "'descr'", "'fortran_order'", "'<f8'", "'<i8'", "'|u1'", "'<f4'", "'>f4'", "(",
          ")",
          ",", ", ", "(3,)", "((3,), 4)", "True", "False", "L", "-1", "99999999999999999999", "{",
          "}",
          ":", " ", "\n", "\"", "\\", "1e300", "()",
        ])
    case .safetensors:
      var seeds: [[UInt8]] = []
      for _ in 0..<4 {
        let tensors = (0..<1 + g.nextInt(below: 3)).map { k in
          let shape = (0..<g.nextInt(below: 3)).map { _ in 1 + g.nextInt(below: 3) }
          return (
            name: "t\(k)",
            tensor: Tensor(
              shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in g.nextFloat() })
          )
        }
        seeds.append(Safetensors.encode(tensors, metadata: ["format": "pt"]))
      }
      return ByteMutator(
        seeds: seeds, fields: { _ in [0..<8] },
        tokens: [
          "\"dtype\"", "\"F16\"", "\"F64\"", "\"BF16\"", "\"I64\"", "\"U8\"", "\"BOOL\"",
          "\"shape\"", "[", "]",
          "\"data_offsets\"", "0", "18446744073709551615", "-1", "1e5", "\"__metadata__\"", "{",
          "}", ",", ":",
          "null", "\\u0000", "\"t0\"", "[0, 4]", "[4294967296]",
        ])
    case .csv:
      var seeds: [[UInt8]] = []
      for i in 0..<6 {
        let width = 2 + g.nextInt(below: 4)
        var text =
          i % 2 == 0
          ? (0..<width).map { $0 == width - 1 ? "label" : "f\($0)" }.joined(separator: ",") + "\n"
          : ""
        for _ in 0..<1 + g.nextInt(below: 6) {
          text +=
            (0..<width).map { c in
              c == width - 1
                ? ["a", "b", "7", "1.0"][g.nextInt(below: 4)]
                : ["0", "1.5", "-2", "3e2", ".5", "255"][g.nextInt(below: 6)]
            }.joined(separator: ",") + (i % 3 == 0 ? "\r\n" : "\n")
        }
        seeds.append(Array(text.utf8))
      }
      return ByteMutator(
        seeds: seeds, fields: { _ in [] },
        tokens: [
          ",", "\n", "\r\n", "\"", "0x10", "nan", "inf", "1e39", "-", ".", "e", "\u{0}", "label",
          "  ", "1e-400",
          "99999999999999999999", "+", "1_0", "\t", "é",
        ])
    }
  }
}

import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookNN

// MARK: - Helpers

/// A file built by hand: the header length, the header bytes exactly as given, then the data.
private func handBuilt(_ header: [UInt8], data: [UInt8] = []) -> [UInt8] {
  littleEndian([UInt64(header.count)]) + header + data
}

private func handBuilt(_ header: String, data: [UInt8] = []) -> [UInt8] {
  handBuilt(Array(header.utf8), data: data)
}

private func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
  values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

private func randomTensor(_ shape: [Int], _ generator: inout SeededGenerator) -> Tensor {
  Tensor.normal(shape: shape, standardDeviation: 1, generator: &generator)
}

/// A fresh directory for the duration of `body`, removed afterwards.
private func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("sigbook-safetensors-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: url) }
  return try body(url.path)
}

extension JSONValue {
  fileprivate subscript(key: String) -> JSONValue? {
    objectMembers?.first { $0.key == key }?.value
  }

  fileprivate var doubleValue: Double? {
    if case .number(let text) = self { return Double(text) }
    return nil
  }
}

// MARK: - Round trips and hand-built files

@Suite("Safetensors") struct SafetensorsTests {
  static let metadata = [
    "architecture": "mlp(784, 32, 2)",
    "note": "quote \" backslash \\ newline \n tab \t bell \u{7} é ∑",
    "": "empty key",
  ]

  static func sampleTensors(seed: UInt64) -> [(name: String, tensor: Tensor)] {
    var generator = SeededGenerator(seed: seed)
    let special = Tensor(
      shape: [6],
      scalars: [-0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1])
    return [
      ("dense.weight", randomTensor([3, 4], &generator)),
      ("dense.bias", randomTensor([4], &generator)),
      ("conv.kernel", randomTensor([2, 1, 3, 3], &generator)),
      ("special", special),
      ("scalar", Tensor(shape: [], scalars: [42.5])),
      ("empty", Tensor(zeros: [0, 3])),
    ]
  }

  @Test func roundTripIsBitIdentical() throws {
    var tensors = Self.sampleTensors(seed: 11)
    let nan = Float(bitPattern: 0x7FC0_1234)  // a NaN with a payload, kept bit for bit
    tensors.append(("nan", Tensor(shape: [1, 1], scalars: [nan])))
    let contents = try Safetensors.decode(
      Safetensors.encode(tensors, metadata: Self.metadata), path: "t.safetensors")
    #expect(contents.tensors.map(\.name) == tensors.map(\.name))
    for ((_, decoded), (name, original)) in zip(contents.tensors, tensors) {
      #expect(decoded.shape == original.shape, "\(name)")
      #expect(bits(decoded) == bits(original), "\(name)")
    }
    #expect(contents.metadata == Self.metadata)
    #expect(contents["conv.kernel"]?.shape == [2, 1, 3, 3])
    #expect(contents["missing"] == nil)
  }

  @Test func encodeIsDeterministicAndAligned() {
    let tensors = Self.sampleTensors(seed: 3)
    let a = Safetensors.encode(tensors, metadata: Self.metadata)
    var reordered: [String: String] = [:]
    for (key, value) in Self.metadata.reversed() { reordered[key] = value }
    let b = Safetensors.encode(tensors, metadata: reordered)
    #expect(a == b)
    for count in 0..<10 {
      let bytes = Safetensors.encode(
        [(String(repeating: "x", count: count), Tensor(zeros: [1]))], metadata: [:])
      let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
      #expect((8 + headerLength) % 8 == 0)
      #expect(bytes.count == 8 + headerLength + 4)
    }
  }

  @Test func encodeWritesTheExpectedBytes() {
    let bytes = Safetensors.encode(
      [
        ("w", Tensor(shape: [2], scalars: [1, -2])), ("b", Tensor(shape: [1, 1], scalars: [0.5])),
      ],
      metadata: ["z": "last", "a": "first"])
    let header =
      #"{"__metadata__":{"a":"first","z":"last"},"#
      + #""w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
      + #""b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}"#
    let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
    #expect(bytes == handBuilt(padded, data: littleEndian([Float(1), -2, 0.5].map(\.bitPattern))))
  }

  @Test func emptyFileHasAnEmptyHeader() throws {
    let bytes = Safetensors.encode([], metadata: [:])
    #expect(bytes == handBuilt("{}      "))
    let contents = try Safetensors.decode(bytes, path: "t")
    #expect(contents.tensors.isEmpty && contents.metadata.isEmpty)
  }

  @Test func decodesAHandBuiltFileWithKeysInAnotherOrderAndF64() throws {
    // No padding, metadata last, fields in another order, "b" listed before "a" but stored after.
    let header = """
      { "b" : {"data_offsets": [8, 32], "shape": [3], "dtype": "F64"},
        "a": {"shape": [2, 1], "dtype": "F32", "data_offsets": [0, 8], "extra": [1, {"x": null}]},
        "__metadata__": {"format": "np", "escaped": "\\u00e9\\ud83d\\ude00\\n"} }
      """
    let data =
      littleEndian([Float(1.5), -3].map(\.bitPattern))
      + littleEndian([0.1, -2.25, 1e300].map(\.bitPattern))
    let contents = try Safetensors.decode(handBuilt(header, data: data), path: "hand.safetensors")
    #expect(contents.tensors.map(\.name) == ["a", "b"])
    #expect(contents["a"] == Tensor(shape: [2, 1], scalars: [1.5, -3]))
    #expect(contents["b"] == Tensor(shape: [3], scalars: [Float(0.1), -2.25, .infinity]))
    #expect(contents.metadata == ["format": "np", "escaped": "é😀\n"])
  }

  @Test func convertsOtherDTypesToFloat() throws {
    let header =
      #"{"h":{"dtype":"F16","shape":[7],"data_offsets":[0,14]},"#
      + #""bf":{"dtype":"BF16","shape":[2],"data_offsets":[14,18]},"#
      + #""i64":{"dtype":"I64","shape":[2],"data_offsets":[18,34]},"#
      + #""i32":{"dtype":"I32","shape":[1],"data_offsets":[34,38]},"#
      + #""i16":{"dtype":"I16","shape":[1],"data_offsets":[38,40]},"#
      + #""i8":{"dtype":"I8","shape":[1],"data_offsets":[40,41]},"#
      + #""u8":{"dtype":"U8","shape":[2],"data_offsets":[41,43]},"#
      + #""bool":{"dtype":"BOOL","shape":[2],"data_offsets":[43,45]},"#
      + #""u16":{"dtype":"U16","shape":[1],"data_offsets":[45,47]},"#
      + #""u32":{"dtype":"U32","shape":[1],"data_offsets":[47,51]},"#
      + #""u64":{"dtype":"U64","shape":[1],"data_offsets":[51,59]}}"#
    var data = littleEndian([UInt16(0x3C00), 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00, 0x8000])
    data += littleEndian([UInt16(0x3F80), 0xC040])
    data += littleEndian([Int64(-5), 1 << 40])
    data += littleEndian([Int32(-70000)]) + littleEndian([Int16(-300)]) + littleEndian([Int8(-7)])
    data += [0, 255] + [0, 1] + littleEndian([UInt16(65535)]) + littleEndian([UInt32(1 << 31)])
    data += littleEndian([UInt64(1) << 63])
    let contents = try Safetensors.decode(handBuilt(header, data: data), path: "t")
    #expect(contents["h"]?.scalars == [1, -2, 0.5, 65504, 0x1p-24, .infinity, -0.0])
    #expect(contents["h"]?.scalars.last?.sign == .minus)
    #expect(contents["bf"]?.scalars == [1, -3])
    #expect(contents["i64"]?.scalars == [-5, 0x1p40])
    #expect(contents["i32"]?.scalars == [-70000])
    #expect(contents["i16"]?.scalars == [-300])
    #expect(contents["i8"]?.scalars == [-7])
    #expect(contents["u8"]?.scalars == [0, 255])
    #expect(contents["bool"]?.scalars == [0, 1])
    #expect(contents["u16"]?.scalars == [65535])
    #expect(contents["u32"]?.scalars == [0x1p31])
    #expect(contents["u64"]?.scalars == [0x1p63])
  }

  @Test func halfConversionMatchesFloat16ForEveryBitPattern() {
    for pattern in UInt16.min...UInt16.max {
      let expected = Float(Float16(bitPattern: pattern))
      let found = Safetensors.floatFromHalf(pattern)
      #expect(
        expected.isNaN ? found.isNaN : expected.bitPattern == found.bitPattern,
        "half \(String(pattern, radix: 16))")
    }
  }

  @Test func writesAtomicallyAndReadsBack() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/model.safetensors"
      let first = Self.sampleTensors(seed: 1)
      try Safetensors.write(first, metadata: ["epoch": "1"], to: path)
      let second = Self.sampleTensors(seed: 2)
      try Safetensors.write(second, metadata: ["epoch": "2"], to: path)
      let contents = try Safetensors.read(from: path)
      #expect(contents == Safetensors.Contents(tensors: second, metadata: ["epoch": "2"]))
      let onDisk = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
      #expect(onDisk == Safetensors.encode(second, metadata: ["epoch": "2"]))
      #expect(
        try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
    }
  }

  @Test func reportsFileSystemErrors() throws {
    try withTemporaryDirectory { directory in
      let missing = directory + "/missing.safetensors"
      let readError = try #require(throws: SafetensorsError.self) {
        try Safetensors.read(from: missing)
      }
      #expect(readError.description == "cannot read '\(missing)': no such file or directory")
      let nowhere = directory + "/no/such/dir/m.safetensors"
      let writeError = try #require(throws: SafetensorsError.self) {
        try Safetensors.write([], metadata: [:], to: nowhere)
      }
      #expect(writeError.description == "cannot write '\(nowhere)': no such file or directory")
      let subdirectory = directory + "/sub"
      try FileManager.default.createDirectory(
        atPath: subdirectory, withIntermediateDirectories: false)
      let onDirectory = try #require(throws: SafetensorsError.self) {
        try Safetensors.write([], metadata: [:], to: subdirectory)
      }
      #expect(onDirectory.description == "cannot write '\(subdirectory)': is a directory")
      // The temporary file was removed.
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["sub"])
    }
  }

  @Test func jsonStringsAreEscapedAndParsedBack() throws {
    let text = "a\"b\\c\n\u{1}\u{1F}\u{7F} é/😀"
    #expect(JSONValue.quoted(text) == "\"a\\\"b\\\\c\\u000A\\u0001\\u001F\u{7F} é/😀\"")
    let parsed = try JSONValue.parse(Array(JSONValue.quoted(text).utf8))
    #expect(parsed.stringValue == text)
    #expect(
      JSONValue.object([("k", .array([.integer(-3), .null, .bool(true)]))]).text
        == #"{"k":[-3,null,true]}"#)
  }

  static let badJSON: [(text: String, message: String)] = [
    ("", "expected a value at byte 0"),
    ("{\"a\":1,}", "expected a string key at byte 7"),
    ("[1 2]", "expected ',' or ']' at byte 3"),
    ("01", "unexpected text after the value at byte 1"),
    ("\"\\ud800\"", "unpaired surrogate in \\u escape at byte 7"),
    ("\"a\u{1}\"", "control character in a string at byte 2"),
    ("\"\\x\"", "invalid escape at byte 2"),
    ("1.", "invalid number at byte 2"),
    ("nul", "expected a value at byte 0"),
    (String(repeating: "[", count: 65), "nesting deeper than 64 levels at byte 64"),
  ]

  @Test(arguments: badJSON)
  func jsonSyntaxErrorsSayWhatAndWhere(_ c: (text: String, message: String)) throws {
    let error = try #require(throws: JSONSyntaxError.self) {
      try JSONValue.parse(Array(c.text.utf8))
    }
    #expect(error.description == c.message)
  }
}

// MARK: - Corrupt files

@Suite("Safetensors errors") struct SafetensorsErrorTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var label: String
    var bytes: [UInt8]
    var message: String
    var testDescription: String { label }
  }

  static let f32x1 = littleEndian([Float(1).bitPattern])

  static func entry(_ name: String, _ shape: String, _ offsets: String, dtype: String = "F32")
    -> String
  {
    #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
  }

  static let cases: [Case] = [
    Case(
      label: "truncated", bytes: [1, 2, 3],
      message: "'t.safetensors' is too short for a safetensors file: 3 bytes, expected at least 8"),
    Case(
      label: "header too long", bytes: littleEndian([UInt64(100)]) + Array("{}".utf8),
      message: "'t.safetensors' declares a header of 100 bytes but only 2 bytes follow"),
    Case(
      label: "absurd header length", bytes: littleEndian([UInt64.max]),
      message:
        "'t.safetensors' declares a header of 18446744073709551615 bytes but only 0 bytes follow"),
    Case(
      label: "bad json", bytes: handBuilt(#"{"a": "#),
      message: "the header of 't.safetensors' is not valid json: expected a value at byte 6"),
    Case(
      label: "not an object", bytes: handBuilt("[1, 2]"),
      message: "the header of 't.safetensors' is not a json object"),
    Case(
      label: "not utf-8", bytes: handBuilt([0x7B, 0xFF, 0x7D]),
      message: "the header of 't.safetensors' is not valid utf-8"),
    Case(
      label: "key twice",
      bytes: handBuilt("{\(entry("a", "[0]", "[0,0]")),\(entry("a", "[0]", "[0,0]"))}"),
      message: "the header of 't.safetensors' has the key 'a' twice"),
    Case(
      label: "entry not an object", bytes: handBuilt(#"{"w":3}"#),
      message: "tensor 'w' in 't.safetensors' is not a json object"),
    Case(
      label: "missing dtype",
      bytes: handBuilt(#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: f32x1),
      message: "tensor 'w' in 't.safetensors' has no 'dtype'"),
    Case(
      label: "missing shape",
      bytes: handBuilt(#"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, data: f32x1),
      message: "tensor 'w' in 't.safetensors' has no 'shape'"),
    Case(
      label: "missing offsets",
      bytes: handBuilt(#"{"w":{"dtype":"F32","shape":[1]}}"#, data: f32x1),
      message: "tensor 'w' in 't.safetensors' has no 'data_offsets'"),
    Case(
      label: "dtype not a string",
      bytes: handBuilt(
        "{\(entry("w", "[1]", "[0,4]").replacingOccurrences(of: #""F32""#, with: "32"))}",
        data: f32x1),
      message: "tensor 'w' in 't.safetensors' has a 'dtype' that is not a string"),
    Case(
      label: "fractional dimension",
      bytes: handBuilt("{\(entry("w", "[1.0]", "[0,4]"))}", data: f32x1),
      message:
        "tensor 'w' in 't.safetensors' has a 'shape' that is not a list of non-negative integers"),
    Case(
      label: "negative dimension",
      bytes: handBuilt("{\(entry("w", "[-1]", "[0,4]"))}", data: f32x1),
      message:
        "tensor 'w' in 't.safetensors' has a 'shape' that is not a list of non-negative integers"),
    Case(
      label: "one offset", bytes: handBuilt("{\(entry("w", "[1]", "[4]"))}", data: f32x1),
      message:
        "tensor 'w' in 't.safetensors' has 'data_offsets' that are not two non-negative integers"),
    Case(
      label: "unknown dtype",
      bytes: handBuilt("{\(entry("w", "[1]", "[0,8]", dtype: "C64"))}", data: f32x1 + f32x1),
      message: "tensor 'w' in 't.safetensors' has dtype 'C64'; sigbook reads "
        + "F32, F64, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL"),
    Case(
      label: "shape too large",
      bytes: handBuilt("{\(entry("w", "[4611686018427387904,4]", "[0,4]"))}", data: f32x1),
      message:
        "tensor 'w' in 't.safetensors' has a shape [4611686018427387904, 4] too large to address"),
    Case(
      label: "offsets reversed", bytes: handBuilt("{\(entry("w", "[1]", "[4,0]"))}", data: f32x1),
      message: "tensor 'w' in 't.safetensors' has data offsets [4, 0] that end before they begin"),
    Case(
      label: "offsets out of range",
      bytes: handBuilt("{\(entry("w", "[100]", "[0,400]"))}", data: f32x1),
      message: "tensor 'w' in 't.safetensors' has data offsets [0, 400] beyond the 4 bytes of data"),
    Case(
      label: "wrong size",
      bytes: handBuilt("{\(entry("w", "[2,3]", "[0,20]"))}", data: Array(repeating: 0, count: 20)),
      message:
        "tensor 'w' in 't.safetensors' of shape [2, 3] and dtype F32 needs 24 bytes "
        + "but its data offsets span 20"
    ),
    Case(
      label: "overlap",
      bytes: handBuilt(
        "{\(entry("a", "[2]", "[0,8]")),\(entry("b", "[2]", "[4,12]"))}",
        data: Array(repeating: 0, count: 12)),
      message: "tensor 'b' in 't.safetensors' overlaps tensor 'a', which ends at byte 8 of the data"
    ),
    Case(
      label: "gap",
      bytes: handBuilt(
        "{\(entry("b", "[1]", "[8,12]")),\(entry("a", "[1]", "[0,4]"))}",
        data: Array(repeating: 0, count: 12)),
      message:
        "tensor 'b' in 't.safetensors' starts at byte 8 of the data "
        + "but tensor 'a' ends at byte 4; tensors must be contiguous"
    ),
    Case(
      label: "not from zero",
      bytes: handBuilt("{\(entry("a", "[1]", "[4,8]"))}", data: f32x1 + f32x1),
      message: "tensor 'a' in 't.safetensors' starts at byte 4 of the data, not 0"),
    Case(
      label: "unused bytes",
      bytes: handBuilt("{\(entry("a", "[1]", "[0,4]"))}", data: f32x1 + f32x1),
      message: "'t.safetensors' has 4 bytes of data after the last tensor"),
    Case(
      label: "metadata value not a string", bytes: handBuilt(#"{"__metadata__":{"k":1}}"#),
      message: "the metadata of 't.safetensors' has a value for 'k' that is not a string"),
    Case(
      label: "metadata not an object", bytes: handBuilt(#"{"__metadata__":"x"}"#),
      message: "the metadata of 't.safetensors' is not a json object"),
  ]

  @Test(arguments: cases)
  func explainsWhatIsWrongAndNamesTheFile(_ c: Case) throws {
    let error = try #require(throws: SafetensorsError.self) {
      try Safetensors.decode(c.bytes, path: "t.safetensors")
    }
    #expect(error.description == c.message)
    #expect(error.path == "t.safetensors")
  }

  @Test func casesCarryTheDetails() throws {
    let short = try #require(throws: SafetensorsError.self) {
      try Safetensors.decode([0, 0], path: "m")
    }
    #expect(short == .truncated(path: "m", byteCount: 2))
    let wrongSize = handBuilt(
      "{\(Self.entry("w", "[2]", "[0,4]", dtype: "F64"))}", data: Self.f32x1)
    let mismatch = try #require(throws: SafetensorsError.self) {
      try Safetensors.decode(wrongSize, path: "m")
    }
    #expect(
      mismatch
        == .sizeMismatch(path: "m", tensor: "w", shape: [2], dtype: "F64", expected: 16, found: 4))
    let c64 = handBuilt("{\(Self.entry("z", "[1]", "[0,4]", dtype: "C64"))}", data: Self.f32x1)
    let unsupported = try #require(throws: SafetensorsError.self) {
      try Safetensors.decode(c64, path: "m")
    }
    #expect(unsupported == .unsupportedDType(path: "m", tensor: "z", dtype: "C64"))
  }
}

// MARK: - Python interoperability

/// Runs Python scripts for the interoperability tests.
enum Interop {
  /// Whether `python3` with `numpy` and `safetensors` can be run; checked once.
  static let hasPythonSafetensors = Python.imports("safetensors.numpy", "numpy")

  /// Runs `python3 -c script arguments…` and returns its standard output.
  static func python(_ script: String, _ arguments: String...) throws -> String {
    try Python.run(script, arguments)
  }
}

@Suite("Safetensors and Python")
struct SafetensorsInteropTests {
  @Test(
    .enabled(if: Interop.hasPythonSafetensors, "needs python3 with numpy and safetensors; skipped"))
  func pythonLoadsWhatSwiftWrites() throws {
    let tensors = SafetensorsTests.sampleTensors(seed: 5).filter { $0.name != "special" }
    let metadata = SafetensorsTests.metadata
    let output = try withTemporaryDirectory { directory in
      let path = directory + "/swift.safetensors"
      try Safetensors.write(tensors, metadata: metadata, to: path)
      return try Interop.python(
        """
        import json, sys
        import numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
        tensors = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="np") as f:
            metadata = f.metadata()
        print(json.dumps({"metadata": metadata, "tensors": {name: {
            "dtype": str(t.dtype), "shape": list(t.shape), "sum": float(t.astype(np.float64).sum()),
            "values": t.astype(np.float64).ravel().tolist()} for name, t in tensors.items()}}))
        """, path)
    }
    let json = try JSONValue.parse(Array(output.utf8))
    let loaded = try #require(json["tensors"]?.objectMembers)
    #expect(Set(loaded.map(\.key)) == Set(tensors.map(\.name)))
    for (name, tensor) in tensors {
      let entry = try #require(json["tensors"]?[name], "\(name)")
      #expect(entry["dtype"]?.stringValue == "float32", "\(name)")
      #expect(entry["shape"]?.arrayValue?.compactMap(\.integerValue) == tensor.shape, "\(name)")
      let values = (entry["values"]?.arrayValue ?? []).compactMap(\.doubleValue)
      #expect(values.map { Float($0).bitPattern } == bits(tensor), "\(name)")
      let sum = tensor.scalars.reduce(0.0) { $0 + Double($1) }
      let pythonSum = try #require(entry["sum"]?.doubleValue)
      #expect(isClose(pythonSum, sum, tolerance: 1e-9), "\(name)")
    }
    let pythonMetadata = try #require(json["metadata"]?.objectMembers)
    #expect(
      Dictionary(
        uniqueKeysWithValues: pythonMetadata.compactMap { member in
          member.value.stringValue.map { (member.key, $0) }
        }) == metadata)
  }

  @Test(
    .enabled(if: Interop.hasPythonSafetensors, "needs python3 with numpy and safetensors; skipped"))
  func swiftReadsWhatPythonWrites() throws {
    let (contents, output) = try withTemporaryDirectory { directory in
      let path = directory + "/python.safetensors"
      let output = try Interop.python(
        """
        import json, sys
        import numpy as np
        from safetensors.numpy import save_file
        tensors = {
            "weights32": (np.arange(24, dtype=np.float32) / np.float32(7)).reshape(2, 3, 4),
            "bias64": np.arange(5, dtype=np.float64) / 3 - 1,
            "half": np.array([[1, -2.5], [0.333, 65504]], dtype=np.float16),
            "counts": np.array([-3, 1 << 40, 7], dtype=np.int64),
            "pixels": np.array([0, 128, 255], dtype=np.uint8),
            "scalar": np.array(2.5, dtype=np.float64),
        }
        save_file(tensors, sys.argv[1], metadata={"source": "numpy", "note": "é \\" \\\\"})
        values = {name: t.astype(np.float64).ravel().tolist() for name, t in tensors.items()}
        print(json.dumps(values))
        """, path)
      return (try Safetensors.read(from: path), output)
    }
    #expect(contents.metadata == ["source": "numpy", "note": "é \" \\"])
    #expect(contents["weights32"]?.shape == [2, 3, 4])
    #expect(contents["weights32"]?.scalars == (0..<24).map { Float($0) / 7 })
    #expect(contents["bias64"]?.scalars == (0..<5).map { Float(Double($0) / 3 - 1) })
    #expect(contents["half"]?.shape == [2, 2])
    #expect(contents["counts"]?.scalars == [-3, 0x1p40, 7])
    #expect(contents["pixels"]?.scalars == [0, 128, 255])
    #expect(contents["scalar"] == Tensor(shape: [], scalars: [2.5]))
    let expected = try #require(JSONValue.parse(Array(output.utf8)).objectMembers)
    #expect(Set(contents.tensors.map(\.name)) == Set(expected.map(\.key)))
    for (name, values) in expected {
      let doubles = values.arrayValue?.compactMap(\.doubleValue) ?? []
      #expect(contents[name]?.scalars == doubles.map { Float($0) }, "\(name)")
    }
  }
}

extension SafetensorsTests {
  /// The format keeps NaN bit for bit, but a model's weights must be finite: `readWeights`,
  /// which the model loaders use, names the tensor and the position.
  @Test func weightsThatAreNotFiniteAreRefusedByName() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/nan.safetensors"
      try Safetensors.write(
        [
          ("fc1.weight", Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])),
          ("fc1.bias", Tensor(shape: [3], scalars: [0, .nan, 1])),
        ], to: path)
      let error = try #require(throws: SafetensorsError.self) {
        try Safetensors.readWeights(from: path)
      }
      #expect(
        error.description
          == "tensor 'fc1.bias' in '\(path)' holds NaN at [1]; weights must be finite")
      #expect(try Safetensors.read(from: path).tensors.count == 2)
    }
  }
}

import Foundation
import Testing

@testable import SigbookONNX
@testable import SigbookWorkbook

/// The catalogue's documentation of `load_onnx` lists the operators the importer reads, taken
/// from the importer: here, where the ONNX target is linked, the docs are checked whole.
@Suite("ONNX documentation") struct ONNXDocumentationTests {
  @Test func functionsDocumentationIsCurrent() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("docs/functions.md")
    let committed = try String(contentsOf: url, encoding: .utf8)
    #expect(
      committed == Catalogue.markdown(formats: [ONNXFormat()]),
      "docs/functions.md is out of date: run `sigbook help --markdown > docs/functions.md`")
  }

  /// Every operator the importer reads is named in the help, and no other: the list used to be
  /// a copy in the catalogue that lacked ten of them (Cast, Concat, Constant, Gather…).
  @Test func loadONNXHelpListsTheImportersOperators() throws {
    // The help is wrapped to the terminal: its lines joined first, wherever the breaks fall.
    let help = try #require(Catalogue.help(for: "load_onnx", formats: [ONNXFormat()]))
      .replacingOccurrences(of: "\n", with: " ")
    let listed = try #require(help.components(separatedBy: "Operators read: ").last)
    let names = listed.prefix(while: { $0 != "." }).components(separatedBy: ", ")
      .map { $0.trimmingCharacters(in: .whitespaces) }
    #expect(names == ONNXImporter.operators.keys.sorted())
    let withoutReader = Catalogue.help(for: "load_onnx")?
      .replacingOccurrences(of: "\n", with: " ")
    #expect(withoutReader?.contains("links no .onnx reader") == true)
  }
}

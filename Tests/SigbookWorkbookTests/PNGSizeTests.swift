import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookPlot
@testable import SigbookWorkbook

/// A PNG too large to render is refused, by its size and the limit, before anything is drawn.
@Suite("PNG size") struct PNGSizeTests {
  /// An empty SVG of `width × height` CSS pixels.
  static func svg(width: Int, height: Int) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\"></svg>"
  }

  @Test func aFigureMillionsOfPixelsTallIsRefused() throws {
    // The size seen in issue 20: 13,406 × 3,201,120 CSS pixels at 150 dpi.
    let error = try #require(throws: SVGRenderError.self) {
      try SVGRenderer.png(Self.svg(width: 13_406, height: 3_201_120), dpi: 150)
    }
    #expect(
      error.message
        == "a PNG of 20,947 × 5,001,750 pixels at 150 dpi is too large: sigbook renders at most 32,767 pixels a side and 67,108,864 pixels in all; write the figure as SVG or PDF, or use a lower dpi"
    )
  }

  @Test func tooManyPixelsWithinTheSideIsRefused() throws {
    let error = try #require(throws: SVGRenderError.self) {
      try SVGRenderer.png(Self.svg(width: 6_000, height: 6_000), dpi: 150)
    }
    #expect(error.message.hasPrefix("a PNG of 9,375 × 9,375 pixels at 150 dpi is too large"))
  }

  @Test func aTallGridOfImagesIsRefusedWhenSavedAsPNG() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "sigbook-png-\(UUID().uuidString)"
    ).path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    // 3,000 images of 2 × 2 pixels, in one column.
    try String(repeating: "0,1,1,0,1\n", count: 3000).write(
      toFile: folder + "/t.csv", atomically: true, encoding: .utf8)
    let session = Session(file: "t.sigbook", baseDirectory: folder, figuresDirectory: folder)
    let source = """
      d = csv("t.csv")
      save(images(d, count: 3000, columns: 1), "tall.png")
      """
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource(source, session: session)
    }
    #expect(error.message.hasPrefix("cannot write 'tall.png': a PNG of "), "\(error.message)")
    #expect(error.message.contains("is too large: sigbook renders at most 32,767 pixels a side"))
    #expect(!FileManager.default.fileExists(atPath: folder + "/tall.png"))
  }
}

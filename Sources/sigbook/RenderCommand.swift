import ArgumentParser
import Foundation
import SigbookPlot
import SigbookTensor

/// `sigbook render FILE|DIR…`: renders SVG files to PDF or PNG beside them, the way `save` and
/// `run --figures` do (librsvg and cairo, DejaVu Sans).
struct Render: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Render SVG figures to PDF or PNG beside them.",
    discussion: """
      Each FILE.svg (or every .svg under a folder, in name order) becomes FILE.pdf or FILE.png \
      through the renderer that `save(fig, "x.pdf")` and `sigbook run --figures` use: librsvg \
      and cairo, text in DejaVu Sans, PNGs on white. Prints each file written.
      """)

  @Argument(help: "SVG files, or folders searched for .svg files.")
  var paths: [String]

  @Option(help: "The format to write: pdf or png.")
  var format = "png"

  @Option(help: "The resolution of PNGs, in dots per inch (96 draws one pixel per SVG unit).")
  var dpi = SVGRenderer.defaultDPI

  func validate() throws {
    guard let f = FigureFormat(rawValue: format), f != .svg else {
      throw ValidationError("--format takes pdf or png, not '\(format)'")
    }
    if !SVGRenderer.dpiRange.contains(dpi) {
      throw ValidationError(
        "--dpi must be between \(Int(SVGRenderer.dpiRange.lowerBound)) and \(Int(SVGRenderer.dpiRange.upperBound))"
      )
    }
  }

  func run() throws {
    let files = try svgFiles()
    guard !files.isEmpty else {
      Terminal.error("error: no .svg file in \(paths.joined(separator: ", "))\n")
      throw ExitCode.failure
    }
    var failed = false
    for file in files {
      let output = String(file.dropLast(".svg".count)) + "." + format
      do {
        let svg = try String(contentsOfFile: file, encoding: .utf8)
        let bytes =
          format == "pdf" ? try SVGRenderer.pdf(svg) : try SVGRenderer.png(svg, dpi: dpi)
        try AtomicFile.write(Data(bytes), to: output)
        print(relative(output))
      } catch {
        Terminal.error("\(relative(file)): error: \(error)\n")
        failed = true
      }
    }
    if failed { throw ExitCode.failure }
  }

  /// The SVG files named, and those under the folders named, sorted within each folder.
  private func svgFiles() throws -> [String] {
    var files: [String] = []
    for path in paths {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        throw ValidationError("no such file or folder '\(path)'")
      }
      if !isFolder.boolValue {
        files.append(path)
        continue
      }
      let found = FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []
      files += found.filter { $0.hasSuffix(".svg") }.sorted().map { path + "/" + $0 }
    }
    return files
  }
}

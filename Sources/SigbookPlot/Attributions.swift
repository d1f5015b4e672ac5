import Foundation
import SigbookTensor

extension Plot {
  /// The colours of attribution maps: values that raise the score red, that lower it blue
  /// (ColorBrewer's RdBu ends), zero transparent over the input.
  static let raises = Color(hex: 0xB2182B)
  static let lowers = Color(hex: 0x2166AC)

  /// `attribution_plot`: each input beside its attribution map, the map in a diverging palette
  /// over the input drawn faint, scaled to the map's own largest |value|, a label under each
  /// pair.
  ///
  /// - Parameters:
  ///   - inputs: the images, `[count, height, width]`, intensities in [0, 1].
  ///   - maps: row `i` the map of input `i`, as many values as its pixels (extra rows are
  ///     ignored).
  ///   - labels: the text under each pair.
  ///   - columns: pairs per row.
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `attribution_plot`.
  /// - Precondition: `inputs` has rank 3.
  public static func attributions(
    inputs: Tensor, maps: Tensor, labels: [String], columns: Int = 4, title: String
  ) -> Figure {
    let images = GreyImage.slices(of: inputs)
    let side = maps.rowSize, values = maps.scalars
    let rows = (0..<min(images.count, maps.rows)).map { i in
      Array(values[(i * side)..<((i + 1) * side)])
    }
    return attributions(
      inputs: images, maps: rows, labels: labels, columns: columns, title: title)
  }

  /// `attribution_plot` of images and maps already cut apart.
  static func attributions(
    inputs: [GreyImage], maps: [[Float]], labels: [String], columns: Int = 4, title: String
  ) -> Figure {
    let count = min(inputs.count, maps.count)
    let columns = max(1, min(columns, max(count, 1)))
    let rows = (count + columns - 1) / columns
    let gap = 4.0
    let pairWidth = 2 * imageBox + gap
    let cellWidth =
      max(pairWidth, (labels.map { textWidth($0, size: FontSize.small) }.max() ?? 0)) + 14
    let cellHeight = imageBox + FontSize.small + 14
    let top = ChartLayout.titleHeight + 4
    let caption =
      "red raises the class's score, blue lowers it; each map scaled to its largest value"
    var width = 2 * ChartLayout.pad + Double(columns) * cellWidth
    width = max(
      width, textWidth(title, size: FontSize.title, bold: true) + 2 * ChartLayout.pad,
      textWidth(caption, size: FontSize.small) + 2 * ChartLayout.pad)
    let height = top + Double(rows) * cellHeight + FontSize.small + 10 + ChartLayout.pad
    var document = SVGDocument(
      width: width, height: height, title: title,
      description: "\(count) inputs beside their attribution maps")
    addBaseStyles(to: &document)
    addImageStyle(to: &document)
    drawTitle(title, into: &document)
    for i in 0..<count {
      let x = ChartLayout.pad + Double(i % columns) * cellWidth + (cellWidth - pairWidth) / 2
      let y = top + Double(i / columns) * cellHeight
      drawImage(inputs[i], x: x, y: y, into: &document)
      let overlay = attributionColors(input: inputs[i], map: maps[i])
      let png = colourPNG(
        width: inputs[i].width, height: inputs[i].height, pixels: overlay,
        scale: pixelScale(inputs[i]))
      drawPixels(
        of: inputs[i], pngURI: "data:image/png;base64," + Data(png).base64EncodedString(),
        x: x + imageBox + gap, y: y, into: &document)
      if i < labels.count {
        document.text(
          labels[i], x: x + pairWidth / 2, y: y + imageBox + FontSize.small + 4,
          ["class": "sb-small", "text-anchor": "middle"])
      }
    }
    document.text(
      caption, x: ChartLayout.pad, y: height - ChartLayout.pad, ["class": "sb-small"])
    return Figure(kind: "attribution_plot", document: document)
  }

  /// Each pixel: the input drawn faint (ink a light grey on white), then the map's colour over
  /// it with an opacity of |value| / the largest |value|.
  static func attributionColors(input: GreyImage, map: [Float]) -> [Color] {
    let largest = map.reduce(Float(0)) { $1.isFinite ? max($0, abs($1)) : $0 }
    return (0..<(input.width * input.height)).map { i in
      let ink = i < input.pixels.count && input.pixels[i].isFinite ? input.pixels[i] : 0
      let grey = UInt8((255 - 80 * Double(min(max(ink, 0), 1))).rounded())
      let base = Color(red: grey, green: grey, blue: grey)
      let v = i < map.count && map[i].isFinite ? map[i] : 0
      guard largest > 0, v != 0 else { return base }
      return base.mixed(with: v > 0 ? raises : lowers, by: Double(abs(v) / largest))
    }
  }

  /// A PNG of RGB pixels (colour type 2), each pixel a `scale` × `scale` block.
  static func colourPNG(width: Int, height: Int, pixels: [Color], scale: Int) -> [UInt8] {
    let scale = min(max(scale, 1), 16)
    let w = width * scale, h = height * scale
    var raw: [UInt8] = []
    raw.reserveCapacity((3 * w + 1) * h)
    for row in 0..<h {
      raw.append(0)
      for column in 0..<w {
        let c = pixels[(row / scale) * width + column / scale]
        raw += [c.red, c.green, c.blue]
      }
    }
    var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    appendChunk(
      "IHDR", bigEndian32(UInt32(w)) + bigEndian32(UInt32(h)) + [8, 2, 0, 0, 0], to: &file)
    appendChunk("IDAT", Deflate.zlib(raw, rowLength: 3 * w + 1), to: &file)
    appendChunk("IEND", [], to: &file)
    return file
  }
}

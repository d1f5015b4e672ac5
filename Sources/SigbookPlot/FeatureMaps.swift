import Foundation
import SigbookTensor

extension Plot {
  /// The maps one layer makes of one input, for ``featureMaps(_:columns:title:)``.
  struct FeatureMapRow: Sendable, Equatable {
    /// What the row is headed with: the layer's name and what it shows (`conv1 → relu1`).
    var name: String
    /// The channels the layer has (the row may show fewer).
    var channels: Int
    /// The maps shown, channel 0 first, `height · width` values each, row-major.
    var maps: [[Float]]
    var height: Int
    var width: Int

    /// A row from its name, its layer's channel count and the maps shown.
    init(name: String, channels: Int, maps: [[Float]], height: Int, width: Int) {
      self.name = name
      self.channels = channels
      self.maps = maps
      self.height = height
      self.width = width
    }

    /// The smallest and largest finite value of the maps shown: the ends of the row's colours.
    var domain: (Double, Double) {
      var lo = Float.infinity, hi = -Float.infinity
      for map in maps {
        for v in map where v.isFinite {
          lo = min(lo, v)
          hi = max(hi, v)
        }
      }
      guard lo <= hi else { return (0, 1) }
      return (Double(lo), Double(hi))
    }

    /// Whether the maps have negative values (a convolution's own output, tanh): drawn in the
    /// diverging palette centred at 0 so that the sign shows.
    var isSigned: Bool { domain.0 < 0 }

    /// The largest finite |value|: the ends (±) of a signed row's scale.
    var largestMagnitude: Double {
      let (lo, hi) = domain
      return max(abs(lo), abs(hi))
    }

    /// The colours of map `c`: viridis from the row's smallest to its largest value (a row of
    /// one value throughout is drawn at the dark end); for a signed row, RdBu of
    /// value / the largest |value| (white at 0).
    func colors(_ c: Int) -> [Color] {
      let (lo, hi) = domain
      let signed = isSigned, m = largestMagnitude
      return (0..<(height * width)).map { i in
        let v = i < maps[c].count ? Double(maps[c][i]) : .nan
        if signed { return Palette.diverging(v.isFinite && m > 0 ? v / m : 0) }
        guard v.isFinite, hi > lo else { return Palette.viridis(0) }
        return Palette.viridis((v - lo) / (hi - lo))
      }
    }
  }

  /// One input and its maps at each layer shown, for ``featureMaps(_:columns:title:)``.
  struct FeatureMapInput: Sendable, Equatable {
    /// The input's channels as images: one is drawn in grey, three in colour (red, green,
    /// blue), any other number as their mean in grey.
    var channels: [GreyImage]
    /// The lines under the input (`input 0`, `label 7 · predicted 7`).
    var caption: [String]
    /// One row per layer, in the order the network computes them.
    var rows: [FeatureMapRow]

    /// An input from its channels, caption and rows.
    init(channels: [GreyImage], caption: [String], rows: [FeatureMapRow]) {
      self.channels = channels
      self.caption = caption
      self.rows = rows
    }

    /// The input's pixels as colours and its size.
    var picture: (width: Int, height: Int, pixels: [Color]) {
      guard let first = channels.first else { return (0, 0, []) }
      let n = first.width * first.height
      func value(_ c: Int, _ i: Int) -> Double {
        let p = channels[c].pixels
        return i < p.count && p[i].isFinite ? Double(min(max(p[i], 0), 1)) : 0
      }
      func byte(_ v: Double) -> UInt8 { UInt8((255 * v).rounded()) }
      let pixels = (0..<n).map { i in
        if channels.count == 3 {
          return Color(red: byte(value(0, i)), green: byte(value(1, i)), blue: byte(value(2, i)))
        }
        let mean = channels.indices.reduce(0) { $0 + value($1, i) } / Double(channels.count)
        return Color(red: byte(mean), green: byte(mean), blue: byte(mean))
      }
      return (first.width, first.height, pixels)
    }
  }

  /// The side of a feature map's box.
  static let featureMapBox = 48.0

  /// `feature_maps`: for each input, the input at the left and, to its right, one row per layer
  /// of its feature maps, each map a small image captioned with its channel, wrapped after
  /// `columns` maps.
  ///
  /// Each row (one layer, one input) has its own colour scale, written in its heading: viridis
  /// from its smallest value (dark purple) to its largest (yellow), or, for a row with negative
  /// values (a convolution's own output), RdBu from −m to m, m its largest |value|, white at 0.
  /// The channels of a layer compare with each other (a silent channel is dark throughout),
  /// layers of different ranges stay readable.
  ///
  /// - Parameters:
  ///   - inputs: the inputs as pictures, `[count, channels, height, width]`: one channel is drawn
  ///     in grey, three in colour (red, green, blue), any other number as their mean in grey;
  ///     nil draws no pictures.
  ///   - captions: the lines under each input (`input 0`, `label 7 · predicted 7`): one entry
  ///     per input shown.
  ///   - layerNames: what each layer's row is headed with: its name and what it shows
  ///     (`conv1 → relu1`).
  ///   - maps: per layer, the maps it makes of each input, `[count, channels, height, width]`.
  ///   - channels: at most this many maps of each layer, the first.
  ///   - columns: maps per line of a row (at least 1).
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `feature_maps`.
  /// - Precondition: `inputs` and every one of `maps` have rank 4 and a row for every caption.
  public static func featureMaps(
    inputs: Tensor?, captions: [[String]], layerNames: [String], maps: [Tensor], channels: Int,
    columns: Int = 16, title: String
  ) -> Figure {
    for t in maps + (inputs.map { [$0] } ?? []) {
      precondition(
        t.rank == 4 && t.rows >= captions.count,
        "maps of \(captions.count) inputs are [inputs, channels, height, width], not \(t.shape)")
    }
    /// The channels `0..<count` of input `n` of a `[inputs, channels, height, width]` tensor.
    func planes(_ t: Tensor, _ n: Int, count: Int) -> [[Float]] {
      let plane = t.shape[2] * t.shape[3], values = t.scalars, start = n * t.shape[1] * plane
      return (0..<count).map { c in Array(values[(start + c * plane)..<(start + (c + 1) * plane)]) }
    }
    let shown = captions.indices.map { n in
      let pictures = inputs.map { t in
        planes(t, n, count: t.shape[1]).map {
          GreyImage(width: t.shape[3], height: t.shape[2], pixels: $0)
        }
      }
      let rows = zip(layerNames, maps).map { name, t in
        FeatureMapRow(
          name: name, channels: t.shape[1], maps: planes(t, n, count: min(t.shape[1], channels)),
          height: t.shape[2], width: t.shape[3])
      }
      return FeatureMapInput(channels: pictures ?? [], caption: captions[n], rows: rows)
    }
    return featureMaps(shown, columns: columns, title: title)
  }

  /// `feature_maps` of inputs already cut into pictures and rows.
  static func featureMaps(
    _ inputs: [FeatureMapInput], columns: Int = 16, title: String
  ) -> Figure {
    let box = featureMapBox
    let columns = max(1, columns)
    let top = ChartLayout.titleHeight + 4
    let captionStep = FontSize.small + 4
    let leftWidth =
      max(
        imageBox,
        inputs.flatMap(\.caption).map { textWidth($0, size: FontSize.small) }.max() ?? 0) + 16
    let x0 = ChartLayout.pad + leftWidth
    let indexWidth = textWidth("000", size: FontSize.small)
    let cellWidth = max(box, indexWidth) + 6
    let cellHeight = box + FontSize.small + 8
    let headingHeight = FontSize.small + 10
    func heading(_ row: FeatureMapRow) -> String {
      let (lo, hi) = row.domain
      let shown =
        row.maps.count < row.channels
        ? "channels 0–\(row.maps.count - 1) of \(row.channels)"
        : "\(row.channels) channel\(row.channels == 1 ? "" : "s")"
      let colours =
        row.isSigned
        ? "colours ±\(NumberFormat.display(row.largestMagnitude)) (blue negative, white 0, red positive)"
        : "colours from \(NumberFormat.display(lo)) to \(NumberFormat.display(hi))"
      return "\(row.name) · \(shown), \(row.height)×\(row.width) · \(colours)"
    }
    var right = x0
    for row in inputs.flatMap(\.rows) {
      right = max(
        right, x0 + textWidth(heading(row), size: FontSize.small),
        x0 + Double(min(row.maps.count, columns)) * cellWidth)
    }
    let hasSigned = inputs.contains { $0.rows.contains(where: \.isSigned) }
    var keys: [(note: String, color: (Double) -> Color)] = [
      (
        "a row's smallest value to its largest: each row on its own scale, written above it; the number under a map is its channel",
        Palette.viridis
      )
    ]
    if hasSigned {
      keys.append(
        (
          "rows with negative values: −m to m, m the row's largest |value|, white at 0",
          { Palette.diverging(2 * $0 - 1) }
        ))
    }
    let keyWidth = 80.0
    let width = max(
      right + ChartLayout.pad,
      textWidth(title, size: FontSize.title, bold: true) + 2 * ChartLayout.pad,
      keyWidth + 8 + (keys.map { textWidth($0.note, size: FontSize.small) }.max() ?? 0) + 2
        * ChartLayout.pad)
    var document = SVGDocument(width: 1, height: 1, title: title)
    addBaseStyles(to: &document)
    addImageStyle(to: &document)
    document.style(".sb-rule", "stroke: #cccccc; stroke-width: 1; fill: none")
    document.style(".sb-frame", "fill: none; stroke: #aaaaaa; stroke-width: 0.5")
    drawTitle(title, into: &document)
    var y = top
    for (n, input) in inputs.enumerated() {
      if n > 0 {
        document.add(
          "path",
          [
            "d": "M\(number(ChartLayout.pad)) \(number(y - 6))H\(number(width - ChartLayout.pad))",
            "class": "sb-rule",
          ])
      }
      let blockTop = y
      let picture = input.picture
      if picture.width > 0 {
        let png = colourPNG(
          width: picture.width, height: picture.height, pixels: picture.pixels,
          scale: pixelScale(GreyImage(width: picture.width, height: picture.height, pixels: [])))
        drawPixels(
          of: GreyImage(width: picture.width, height: picture.height, pixels: []),
          pngURI: "data:image/png;base64," + Data(png).base64EncodedString(),
          x: ChartLayout.pad, y: blockTop + headingHeight, into: &document)
      }
      for (i, line) in input.caption.enumerated() {
        document.text(
          line, x: ChartLayout.pad + imageBox / 2,
          y: blockTop + headingHeight + imageBox + Double(i + 1) * captionStep,
          ["class": "sb-small", "text-anchor": "middle"])
      }
      for row in input.rows {
        document.text(heading(row), x: x0, y: y + FontSize.small + 2, ["class": "sb-small"])
        let image = GreyImage(width: row.width, height: row.height, pixels: [])
        let scale = pixelScale(image, box: box)
        for c in row.maps.indices {
          let x = x0 + Double(c % columns) * cellWidth
          let cy = y + headingHeight + Double(c / columns) * cellHeight
          let png = colourPNG(
            width: row.width, height: row.height, pixels: row.colors(c), scale: scale)
          drawPixels(
            of: image, pngURI: "data:image/png;base64," + Data(png).base64EncodedString(),
            x: x, y: cy, box: box, framed: true, into: &document)
          document.text(
            "\(c)", x: x + box / 2, y: cy + box + FontSize.small + 2,
            ["class": "sb-small", "text-anchor": "middle"])
        }
        let lines = max(1, (row.maps.count + columns - 1) / columns)
        y += headingHeight + Double(lines) * cellHeight + 4
      }
      let captionBottom =
        blockTop + headingHeight + imageBox + Double(input.caption.count) * captionStep + 6
      y = max(y, captionBottom) + 14
    }
    // The keys: each palette from left (low) to right (high).
    let strips = 32
    for (k, key) in keys.enumerated() {
      if k > 0 { y += FontSize.small + 8 }
      document.open("g", ["class": "sb-colorbar", "shape-rendering": "crispEdges"])
      for i in 0..<strips {
        let t = (Double(i) + 0.5) / Double(strips)
        document.add(
          "rect",
          [
            "x": ChartLayout.pad + Double(i) * keyWidth / Double(strips), "y": y + 1,
            "width": keyWidth / Double(strips) + (i < strips - 1 ? 0.5 : 0),
            "height": FontSize.small, "fill": key.color(t).css,
          ])
      }
      document.close()
      document.text(
        key.note, x: ChartLayout.pad + keyWidth + 8, y: y + FontSize.small, ["class": "sb-small"])
    }
    let height = y + FontSize.small + ChartLayout.pad
    document.resize(width: width, height: height)
    document.description =
      "\(inputs.count) inputs and their feature maps at \(inputs.first?.rows.count ?? 0) layers"
    return Figure(kind: "feature_maps", document: document)
  }
}

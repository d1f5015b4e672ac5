import Foundation
import SigbookTensor

extension Plot {
  /// The weights of one convolutional layer, for ``filters(_:outputs:inputs:columns:title:)``.
  struct FilterBank: Sendable, Equatable {
    /// The weights `[outChannels, inChannels, kernelHeight, kernelWidth]`, row-major.
    var weights: [Float]
    /// The filters (output channels).
    var outChannels: Int
    /// The input channels each filter reads (the layer's inputs divided by its groups).
    var inChannels: Int
    var kernelHeight: Int
    var kernelWidth: Int
    /// The groups of a grouped convolution (1: every filter reads every input channel).
    var groups: Int

    /// A filter bank from its weights and shape.
    init(
      weights: [Float], outChannels: Int, inChannels: Int, kernelHeight: Int, kernelWidth: Int,
      groups: Int = 1
    ) {
      self.weights = weights
      self.outChannels = max(outChannels, 0)
      self.inChannels = max(inChannels, 0)
      self.kernelHeight = max(kernelHeight, 0)
      self.kernelWidth = max(kernelWidth, 0)
      self.groups = max(groups, 1)
    }

    /// The largest finite |weight|: the end of the shared symmetric scale.
    var largestMagnitude: Float {
      weights.reduce(0) { $1.isFinite ? max($0, abs($1)) : $0 }
    }

    /// The colours of the kernel from input channel `input` to output channel `output`,
    /// row-major: RdBu of weight / `scale` (white at 0; non-finite weights white).
    func colors(output: Int, input: Int, scale: Float) -> [Color] {
      let taps = kernelHeight * kernelWidth
      let start = (output * inChannels + input) * taps
      return (0..<taps).map { t in
        let w = start + t < weights.count ? weights[start + t] : 0
        guard scale > 0, w.isFinite else { return Palette.diverging(0) }
        return Palette.diverging(Double(w / scale))
      }
    }
  }

  /// The side of a filter's box when a layer's filters are a grid (one input channel).
  static let filterGridBox = 48.0
  /// The side of a filter's box in a matrix of output by input channels.
  static let filterMatrixBox = 32.0

  /// `filters`: every filter of a convolutional layer as a small image, in a diverging palette
  /// (RdBu: blue negative, white 0, red positive) on one symmetric scale for the whole layer,
  /// ±(its largest |weight|), shown by a colour bar.
  ///
  /// Filters that read one input channel (a first layer on greyscale images, a depthwise
  /// convolution) are a grid of `columns` per row, each captioned with its output channel.
  /// Filters that read several are a matrix: one row per output channel, one column per input
  /// channel, each cell the kernel from that input to that output — every weight is shown, none
  /// averaged away (a mean over input channels cancels weights of opposite signs).
  ///
  /// - Parameters:
  ///   - weights: the layer's weights, `[outChannels, inChannels, kernelHeight, kernelWidth]`,
  ///     `inChannels` being the input channels each filter reads (the layer's inputs divided by
  ///     its groups).
  ///   - groups: the groups of a grouped convolution (1: every filter reads every input
  ///     channel).
  ///   - outputs: at most this many output channels are shown (the first ones).
  ///   - inputs: at most this many input channels per filter are shown (the first ones).
  ///   - columns: filters per row of the grid (one input channel).
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `filters`.
  /// - Precondition: `weights` has rank 4.
  public static func filters(
    _ weights: Tensor, groups: Int = 1, outputs: Int, inputs: Int, columns: Int = 8,
    title: String
  ) -> Figure {
    let s = weights.shape
    precondition(s.count == 4, "filters are [out, in, height, width], not \(s)")
    let bank = FilterBank(
      weights: weights.scalars, outChannels: s[0], inChannels: s[1], kernelHeight: s[2],
      kernelWidth: s[3], groups: groups)
    return filters(bank, outputs: outputs, inputs: inputs, columns: columns, title: title)
  }

  /// `filters` of a layer's weights already laid out as a bank.
  static func filters(
    _ bank: FilterBank, outputs: Int, inputs: Int, columns: Int = 8, title: String
  ) -> Figure {
    let shownOut = min(max(outputs, 1), bank.outChannels)
    let shownIn = min(max(inputs, 1), bank.inChannels)
    let scale = bank.largestMagnitude
    let isGrid = bank.inChannels == 1
    let box = isGrid ? filterGridBox : filterMatrixBox
    let top = ChartLayout.titleHeight + 8
    var document = SVGDocument(width: 1, height: 1, title: title)
    addBaseStyles(to: &document)
    addImageStyle(to: &document)
    document.style(".sb-frame", "fill: none; stroke: #aaaaaa; stroke-width: 0.5")
    drawTitle(title, into: &document)
    var gridRight = 0.0, gridBottom = 0.0
    let image = GreyImage(width: bank.kernelWidth, height: bank.kernelHeight, pixels: [])
    let pixelScale = pixelScale(image, box: box)
    func kernel(_ o: Int, _ j: Int, x: Double, y: Double) {
      let png = colourPNG(
        width: bank.kernelWidth, height: bank.kernelHeight,
        pixels: bank.colors(output: o, input: j, scale: scale), scale: pixelScale)
      drawPixels(
        of: image, pngURI: "data:image/png;base64," + Data(png).base64EncodedString(), x: x,
        y: y, box: box, framed: true, into: &document)
    }
    func text(
      _ text: String, _ x: Double, _ y: Double,
      _ attributes: KeyValuePairs<String, any SVGAttributeValue>
    ) {
      document.text(text, x: x, y: y, attributes)
    }
    if isGrid {
      let columns = max(1, min(columns, shownOut))
      let labels = (0..<shownOut).map { "channel \($0)" }
      let cellWidth = max(box, labels.map { textWidth($0, size: FontSize.small) }.max() ?? 0) + 10
      let cellHeight = box + FontSize.small + 12
      for o in 0..<shownOut {
        let x = ChartLayout.pad + Double(o % columns) * cellWidth + (cellWidth - box) / 2
        let y = top + Double(o / columns) * cellHeight
        kernel(o, 0, x: x, y: y)
        text(
          labels[o], x + box / 2, y + box + FontSize.small + 3,
          ["class": "sb-small", "text-anchor": "middle"])
      }
      gridRight = ChartLayout.pad + Double(columns) * cellWidth
      gridBottom = top + Double((shownOut + columns - 1) / columns) * cellHeight
    } else {
      // Row names (output channels) at the left under a rotated title; column names (input
      // channels) above under a title.
      let step = box + 4
      let nameWidth = textWidth("\(shownOut - 1)", size: FontSize.tick)
      let left = ChartLayout.pad + FontSize.label + 10 + nameWidth + 8
      let gridTop = top + FontSize.label + 10 + FontSize.tick + 6
      for o in 0..<shownOut {
        let y = gridTop + Double(o) * step
        text(
          "\(o)", left - 6, y + box / 2 + FontSize.tick * 0.35,
          ["class": "sb-tick", "text-anchor": "end"])
        for j in 0..<shownIn { kernel(o, j, x: left + Double(j) * step, y: y) }
      }
      for j in 0..<shownIn {
        text(
          "\(j)", left + Double(j) * step + box / 2, gridTop - 6,
          ["class": "sb-tick", "text-anchor": "middle"])
      }
      let gridWidth = Double(shownIn) * step - 4
      let gridHeight = Double(shownOut) * step - 4
      text(
        bank.groups > 1 ? "input channel (of the filter's group)" : "input channel",
        left + gridWidth / 2, top + FontSize.label, ["class": "sb-label", "text-anchor": "middle"])
      let titleX = ChartLayout.pad + FontSize.label
      let titleY = gridTop + gridHeight / 2
      text(
        "output channel", titleX, titleY,
        [
          "class": "sb-label", "text-anchor": "middle",
          "transform": "rotate(-90 \(number(titleX)) \(number(titleY)))",
        ])
      gridRight = left + gridWidth
      gridBottom = gridTop + gridHeight
    }
    // The colour bar: the shared symmetric scale.
    let bound = Double(scale > 0 ? scale : 1)
    // As tall as the filters, within reason: a bar of 80 to 240 pixels reads at a glance.
    let bar = Rect(
      x: gridRight + 24, y: top + 20, width: 14,
      height: min(max(gridBottom - top - 20, 80), 240))
    let barScale = LinearScale(lower: -bound, upper: bound, start: 1, end: 0)
    let tickWidth =
      barScale.ticks.map { textWidth(barScale.tickLabel($0), size: FontSize.tick) }.max() ?? 0
    var captions = [
      "blue negative, white 0, red positive; one scale for every filter: ±\(NumberFormat.display(Double(scale))), the largest |weight|"
    ]
    var shown: [String] = []
    if shownOut < bank.outChannels {
      shown.append("output channels 0–\(shownOut - 1) of \(bank.outChannels)")
    }
    if !isGrid, shownIn < bank.inChannels {
      shown.append("input channels 0–\(shownIn - 1) of \(bank.inChannels)")
    }
    if !shown.isEmpty { captions.append("showing " + shown.joined(separator: ", ")) }
    let captionTop = max(gridBottom, bar.maxY) + 8
    var width = bar.maxX + ChartLayout.tickLength + 3 + tickWidth + ChartLayout.pad
    width = max(
      width, textWidth(title, size: FontSize.title, bold: true) + 2 * ChartLayout.pad,
      (captions.map { textWidth($0, size: FontSize.small) }.max() ?? 0) + 2 * ChartLayout.pad)
    let height = captionTop + Double(captions.count) * (FontSize.small + 6) + ChartLayout.pad
    document.resize(width: width, height: height)
    document.description =
      "\(shownOut * (isGrid ? 1 : shownIn)) convolution kernels of \(bank.kernelHeight) × \(bank.kernelWidth)"
    drawColorBar(
      bar, lower: -bound, upper: bound, title: "weight",
      color: { Palette.diverging(2 * $0 - 1) }, into: &document)
    for (i, caption) in captions.enumerated() {
      document.text(
        caption, x: ChartLayout.pad, y: captionTop + Double(i + 1) * (FontSize.small + 6) - 4,
        ["class": "sb-small"])
    }
    return Figure(kind: "filters", document: document)
  }

  /// The block size that makes the PNG of an image at least twice a `box` (so that a viewer
  /// that smooths images smooths only the block edges).
  static func pixelScale(_ image: GreyImage, box: Double) -> Int {
    let side = max(image.width, image.height, 1)
    return min(16, max(1, Int((2 * box / Double(side)).rounded(.up))))
  }
}

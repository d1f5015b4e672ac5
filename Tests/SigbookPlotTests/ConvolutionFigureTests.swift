import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookPlot

/// `filters` and `feature_maps`: the colours drawn are the values', in order, on the scales
/// the figures state.
@Suite("Convolution figures") struct ConvolutionFigureTests {
  /// The `data:` URIs of the figure's images, in document order.
  static func imageURIs(_ figure: Figure) -> [String] {
    figure.svg.components(separatedBy: "xlink:href=\"").dropFirst().map {
      String($0.prefix { $0 != "\"" })
    }
  }

  static func uri(width: Int, height: Int, _ colors: [Plot.Color], scale: Int) -> String {
    "data:image/png;base64,"
      + Data(Plot.colourPNG(width: width, height: height, pixels: colors, scale: scale))
      .base64EncodedString()
  }

  static let red = Plot.Color(hex: 0x67001F), blue = Plot.Color(hex: 0x053061)
  static let white = Plot.Color(hex: 0xF7F7F7)

  @Test func divergingPaletteEndsAndCentre() {
    #expect(Plot.Palette.diverging(1) == Self.red)
    #expect(Plot.Palette.diverging(-1) == Self.blue)
    #expect(Plot.Palette.diverging(0) == Self.white)
    #expect(Plot.Palette.diverging(-7) == Self.blue)
  }

  @Test func firstLayerFiltersAreItsKernelsInOrderOnOneScale() {
    // Two 2 × 2 filters of one input channel: the largest |weight| is 2, so 2 is dark red, −2
    // dark blue, 0 white, 1 halfway to red.
    let bank = Plot.FilterBank(
      weights: [2, 0, -2, 1, 0, 0, 0, -1], outChannels: 2, inChannels: 1, kernelHeight: 2,
      kernelWidth: 2)
    let figure = Plot.filters(bank, outputs: 64, inputs: 16, columns: 8, title: "filters")
    let half = Plot.Palette.diverging(0.5), minusHalf = Plot.Palette.diverging(-0.5)
    let scale = Plot.pixelScale(
      Plot.GreyImage(width: 2, height: 2, pixels: []), box: Plot.filterGridBox)
    #expect(
      Self.imageURIs(figure) == [
        Self.uri(width: 2, height: 2, [Self.red, Self.white, Self.blue, half], scale: scale),
        Self.uri(
          width: 2, height: 2, [Self.white, Self.white, Self.white, minusHalf], scale: scale),
      ])
    #expect(figure.svg.contains(">channel 0<") && figure.svg.contains(">channel 1<"))
    #expect(figure.svg.contains("±2, the largest |weight|"))
    #expect(figure.kind == "filters")
  }

  @Test func deeperFiltersAreAMatrixOfOutputByInputChannels() {
    // 2 outputs × 3 inputs of 1 × 1: row by row, the cells are weights o·3 + j.
    let weights: [Float] = [1, -1, 0, 0.5, -0.5, 1]
    let bank = Plot.FilterBank(
      weights: weights, outChannels: 2, inChannels: 3, kernelHeight: 1, kernelWidth: 1)
    let figure = Plot.filters(bank, outputs: 64, inputs: 2, title: "filters")
    let scale = Plot.pixelScale(
      Plot.GreyImage(width: 1, height: 1, pixels: []), box: Plot.filterMatrixBox)
    // inputs: 2 keeps the first two input channels of each row.
    let expected = [0, 1, 3, 4].map {
      Self.uri(width: 1, height: 1, [Plot.Palette.diverging(Double(weights[$0]))], scale: scale)
    }
    #expect(Self.imageURIs(figure) == expected)
    #expect(figure.svg.contains(">input channel<") && figure.svg.contains(">output channel<"))
    #expect(figure.svg.contains("showing input channels 0–1 of 3"))
  }

  @Test func featureMapsUseOneScalePerRow() {
    // One input, one layer of two 2 × 2 maps ranging 0…4: viridis at v / 4.
    let row = Plot.FeatureMapRow(
      name: "conv1 → relu1", channels: 3, maps: [[0, 1, 2, 4], [4, 4, 0, 0]], height: 2, width: 2)
    let input = Plot.FeatureMapInput(
      channels: [Plot.GreyImage(width: 2, height: 2, pixels: [0, 1, 1, 0])],
      caption: ["input 0", "label 7"], rows: [row])
    let figure = Plot.featureMaps([input], columns: 16, title: "maps")
    let uris = Self.imageURIs(figure)
    #expect(uris.count == 3)
    let scale = Plot.pixelScale(
      Plot.GreyImage(width: 2, height: 2, pixels: []), box: Plot.featureMapBox)
    let v = { (x: Double) in Plot.Palette.viridis(x / 4) }
    #expect(uris[1] == Self.uri(width: 2, height: 2, [v(0), v(1), v(2), v(4)], scale: scale))
    #expect(uris[2] == Self.uri(width: 2, height: 2, [v(4), v(4), v(0), v(0)], scale: scale))
    #expect(figure.svg.contains("conv1 → relu1 · channels 0–1 of 3, 2×2 · colours from 0 to 4"))
    // Byte-identical when drawn again.
    #expect(Plot.featureMaps([input], columns: 16, title: "maps").svg == figure.svg)
  }

  @Test func signedMapsAreDivergingAroundZero() {
    // A convolution's own output, −2…1: RdBu of v / 2, the scale ±2 in the heading.
    let row = Plot.FeatureMapRow(
      name: "conv2", channels: 1, maps: [[-2, 0, 1, 2]], height: 2, width: 2)
    #expect(row.isSigned)
    #expect(row.colors(0) == [Self.blue, Self.white, Plot.Palette.diverging(0.5), Self.red])
    let figure = Plot.featureMaps(
      [Plot.FeatureMapInput(channels: [], caption: [], rows: [row])], title: "maps")
    #expect(figure.svg.contains("conv2 · 1 channel, 2×2 · colours ±2 (blue negative, white 0"))
    #expect(figure.svg.contains("rows with negative values"))
  }
}

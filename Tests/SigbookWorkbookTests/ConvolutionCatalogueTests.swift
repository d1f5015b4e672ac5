import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN
@testable import SigbookPlot
@testable import SigbookWorkbook

/// `filters`, `feature_maps` and `resize` in the language: a hand-made convolution whose maps
/// are computed by hand, a CNN trained on the embedded sample, a ResNet, and the messages.
@Suite("Convolution figures in the language") struct ConvolutionCatalogueTests {
  /// conv(1, 1, kernel: 2) with weights [[1, 2], [0, −1]] and bias −0.3, relu, flatten,
  /// dense(4, 2), softmax, on 3 × 3 images.
  static func handMade() throws -> Model {
    var g = SeededGenerator(seed: 0)
    var conv = Conv2D(inChannels: 1, outChannels: 1, kernel: 2, initialization: .he, generator: &g)
    conv.parameters = [
      Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 0, -1]), Tensor(shape: [1], scalars: [-0.3]),
    ]
    let dense = Dense(
      weight: Tensor(shape: [2, 4], scalars: [1, 0, 1, 0, 0, 1, 0, 1]),
      bias: Tensor(zeros: [2]))
    return try Model(
      layers: [conv, Activation(.relu), Flatten(), dense, Softmax()], inputShape: [1, 3, 3])
  }

  /// One 3 × 3 image, 0.1 … 0.9 row by row.
  static let image = Dataset(
    name: "tiny", features: Tensor(shape: [1, 1, 3, 3], scalars: (1...9).map { Float($0) / 10 }),
    labels: [0], classNames: ["a", "b"])

  static let own = " (own output: no activation follows it alone)"

  static func session() -> Session {
    Session(
      file: "t", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-convolutions.figures")
  }

  static func figure(_ source: String, _ session: Session) throws -> Figure {
    _ = try runSource("f = \(source)", session: session)
    guard case .figure(let figure)? = session.variables["f"] else {
      Issue.record("no figure for \(source)")
      throw CancellationError()
    }
    return figure
  }

  @Test func featureMapsOfAKnownKernelAreTheHandComputedOnes() throws {
    let net = try Self.handMade()
    // x ⋆ k − 0.3: (.1 + .4 − .5, .2 + .6 − .6, .4 + 1 − .8, .5 + 1.2 − .9) − .3.
    let raw = Catalogue.featureMapLayers(
      net, Self.image, convolutions: [0], activated: false)
    #expect(raw.names == ["conv1"] && raw.maps.map(\.shape) == [[1, 1, 2, 2]])
    for (a, b) in zip(raw.maps[0].scalars, [Float(-0.3), -0.1, 0.3, 0.5]) {
      #expect(abs(a - b) < 1e-6)
    }
    let activated = Catalogue.featureMapLayers(
      net, Self.image, convolutions: [0], activated: true)
    #expect(activated.names == ["conv1 → relu1"])
    for (a, b) in zip(activated.maps[0].scalars, [Float(0), 0, 0.3, 0.5]) {
      #expect(abs(a - b) < 1e-6)
    }
    #expect(Catalogue.featureMapCaptions(net, Self.image).first?.first == "input 0")
    #expect(
      Catalogue.featureMapPictures(net, Self.image)?.scalars == Self.image.features.scalars)
  }

  @Test func filtersOfAKnownKernelAreItsWeightsColoured() throws {
    let session = Self.session()
    session.assign("net", .model(try Self.handMade()))
    let figure = try Self.figure("filters(net)", session)
    // The largest |weight| is 2: 1 → halfway to red, 2 → dark red, 0 white, −1 halfway to blue.
    let colors = [0.5, 1, 0, -0.5].map(Plot.Palette.diverging)
    let png = Plot.colourPNG(
      width: 2, height: 2, pixels: colors,
      scale: Plot.pixelScale(
        Plot.GreyImage(width: 2, height: 2, pixels: []), box: Plot.filterGridBox))
    #expect(figure.svg.contains("data:image/png;base64," + Data(png).base64EncodedString()))
    #expect(figure.title == "filters of conv1: 1 filter of 2×2")
  }

  @Test func aCNNTrainedOnTheSampleShowsEachConvolutionAfterItsReLU() throws {
    let session = Self.session()
    _ = try runSource(
      """
      data = mnist_sample(digits: [1, 7], per_class: 20)
      net = fit(cnn(input: [1, 28, 28], conv: [4, 8], dense: [16], classes: 2), data, epochs: 1, batch: 8, lr: 0.05, seed: 1)
      """, session: session)
    let maps = try Self.figure("feature_maps(net, data, count: 2)", session)
    #expect(maps.svg.contains("conv1 → relu1 · 4 channels, 28×28"))
    #expect(maps.svg.contains("conv2 → relu2 · 8 channels, 14×14"))
    #expect(maps.svg.contains(">predicted "))
    // 2 inputs + 2 × (4 + 8) maps.
    #expect(maps.svg.components(separatedBy: "<image").count - 1 == 26)
    let second = try Self.figure("feature_maps(net, data, layer: 2, channels: 3)", session)
    #expect(second.svg.contains("conv2 → relu2 · channels 0–2 of 8, 14×14"))
    #expect(!second.svg.contains("conv1"))
    let range = try Self.figure("feature_maps(net, data, layer: 1...2, count: 1)", session)
    #expect(range.svg.contains("conv1 → relu1") && range.svg.contains("conv2 → relu2"))
    let filters = try Self.figure("filters(net, layer: \"conv2\")", session)
    #expect(filters.title == "filters of conv2: 8 filters of 3×3 over 4 input channels")
    #expect(filters.svg.components(separatedBy: "<image").count - 1 == 32)
    // Byte-identical in another session.
    let again = Self.session()
    _ = try runSource(
      """
      data = mnist_sample(digits: [1, 7], per_class: 20)
      net = fit(cnn(input: [1, 28, 28], conv: [4, 8], dense: [16], classes: 2), data, epochs: 1, batch: 8, lr: 0.05, seed: 1)
      """, session: again)
    #expect(try Self.figure("feature_maps(net, data, count: 2)", again).svg == maps.svg)
  }

  @Test func aResNetShowsEveryConvolutionInsideItsBlocks() throws {
    let session = Self.session()
    _ = try runSource(
      """
      data = mnist_sample(digits: [1, 7], per_class: 2)
      res = resnet(input: [1, 28, 28], widths: [4, 8], classes: 2, seed: 1)
      """, session: session)
    guard case .model(let res)? = session.variables["res"] else { return }
    let convolutions = res.convolutionLayerIndices
    let names = Catalogue.featureMapLayers(
      res, try #require(session.variables["data"]).datasetValue, convolutions: convolutions,
      activated: true
    ).names
    // A block's first convolution shows after its batch normalisation and ReLU; its second,
    // whose ReLU follows the residual sum, and the shortcut's show their own outputs.
    #expect(
      names == [
        "stem.conv → stem.relu", "stage1.block1.conv1 → stage1.block1.relu1",
        "stage1.block1.conv2" + Self.own, "stage2.block1.conv1 → stage2.block1.relu1",
        "stage2.block1.conv2" + Self.own, "stage2.block1.shortcut.conv" + Self.own,
      ])
    #expect(convolutions.count == 6)
    let figure = try Self.figure("feature_maps(res, data, count: 1)", session)
    #expect(figure.kind == "feature_maps")
  }

  static let errors: [(source: String, message: String, hint: String?)] = [
    (
      "filters(net, layer: \"relu1\")", "'relu1' is not a convolution (it is relu())",
      "its convolutions are conv1"
    ),
    (
      "filters(net, layer: \"conv2\")", "the model has no layer named 'conv2'",
      "did you mean 'conv1'? its convolutions are conv1"
    ),
    ("feature_maps(net, tiny, layer: 3)", "layer: the model has convolutions 1 to 1, not 3", nil),
    ("filters(mlp(4, 2))", "this model has no convolutional layer (mlp(4, 2))", nil),
    ("resize(tiny, height: 0)", "height: must be at least 1 pixel, not 0", nil),
    (
      "resize(synthetic(.two_gaussians, n: 10), height: 4)",
      "'two_gaussians' holds inputs of shape [2], not images [channels, height, width] (or vectors of a square number of pixels)",
      nil
    ),
  ]

  @Test(arguments: errors)
  func messagesNameWhatThereIs(_ c: (source: String, message: String, hint: String?)) throws {
    let session = Self.session()
    session.assign("net", .model(try Self.handMade()))
    session.assign("tiny", .dataset(Self.image))
    let error = try #require(throws: WorkbookError.self) {
      try runSource(c.source, session: session)
    }
    #expect(error.message == c.message)
    if let hint = c.hint { #expect(error.hint == hint) }
  }

  @Test func resizeToUSPSSizeKeepsLabels() throws {
    let session = Self.session()
    _ = try runSource(
      "d = mnist_sample(digits: [3, 5], per_class: 4)\nu = resize(d, height: 16, width: 16)",
      session: session)
    guard case .dataset(let d)? = session.variables["d"],
      case .dataset(let u)? = session.variables["u"]
    else { return }
    #expect(u.featureShape == [1, 16, 16] && u.labels == d.labels && u.classNames == d.classNames)
    #expect(u.name == "mnist_sample at 16×16")
  }
}

extension Value {
  /// The dataset this value holds (an empty one otherwise), for tests.
  fileprivate var datasetValue: Dataset {
    if case .dataset(let d) = self { return d }
    return Dataset(name: "", features: Tensor(zeros: [0, 1]), labels: [], classNames: [])
  }
}

import SigbookTestSupport
import Testing

@testable import SigbookNN
@testable import SigbookTensor

/// The image operations of imported networks — grouped, depthwise and dilated convolutions,
/// local response normalisation, pooling of any geometry: gradients against finite differences
/// (the measure and tolerance of `GradientCheckTests`), and outputs worked by hand.
@Suite("Image operations") struct ImageOperationTests {
  /// A convolution layer with a random bias (a zero bias would leave its gradient unchecked).
  static func convolution(_ c: Convolution, seed: Int) -> GroupedConv2D {
    var g = SeededGenerator(seed: seed)
    var layer = GroupedConv2D(c, initialization: .he, generator: &g)
    if c.hasBias {
      layer.parameters[1] = Tensor.uniform(shape: [c.outChannels], low: -1, high: 1, generator: &g)
    }
    return layer
  }

  /// Distinct values 0.05 apart in random order: a step of 1e-3 never changes a maximum.
  static func distinct(_ shape: [Int], seed: Int) -> Tensor {
    var g = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: g.permutation(count).map { Float($0) * 0.05 - 2 })
  }

  static let groupedCases: [Convolution] = [
    // Groups 2, a 3×2 kernel, stride 2, pads [top 1, left 0, bottom 2, right 1], dilation 2.
    Convolution(
      inChannels: 4, outChannels: 6, kernel: [3, 2], strides: [2, 2], pads: [1, 0, 2, 1],
      dilations: [2, 2], groups: 2),
    // The contiguous path (horizontal stride 1) with uneven strides and dilations, no bias.
    Convolution(
      inChannels: 4, outChannels: 2, kernel: [2, 3], strides: [2, 1], pads: [0, 2, 1, 0],
      dilations: [1, 2], groups: 2, hasBias: false),
  ]

  @Test(arguments: groupedCases)
  func groupedConvolution(_ c: Convolution) throws {
    let layer = Self.convolution(c, seed: 1)
    var g = SeededGenerator(seed: 2)
    let x = Tensor.uniform(shape: [2, 4, 7, 8], low: -1, high: 1, generator: &g)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
    let expected = try LayerSpec.convolution(c).outputShape(for: [4, 7, 8]).get()
    #expect([2] + expected == layer.apply(x).shape)
  }

  /// Inference unfolds a large batch a few images at a time (`Im2Col.convolved`): the same
  /// outputs as the training forward, which unfolds the whole batch, for a square and a grouped
  /// convolution whose unfolding exceeds the chunk budget many times.
  @Test func chunkedInferenceEqualsTheWholeBatch() {
    var g = SeededGenerator(seed: 9)
    let x = Tensor.uniform(shape: [23, 16, 28, 28], low: -1, high: 1, generator: &g)
    let window = Im2Col(
      channels: 16, kernelHeight: 3, kernelWidth: 3, strideY: 1, strideX: 1, padTop: 1,
      padLeft: 1, padBottom: 1, padRight: 1)
    // 144 × 784 unfolded values an image: a chunk of 9 images, three chunks (the last short).
    #expect(Im2Col.inferenceColumnBudget / (window.patch * 784) == 9)
    let square = LayerSpec.conv(inChannels: 16, outChannels: 8, kernel: 3, stride: 1, padding: 1)
      .makeLayer(initialization: .he, generator: &g)
    let grouped = Self.convolution(
      Convolution(
        inChannels: 16, outChannels: 8, kernel: [3, 3], pads: [1, 1, 1, 1], groups: 4), seed: 5)
    for layer in [square, grouped] as [any Layer] {
      let whole = layer.forward(x).output
      let chunked = layer.apply(x)
      #expect(chunked.shape == whole.shape)
      #expect(largestRelativeError(chunked.scalars, whole.scalars) < 1e-5)
    }
  }

  /// Depthwise (one group per channel), and with a channel multiplier of 2.
  @Test(arguments: [3, 6])
  func depthwiseConvolution(outChannels: Int) {
    let c = Convolution(
      inChannels: 3, outChannels: outChannels, kernel: [3, 3], pads: [1, 1, 1, 1], groups: 3)
    let layer = Self.convolution(c, seed: 3)
    var g = SeededGenerator(seed: 4)
    let x = Tensor.uniform(shape: [2, 3, 5, 6], low: -1, high: 1, generator: &g)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
    // Each output channel sees its own input channel alone.
    var y = x
    y.withUnsafeMutableBufferPointer { v in for i in 0..<30 { v[30 + i] += 5 } }
    let before = layer.apply(x), after = layer.apply(y)
    let perOutput = outputChannels(before, channels: outChannels)
    let changed = outputChannels(after, channels: outChannels)
    for o in 0..<outChannels {
      // Channel 1 of image 0 feeds output channels o with o / (outChannels / 3) == 1.
      #expect((perOutput[o] != changed[o]) == (o / (outChannels / 3) == 1), "output \(o)")
    }
  }

  /// The values of image 0, one array per channel.
  private func outputChannels(_ y: Tensor, channels: Int) -> [[Float]] {
    let plane = y.shape[2] * y.shape[3]
    return (0..<channels).map { Array(y.scalars[$0 * plane..<($0 + 1) * plane]) }
  }

  /// With one group, a square kernel and even pads the general convolution is `Conv2D`, to the
  /// bit: outputs and every gradient.
  @Test(arguments: [(1, 0), (1, 1), (2, 1), (3, 2)])
  func ungroupedEqualsConv2D(stride: Int, padding: Int) {
    var g = SeededGenerator(seed: 5)
    var conv = Conv2D(
      inChannels: 3, outChannels: 4, kernel: 3, stride: stride, padding: padding,
      initialization: .he, generator: &g)
    conv.parameters[1] = Tensor.uniform(shape: [4], low: -1, high: 1, generator: &g)
    var general = GroupedConv2D(
      Convolution(
        inChannels: 3, outChannels: 4, kernel: [3, 3], strides: [stride, stride],
        pads: [padding, padding, padding, padding]),
      initialization: .glorot, generator: &g)
    general.parameters = conv.parameters
    let x = Tensor.uniform(shape: [3, 3, 9, 8], low: -1, high: 1, generator: &g)
    let (a, cacheA) = conv.forward(x)
    let (b, cacheB) = general.forward(x)
    #expect(a == b)
    let dy = Tensor.uniform(shape: a.shape, low: -1, high: 1, generator: &g)
    var gradientsA: [Tensor] = [], gradientsB: [Tensor] = []
    let dxA = conv.backward(dy, cache: cacheA, gradients: &gradientsA, needsInputGradient: true)
    let dxB = general.backward(dy, cache: cacheB, gradients: &gradientsB, needsInputGradient: true)
    #expect(dxA == dxB)
    #expect(gradientsA == gradientsB)
  }

  @Test(arguments: [3, 4])
  func localResponseNorm(size: Int) {
    // alpha large enough that the normalisation matters at values of about 1.
    let layer = LocalResponseNorm(size: size, alpha: 0.8, beta: 0.75, bias: 1.5)
    var g = SeededGenerator(seed: 6)
    let x = Tensor.uniform(shape: [2, 5, 2, 3], low: -1.5, high: 1.5, generator: &g)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
  }

  /// ONNX's window: channels c − ⌊(size − 1)/2⌋ … c + ⌈(size − 1)/2⌉. With alpha = size,
  /// beta = 1, bias = 1: y_c = x_c / (1 + Σ x_i²).
  @Test func localResponseNormWindow() {
    let x = Tensor(shape: [1, 4, 1, 1], scalars: [1, 2, 3, 4])
    let even = LocalResponseNorm(size: 4, alpha: 4, beta: 1, bias: 1).apply(x).scalars
    // Windows [0, 2], [0, 3], [1, 3], [2, 3].
    #expect(
      zip(even, [1 / 15, 2 / 31, 3 / 30, 4 / 26] as [Float]).allSatisfy { abs($0 - $1) < 1e-7 })
    let odd = LocalResponseNorm(size: 3, alpha: 3, beta: 1, bias: 1).apply(x).scalars
    // Windows [0, 1], [0, 2], [1, 3], [2, 3].
    #expect(
      zip(odd, [1 / 6, 2 / 15, 3 / 30, 4 / 26] as [Float]).allSatisfy { abs($0 - $1) < 1e-7 })
  }

  @Test(arguments: [false, true])
  func maxPool(ceilMode: Bool) throws {
    let pooling = Pooling(
      .max, kernel: [3, 2], strides: [2, 2], pads: [1, 1, 1, 0], ceilMode: ceilMode)
    let layer = Pool2D(pooling: pooling)
    let x = Self.distinct([2, 2, 8, 6], seed: 7)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-3)
    // Rows: (8 + 2 − 3) / 2 = 3.5, so 4 windows or 5 in ceil mode; columns: (6 + 1 − 2) / 2 =
    // 2.5, so 3 or 4. The last windows of ceil mode overrun the input and its padding.
    let shape = try LayerSpec.pool(pooling).outputShape(for: [2, 8, 6]).get()
    #expect(shape == (ceilMode ? [2, 5, 4] : [2, 4, 3]))
    #expect(layer.apply(x).shape == [2] + shape)
  }

  /// Ceil mode keeps a last window that starts inside the input or its leading padding, and
  /// drops one that would start in the trailing padding (PyTorch's and ONNX's rule).
  @Test func ceilModeDropsAWindowStartingInTheTrailingPadding() {
    let cases: [(size: Int, before: Int, after: Int, floor: Int, ceil: Int)] = [
      (8, 1, 0, 4, 5),  // the 5th window starts at row 7, inside
      (6, 1, 0, 3, 4),  // the 4th starts at row 5, inside
      (6, 0, 1, 3, 3),  // a 4th would start at row 6, in the trailing padding
      (7, 1, 1, 4, 4),  // a 5th would start at row 7, in the trailing padding
      (8, 0, 0, 4, 4),  // exact
    ]
    for c in cases {
      for (ceilMode, expected) in [(false, c.floor), (true, c.ceil)] {
        let n = Pooling.outputLength(
          c.size, kernel: 2, stride: 2, before: c.before, after: c.after, ceilMode: ceilMode)
        #expect(n == expected, "\(c), ceil mode \(ceilMode)")
      }
    }
  }

  /// Padded cells never win, even over negative values; ties go to the first cell.
  @Test func maxPoolIgnoresPaddingAndBreaksTiesFirst() {
    let layer = Pool2D(pooling: Pooling(.max, kernel: [2, 2], pads: [1, 1, 1, 1]))
    let negative = Tensor(shape: [1, 1, 2, 2], scalars: [-4, -3, -2, -1])
    #expect(layer.apply(negative).scalars == [-4, -3, -2, -1])
    let tied = Pool2D(pooling: Pooling(.max, kernel: [2, 2]))
    let (output, cache) = tied.forward(Tensor(repeating: 1, shape: [1, 1, 2, 2]))
    var gradients: [Tensor] = []
    let dx = tied.backward(
      Tensor(repeating: 1, shape: output.shape), cache: cache, gradients: &gradients,
      needsInputGradient: true)
    #expect(dx.scalars == [1, 0, 0, 0])
  }

  @Test(arguments: [false, true])
  func averagePool(countIncludePad: Bool) {
    let layer = Pool2D(
      pooling: Pooling(
        .average, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true,
        countIncludePad: countIncludePad))
    var g = SeededGenerator(seed: 8)
    let x = Tensor.uniform(shape: [2, 2, 6, 5], low: -1, high: 1, generator: &g)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
    // On ones, an average of input cells is 1; counting the padding, the top-left window holds
    // 4 input cells of 9, and the last (rows 5 … 7, columns 3 … 5, cut at the padded edge) 2 of 6.
    let ones = layer.apply(Tensor(repeating: 1, shape: [1, 1, 6, 5]))
    #expect(ones.shape == [1, 1, 4, 3])
    if countIncludePad {
      #expect(abs(ones.scalars[0] - 4 / 9) < 1e-7 && abs(ones.scalars[11] - 1 / 3) < 1e-7)
    } else {
      #expect(ones.scalars.allSatisfy { abs($0 - 1) < 1e-6 })
    }
  }

  /// A network of all of them, as a whole: the gradients `fit` uses, against central
  /// differences of the loss.
  @Test func imageOperationsAsAWhole() throws {
    let model = try GraphModels.imageOperations()
    #expect(model.layerShapes[4] == [4, 3, 3])
    var g = SeededGenerator(seed: 9)
    let inputs = Tensor.uniform(shape: [4, 2, 7, 7], low: -1, high: 1, generator: &g)
    // Small enough that no maximum changes its winner.
    try GradientCheckTests.checkWholeNetwork(
      model, inputs: inputs, labels: [0, 2, 1, 2], epsilon: 1e-3)
  }

  /// A PyTorch `state_dict` fills a convolution without a bias with its weight alone, and one
  /// with a bias from both.
  @Test func stateDictFillsAConvolutionWithoutBias() throws {
    let model = try GraphModels.imageOperations()
    let halved = model.namedParameters.map { name, tensor in
      ("features.\(name)", Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 / 2 }))
    }
    let loaded = try model.loadingStateDict(Safetensors.Contents(tensors: halved), path: "t")
    #expect(loaded.namedParameters.map(\.tensor) == halved.map(\.1))
    #expect(loaded.layers[3].parameters.count == 1)
  }

  /// The text people write, with only what differs from the defaults.
  @Test func displayNames() {
    let cases: [(LayerSpec, String)] = [
      (
        .convolution(
          Convolution(
            inChannels: 32, outChannels: 32, kernel: [3, 3], pads: [1, 1, 1, 1], groups: 32)),
        "conv(32, 32, kernel: 3, padding: 1, groups: 32)"
      ),
      (
        .convolution(
          Convolution(
            inChannels: 4, outChannels: 6, kernel: [3, 2], strides: [2, 2], pads: [1, 0, 2, 1],
            dilations: [2, 2], groups: 2, hasBias: false)),
        "conv(4, 6, kernel: [3, 2], stride: 2, padding: [1, 0, 2, 1], dilation: 2, groups: 2, bias: false)"
      ),
      (.localResponseNorm(size: 5, alpha: 1e-4, beta: 0.75, bias: 1), "lrn(5)"),
      (.localResponseNorm(size: 5, alpha: 1e-4, beta: 0.75, bias: 2), "lrn(5, bias: 2.0)"),
      (
        .pool(Pooling(.max, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])),
        "maxpool(3, stride: 2, padding: 1)"
      ),
      (.pool(Pooling(.max, kernel: [2, 2])), "maxpool(2)"),
      (
        .pool(
          Pooling(
            .average, kernel: [3, 3], strides: [1, 1], ceilMode: true, countIncludePad: true)),
        "avgpool(3, stride: 1, ceil_mode: true, count_include_pad: true)"
      ),
    ]
    for (spec, text) in cases { #expect(spec.displayName == text) }
  }

  /// Sizes that cannot make a layer are refused with a message, before anything is built.
  @Test func badSizesAreExplained() {
    let conv = { (groups: Int, kernel: [Int], pads: [Int]) -> LayerSpec in
      .convolution(
        Convolution(inChannels: 6, outChannels: 4, kernel: kernel, pads: pads, groups: groups))
    }
    let cases: [(LayerSpec, String)] = [
      (
        conv(4, [3, 3], [0, 0, 0, 0]),
        "needs channels divisible by its 4 groups, not 6 in and 4 out"
      ),
      (conv(0, [3, 3], [0, 0, 0, 0]), "needs at least 1 group"),
      (conv(2, [3, 0], [0, 0, 0, 0]), "needs a kernel of at least 1"),
      (conv(2, [3], [0, 0, 0, 0]), "needs a kernel of 2 sizes [height, width]"),
      (conv(2, [3, 3], [0, -1, 0, 0]), "needs pads of at least 0"),
      (conv(2, [3, 3], [1, 1]), "needs 4 pads [top, left, bottom, right]"),
      (conv(2, [3, 3 << 32], [0, 0, 0, 0]), "has a size above 2147483647"),
      (
        .localResponseNorm(size: 0, alpha: 1e-4, beta: 0.75, bias: 1),
        "needs a window of at least 1 channel"
      ),
      (
        .localResponseNorm(size: 5, alpha: 1e-4, beta: 0.75, bias: 0),
        "needs alpha ≥ 0 and a positive bias"
      ),
      (
        .localResponseNorm(size: 5, alpha: .nan, beta: 0.75, bias: 1),
        "needs finite alpha, beta and bias"
      ),
      (
        .pool(Pooling(.max, kernel: [2, 2], pads: [2, 0, 0, 0])),
        "needs pads smaller than its 2×2 window"
      ),
      (.pool(Pooling(.average, kernel: [2, 2], strides: [0, 1])), "needs strides of at least 1"),
    ]
    for (spec, message) in cases {
      #expect(spec.sizeProblem == message, "\(spec.displayName)")
      let error = #expect(throws: ShapeMismatch.self) {
        try Model.checkArchitecture([spec], inputShape: [6, 8, 8], name: "m")
      }
      #expect(error?.message.hasSuffix(message) == true)
    }
  }

  /// Inputs a layer cannot take are refused with what it expects.
  @Test func badInputsAreExplained() {
    let cases: [(LayerSpec, [Int], String)] = [
      (
        .convolution(Convolution(inChannels: 3, outChannels: 3, kernel: [3, 3], groups: 3)),
        [4, 8, 8],
        "conv(3, 3, kernel: 3, groups: 3) expects images of 3 channels [3, height, width] but gets [4, 8, 8]"
      ),
      (
        .convolution(
          Convolution(inChannels: 3, outChannels: 3, kernel: [3, 3], dilations: [3, 1])),
        [3, 6, 8],
        "conv(3, 3, kernel: 3, dilation: [3, 1]) has a kernel spanning 7×3, larger than its 6×8 input padded by [0, 0, 0, 0]"
      ),
      (
        .localResponseNorm(size: 5, alpha: 1e-4, beta: 0.75, bias: 1), [16],
        "lrn(5) expects images [channels, height, width], not [16]"
      ),
      (
        .pool(Pooling(.max, kernel: [5, 2])), [3, 4, 4],
        "maxpool([5, 2]) has a 5×2 window, larger than its 4×4 maps padded by [0, 0, 0, 0]"
      ),
    ]
    for (spec, input, message) in cases {
      #expect(spec.outputShape(for: input) == .failure(ShapeMismatch(message)))
    }
  }
}

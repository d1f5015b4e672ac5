import SigbookTensor

/// The architecture of a 2-D convolution of any geometry ONNX's `Conv` describes: grouped or
/// depthwise, dilated, with a rectangular kernel, two strides and a pad on each side.
///
/// The weight is `[outChannels, inChannels / groups, kernel[0], kernel[1]]` and the bias
/// `[outChannels]` (PyTorch's `nn.Conv2d` and ONNX's layout). Input channels are split into
/// `groups` consecutive blocks, each convolved with its own block of `outChannels / groups`
/// output channels; `groups == inChannels == outChannels` is a depthwise convolution.
///
/// outH = ⌊(H + pads[0] + pads[2] − dilations[0]·(kernel[0] − 1) − 1) / strides[0]⌋ + 1, and
/// likewise outW with `pads[1]`, `pads[3]`, `dilations[1]`, `kernel[1]`, `strides[1]`.
public struct Convolution: Codable, Equatable, Sendable {
  /// The channels of the input images.
  var inChannels: Int
  /// The channels of the output maps.
  var outChannels: Int
  /// [height, width].
  public var kernel: [Int]
  /// [vertical, horizontal].
  public var strides: [Int]
  /// [top, left, bottom, right], in input pixels of value 0.
  public var pads: [Int]
  /// [vertical, horizontal]: the distance between two taps of the kernel (1: adjacent).
  public var dilations: [Int]
  /// The number of blocks the channels are split into (1: every output reads every input).
  public var groups: Int
  /// Whether the layer adds a learned bias (ONNX's `Conv` may have none).
  var hasBias: Bool

  /// A convolution; the defaults are ONNX's (stride 1, no padding, no dilation, one group) and
  /// a bias.
  ///
  /// - Parameters:
  ///   - kernel: [height, width].
  ///   - strides: [vertical, horizontal].
  ///   - pads: [top, left, bottom, right].
  ///   - dilations: [vertical, horizontal].
  public init(
    inChannels: Int, outChannels: Int, kernel: [Int], strides: [Int] = [1, 1],
    pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1], groups: Int = 1, hasBias: Bool = true
  ) {
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernel = kernel
    self.strides = strides
    self.pads = pads
    self.dilations = dilations
    self.groups = groups
    self.hasBias = hasBias
  }

  /// The text people write for it: `conv(32, 32, kernel: 3, groups: 32)`, with only what
  /// differs from the defaults.
  var displayName: String {
    var text = "conv(\(inChannels), \(outChannels), kernel: \(Self.compact(kernel))"
    if strides.contains(where: { $0 != 1 }) { text += ", stride: \(Self.compact(strides))" }
    if pads.contains(where: { $0 != 0 }) { text += ", padding: \(Self.compact(pads))" }
    if dilations.contains(where: { $0 != 1 }) { text += ", dilation: \(Self.compact(dilations))" }
    if groups != 1 { text += ", groups: \(groups)" }
    if !hasBias { text += ", bias: false" }
    return text + ")"
  }

  /// `3` for `[3, 3]` or `[3, 3, 3, 3]`, the list otherwise.
  static func compact(_ values: [Int]) -> String {
    if let first = values.first, values.count > 1, values.allSatisfy({ $0 == first }) {
      return "\(first)"
    }
    return "\(values)"
  }

  /// Why these sizes cannot make a layer, or nil.
  var sizeProblem: String? {
    let limit = Model.maxDimension
    guard inChannels > 0, outChannels > 0 else { return "needs positive numbers of channels" }
    guard kernel.count == 2 else { return "needs a kernel of 2 sizes [height, width]" }
    guard strides.count == 2 else { return "needs 2 strides [vertical, horizontal]" }
    guard dilations.count == 2 else { return "needs 2 dilations [vertical, horizontal]" }
    guard pads.count == 4 else { return "needs 4 pads [top, left, bottom, right]" }
    guard kernel.allSatisfy({ $0 > 0 }) else { return "needs a kernel of at least 1" }
    guard strides.allSatisfy({ $0 > 0 }) else { return "needs strides of at least 1" }
    guard dilations.allSatisfy({ $0 > 0 }) else { return "needs dilations of at least 1" }
    guard pads.allSatisfy({ $0 >= 0 }) else { return "needs pads of at least 0" }
    guard groups > 0 else { return "needs at least 1 group" }
    guard
      ([inChannels, outChannels, groups] + kernel + strides + dilations + pads).allSatisfy({
        $0 <= limit
      })
    else { return "has a size above \(limit)" }
    guard inChannels % groups == 0, outChannels % groups == 0 else {
      return "needs channels divisible by its \(groups) groups, not \(inChannels) in and "
        + "\(outChannels) out"
    }
    return nil
  }

  /// `[weight, bias]` shapes, or the weight's alone without a bias.
  var parameterShapes: [[Int]] {
    let weight = [outChannels, inChannels / groups, kernel[0], kernel[1]]
    return hasBias ? [weight, [outChannels]] : [weight]
  }

  /// The unfolding of the whole input (every group's channels).
  var window: Im2Col {
    Im2Col(
      channels: inChannels, kernelHeight: kernel[0], kernelWidth: kernel[1],
      strideY: strides[0], strideX: strides[1], padTop: pads[0], padLeft: pads[1],
      padBottom: pads[2], padRight: pads[3], dilationY: dilations[0], dilationX: dilations[1])
  }

  /// `[outChannels, outH, outW]` for images `[inChannels, H, W]`, or why not.
  ///
  /// - Precondition: `sizeProblem == nil`.
  func outputShape(for input: [Int]) -> Result<[Int], ShapeMismatch> {
    guard input.count == 3, input[0] == inChannels else {
      return .failure(
        ShapeMismatch(
          "\(displayName) expects images of \(inChannels) channel\(inChannels == 1 ? "" : "s") "
            + "[\(inChannels), height, width] but gets \(input)"))
    }
    let (h, w) = window.outputSize(height: input[1], width: input[2])
    guard h > 0, w > 0 else {
      let extent = zip(kernel, dilations).map { k, d in d * (k - 1) + 1 }
      return .failure(
        ShapeMismatch(
          "\(displayName) has a kernel spanning \(extent[0])×\(extent[1]), larger than its "
            + "\(input[1])×\(input[2]) input padded by \(pads)"))
    }
    return .success([outChannels, h, w])
  }
}

/// A 2-D convolution of any `Convolution` geometry over `[batch, channels, height, width]`
/// batches: the whole batch unfolded once (im2col), then one matrix product per group
/// (`Im2Col.convolve`), so a depthwise convolution is one product per channel over the whole
/// batch. `Conv2D`, the square ungrouped case that saved files name `conv`, runs the same code.
struct GroupedConv2D: Layer {
  /// What the gradients need (the unfolded input, or the input itself: `Im2Col.trainingForward`)
  /// and the input's shape.
  struct Cache: Sendable {
    var columns: Tensor
    var inputShape: [Int]
  }

  /// `[weight [out, in/groups, kh, kw], bias [out]]`, or the weight alone.
  var parameters: [Tensor]
  var parameterNames: [String] { convolution.hasBias ? ["weight", "bias"] : ["weight"] }
  let convolution: Convolution

  /// Weights drawn by `initialization` (fan-in in/groups·kh·kw, fan-out out/groups·kh·kw: what
  /// one output value reads and one input value reaches) and a zero bias.
  ///
  /// - Precondition: `convolution.sizeProblem == nil`.
  init(
    _ convolution: Convolution, initialization: Initialization,
    generator: inout SeededGenerator
  ) {
    precondition(convolution.sizeProblem == nil, "convolution \(convolution)")
    self.convolution = convolution
    let taps = convolution.kernel[0] * convolution.kernel[1]
    let g = convolution.groups
    parameters = [
      initialization.weights(
        shape: convolution.parameterShapes[0], fanIn: convolution.inChannels / g * taps,
        fanOut: convolution.outChannels / g * taps, generator: &generator)
    ]
    if convolution.hasBias { parameters.append(Tensor(zeros: [convolution.outChannels])) }
  }

  var spec: LayerSpec { .convolution(convolution) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    convolution.outputShape(for: inputShape)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache) {
    precondition(
      input.rank == 4 && input.shape[1] == convolution.inChannels, "conv input \(input.shape)")
    let (output, saved) = convolution.window.trainingForward(
      input, weight: parameters[0], bias: convolution.hasBias ? parameters[1] : nil,
      groups: convolution.groups)
    return (output, Cache(columns: saved, inputShape: input.shape))
  }

  /// Inference: the output alone, by the direct kernel or unfolded a few images at a time
  /// (`Im2Col.convolved`).
  func apply(_ input: consuming Tensor) -> Tensor {
    precondition(
      input.rank == 4 && input.shape[1] == convolution.inChannels, "conv input \(input.shape)")
    return convolution.window.convolved(
      input, weight: parameters[0], bias: convolution.hasBias ? parameters[1] : nil,
      groups: convolution.groups)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    let (weight, bias, input) = convolution.window.convolutionGradients(
      outputGradient, columns: cache.columns, weight: parameters[0], groups: convolution.groups,
      inputShape: cache.inputShape, needsInputGradient: needsInputGradient)
    gradients.append(weight)
    if convolution.hasBias { gradients.append(bias) }
    return input
  }
}

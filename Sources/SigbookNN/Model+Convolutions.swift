import SigbookTensor

/// The convolutions of a model, for the figures that show what they compute: their filters,
/// and the maps they make of an input.
extension Model {
  /// The layers (0-based, in the order the model runs them) that are 2-D convolutions: a
  /// built `conv(…)` or an imported ONNX `Conv` of any geometry.
  public var convolutionLayerIndices: [Int] {
    layers.indices.filter { layers[$0].spec.isConvolution }
  }

  /// The filters of convolution `i`: its weight `[out, in / groups, kernel height, kernel
  /// width]` (PyTorch's and ONNX's layout), or nil when layer `i` is not a convolution.
  public func filters(ofLayer i: Int) -> Tensor? {
    guard layers.indices.contains(i), layers[i].spec.isConvolution,
      let weight = layers[i].parameters.first, weight.rank == 4
    else { return nil }
    return weight
  }

  /// The number of groups of convolution `i` (1 unless it is grouped or depthwise).
  public func groups(ofLayer i: Int) -> Int {
    if case .convolution(let c) = layers[i].spec { return c.groups }
    return 1
  }

  /// The layer whose output is convolution `i`'s feature maps after its activation: following
  /// the convolution through layers that keep its shape and take only it (a batch
  /// normalisation or per-channel affine no one else reads) to the first ReLU, tanh or sigmoid;
  /// `i` itself when no such activation follows (a ResNet block's second convolution, whose
  /// activation comes after the residual sum and so shows more than this convolution).
  public func activationLayer(after i: Int) -> Int {
    var current = i
    while true {
      // The layers that read `current`'s output (value current + 1).
      let readers = layers.indices.filter { inputs(ofLayer: $0).contains(current + 1) }
      guard readers.count == 1, let next = readers.first, inputs(ofLayer: next).count == 1,
        layerShapes[next] == layerShapes[i]
      else { return i }
      let spec = layers[next].spec
      if spec.isHiddenActivation { return next }
      switch spec {
      case .batchNorm, .affine: current = next
      default: return i
      }
    }
  }
}

extension LayerSpec {
  /// Whether the layer is a 2-D convolution (built or imported).
  public var isConvolution: Bool {
    switch self {
    case .conv, .convolution: true
    default: false
    }
  }
}

import SigbookTensor

/// A convolution with the batch normalisation (or per-channel affine map) and the ReLU that
/// follow it folded in, for inference: one pass over the maps instead of three.
///
/// Batch normalisation at inference is y = (x − mean) · s + β with s = γ / √(var + ε), so after
/// a convolution it is the convolution with weight w·s and bias (b − mean)·s + β, per output
/// channel: the same function, up to float rounding (the scale is applied to the weights, not
/// the sums). The ReLU is applied as each value is stored (`Im2Col.directlyConvolved`,
/// `Im2Col.winogradConvolved`), or after the convolution where neither kernel runs.
struct FusedConvolution: Sendable {
  /// The convolution's geometry.
  let window: Im2Col
  /// `[out, in, kh, kw]`, with the normalisation's scale folded in.
  let weight: Tensor
  /// `[out]`, with the normalisation's shift folded in; nil for a convolution without bias and
  /// nothing folded.
  let bias: Tensor?
  /// Whether a ReLU follows.
  let relu: Bool
  /// The layers it stands for: the convolution `first` through `last` (0-based).
  let first: Int
  let last: Int
  /// The residual sum folded in, if any.
  let residual: Residual?
  /// `weight` transformed for Winograd's algorithm, once, when the convolution takes it
  /// (`Im2Col.isWinograd`).
  let winograd: Tensor?

  init(
    window: Im2Col, weight: Tensor, bias: Tensor?, relu: Bool, first: Int, last: Int,
    residual: Residual?
  ) {
    (self.window, self.weight, self.bias, self.relu) = (window, weight, bias, relu)
    (self.first, self.last, self.residual) = (first, last, residual)
    winograd = window.isWinograd(groups: 1) ? Im2Col.winogradWeights(weight) : nil
  }

  /// A two-input `Sum` that alone reads the convolution's (or its normalisation's) output: its
  /// other operand is added as each value is stored, before the ReLU.
  struct Residual: Sendable {
    /// The sum's index: the layers between the convolution's part and it (a shortcut's
    /// convolution) run first, so the fused convolution runs in the sum's place.
    let sum: Int
    /// The other operand: 0 the model's input, j the output of layer j (1-based).
    let value: Int
    /// The first layer after the convolution's part (its convolution and normalisation).
    let resume: Int
  }

  /// The output of layer `last` for the batch layer `first` takes, and the residual's operand
  /// when there is one.
  func apply(_ input: Tensor, residual operand: Tensor? = nil) -> Tensor {
    if let winograd {
      return window.winogradConvolved(
        input, transformed: winograd, bias: bias, residual: operand, relu: relu)
    }
    if let variant = VectorVariant.best {
      return window.directlyConvolved(
        input, weight: weight, bias: bias, residual: operand, relu: relu, variant: variant)
    }
    var output = window.convolved(input, weight: weight, bias: bias, groups: 1)
    output.withUnsafeMutableBufferPointer { out in
      if let operand, let base = out.baseAddress {
        operand.withUnsafeBufferPointer { o in
          if let o = o.baseAddress { Kernels.add(base, o, count: out.count) }
        }
      }
      if relu { Kernels.relu(out) }
    }
    return output
  }
}

extension Model {
  /// The convolution, weight and bias of layer `i`, when it is a one-group convolution.
  private func plainConvolution(_ i: Int) -> (window: Im2Col, weight: Tensor, bias: Tensor?)? {
    if let conv = layers[i] as? Conv2D {
      return (conv.window, conv.parameters[0], conv.parameters[1])
    }
    if let conv = layers[i] as? GroupedConv2D, conv.convolution.groups == 1 {
      let c = conv.convolution
      return (c.window, conv.parameters[0], c.hasBias ? conv.parameters[1] : nil)
    }
    return nil
  }

  /// The per-channel scale and shift of layer `i` at inference, when it is a batch
  /// normalisation or a per-channel affine map, in Double.
  private func channelAffine(_ i: Int) -> (scale: [Double], shift: [Double])? {
    if let norm = layers[i] as? BatchNorm {
      let w = norm.parameters[0].scalars, b = norm.parameters[1].scalars
      let mean = norm.buffers[0].scalars, variance = norm.buffers[1].scalars
      let scale = (0..<norm.channels).map {
        Double(w[$0]) / (Double(variance[$0]) + Double(norm.epsilon)).squareRoot()
      }
      let shift = (0..<norm.channels).map { Double(b[$0]) - Double(mean[$0]) * scale[$0] }
      return (scale, shift)
    }
    if let affine = layers[i] as? ChannelAffine {
      return (
        affine.parameters[0].scalars.map(Double.init),
        affine.parameters[1].scalars.map(Double.init)
      )
    }
    return nil
  }

  /// The convolutions of layers `0...last` that can run fused with what follows them, keyed by
  /// the convolution's index: a one-group convolution, then a batch normalisation or affine
  /// map that alone reads it, then a ReLU that alone reads that. A layer is folded into the one
  /// before it only when its input is no other layer's and not among `kept` (the layers whose
  /// outputs the caller reads), so every output the caller reads is still computed.
  ///
  /// Computed once per call of `hiddenOutputs`, not per batch.
  func fusedConvolutions(through last: Int, keeping kept: Set<Int>) -> [Int: FusedConvolution] {
    let readers = consumerCounts(through: last)
    /// The layer after `i` when it alone reads `i`'s output, which the caller does not read.
    func soleReader(of i: Int) -> Int? {
      let next = i + 1
      guard next <= last, !kept.contains(i), readers[i + 1] == 1,
        inputs(ofLayer: next) == [i + 1]
      else { return nil }
      return next
    }
    var fused: [Int: FusedConvolution] = [:]
    var claimedSums: Set<Int> = []
    var i = 0
    while i <= last {
      defer { i += 1 }
      guard let (window, weight, bias) = plainConvolution(i) else { continue }
      var end = i
      var folded: (weight: Tensor, bias: Tensor?) = (weight, bias)
      if let norm = soleReader(of: i), let (scale, shift) = channelAffine(norm),
        scale.count == weight.shape[0]
      {
        folded = Self.fold(weight: weight, bias: bias, scale: scale, shift: shift)
        end = norm
      }
      var residual: FusedConvolution.Residual?
      if let (sum, other) = residualSum(after: end, through: last, keeping: kept, readers: readers),
        claimedSums.insert(sum).inserted
      {
        residual = FusedConvolution.Residual(sum: sum, value: other, resume: end + 1)
        end = sum
      }
      var relu = false
      if let next = soleReader(of: end), let activation = layers[next] as? Activation,
        activation.function == .relu
      {
        relu = true
        end = next
      }
      guard end > i else { continue }
      fused[i] = FusedConvolution(
        window: window, weight: folded.weight, bias: folded.bias, relu: relu, first: i,
        last: end, residual: residual)
      // A residual's sum comes after the shortcut's layers, which may be fused themselves.
      i = residual?.resume.advanced(by: -1) ?? end
    }
    return fused
  }

  /// The two-input `Sum` that alone reads layer `i`'s output (which the caller does not read),
  /// and its other operand, when that operand is of the same shape and is neither layer `i`'s
  /// output nor computed inside the layers it would be fused with.
  private func residualSum(
    after i: Int, through last: Int, keeping kept: Set<Int>, readers: [Int]
  ) -> (sum: Int, other: Int)? {
    guard !kept.contains(i), readers[i + 1] == 1,
      let sum = ((i + 1)...max(i + 1, last)).first(where: { inputs(ofLayer: $0).contains(i + 1) }),
      sum <= last, layers[sum] is Sum
    else { return nil }
    let operands = inputs(ofLayer: sum)
    guard operands.count == 2, let other = operands.first(where: { $0 != i + 1 }),
      shapeOfValue(other) == layerShapes[i]
    else { return nil }
    return (sum, other)
  }

  /// The shape of value `v` without the batch: 0 the model's input, j layer j's output.
  private func shapeOfValue(_ v: Int) -> [Int] { v == 0 ? inputShape : layerShapes[v - 1] }

  /// `weight` and `bias` with y ↦ y · scale + shift per output channel folded in: weight·scale
  /// and bias·scale + shift, each computed in Double and rounded once.
  static func fold(
    weight: Tensor, bias: Tensor?, scale: [Double], shift: [Double]
  ) -> (weight: Tensor, bias: Tensor) {
    let out = weight.shape[0], size = weight.count / max(out, 1)
    let w = weight.scalars, b = bias?.scalars
    var folded = [Float](repeating: 0, count: w.count)
    for o in 0..<out {
      for k in o * size..<(o + 1) * size { folded[k] = Float(Double(w[k]) * scale[o]) }
    }
    let shifted = (0..<out).map { o in Float(Double(b?[o] ?? 0) * scale[o] + shift[o]) }
    return (
      Tensor(shape: weight.shape, scalars: folded), Tensor(shape: [out], scalars: shifted)
    )
  }
}

import SigbookTensor

extension MemoryEstimate {
  /// Training `model` in batches of `batch`: the weights, gradients and `optimizerSlots` state
  /// copies (`4·p·(2 + slots)`), every layer's outputs and their gradients for a batch
  /// (`8·batch·Σoutputs`), and each convolution's unfolded input (im2col:
  /// `4·batch·C·kh·kw·outH·outW`), and each dropout's mask (`4·batch·outputs`).
  public static func training(model: Model, batch: Int, optimizerSlots: Int) -> Int {
    var terms = [product(4, model.parameterCount, 2 + optimizerSlots)]
    var input = model.inputShape
    terms.append(product(8, batch, product(input)))
    for (spec, output) in zip(model.specs, model.layerShapes) {
      terms.append(product(8, batch, product(output)))
      if case .conv(let c, _, let k, _, _) = spec, output.count == 3 {
        terms.append(product(4, batch, c, k, k, output[1], output[2]))
      }
      if case .dropout(let rate) = spec, rate > 0 {
        terms.append(product(4, batch, product(output)))
      }
      if case .convolution(let c) = spec, output.count == 3 {
        terms.append(
          product(4, batch, c.inChannels, c.kernel[0], c.kernel[1], output[1], output[2]))
      }
      input = output
    }
    return sum(terms)
  }
}

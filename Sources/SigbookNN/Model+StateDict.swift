import SigbookTensor

/// Loading weights trained elsewhere (a PyTorch `state_dict` saved with
/// `safetensors.torch.save_file`) onto one of sigbook's architectures.
extension Model {
  /// This architecture with its weights and biases read from a PyTorch `state_dict`.
  ///
  /// The file's tensors are grouped into layers by name (`fc1.weight` and `fc1.bias` are one
  /// layer) and taken in natural name order (`layers.2` before `layers.10`). Each layer of the
  /// architecture that has parameters takes the first unused group whose weight has the shape it
  /// needs (`[out, in]` for a dense layer, as `nn.Linear`; `[out, in, k, k]` for a convolution,
  /// as `nn.Conv2d`), so names need not match and order only decides between equal shapes; a
  /// group without a bias (`bias=False`) gives a zero bias. Every tensor of the file must find
  /// its layer.
  ///
  /// - Parameter path: the safetensors file.
  /// - Returns: the model, marked as loaded from `path`.
  /// - Throws: `SafetensorsError` for a file that is not safetensors; `ModelFileError` naming the
  ///   layer that finds no tensor of its shape, a tensor other than a weight or bias (BatchNorm's
  ///   `running_mean`), or tensors left over, listing the file's tensors and shapes.
  public func loadingStateDict(from path: String) throws -> Model {
    try loadingStateDict(Safetensors.readWeights(from: path), path: path)
  }

  /// This architecture with its parameters from decoded safetensors contents.
  func loadingStateDict(_ contents: Safetensors.Contents, path: String) throws(ModelFileError)
    -> Model
  {
    struct Group {
      var name: String
      var weight: Tensor?
      var bias: Tensor?
    }
    var groups: [String: Group] = [:]
    for (name, tensor) in contents.tensors {
      let parts = name.split(separator: ".", omittingEmptySubsequences: false)
      let prefix = parts.dropLast().joined(separator: ".")
      switch parts.last {
      case "weight"?: groups[prefix, default: Group(name: prefix)].weight = tensor
      case "bias"?: groups[prefix, default: Group(name: prefix)].bias = tensor
      default:
        throw ModelFileError(
          path: path,
          message: "tensor '\(name)' \(tensor.shape) is neither a weight nor a bias; sigbook's "
            + "layers (dense, conv) have only those (fold BatchNorm into the layer before it, or "
            + "export the model to ONNX and use load_onnx)")
      }
    }
    for group in groups.values where group.weight == nil {
      throw ModelFileError(
        path: path, message: "tensor '\(group.name).bias' has no '\(group.name).weight'")
    }
    var unused = groups.values.sorted { $0.name.naturallyPrecedes($1.name) }
    let describe = { (groups: [Group]) -> String in
      groups.map { g in
        "'\(g.name).weight' \(g.weight?.shape ?? [])"
          + (g.bias.map { ", '\(g.name).bias' \($0.shape)" } ?? "")
      }.joined(separator: "; ")
    }
    var model = self
    for (i, layer) in layers.enumerated() where !layer.parameters.isEmpty {
      let shapes = layer.spec.parameterShapes
      // A layer without a bias (a convolution with `hasBias` false) takes a weight alone.
      let biasShape = shapes.count > 1 ? shapes[1] : nil
      guard
        let found = unused.firstIndex(where: { g in
          g.weight?.shape == shapes[0]
            && (g.bias == nil || (biasShape != nil && g.bias?.shape == biasShape))
        }), let weight = unused[found].weight
      else {
        throw ModelFileError(
          path: path,
          message: "layer \(i + 1) of \(summary), \(layer.spec.displayName), needs a weight "
            + "\(shapes[0])\(biasShape.map { " and a bias \($0)" } ?? " and no bias"), but no "
            + "tensor left in the file has that shape"
            + (unused.isEmpty ? " (all are used)" : "; left: " + describe(unused)))
      }
      model.layers[i].parameters =
        [weight] + (biasShape.map { [unused[found].bias ?? Tensor(zeros: $0)] } ?? [])
      unused.remove(at: found)
    }
    guard unused.isEmpty else {
      throw ModelFileError(
        path: path,
        message: "\(summary) has no layer for " + describe(unused)
          + " (its layers take \(layers.filter { !$0.parameters.isEmpty }.count) weights)")
    }
    model.source = path
    return model
  }
}

extension String {
  /// Whether this name comes before `other` when runs of digits compare as numbers
  /// (`layers.2` before `layers.10`).
  func naturallyPrecedes(_ other: String) -> Bool {
    var a = Substring(self), b = Substring(other)
    while let x = a.first, let y = b.first {
      if x.isASCII && x.isNumber && y.isASCII && y.isNumber {
        let da = a.prefix { $0.isASCII && $0.isNumber }, db = b.prefix { $0.isASCII && $0.isNumber }
        let na = Int(da) ?? 0, nb = Int(db) ?? 0
        if na != nb { return na < nb }
        a = a.dropFirst(da.count)
        b = b.dropFirst(db.count)
      } else {
        if x != y { return x < y }
        a = a.dropFirst()
        b = b.dropFirst()
      }
    }
    return a.count < b.count
  }
}

import SigbookTensor
import SigbookData
import SigbookNN
import SigbookPlot

/// What the convolutions of a CNN compute, seen: their filters, and the maps they make of
/// chosen inputs. Any model with convolutions — built by `cnn` or `sequential`, a `resnet`, one
/// loaded from a file — by the names `nodes(net)` lists.
extension Catalogue {
  /// What `layer:` of the convolution figures accepts: a node's name or the convolution's
  /// number (from 1).
  static let convolutionChoice = Accepts.oneOf([.kind(.text), .integer])

  /// The convolution a `layer:` argument names: a node name (`conv1`, `/conv1/Conv`,
  /// `stage1.block1.conv1`) or the number of the convolution, from 1.
  static func convolutionLayer(
    _ call: Call, _ net: Model, _ value: Value, key: String = "layer"
  ) throws(CallFailure) -> Int {
    let convolutions = net.convolutionLayerIndices
    let names = net.layerNames
    let listed = convolutions.map { names[$0] }
    let list =
      listed.count > 12
      ? listed.prefix(12).joined(separator: ", ") + " … (\(listed.count) in all)"
      : listed.joined(separator: ", ")
    switch value {
    case .number(let x):
      let k = Int(x)
      guard (1...max(convolutions.count, 1)).contains(k), !convolutions.isEmpty else {
        throw call.failure(
          "\(key): the model has convolutions 1 to \(convolutions.count), not \(k)",
          blaming: key, hint: "its convolutions are \(list)")
      }
      return convolutions[k - 1]
    case .text(let name):
      guard let i = net.layerIndex(named: name) else {
        let nearest = nearestName(to: name, among: listed).map { "did you mean '\($0)'? " } ?? ""
        throw call.failure(
          "the model has no layer named '\(name)'", blaming: key,
          hint: nearest + "its convolutions are \(list)")
      }
      guard net.layers[i].spec.isConvolution else {
        throw call.failure(
          "'\(name)' is not a convolution (it is \(net.layers[i].spec.displayName))",
          blaming: key, hint: "its convolutions are \(list)")
      }
      return i
    default:
      throw call.failure("\(key): expected a layer's name or number", blaming: key)
    }
  }

  /// The model of a convolution figure, refused when it has no convolution.
  static func convolutionalModel(_ call: Call) throws(CallFailure) -> Model {
    let net = call.model("model")
    guard !net.convolutionLayerIndices.isEmpty else {
      throw call.failure(
        "\(call.describe("model", fallback: "this model")) has no convolutional layer (\(net.summary))",
        blaming: "model", hint: "filters and feature maps are those of a CNN: cnn(…), resnet(…)")
    }
    return net
  }

  /// The maps of the inputs of `shown` at each of `convolutions` (0-based layers, increasing):
  /// the convolution's output, or with `activated` the output of the activation after it
  /// (``Model/activationLayer(after:)``), each `[inputs, channels, height, width]` and named
  /// for its row (`conv1 → relu1`). Layers whose outputs are not images are left out.
  static func featureMapLayers(
    _ net: Model, _ shown: Dataset, convolutions chosen: [Int], activated: Bool,
    isCancelled: () -> Bool = { false }
  ) -> (names: [String], maps: [Tensor]) {
    let shownLayer = chosen.map { activated ? net.activationLayer(after: $0) : $0 }
    let order = Array(Set(shownLayer)).sorted()
    let outputs = net.hiddenOutputs(
      shown.features, at: order, pooling: .none, isCancelled: isCancelled)
    let names = net.layerNames
    var layers: (names: [String], maps: [Tensor]) = ([], [])
    for (conv, layer) in zip(chosen, shownLayer) {
      let shape = net.layerShapes[layer]
      guard shape.count == 3, let k = order.firstIndex(of: layer) else { continue }
      layers.names.append(
        layer != conv
          ? "\(names[conv]) → \(names[layer])"
          : activated ? "\(names[conv]) (own output: no activation follows it alone)" : names[conv])
      layers.maps.append(outputs[k].reshaped([shown.count] + shape))
    }
    return layers
  }

  /// The inputs of `shown` as the pictures of `feature_maps`, `[inputs, channels, height,
  /// width]`, or nil when they are not images of the model's input shape.
  static func featureMapPictures(_ net: Model, _ shown: Dataset) -> Tensor? {
    let inputShape = net.inputShape.count == 3 ? net.inputShape : shown.featureShape
    guard inputShape.count == 3, inputShape.reduce(1, *) == shown.featureCount else { return nil }
    return shown.features.reshaped([shown.count] + inputShape)
  }

  /// The lines under each input of `feature_maps`: its number, its label and, for a classifier,
  /// its predicted class.
  static func featureMapCaptions(_ net: Model, _ shown: Dataset) -> [[String]] {
    let predictions: [Int]? =
      net.task == .classification ? net.predictedClasses(shown.features) : nil
    return (0..<shown.count).map { n in
      var caption = ["input \(n)", "label \(shown.classNames[shown.labels[n]])"]
      if let predictions { caption.append("predicted \(net.outputClassNames[predictions[n]])") }
      return caption
    }
  }

  static let convolutionFigures: [FunctionEntry] = [
    FunctionEntry(
      "filters", category: "Figures",
      parameters: [
        .positional("model", .kind(.model), doc: "a network with convolutions"),
        .labelled(
          "layer", convolutionChoice,
          doc: "the convolution: its node name (nodes(net) lists them) or its number, from 1",
          defaultText: "the first convolution", optional: true),
        .labelled(
          "channels", .integer, doc: "at most this many output channels (filters), the first",
          default: .number(64), maximum: CountLimit.panels),
        .labelled(
          "inputs", .integer, doc: "at most this many input channels of each filter, the first",
          default: .number(16), maximum: CountLimit.panels),
        .labelled(
          "columns", .integer, doc: "filters per row when each reads one input channel",
          default: .number(8), maximum: CountLimit.panels),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "The filters of a convolutional layer, every weight a coloured cell: blue negative, white 0, red positive, on one symmetric scale for the whole layer (± its largest |weight|, in the colour bar), so that filters compare with each other. A layer whose filters read one input channel (a first layer on greyscale images, a depthwise convolution) is a grid of kernels, each captioned with its output channel; a layer whose filters read several is a matrix, one row per output channel and one column per input channel, each cell the kernel from that input to that output (nothing averaged: a mean over input channels would cancel weights of opposite sign). Works on any model with convolutions, built, trained or loaded.",
      example: "filters(net, layer: \"conv1\")"
    ) { call in
      let net = try convolutionalModel(call)
      let i =
        try call.value("layer").map { v throws(CallFailure) in try convolutionLayer(call, net, v) }
        ?? net.convolutionLayerIndices[0]
      guard let weight = net.filters(ofLayer: i) else { return .nothing }
      let s = weight.shape
      let name = net.layerNames[i]
      let groups = net.groups(ofLayer: i)
      let what =
        "\(s[0]) filter\(s[0] == 1 ? "" : "s") of \(s[2])×\(s[3])"
        + (s[1] > 1 ? " over \(s[1]) input channels" : "")
        + (groups > 1 ? ", \(groups) groups" : "")
      return .figure(
        Plot.filters(
          weight, groups: groups, outputs: call.int("channels"), inputs: call.int("inputs"),
          columns: max(1, call.int("columns")),
          title: call.optionalText("title") ?? "filters of \(name): \(what)"))
    },
    FunctionEntry(
      "feature_maps", category: "Figures",
      parameters: [
        .positional("model", .kind(.model), doc: "a network with convolutions"),
        .positional("data", .kind(.dataset), doc: "the inputs, the first `count` shown"),
        .labelled(
          "layer", .oneOf([convolutionChoice, .list(.integer), .list(convolutionChoice)]),
          doc: "the convolutions shown: node names or numbers (from 1), one, a list or a range",
          defaultText: "every convolution", optional: true, maximum: CountLimit.width),
        .labelled(
          "count", .integer, doc: "how many inputs, from the first", default: .number(3),
          maximum: CountLimit.panels),
        .labelled(
          "channels", .integer, doc: "at most this many channels of each layer, the first",
          default: .number(16), maximum: CountLimit.panels),
        .labelled(
          "columns", .integer, doc: "maps per line before a layer's row wraps",
          default: .number(16), maximum: CountLimit.panels),
        .labelled(
          "activated", .kind(.bool),
          doc:
            "the maps after each convolution's activation (when one follows it alone) rather than the convolution's own output",
          default: .bool(true)),
        titleParameter,
      ],
      returns: .kind(.figure),
      summary:
        "What the convolutions compute for chosen inputs: for each input, the input itself, then one row per convolutional layer of its feature maps, a small image per channel captioned with its number. With `activated: true` a row shows the maps after the convolution's activation — following it through a batch normalisation to the ReLU, tanh or sigmoid that takes it alone (the heading says `conv1 → relu1`) — and the convolution's own output where no activation follows it alone (a ResNet block's second convolution, whose ReLU comes after the residual sum; the heading says `own output`); with `false`, every row is the convolution's own output. Each row has its own colour scale, written in its heading: viridis from its smallest value (dark purple) to its largest (yellow), or, for a row with negative values (a convolution's own output), blue negative, white 0 and red positive up to ± its largest |value|; a layer's channels compare with each other, a silent channel is dark throughout. Works on any model with convolutions — `cnn`, `sequential`, `resnet`, ONNX — by the names `nodes(net)` lists.",
      example: "feature_maps(net, subset(test, per_class: 1), count: 3)"
    ) { call in
      let net = try convolutionalModel(call)
      let (_, d) = try check(call)
      var chosen: [Int] = []
      switch call.value("layer") {
      case nil: chosen = net.convolutionLayerIndices
      case .list(let items)?:
        for item in items { chosen.append(try convolutionLayer(call, net, item)) }
        guard !chosen.isEmpty else {
          throw call.failure("layer: names no convolution", blaming: "layer")
        }
      case let value?: chosen = [try convolutionLayer(call, net, value)]
      }
      chosen = Array(Set(chosen)).sorted()
      let count = min(max(0, call.int("count")), d.count)
      guard count > 0 else {
        throw call.failure(
          "\(call.describe("data", fallback: "the data")) has no inputs to show", blaming: "data")
      }
      let activated = call.bool("activated")
      let shownLayer = chosen.map { activated ? net.activationLayer(after: $0) : $0 }
      let channels = max(1, call.int("channels"))
      let shapes = shownLayer.map { net.layerShapes[$0] }
      let mapValues = shapes.reduce(0) {
        $0 + min($1.first ?? 0, channels) * $1.dropFirst().reduce(1, *)
      }
      try call.requireMemory(
        MemoryEstimate.product(4 * count, mapValues + shapes.reduce(0) { $0 + $1.reduce(1, *) }),
        for: "the feature maps of \(count) inputs",
        advice: "show fewer inputs (count:) or channels (channels:)", blaming: "count")
      let shown = d.rows(0..<count)
      let layers = featureMapLayers(
        net, shown, convolutions: chosen, activated: activated,
        isCancelled: call.session.isCancelled)
      if call.isCancelled { throw CallFailure("interrupted", kind: .interrupted) }
      let names = net.layerNames
      let layerText =
        chosen.count == 1 ? names[chosen[0]] : "\(chosen.count) convolutions"
      let stage = activated ? "after their activations" : "the convolutions' outputs"
      return .figure(
        Plot.featureMaps(
          inputs: featureMapPictures(net, shown), captions: featureMapCaptions(net, shown),
          layerNames: layers.names, maps: layers.maps, channels: channels,
          columns: max(1, call.int("columns")),
          title: call.optionalText("title")
            ?? "feature maps at \(layerText) (\(stage)) of \(count) input\(count == 1 ? "" : "s") of \(d.name)"
        ))
    },
  ]
}

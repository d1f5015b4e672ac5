import SigbookTensor

extension Model {
  /// A residual network (He et al., 2016) for small images: a 3×3 stem convolution, then one
  /// stage per entry of `widths`, each of `blocks` basic blocks — conv 3×3, batch norm, ReLU,
  /// conv 3×3, batch norm, plus the block's input (through a 1×1 convolution and batch norm
  /// where the width or the size changes), ReLU — the first block of every stage after the
  /// first halving the maps (stride 2); then global average pooling and a dense softmax
  /// classifier.
  ///
  /// `resnet(input: [1, 28, 28], widths: [16, 32, 64], blocks: 1)` has maps of 28, 14 and 7.
  /// Nodes are named `stem.conv`, `stage2.block1.conv1`, `stage2.block1.bn1`,
  /// `stage2.block1.shortcut.bn`,
  /// `stage2.block1.add`; a block's output (after its last ReLU) is named after the block,
  /// `stage2.block1`, and those outputs make up the signature. Convolutions are initialised
  /// He-normal, batch norms at weight 1 and bias 0.
  ///
  /// With `skips: false`, the same network without its shortcuts: the "plain" network He et
  /// al. compare it with, each block's output `relu(bn2(…))`.
  ///
  /// - Throws: `ShapeMismatch` for a size that is not positive, maps that shrink to nothing, or a
  ///   model beyond `checkArchitecture`'s limits.
  public static func resnet(
    input: [Int] = [1, 28, 28], widths: [Int] = [16, 32, 64], blocks: Int = 1,
    classes: Int = 10, skips: Bool = true, seed: Int = 0, memoryLimit: MemoryLimit = .unlimited
  ) throws(ShapeMismatch) -> Model {
    guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
      throw ShapeMismatch("resnet expects input: [channels, height, width], not \(input)")
    }
    guard !widths.isEmpty, widths.allSatisfy({ $0 > 0 }), blocks > 0, classes > 1 else {
      throw ShapeMismatch("resnet needs positive widths and blocks and at least two classes")
    }
    let summary =
      "resnet(input: \(input), widths: \(widths), blocks: \(blocks), classes: \(classes)\(skips ? "" : ", skips: false"))"
    var graph = GraphBuilder(inputShape: input)
    func convolution(
      _ x: GraphBuilder.Value, _ width: Int, kernel: Int, stride: Int, conv: String, norm: String
    ) throws(ShapeMismatch) -> GraphBuilder.Value {
      let channels = graph.shape(of: x)[0]
      let convolved = try graph.add(
        .conv(
          inChannels: channels, outChannels: width, kernel: kernel, stride: stride,
          padding: kernel / 2), [x], name: conv, initialization: .he)
      return try graph.add(
        .batchNorm(channels: width, epsilon: 1e-5, momentum: 0.1), [convolved], name: norm)
    }
    var x = try convolution(
      0, widths[0], kernel: 3, stride: 1, conv: "stem.conv", norm: "stem.bn")
    x = try graph.add(.relu, [x], name: "stem.relu")
    var outputs: [GraphBuilder.Value] = []
    for (s, width) in widths.enumerated() {
      for b in 0..<blocks {
        let name = "stage\(s + 1).block\(b + 1)"
        let stride = s > 0 && b == 0 ? 2 : 1
        guard graph.shape(of: x)[1] >= stride, graph.shape(of: x)[2] >= stride else {
          throw ShapeMismatch(
            "resnet's maps shrink to nothing at \(name)",
            hint: "use fewer stages (widths) or larger inputs")
        }
        let first = try convolution(
          x, width, kernel: 3, stride: stride, conv: "\(name).conv1", norm: "\(name).bn1")
        var branch = try graph.add(.relu, [first], name: "\(name).relu1")
        branch = try convolution(
          branch, width, kernel: 3, stride: 1, conv: "\(name).conv2", norm: "\(name).bn2")
        guard skips else {
          x = try graph.add(.relu, [branch], name: name)
          outputs.append(x)
          continue
        }
        let shortcut =
          stride != 1 || graph.shape(of: x)[0] != width
          ? try convolution(
            x, width, kernel: 1, stride: stride, conv: "\(name).shortcut.conv",
            norm: "\(name).shortcut.bn") : x
        let sum = try graph.add(.sum(inputs: 2), [branch, shortcut], name: "\(name).add")
        x = try graph.add(.relu, [sum], name: name)
        outputs.append(x)
      }
    }
    let pooled = try graph.add(.globalAveragePool, [x], name: "pool")
    let logits = try graph.add(
      .dense(inputs: graph.shape(of: x)[0], outputs: classes), [pooled], name: "fc")
    try graph.add(.softmax, [logits], name: "softmax")
    return try graph.model(
      summary: summary, signatures: outputs, seed: seed, memoryLimit: memoryLimit)
  }

  /// A vision transformer (Dosovitskiy et al., 2021) for small images: the image cut into
  /// `patch` × `patch` patches, each embedded by one linear map (a convolution of stride
  /// `patch`), a learned class token put first and a learned position embedding added; then
  /// `depth` pre-norm blocks — layer norm, multi-head self-attention with `heads` heads and a
  /// residual, layer norm, an MLP of `mlp` GELU units and a residual; a final layer norm, and a
  /// dense softmax classifier on the class token.
  ///
  /// Nodes are named `patch_embed`, `block2.attn.qkv`, `block2.attn.softmax`,
  /// `block2.attn.add`, `block2.mlp.fc1`; a block's output is named after the block, `block2`,
  /// and those outputs make up the signature (each `[tokens, width]`). Scores are divided by
  /// √(width / heads) (a fixed factor); weights are initialised Glorot-uniform, the class token
  /// and position embedding N(0, 0.02²).
  ///
  /// With `dropout` above 0, dropout follows the position embedding (`pos_drop`), the
  /// attention's projection (`block2.attn.proj_drop`), the MLP's GELU and its second layer
  /// (`block2.mlp.drop1`, `block2.mlp.drop2`), as in timm's `VisionTransformer` with
  /// `drop_rate` and `proj_drop_rate` of that rate.
  ///
  /// - Throws: `ShapeMismatch` when the patch does not divide the image, the heads do not divide
  ///   the width, a size is not positive, the dropout rate is outside [0, 1), or the model is
  ///   beyond `checkArchitecture`'s limits.
  public static func vit(
    input: [Int] = [1, 28, 28], patch: Int = 7, width: Int = 64, depth: Int = 4, heads: Int = 4,
    mlp: Int = 128, classes: Int = 10, dropout: Float = 0, seed: Int = 0,
    memoryLimit: MemoryLimit = .unlimited
  ) throws(ShapeMismatch) -> Model {
    guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
      throw ShapeMismatch("vit expects input: [channels, height, width], not \(input)")
    }
    guard [patch, width, depth, heads, mlp].allSatisfy({ $0 > 0 }), classes > 1 else {
      throw ShapeMismatch("vit needs positive sizes and at least two classes")
    }
    guard input[1] % patch == 0, input[2] % patch == 0 else {
      throw ShapeMismatch(
        "vit's patch of \(patch) does not divide its \(input[1]) × \(input[2]) images",
        hint: "a patch of 4 or 7 divides 28 × 28 images")
    }
    guard width % heads == 0 else {
      throw ShapeMismatch("vit's width \(width) is not a multiple of its \(heads) heads")
    }
    try checkDropout(dropout, of: "vit")
    let summary =
      "vit(input: \(input), patch: \(patch), width: \(width), depth: \(depth), heads: \(heads), mlp: \(mlp), classes: \(classes)\(dropout == 0 ? "" : ", dropout: \(dropout)"))"
    let patches = (input[1] / patch) * (input[2] / patch)
    let tokens = patches + 1, headWidth = width / heads
    var graph = GraphBuilder(inputShape: input)
    // `value`, or a dropout of it named `name` when there is dropout.
    func dropped(_ value: GraphBuilder.Value, _ name: String) throws(ShapeMismatch)
      -> GraphBuilder.Value
    {
      dropout > 0 ? try graph.add(.dropout(rate: dropout), [value], name: name) : value
    }
    var x = try graph.add(
      .conv(inChannels: input[0], outChannels: width, kernel: patch, stride: patch, padding: 0),
      [0], name: "patch_embed")
    x = try graph.add(.reshape(shape: [width, patches]), [x], name: "patch_embed.flatten")
    x = try graph.add(.transpose(permutation: [1, 0]), [x], name: "patch_embed.tokens")
    x = try graph.add(.classToken(width: width), [x], name: "class_token")
    x = try graph.add(
      .binaryConstant(.add, shape: [tokens, width], constantFirst: false), [x], name: "pos_embed")
    x = try dropped(x, "pos_drop")
    var outputs: [GraphBuilder.Value] = []
    for b in 1...depth {
      let name = "block\(b)"
      let norm = try graph.add(
        .layerNorm(shape: [width], epsilon: 1e-6), [x], name: "\(name).norm1")
      let qkv = try graph.add(
        .linear(inputs: width, outputs: 3 * width), [norm], name: "\(name).attn.qkv")
      // q, k, v as [heads, tokens, head width]; k transposed to [heads, head width, tokens].
      var parts: [GraphBuilder.Value] = []
      for (p, part) in ["q", "k", "v"].enumerated() {
        let slice = try graph.add(
          .slice(axis: 1, start: p * width, end: (p + 1) * width), [qkv],
          name: "\(name).attn.\(part)")
        let split = try graph.add(
          .reshape(shape: [tokens, heads, headWidth]), [slice], name: "\(name).attn.\(part).heads")
        parts.append(
          try graph.add(
            .transpose(permutation: part == "k" ? [1, 2, 0] : [1, 0, 2]), [split],
            name: "\(name).attn.\(part).transpose"))
      }
      let scores = try graph.add(.matmul, [parts[0], parts[1]], name: "\(name).attn.scores")
      let scaled = try graph.add(
        .pointwise(.scale(1 / Float(headWidth).squareRoot())), [scores],
        name: "\(name).attn.scale")
      let weights = try graph.add(.softmaxAlong(axis: 2), [scaled], name: "\(name).attn.softmax")
      let context = try graph.add(.matmul, [weights, parts[2]], name: "\(name).attn.context")
      let merged = try graph.add(
        .transpose(permutation: [1, 0, 2]), [context], name: "\(name).attn.merge")
      let joined = try graph.add(
        .reshape(shape: [tokens, width]), [merged], name: "\(name).attn.join")
      let projected = try dropped(
        try graph.add(.linear(inputs: width, outputs: width), [joined], name: "\(name).attn.proj"),
        "\(name).attn.proj_drop")
      let attended = try graph.add(.binary(.add), [x, projected], name: "\(name).attn.add")
      let norm2 = try graph.add(
        .layerNorm(shape: [width], epsilon: 1e-6), [attended], name: "\(name).norm2")
      let hidden = try graph.add(
        .linear(inputs: width, outputs: mlp), [norm2], name: "\(name).mlp.fc1")
      let activated = try dropped(
        try graph.add(.pointwise(.gelu), [hidden], name: "\(name).mlp.gelu"),
        "\(name).mlp.drop1")
      let back = try dropped(
        try graph.add(.linear(inputs: mlp, outputs: width), [activated], name: "\(name).mlp.fc2"),
        "\(name).mlp.drop2")
      x = try graph.add(.binary(.add), [attended, back], name: name)
      outputs.append(x)
    }
    let norm = try graph.add(.layerNorm(shape: [width], epsilon: 1e-6), [x], name: "norm")
    let token = try graph.add(.slice(axis: 0, start: 0, end: 1), [norm], name: "cls")
    let logits = try graph.add(.dense(inputs: width, outputs: classes), [token], name: "head")
    try graph.add(.softmax, [logits], name: "softmax")
    return try graph.model(
      summary: summary, signatures: outputs, seed: seed, memoryLimit: memoryLimit)
  }
}

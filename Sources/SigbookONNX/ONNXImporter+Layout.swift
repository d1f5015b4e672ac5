import SigbookTensor
import SigbookNN

/// Where the axes of an ONNX value lie in the activation that holds it.
///
/// sigbook computes each input on its own: an activation holds every input's item, its axis 0
/// the batch's and its axis k the item's axis k − 1. Some exports move the batch axis among the
/// others and merge it with one: `nn.MultiheadAttention` works on `[tokens, batch, width]` and
/// `[batch · heads, tokens, d]`. Such a value keeps its activation as it is and says, for each
/// of its ONNX axes, which of the activation's axes make it, outermost first: the ONNX value is
/// the activation with its axes in the order of the groups, each group's axes merged into one.
/// An empty group is an axis of size 1.
struct Layout: Equatable {
  var groups: [[Int]]

  /// Each ONNX axis the activation's axis of the same number.
  static func plain(rank: Int) -> Layout { Layout(groups: (0..<rank).map { [$0] }) }

  var isPlain: Bool { groups.indices.allSatisfy { groups[$0] == [$0] } }

  /// The activation's axes in the order the ONNX value's flattening meets them.
  var order: [Int] { groups.flatMap { $0 } }
}

extension Dim {
  /// `batch`, `batch · 4`, `7`.
  var text: String {
    switch self {
    case .known(let n): "\(n)"
    case .batch(1): "batch"
    case .batch(let k): "batch · \(k)"
    }
  }
}

/// Values whose batch axis is not first: followed through transposes, reshapes, slices and
/// products, read by operations along their last axis and by those on each value, and made
/// plain again (a transpose and a reshape of each item) once the batch axis leads.
extension ONNXImporter {
  /// The activation input `index` reads and how the ONNX value lies in it; nil for a
  /// constant.
  func laidOutInput(_ node: Onnx_NodeProto, _ index: Int) throws(ONNXError) -> (
    value: Int, layout: Layout
  )? {
    switch try input(node, index) {
    case .activation(let v)?: (v, .plain(rank: shapes[v].count + 1))
    case .laidOut(let v, let layout)?: (v, layout)
    default: nil
    }
  }

  /// The ONNX sizes of activation `v` laid out by `layout`.
  func dims(_ v: Int, _ layout: Layout) -> [Dim] {
    let sizes = [1] + shapes[v]
    return layout.groups.map { group in
      let known = group.filter { $0 != 0 }.reduce(1) { $0 * sizes[$1] }
      return group.contains(0) ? .batch(known) : .known(known)
    }
  }

  /// The shape of a laid-out value as an error shows it: `[7, batch · 4, 2]`.
  func describe(_ v: Int, _ layout: Layout) -> String {
    "[" + dims(v, layout).map(\.text).joined(separator: ", ") + "]"
  }

  /// Binds the node's output to activation `v` laid out by `layout`: the activation itself when
  /// the layout is plain; when the batch axis leads alone, the activation rearranged to the
  /// layout (a transpose and a reshape of each item, layers of the node's name); else the
  /// laid-out value, for the nodes after to read.
  mutating func bind(_ node: Onnx_NodeProto, _ v: Int, laidOut layout: Layout) throws(ONNXError) {
    if layout.isPlain { return bind(node, .activation(v)) }
    if layout.groups.first == [0] {
      let first = layers.count
      let (w, arranged) = try self.arranged(v, layout, for: node, step: nil)
      nameParts(of: node, from: first)
      return bind(node, arranged.isPlain ? .activation(w) : .laidOut(w, arranged))
    }
    bind(node, .laidOut(v, layout))
    if layers.indices.contains(v - 1), layerNames[v - 1] == layerName(node, unique: false) {
      layouts[layerNames[v - 1]] = layout
    }
  }

  /// Activation `v` laid out by `layout` with its item axes in the order of the ONNX axes (a
  /// transpose of each item) and each group's item axes merged into one (a reshape; an empty
  /// group becomes an axis of size 1). The groups of the result hold one item axis each, the
  /// batch axis, or the batch axis beside item axes (`[0, 1]`, batch · heads). The layers
  /// are named by the node and `step`, or by the node alone when `step` is nil.
  mutating func arranged(
    _ v: Int, _ layout: Layout, for node: Onnx_NodeProto, step: String?
  ) throws(ONNXError) -> (value: Int, layout: Layout) {
    current = v
    itemShape = shapes[v]
    let old = [1] + shapes[v]
    let items = layout.order.filter { $0 != 0 }.map { $0 - 1 }
    if items != Array(items.indices) {
      try append(Self.make(.transpose(permutation: items)), for: node, step: step)
    }
    var sizes: [Int] = []
    var groups: [[Int]] = []
    for group in layout.groups {
      var made: [Int] = []
      var product = 1, open = false
      for axis in group {
        if axis == 0 {
          if open { sizes.append(product) }
          if open { made.append(sizes.count) }
          (product, open) = (1, false)
          made.append(0)
        } else {
          product *= old[axis]
          open = true
        }
      }
      if open || group.isEmpty {
        sizes.append(product)
        made.append(sizes.count)
      }
      groups.append(made)
    }
    if sizes.isEmpty {
      sizes = [1]
      groups[groups.count - 1].append(1)
    }
    if sizes != itemShape {
      try append(
        Self.make(sizes.count == 1 ? .flatten : .reshape(shape: sizes)), for: node, step: step)
    }
    return (current, Layout(groups: groups))
  }

  /// For an operation along the last axis, row by row (a dense layer, a bias, a softmax, a
  /// layer normalisation): the input arranged so that its last ONNX axis is its activation's
  /// last item axis, `current` set to it. Returns the layout the output keeps; nil when the
  /// input is an activation.
  mutating func rowInput(_ node: Onnx_NodeProto, _ index: Int = 0) throws(ONNXError) -> Layout? {
    guard case .laidOut(let v, let layout)? = try input(node, index) else {
      try activationInput(node, index)
      return nil
    }
    guard let last = layout.groups.last, !last.contains(0) else {
      throw error(
        node,
        "works along the last axis of '\(node.input[index])' \(describe(v, layout)), which holds the batch; sigbook computes each input on its own"
      )
    }
    let (w, arranged) = try self.arranged(v, layout, for: node, step: "arranged")
    current = w
    itemShape = shapes[w]
    return arranged.isPlain ? nil : arranged
  }

  /// For an operation on each value (a pointwise function, arithmetic with a single value): the
  /// activation as it is, `current` set to it. Returns its layout; nil when it is plain.
  mutating func valueInput(_ node: Onnx_NodeProto, _ index: Int = 0) throws(ONNXError)
    -> Layout?
  {
    guard case .laidOut(let v, let layout)? = try input(node, index) else {
      try activationInput(node, index)
      return nil
    }
    current = v
    itemShape = shapes[v]
    return layout
  }

  /// Binds the node's output to `current`, laid out as its input was (`layout` nil: plain).
  mutating func rebind(_ node: Onnx_NodeProto, _ layout: Layout?) throws(ONNXError) {
    if let layout { try bind(node, current, laidOut: layout) }
  }

  /// `Transpose` of an activation: the groups reordered.
  mutating func importTransposeOfActivation(_ node: Onnx_NodeProto) throws(ONNXError) {
    guard let (v, layout) = try laidOutInput(node, 0) else {
      throw error(node, "has no input")
    }
    let rank = layout.groups.count
    let perm = ints(node, "perm") ?? Array((0..<rank).reversed())
    guard perm.sorted() == Array(0..<rank) else {
      throw error(node, "perm \(perm) is not a permutation of the \(rank) axes of its input")
    }
    try bind(node, v, laidOut: Layout(groups: perm.map { layout.groups[$0] }))
  }

  /// `Reshape` of a laid-out value, or of an activation to a shape whose batch is not first
  /// alone: the activation's axes, in the order the ONNX value meets them, cut anew into the
  /// target's sizes — merged where a size takes several, an item axis split in two where a
  /// size divides it (a reshape of each item, which moves no value).
  mutating func importReshapeOfLayout(
    _ node: Onnx_NodeProto, _ v: Int, _ layout: Layout, to requested: [Dim], allowZero: Bool
  ) throws(ONNXError) {
    let input = dims(v, layout)
    func cannot() -> ONNXError {
      error(
        node,
        "reshapes \(describe(v, layout)) to [\(requested.map(\.text).joined(separator: ", "))]; sigbook reshapes such values only by merging or splitting their axes, the batch kept whole"
      )
    }
    var target: [Dim] = []
    for (i, d) in requested.enumerated() {
      if d == .known(0), !allowZero {
        guard i < input.count else { throw cannot() }
        target.append(input[i])
      } else {
        target.append(d)
      }
    }
    var sizes = [1] + shapes[v]
    let total = sizes.dropFirst().reduce(1, *)
    if let free = target.firstIndex(of: .known(-1)) {
      var product = 1, hasBatch = false
      for (i, d) in target.enumerated() where i != free {
        switch d {
        case .known(let k) where k > 0: product *= k
        case .batch(let k) where k > 0 && !hasBatch:
          product *= k
          hasBatch = true
        default: throw cannot()
        }
      }
      guard total % product == 0 else { throw cannot() }
      target[free] = hasBatch ? .known(total / product) : .batch(total / product)
    }
    var order = layout.order
    var groups: [[Int]] = []
    var p = 0
    var split = false
    for d in target {
      let (wantsBatch, want): (Bool, Int)
      switch d {
      case .known(let k) where k > 0: (wantsBatch, want) = (false, k)
      case .batch(let k) where k > 0: (wantsBatch, want) = (true, k)
      default: throw cannot()
      }
      var group: [Int] = []
      var got = 1, hasBatch = false
      while got < want || (wantsBatch && !hasBatch) {
        guard p < order.count else { throw cannot() }
        let axis = order[p]
        if axis == 0 {
          guard wantsBatch, !hasBatch else { throw cannot() }
          hasBatch = true
        } else if want % (got * sizes[axis]) == 0 {
          got *= sizes[axis]
        } else {
          // The axis is longer than what is left to take: its outer part is taken.
          let outer = want / got
          guard want % got == 0, sizes[axis] % outer == 0 else { throw cannot() }
          sizes.replaceSubrange(axis...axis, with: [outer, sizes[axis] / outer])
          order = order.map { $0 > axis ? $0 + 1 : $0 }
          order.insert(axis + 1, at: p + 1)
          got *= outer
          split = true
        }
        group.append(axis)
        p += 1
      }
      groups.append(group)
    }
    // What remains are axes of size 1, which the last group takes.
    while p < order.count {
      guard order[p] != 0, sizes[order[p]] == 1, !groups.isEmpty else { throw cannot() }
      groups[groups.count - 1].append(order[p])
      p += 1
    }
    current = v
    itemShape = shapes[v]
    let first = layers.count
    if split {
      try append(Self.make(.reshape(shape: Array(sizes.dropFirst()))), for: node)
    }
    try bind(node, current, laidOut: Layout(groups: groups))
    nameParts(of: node, from: first)
  }

  /// `Squeeze` and `Unsqueeze` of a laid-out value: groups of size 1 taken out or put in.
  mutating func importSqueezeOfLayout(_ node: Onnx_NodeProto, _ v: Int, _ layout: Layout)
    throws(ONNXError)
  {
    let axes = try intList(node, "axes", input: 1)
    var groups = layout.groups
    let sizes = dims(v, layout)
    if node.opType == "Unsqueeze" {
      guard let axes else { throw error(node, "has no axes") }
      let rank = groups.count + axes.count
      let positions = axes.map { $0 < 0 ? $0 + rank : $0 }.sorted()
      guard Set(positions).count == positions.count, positions.allSatisfy({ (0..<rank) ~= $0 })
      else { throw error(node, "its axes \(axes) are not distinct axes of \(rank)") }
      for p in positions { groups.insert([], at: p) }
    } else {
      let rank = groups.count
      let remove = Set(
        axes?.map { $0 < 0 ? $0 + rank : $0 } ?? sizes.indices.filter { sizes[$0] == .known(1) })
      for a in remove {
        guard (0..<rank) ~= a, sizes[a] == .known(1) else {
          throw error(node, "squeezes an axis of \(describe(v, layout)) that is not of size 1")
        }
      }
      // The item axes of size 1 a removed group held join the group before (or after) it.
      var kept: [[Int]] = []
      var pending: [Int] = []
      for (i, group) in groups.enumerated() {
        if remove.contains(i) {
          if kept.isEmpty { pending += group } else { kept[kept.count - 1] += group }
        } else {
          kept.append(pending + group)
          pending = []
        }
      }
      guard !kept.isEmpty else { throw error(node, "squeezes every axis, the batch's among them") }
      groups = kept
    }
    try bind(node, v, laidOut: Layout(groups: groups))
  }

  /// The item axis of activation `v` that ONNX axis `axis` of a laid-out value is, for an
  /// operation that slices or gathers along it; refused for the batch's and for merged axes.
  func singleItemAxis(
    _ axis: Int, of v: Int, _ layout: Layout, _ node: Onnx_NodeProto, _ what: String
  ) throws(ONNXError) -> Int {
    let rank = layout.groups.count
    let a = axis < 0 ? axis + rank : axis
    guard (0..<rank) ~= a else {
      throw error(node, "its axis \(axis) is outside the \(rank) axes of its input")
    }
    let group = layout.groups[a]
    guard !group.contains(0) else {
      throw error(
        node, "\(what) along the batch axis; sigbook computes each input on its own")
    }
    guard group.count == 1 else {
      throw error(
        node,
        "\(what) along axis \(axis) of \(describe(v, layout)), which merges several of the layers' axes; sigbook \(what) along one"
      )
    }
    return group[0] - 1
  }
}

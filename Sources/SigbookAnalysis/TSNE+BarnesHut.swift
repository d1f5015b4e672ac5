import SigbookTensor

/// A Barnes–Hut quadtree over points in the plane, rebuilt every t-SNE iteration, that sums the
/// t-SNE repulsive forces in O(n log n) (van der Maaten 2014, §4).
///
/// Built from Morton (Z-order) codes: the points' coordinates are quantised to 16 bits in their
/// bounding square, the interleaved codes are radix-sorted, and every quadtree cell is then a
/// contiguous range of the sorted points. Cells with a single non-empty child are skipped (the
/// child has the same centre of mass and a smaller width, so it passes the θ test whenever the
/// parent would). Nodes are stored in depth-first order with, for each, the index just past its
/// subtree, so a traversal is one loop without a stack.
///
/// The tree is walked once per *group* — a cell of at most `groupSize` points — rather than once
/// per point (Barnes, "A modified tree code", J. Comput. Phys. 1990): a cell is summarised by its
/// centre of mass when its width is below θ times its distance to the group's bounding box, which
/// is at most the distance to any point of the group, so every point gets at least the accuracy
/// of the classic per-point test. The walk writes an interaction list (centres and masses, the
/// group's own points included); each point of the group then sums it by the eight-lane kernel
/// of `TSNEKernels` and its own term (w = 1, no force) is removed from Z. Summaries are in
/// `Float`; per-point sums go to `Double` in a fixed order, so results are reproducible.
///
/// The groups are split into `partCount` parts by the data alone, which may run concurrently:
/// each writes only its own points' sums, so the forces and Z are the same bits on any number
/// of threads.
struct BarnesHutTree {
  private struct Node {
    var centreX: Float
    var centreY: Float
    var mass: Float
    /// The squared distance beyond which the cell may be summarised: (width / θ)²; 0 for a
    /// leaf of one point.
    var openDistanceSquared: Float
    /// The index of the next node outside this node's subtree.
    var skip: Int32
    /// The node's range of sorted points.
    var start: Int32
    var end: Int32
    var isLeaf: Bool
  }

  /// The largest number of points that share one interaction list. With the vector sums, 128
  /// took less time than 64 (3.5%, whole process) and 64 less than 32 (4%): fewer walks of the
  /// tree for somewhat longer lists. A larger group only opens more cells (a stricter test).
  static let groupSize = 128

  /// The parts the repulsion is split into, whatever the number of cores: enough for two or
  /// four threads to end together when they claim parts as they go.
  static let partCount = 16

  private static let levels = 16
  private var nodes: [Node] = []
  private var order: [Int] = []
  private var scratchOrder: [Int] = []
  private var codes: [UInt32] = []
  private var scratchCodes: [UInt32] = []
  /// The sorted points in `Float`, what the interaction lists and their sums read.
  private var pointX: [Float] = []
  private var pointY: [Float] = []
  private var prefixX: [Double] = []
  private var prefixY: [Double] = []
  /// Ranges of sorted points that share an interaction list.
  private var groups: [Range<Int>] = []
  /// `partCount` consecutive ranges of `groups`, of about equal numbers of points (some empty
  /// when there are fewer groups).
  private var parts: [Range<Int>] = []
  private var side = 1.0
  private var thetaSquared = 0.25

  /// Rebuilds the tree over `positions` (2n interleaved coordinates), reusing its buffers.
  mutating func rebuild(_ positions: [Double], theta: Double) {
    let n = positions.count / 2
    thetaSquared = theta * theta
    var minX = Double.infinity, minY = Double.infinity
    var maxX = -Double.infinity, maxY = -Double.infinity
    for i in 0..<n {
      minX = min(minX, positions[2 * i])
      maxX = max(maxX, positions[2 * i])
      minY = min(minY, positions[2 * i + 1])
      maxY = max(maxY, positions[2 * i + 1])
    }
    side = max(maxX - minX, maxY - minY)
    if !(side > 0) { side = 1 }
    let scale = 65536 / side
    resize(n)
    for i in 0..<n {
      let qx = UInt32(min(65535, max(0, (positions[2 * i] - minX) * scale)))
      let qy = UInt32(min(65535, max(0, (positions[2 * i + 1] - minY) * scale)))
      codes[i] = Self.spread(qx) | (Self.spread(qy) << 1)
      order[i] = i
    }
    radixSort(n)
    prefixX[0] = 0
    prefixY[0] = 0
    for s in 0..<n {
      let i = order[s]
      let x = positions[2 * i], y = positions[2 * i + 1]
      pointX[s] = Float(x)
      pointY[s] = Float(y)
      prefixX[s + 1] = prefixX[s] + x
      prefixY[s + 1] = prefixY[s] + y
    }
    nodes.removeAll(keepingCapacity: true)
    groups.removeAll(keepingCapacity: true)
    if n > 0 { build(0, n, level: 0, inGroup: false) }
    splitGroups(n)
  }

  /// Splits `groups` into `partCount` runs: part p starts at the first group that starts at or
  /// after point n·p / partCount.
  private mutating func splitGroups(_ n: Int) {
    parts.removeAll(keepingCapacity: true)
    var g = 0
    for p in 0..<Self.partCount {
      let first = g
      let end = n * (p + 1) / Self.partCount
      while g < groups.count && groups[g].lowerBound < end { g += 1 }
      parts.append(first..<g)
    }
  }

  private mutating func resize(_ n: Int) {
    guard order.count != n else { return }
    order = [Int](repeating: 0, count: n)
    scratchOrder = order
    codes = [UInt32](repeating: 0, count: n)
    scratchCodes = codes
    pointX = [Float](repeating: 0, count: n)
    pointY = pointX
    prefixX = [Double](repeating: 0, count: n + 1)
    prefixY = prefixX
  }

  /// Spreads the 16 low bits of `v` to the even bit positions.
  private static func spread(_ v: UInt32) -> UInt32 {
    var x = v & 0xFFFF
    x = (x | (x << 8)) & 0x00FF_00FF
    x = (x | (x << 4)) & 0x0F0F_0F0F
    x = (x | (x << 2)) & 0x3333_3333
    x = (x | (x << 1)) & 0x5555_5555
    return x
  }

  /// Stable LSD radix sort of `order` by `codes`, four passes of eight bits.
  private mutating func radixSort(_ n: Int) {
    var counts = [Int](repeating: 0, count: 257)
    for pass in 0..<4 {
      let shift = UInt32(8 * pass)
      for b in 0..<257 { counts[b] = 0 }
      for s in 0..<n { counts[Int((codes[s] >> shift) & 0xFF) + 1] += 1 }
      for b in 0..<256 { counts[b + 1] += counts[b] }
      for s in 0..<n {
        let bucket = Int((codes[s] >> shift) & 0xFF)
        scratchCodes[counts[bucket]] = codes[s]
        scratchOrder[counts[bucket]] = order[s]
        counts[bucket] += 1
      }
      swap(&codes, &scratchCodes)
      swap(&order, &scratchOrder)
    }
  }

  /// Appends the subtree of sorted points `start ..< end`, which share their code down to
  /// `level`, in depth-first order; the first range of at most `groupSize` points on each path
  /// (or a larger leaf of coincident points) becomes a group.
  private mutating func build(_ start: Int, _ end: Int, level startLevel: Int, inGroup: Bool) {
    var inGroup = inGroup
    if !inGroup && end - start <= Self.groupSize {
      groups.append(start..<end)
      inGroup = true
    }
    var level = startLevel
    var shift = UInt32(0)
    let count = Double(end - start)
    let centreX = Float((prefixX[end] - prefixX[start]) / count)
    let centreY = Float((prefixY[end] - prefixY[start]) / count)
    while true {
      if end - start == 1 || level == Self.levels {
        // A leaf of coincident points may exceed the group size: it is its own group then.
        if !inGroup { groups.append(start..<end) }
        let width = side / Double(1 << level)
        nodes.append(
          Node(
            centreX: centreX, centreY: centreY, mass: Float(count),
            openDistanceSquared: end - start == 1 ? 0 : Float(width * width / thetaSquared),
            skip: Int32(nodes.count + 1), start: Int32(start), end: Int32(end), isLeaf: true))
        return
      }
      shift = UInt32(2 * (Self.levels - 1 - level))
      // Sorted codes with a common prefix: one child holds all iff the first and last agree.
      if (codes[start] >> shift) & 3 != (codes[end - 1] >> shift) & 3 {
        break
      }
      level += 1
    }
    let width = side / Double(1 << level)
    let node = nodes.count
    nodes.append(
      Node(
        centreX: centreX, centreY: centreY, mass: Float(count),
        openDistanceSquared: Float(width * width / thetaSquared), skip: 0, start: Int32(start),
        end: Int32(end), isLeaf: false))
    var childStart = start
    while childStart < end {
      let quadrant = (codes[childStart] >> shift) & 3
      // The end of this quadrant's run, by bisection.
      var low = childStart + 1, high = end
      while low < high {
        let mid = (low + high) / 2
        if (codes[mid] >> shift) & 3 == quadrant { low = mid + 1 } else { high = mid }
      }
      build(childStart, low, level: level + 1, inGroup: inGroup)
      childStart = low
    }
    nodes[node].skip = Int32(nodes.count)
  }

  /// Where the parts of the repulsion write, by sorted point s (Z-order): `z[s]` = Σⱼ≠ᵢ wᵢⱼ,
  /// `fx[s]`, `fy[s]` the force Σⱼ wᵢⱼ² (yᵢ − yⱼ); and the parts' interaction lists, one of
  /// `listCapacity` floats per part.
  struct Sums {
    var z: [Double]
    var fx: [Double]
    var fy: [Double]
    var lists: [Float]

    /// Room for n points.
    init(count n: Int) {
      z = [Double](repeating: 0, count: n)
      fx = z
      fy = z
      lists = [Float](repeating: 0, count: partCount * listCapacity(n))
    }
  }

  /// The floats of one part's interaction list (x, y and mass apart): the entries cover
  /// disjoint sets of points, so there are at most n, plus padding.
  static func listCapacity(_ n: Int) -> Int { 3 * (n + TSNEKernels.lanes) }

  /// The original index of the sorted point s.
  func originalIndex(_ s: Int) -> Int { order[s] }

  /// Writes Σⱼ wᵢⱼ² (yᵢ − yⱼ) for every point into `forces` (2n interleaved, by original index)
  /// and returns Z = Σᵢ Σⱼ≠ᵢ wᵢⱼ, with wᵢⱼ = 1 / (1 + ‖yᵢ − yⱼ‖²) and far cells summarised.
  ///
  /// The parts run concurrently when `concurrently` is true; each writes only its own points'
  /// sums, and Z is added in Z-order, so the result is the same bits on any number of threads.
  func repulsion(into forces: inout [Double], concurrently: Bool = true) -> Double {
    let n = order.count
    var sums = Sums(count: n)
    repulsion(into: &sums, concurrently: concurrently)
    for s in 0..<n {
      forces[2 * order[s]] = sums.fx[s]
      forces[2 * order[s] + 1] = sums.fy[s]
    }
    return Self.total(sums.z)
  }

  /// Runs every part of the repulsion into `sums`, concurrently when `concurrently` is true.
  func repulsion(into sums: inout Sums, concurrently: Bool) {
    sums.z.withUnsafeMutableBufferPointer { z in
      sums.fx.withUnsafeMutableBufferPointer { fx in
        sums.fy.withUnsafeMutableBufferPointer { fy in
          sums.lists.withUnsafeMutableBufferPointer { lists in
            nonisolated(unsafe) let (z, fx, fy, lists) = (z, fx, fy, lists)
            let run: @Sendable (Int) -> Void = { p in
              self.repulsion(part: p, z: z, fx: fx, fy: fy, lists: lists)
            }
            if concurrently {
              Parallel.forEach(Self.partCount, run)
            } else {
              for p in 0..<Self.partCount { run(p) }
            }
          }
        }
      }
    }
  }

  /// Z = Σₛ (z[s] − 1), in sorted order: each point's sum over its interaction list, less the
  /// w = 1 of its own entry.
  static func total(_ z: [Double]) -> Double {
    var total = 0.0
    for zs in z { total += zs - 1 }
    return total
  }

  /// The repulsion of the points of part `part` (one of `partCount` runs of groups in Z-order,
  /// of about equal numbers of points): for each sorted point s of the part, its sum over its
  /// group's interaction list (its own entry included: w = 1, no force) into `z[s]`, `fx[s]`,
  /// `fy[s]`. The list is built in the part's own `listCapacity` floats of `lists`. Writes
  /// nothing else, so parts may run concurrently.
  func repulsion(
    part: Int, z: UnsafeMutableBufferPointer<Double>, fx: UnsafeMutableBufferPointer<Double>,
    fy: UnsafeMutableBufferPointer<Double>, lists: UnsafeMutableBufferPointer<Float>
  ) {
    guard part < parts.count, !parts[part].isEmpty else { return }
    let capacity = Self.listCapacity(order.count) / 3
    let first = part * 3 * capacity
    let lx = UnsafeMutableBufferPointer(rebasing: lists[first..<first + capacity])
    let ly = UnsafeMutableBufferPointer(rebasing: lists[first + capacity..<first + 2 * capacity])
    let lm = UnsafeMutableBufferPointer(
      rebasing: lists[first + 2 * capacity..<first + 3 * capacity])
    let variant = TSNEKernels.Variant.best
    pointX.withUnsafeBufferPointer { xs in
      pointY.withUnsafeBufferPointer { ys in
        guard let xs = xs.baseAddress, let ys = ys.baseAddress, let lx = lx.baseAddress,
          let ly = ly.baseAddress, let lm = lm.baseAddress, let z = z.baseAddress,
          let fx = fx.baseAddress, let fy = fy.baseAddress
        else { return }
        for g in parts[part] {
          let group = groups[g]
          let length = collectInteractions(for: group, lx, ly, lm)
          let s = group.lowerBound
          TSNEKernels.repulsionSums(
            variant, px: xs + s, py: ys + s, count: group.count, lx: lx, ly: ly, lm: lm,
            length: length, z: z + s, fx: fx + s, fy: fy + s)
        }
      }
    }
  }

  /// Fills the interaction list of the sorted points `group`: summaries of the cells far
  /// enough from the group's bounding box, and single points elsewhere (the group's own
  /// included), padded with massless entries to a multiple of `TSNEKernels.lanes`; returns
  /// its length, at most `listCapacity(n) / 3`.
  private func collectInteractions(
    for group: Range<Int>, _ lx: UnsafeMutablePointer<Float>, _ ly: UnsafeMutablePointer<Float>,
    _ lm: UnsafeMutablePointer<Float>
  ) -> Int {
    var x0 = Float.infinity, x1 = -Float.infinity, y0 = Float.infinity, y1 = -Float.infinity
    for s in group {
      x0 = min(x0, pointX[s])
      x1 = max(x1, pointX[s])
      y0 = min(y0, pointY[s])
      y1 = max(y1, pointY[s])
    }
    let gs = Int32(group.lowerBound), ge = Int32(group.upperBound)
    var length = 0
    nodes.withUnsafeBufferPointer { tree in
      pointX.withUnsafeBufferPointer { xs in
        pointY.withUnsafeBufferPointer { ys in
          let nodeCount = tree.count
          var k = 0
          while k < nodeCount {
            let node = tree[k]
            let dx = max(0, max(x0 - node.centreX, node.centreX - x1))
            let dy = max(0, max(y0 - node.centreY, node.centreY - y1))
            let overlaps = node.start < ge && gs < node.end
            if !overlaps && dx * dx + dy * dy > node.openDistanceSquared {
              lx[length] = node.centreX
              ly[length] = node.centreY
              lm[length] = node.mass
              length += 1
              k = Int(node.skip)
            } else if node.isLeaf {
              for t in Int(node.start)..<Int(node.end) {
                lx[length] = xs[t]
                ly[length] = ys[t]
                lm[length] = 1
                length += 1
              }
              k = Int(node.skip)
            } else {
              k += 1
            }
          }
          while length % TSNEKernels.lanes != 0 {
            lx[length] = 0
            ly[length] = 0
            lm[length] = 0
            length += 1
          }
        }
      }
    }
    return length
  }
}

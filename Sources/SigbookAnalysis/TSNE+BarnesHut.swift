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
/// group's own points included); each point of the group then sums it with four-lane SIMD
/// arithmetic and removes its own term (w = 1, no force). Summaries are in `Float`; per-point
/// sums go to `Double` in a fixed order, so results are reproducible.
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

  /// The largest number of points that share one interaction list.
  static let groupSize = 32

  private static let levels = 16
  private var nodes: [Node] = []
  private var order: [Int] = []
  private var scratchOrder: [Int] = []
  private var codes: [UInt32] = []
  private var scratchCodes: [UInt32] = []
  private var sortedX: [Double] = []
  private var sortedY: [Double] = []
  private var prefixX: [Double] = []
  private var prefixY: [Double] = []
  /// Ranges of sorted points that share an interaction list.
  private var groups: [Range<Int>] = []
  private var listX: [Float] = []
  private var listY: [Float] = []
  private var listMass: [Float] = []
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
      sortedX[s] = positions[2 * i]
      sortedY[s] = positions[2 * i + 1]
      prefixX[s + 1] = prefixX[s] + sortedX[s]
      prefixY[s + 1] = prefixY[s] + sortedY[s]
    }
    nodes.removeAll(keepingCapacity: true)
    groups.removeAll(keepingCapacity: true)
    if n > 0 { build(0, n, level: 0, inGroup: false) }
  }

  private mutating func resize(_ n: Int) {
    guard order.count != n else { return }
    listX = [Float](repeating: 0, count: n + 4)
    listY = listX
    listMass = listX
    order = [Int](repeating: 0, count: n)
    scratchOrder = order
    codes = [UInt32](repeating: 0, count: n)
    scratchCodes = codes
    sortedX = [Double](repeating: 0, count: n)
    sortedY = sortedX
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

  /// Writes Σⱼ wᵢⱼ² (yᵢ − yⱼ) for every point into `forces` (2n interleaved, by original index)
  /// and returns Z = Σᵢ Σⱼ≠ᵢ wᵢⱼ, with wᵢⱼ = 1 / (1 + ‖yᵢ − yⱼ‖²) and far cells summarised.
  ///
  /// Groups are visited in Z-order and per-point sums are added to Z in that fixed order.
  mutating func repulsion(into forces: inout [Double]) -> Double {
    var z = 0.0
    for group in groups {
      let padded = collectInteractions(for: group)
      listX.withUnsafeBufferPointer { lx in
        listY.withUnsafeBufferPointer { ly in
          listMass.withUnsafeBufferPointer { lm in
            forces.withUnsafeMutableBufferPointer { f in
              for s in group {
                let x = Float(sortedX[s]), y = Float(sortedY[s])
                let (zi, fx, fy) = Self.sum(x, y, lx, ly, lm, count: padded)
                // The point's own entry added w = 1 and no force.
                z += zi - 1
                let i = order[s]
                f[2 * i] = fx
                f[2 * i + 1] = fy
              }
            }
          }
        }
      }
    }
    return z
  }

  /// Σ m w, Σ m w² dx, Σ m w² dy over an interaction list padded to a multiple of four.
  @inline(__always)
  private static func sum(
    _ x: Float, _ y: Float, _ lx: UnsafeBufferPointer<Float>, _ ly: UnsafeBufferPointer<Float>,
    _ lm: UnsafeBufferPointer<Float>, count: Int
  ) -> (Double, Double, Double) {
    let px = SIMD4<Float>(repeating: x), py = SIMD4<Float>(repeating: y)
    let one = SIMD4<Float>(repeating: 1)
    var z4 = SIMD4<Float>(), fx4 = SIMD4<Float>(), fy4 = SIMD4<Float>()
    guard let bx = UnsafeRawPointer(lx.baseAddress), let by = UnsafeRawPointer(ly.baseAddress),
      let bm = UnsafeRawPointer(lm.baseAddress)
    else { return (0, 0, 0) }
    var offset = 0
    let bytes = count * MemoryLayout<Float>.stride
    while offset < bytes {
      let dx = px - bx.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
      let dy = py - by.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
      let w = one / (one + dx * dx + dy * dy)
      let mw = bm.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) * w
      z4 += mw
      let mw2 = mw * w
      fx4 += mw2 * dx
      fy4 += mw2 * dy
      offset += 4 * MemoryLayout<Float>.stride
    }
    func total(_ v: SIMD4<Float>) -> Double {
      (Double(v[0]) + Double(v[1])) + (Double(v[2]) + Double(v[3]))
    }
    return (total(z4), total(fx4), total(fy4))
  }

  /// Fills the interaction list of the sorted points `group`: summaries of the cells far
  /// enough from the group's bounding box, and single points elsewhere (the group's own
  /// included), padded with massless entries to a multiple of four; returns its length.
  ///
  /// The entries cover disjoint sets of points, so there are at most n (+ 3 of padding): the
  /// list buffers are sized once and written without appends.
  private mutating func collectInteractions(for group: Range<Int>) -> Int {
    var x0 = Float.infinity, x1 = -Float.infinity, y0 = Float.infinity, y1 = -Float.infinity
    for s in group {
      x0 = min(x0, Float(sortedX[s]))
      x1 = max(x1, Float(sortedX[s]))
      y0 = min(y0, Float(sortedY[s]))
      y1 = max(y1, Float(sortedY[s]))
    }
    let gs = Int32(group.lowerBound), ge = Int32(group.upperBound)
    var length = 0
    nodes.withUnsafeBufferPointer { tree in
      sortedX.withUnsafeBufferPointer { xs in
        sortedY.withUnsafeBufferPointer { ys in
          listX.withUnsafeMutableBufferPointer { lx in
            listY.withUnsafeMutableBufferPointer { ly in
              listMass.withUnsafeMutableBufferPointer { lm in
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
                      lx[length] = Float(xs[t])
                      ly[length] = Float(ys[t])
                      lm[length] = 1
                      length += 1
                    }
                    k = Int(node.skip)
                  } else {
                    k += 1
                  }
                }
                while length % 4 != 0 {
                  lx[length] = 0
                  ly[length] = 0
                  lm[length] = 0
                  length += 1
                }
              }
            }
          }
        }
      }
    }
    return length
  }
}

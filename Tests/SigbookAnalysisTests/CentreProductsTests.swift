import SigbookTestSupport
import Testing

@testable import SigbookAnalysis
@testable import SigbookTensor

/// The centre products of k-means (`CentreProducts`, the C kernels of `CKernels`) against plain
/// references, for each vector variant this processor runs.
@Suite("Centre products") struct CentreProductsTests {
  /// Points `[n, d]` and the range of them asked for.
  struct Case: Sendable, CustomTestStringConvertible {
    var n: Int
    var d: Int
    var start: Int
    var count: Int

    var testDescription: String { "\(n) × \(d), points \(start) ..< \(start + count)" }
  }

  /// Panels full and partial (n = 1, 15, 16, 17, 45, 203), features from 1 to 130 (none a
  /// multiple of 8 but 128), ranges from the start, from inside a panel and ending inside one.
  static let cases: [Case] = [
    Case(n: 1, d: 1, start: 0, count: 1),
    Case(n: 15, d: 3, start: 0, count: 15),
    Case(n: 16, d: 13, start: 0, count: 16),
    Case(n: 17, d: 7, start: 0, count: 17),
    Case(n: 17, d: 7, start: 16, count: 1),
    Case(n: 45, d: 130, start: 5, count: 33),
    Case(n: 45, d: 9, start: 31, count: 0),
    Case(n: 203, d: 128, start: 0, count: 203),
    Case(n: 203, d: 37, start: 19, count: 150),
  ]

  /// Seeded points and 16 centres in [−1, 1], offset so that the products do not cancel.
  static func operands(_ c: Case, seed: Int) -> (x: [Float], centres: [Float]) {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.uniform(shape: [c.n, c.d], low: -1, high: 1.5, generator: &g).scalars
    let centres = Tensor.uniform(shape: [16, c.d], low: -1, high: 1.5, generator: &g).scalars
    return (x, centres)
  }

  /// `xᵢ · c_j` as the kernels sum it: features in order, one fused multiply-add each, from 0.
  static func inOrder(_ x: [Float], _ centres: [Float], i: Int, j: Int, d: Int) -> Float {
    var s: Float = 0
    for f in 0..<d { s = s.addingProduct(x[i * d + f], centres[j * d + f]) }
    return s
  }

  /// `out[j · stride + i]` for the case's range and k centres, from `variant`.
  static func products(_ c: Case, k: Int, variant: VectorVariant) -> [Float] {
    let (x, centres) = operands(c, seed: c.n * 1000 + c.d)
    let panels = x.withUnsafeBufferPointer { CentreProducts.pack($0, rows: c.n, columns: c.d) }
    let stride = c.count + 3
    var out = [Float](repeating: .nan, count: k * stride)
    panels.withUnsafeBufferPointer { p in
      centres.withUnsafeBufferPointer { cp in
        out.withUnsafeMutableBufferPointer { o in
          guard let p = p.baseAddress, let cp = cp.baseAddress, let o = o.baseAddress else {
            return
          }
          CentreProducts.products(
            variant, panels: p, features: c.d, start: c.start, count: c.count, centres: cp, k: k,
            into: o, stride: stride)
        }
      }
    }
    return out
  }

  /// Every product against the Double sum (within Float rounding of d terms) and, to the bit,
  /// against the Float sum in the kernels' order; the padding of each row left alone.
  static func checkProducts(_ c: Case, variant: VectorVariant) {
    let (x, centres) = operands(c, seed: c.n * 1000 + c.d)
    let stride = c.count + 3
    for k in 1...16 {
      let out = products(c, k: k, variant: variant)
      for j in 0..<k {
        for r in 0..<c.count {
          let i = c.start + r
          var exact = 0.0, magnitude = 0.0
          for f in 0..<c.d {
            let p = Double(x[i * c.d + f]) * Double(centres[j * c.d + f])
            exact += p
            magnitude += abs(p)
          }
          let value = out[j * stride + r]
          #expect(
            abs(Double(value) + 2 * exact) <= 2 * Double(c.d) * 1.2e-7 * magnitude + 1e-30,
            "k \(k), point \(i), centre \(j)")
          #expect(value == -2 * inOrder(x, centres, i: i, j: j, d: c.d))
        }
        for r in c.count..<stride { #expect(out[j * stride + r].isNaN) }
      }
    }
  }

  /// Nearest centres: the first least `‖c‖² − 2·x·c` (in the kernels' order) and its distance;
  /// the chosen centre within rounding of the nearest by Double distances.
  static func checkNearest(_ c: Case, variant: VectorVariant) {
    let (x, centres) = operands(c, seed: c.n * 1000 + c.d + 1)
    let panels = x.withUnsafeBufferPointer { CentreProducts.pack($0, rows: c.n, columns: c.d) }
    let norms = x.withUnsafeBufferPointer {
      Distances.rowSquaredNorms($0, rows: c.n, columns: c.d)
    }
    for k in 1...16 {
      let centreNorms = centres.withUnsafeBufferPointer {
        Distances.rowSquaredNorms($0, rows: k, columns: c.d)
      }
      var labels = [Int](repeating: -1, count: c.count)
      var distances = [Float](repeating: .nan, count: c.count)
      panels.withUnsafeBufferPointer { p in
        norms.withUnsafeBufferPointer { xn in
          centres.withUnsafeBufferPointer { cp in
            centreNorms.withUnsafeBufferPointer { cn in
              labels.withUnsafeMutableBufferPointer { l in
                distances.withUnsafeMutableBufferPointer { dist in
                  guard let p = p.baseAddress, let xn = xn.baseAddress, let cp = cp.baseAddress,
                    let cn = cn.baseAddress, let l = l.baseAddress, let dist = dist.baseAddress
                  else { return }
                  CentreProducts.nearest(
                    variant, panels: p, features: c.d, start: c.start, count: c.count,
                    norms: xn + c.start, centres: cp, centreNorms: cn, k: k, labels: l,
                    distances: dist)
                }
              }
            }
          }
        }
      }
      for r in 0..<c.count {
        let i = c.start + r
        var best = 0
        var bestValue = centreNorms[0] - 2 * inOrder(x, centres, i: i, j: 0, d: c.d)
        for j in 1..<k {
          let value = centreNorms[j] - 2 * inOrder(x, centres, i: i, j: j, d: c.d)
          if value < bestValue { (best, bestValue) = (j, value) }
        }
        #expect(labels[r] == best, "k \(k), point \(i)")
        #expect(distances[r] == max(0, norms[i] + bestValue), "k \(k), point \(i)")
        let exact = (0..<k).map { j in
          (0..<c.d).reduce(0.0) { s, f in
            let t = Double(x[i * c.d + f]) - Double(centres[j * c.d + f])
            return s + t * t
          }
        }
        let least = exact.min() ?? 0
        #expect(exact[labels[r]] - least <= 1e-5 * (Double(norms[i]) + 4 * Double(c.d)))
        #expect(abs(Double(distances[r]) - exact[labels[r]]) <= 1e-5 * (exact[labels[r]] + 1))
      }
    }
  }

  @Test(
    .enabled(if: VectorVariant.avx512.isSupported, "needs a processor with AVX-512F"),
    arguments: cases)
  func avx512MatchesTheReferences(_ c: Case) {
    Self.checkProducts(c, variant: .avx512)
    Self.checkNearest(c, variant: .avx512)
  }

  @Test(
    .enabled(if: VectorVariant.avx2.isSupported, "needs a processor with AVX2 and FMA"),
    arguments: cases)
  func avx2MatchesTheReferences(_ c: Case) {
    Self.checkProducts(c, variant: .avx2)
    Self.checkNearest(c, variant: .avx2)
  }

  /// Both variants sum in one order: the same bits from each.
  @Test(
    .enabled(
      if: VectorVariant.allCases.allSatisfy(\.isSupported),
      "needs a processor with both AVX2 and AVX-512F"),
    arguments: cases)
  func variantsAgreeToTheBit(_ c: Case) {
    for k in [1, 5, 12, 13, 16] {
      let outputs = VectorVariant.allCases.map { Self.products(c, k: k, variant: $0) }
      #expect(outputs[0].elementsEqual(outputs[1]) { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }
  }

  /// The packed layout: feature f of row i at ((i / 16) · d + f) · 16 + i mod 16, zeros after
  /// the last row.
  @Test func packingPutsEachFeatureOfSixteenRowsSideBySide() {
    let n = 19, d = 3
    let x = (0..<(n * d)).map { Float($0 + 1) }
    let packed = x.withUnsafeBufferPointer { CentreProducts.pack($0, rows: n, columns: d) }
    #expect(packed.count == 2 * d * 16)
    for i in 0..<32 {
      for f in 0..<d {
        #expect(packed[((i / 16) * d + f) * 16 + i % 16] == (i < n ? x[i * d + f] : 0))
      }
    }
  }

  /// k-means's assignment step gives the same labels by the kernel as by sgemm (separated blobs:
  /// no near ties), and distances within rounding.
  @Test func assignmentByTheKernelEqualsAssignmentBySgemm() throws {
    guard VectorVariant.best != nil else { return }
    let (x, _) = KMeansTests.blobs(
      clusters: 7, perCluster: 29, d: 37, sigma: 0.3, spacing: 4, seed: 3)
    let data = try KMeansData(x)
    var g = SeededGenerator(seed: 5)
    for k in [1, 2, 7, 13] {
      let centres = try KMeans.seedCentres(data, k: k, generator: &g)
      var byKernel = (labels: [Int](repeating: -1, count: data.n), distances: [Float]())
      var bySgemm = byKernel
      for usesKernel in [true, false] {
        var labels = [Int](repeating: -1, count: data.n)
        var distances = [Float](repeating: .nan, count: data.n)
        data.values.withUnsafeBufferPointer { xv in
          data.norms.withUnsafeBufferPointer { xn in
            centres.withUnsafeBufferPointer { c in
              labels.withUnsafeMutableBufferPointer { l in
                distances.withUnsafeMutableBufferPointer { dist in
                  data.withPanels { panels in
                    KMeans.assignNearest(
                      x: xv, panels: usesKernel ? panels : nil, norms: xn, features: data.d,
                      centres: c, k: k, labels: l, distances: dist)
                  }
                }
              }
            }
          }
        }
        if usesKernel { byKernel = (labels, distances) } else { bySgemm = (labels, distances) }
      }
      #expect(byKernel.labels == bySgemm.labels, "k \(k)")
      #expect(largestRelativeError(byKernel.distances, bySgemm.distances) < 1e-4, "k \(k)")
    }
  }
}

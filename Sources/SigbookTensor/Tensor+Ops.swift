/// Elementwise operations, reductions, row selection and concatenation.
extension Tensor {
  /// Applies `transform` to every value.
  func map(_ transform: (Float) -> Float) -> Tensor {
    var result = self
    result.withUnsafeMutableBufferPointer { out in
      for i in out.indices { out[i] = transform(out[i]) }
    }
    return result
  }

  /// Combines two tensors of the same shape value by value.
  ///
  /// - Precondition: the shapes are equal.
  func zipWith(_ other: Tensor, _ combine: (Float, Float) -> Float) -> Tensor {
    precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
    var result = self
    other.withUnsafeBufferPointer { b in
      result.withUnsafeMutableBufferPointer { out in
        for i in out.indices { out[i] = combine(out[i], b[i]) }
      }
    }
    return result
  }

  static func + (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, +) }
  static func - (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, -) }
  static func * (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, *) }
  static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
  static func * (s: Float, a: Tensor) -> Tensor { a.map { $0 * s } }

  /// `self ← self + alpha · other`, in place.
  mutating func add(_ other: Tensor, scaledBy alpha: Float = 1) {
    precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
    other.withUnsafeBufferPointer { b in
      withUnsafeMutableBufferPointer { out in
        for i in out.indices { out[i] += alpha * b[i] }
      }
    }
  }

  /// The sum of all values, in Double with four partial sums in a fixed order.
  func sum() -> Double {
    withUnsafeBufferPointer { x in
      var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
      var i = 0
      while i + 4 <= x.count {
        s0 += Double(x[i]); s1 += Double(x[i + 1]); s2 += Double(x[i + 2]); s3 += Double(x[i + 3])
        i += 4
      }
      while i < x.count { s0 += Double(x[i]); i += 1 }
      return (s0 + s1) + (s2 + s3)
    }
  }

  /// The mean of all values (0 for an empty tensor).
  public func mean() -> Double { count == 0 ? 0 : sum() / Double(count) }

  /// The largest value (−∞ for an empty tensor).
  func max() -> Float { storage.max() ?? -.infinity }

  /// The smallest value (+∞ for an empty tensor).
  func min() -> Float { storage.min() ?? .infinity }

  /// Whether every value is finite (no NaN, no infinity).
  public var isFinite: Bool { withUnsafeBufferPointer { $0.allSatisfy { $0.isFinite } } }

  /// The sum of each column of a matrix `[n, d]`: a vector `[d]`.
  public func columnSums() -> Tensor {
    let n = rows, d = rowSize
    return Tensor(shape: [d]) { out in
      withUnsafeBufferPointer { x in
        for i in 0..<n {
          let row = i * d
          for j in 0..<d { out[j] += x[row + j] }
        }
      }
    }
  }

  /// The index of the largest value of each row (the first one on ties).
  public func argmaxRows() -> [Int] {
    let n = rows, d = rowSize
    guard d > 0 else { return [Int](repeating: 0, count: n) }
    return withUnsafeBufferPointer { x in
      (0..<n).map { i in
        var best = 0
        var bestValue = x[i * d]
        for j in 1..<d where x[i * d + j] > bestValue {
          best = j
          bestValue = x[i * d + j]
        }
        return best
      }
    }
  }

  /// Rows `range` of the first dimension, as a new tensor.
  public func rows(_ range: Range<Int>) -> Tensor {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) of \(shape)")
    let d = rowSize
    var newShape = shape
    newShape[0] = range.count
    return Tensor(
      shape: newShape, scalars: Array(storage[range.lowerBound * d..<range.upperBound * d]))
  }

  /// The rows at `indices`, in that order (a gather along the first dimension).
  public func rows(at indices: [Int]) -> Tensor {
    let d = rowSize, n = rows
    var newShape = shape
    newShape[0] = indices.count
    // Every row is written: the values are not zeroed first.
    return Tensor.overwriting(shape: newShape) { out in
      withUnsafeBufferPointer { x in
        for (r, i) in indices.enumerated() {
          precondition(i >= 0 && i < n, "row \(i) of \(n)")
          let source = UnsafeBufferPointer(rebasing: x[i * d..<(i + 1) * d])
          let target = UnsafeMutableBufferPointer(rebasing: out[r * d..<(r + 1) * d])
          _ = target.initialize(from: source)
        }
      }
    }
  }

  /// Copies rows `indices` of `source` into rows `0 ..< indices.count` of this tensor, in place
  /// (no allocation: the training loop fills one batch buffer this way).
  mutating func gatherRows(from source: Tensor, at indices: ArraySlice<Int>) {
    let d = rowSize
    precondition(source.rowSize == d && indices.count <= rows, "gather of rows into \(shape)")
    source.withUnsafeBufferPointer { x in
      withUnsafeMutableBufferPointer { out in
        for (r, i) in indices.enumerated() {
          let src = UnsafeBufferPointer(rebasing: x[i * d..<(i + 1) * d])
          _ = UnsafeMutableBufferPointer(rebasing: out[r * d..<(r + 1) * d]).update(
            fromContentsOf: src)
        }
      }
    }
  }

  /// Joins tensors along the first dimension.
  ///
  /// - Precondition: all but the first dimension agree.
  public static func concatenate(_ tensors: [Tensor]) -> Tensor {
    guard let first = tensors.first else { return Tensor(zeros: [0]) }
    let tail = Array(first.shape.dropFirst())
    precondition(
      tensors.allSatisfy { Array($0.shape.dropFirst()) == tail },
      "cannot concatenate shapes \(tensors.map(\.shape))")
    var values: [Float] = []
    values.reserveCapacity(tensors.reduce(0) { $0 + $1.count })
    for t in tensors { values.append(contentsOf: t.storage) }
    return Tensor(shape: [tensors.reduce(0) { $0 + $1.rows }] + tail, scalars: values)
  }

  /// The matrix transpose of a rank-2 tensor.
  func transposed() -> Tensor {
    precondition(rank == 2, "transpose of a \(shape) tensor")
    let n = shape[0], m = shape[1]
    return Tensor(shape: [m, n]) { out in
      withUnsafeBufferPointer { x in
        for i in 0..<n { for j in 0..<m { out[j * n + i] = x[i * m + j] } }
      }
    }
  }
}

/// A shaped array of `Float` values in contiguous row-major storage.
///
/// Batches of vectors are `[N, D]`, batches of images `[N, C, H, W]`. A tensor is a value: copies
/// share their storage until one of them is mutated (copy-on-write through `[Float]`). Mutate
/// through the owner (`layer.weight.withUnsafeMutableBufferPointer { … }`) so the buffer is not
/// copied on every step.
public struct Tensor: Sendable, Equatable {
  /// The size of each dimension, outermost first.
  public private(set) var shape: [Int]
  @usableFromInline internal var storage: [Float]

  /// Creates a tensor from its shape and its values in row-major order.
  ///
  /// - Precondition: `scalars.count` equals the product of `shape`.
  public init(shape: [Int], scalars: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "tensor dimensions must not be negative")
    precondition(
      shape.reduce(1, *) == scalars.count,
      "a tensor of shape \(shape) needs \(shape.reduce(1, *)) values, not \(scalars.count)")
    self.shape = shape
    self.storage = scalars
  }

  /// Creates a tensor of the given shape filled with `value`.
  public init(repeating value: Float, shape: [Int]) {
    self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
  }

  /// Creates a tensor of zeros.
  public init(zeros shape: [Int]) {
    self.init(repeating: 0, shape: shape)
  }

  /// Creates a tensor of the given shape whose values are written by `body`.
  ///
  /// The buffer passed to `body` starts uninitialised-but-zeroed; `body` fills it.
  public init(
    shape: [Int], initializingWith body: (inout UnsafeMutableBufferPointer<Float>) throws -> Void
  ) rethrows {
    let count = shape.reduce(1, *)
    let values = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      buffer.initialize(repeating: 0)
      try body(&buffer)
      initialized = count
    }
    self.init(shape: shape, scalars: values)
  }

  /// A tensor whose values are not set: for the output of a product with `beta = 0`, which
  /// overwrites every value (saves a pass of zeroing large buffers).
  public init(unsetShape shape: [Int]) {
    let count = shape.reduce(1, *)
    self.shape = shape
    self.storage = [Float](unsafeUninitializedCapacity: count) { _, initialized in
      initialized = count
    }
  }

  /// A tensor whose values `body` writes, every one of them (no zeroing first).
  public static func overwriting(
    shape: [Int], _ body: (UnsafeMutableBufferPointer<Float>) -> Void
  ) -> Tensor {
    var tensor = Tensor(unsetShape: shape)
    tensor.storage.withUnsafeMutableBufferPointer { body($0) }
    return tensor
  }

  /// The values in row-major order.
  public var scalars: [Float] { storage }

  /// The number of values.
  @inlinable public var count: Int { storage.count }

  /// The number of dimensions.
  public var rank: Int { shape.count }

  /// The size of the first dimension (the batch size of a batch).
  public var rows: Int { shape.first ?? 0 }

  /// The number of values in one row (one item of a batch): the product of all but the first
  /// dimension.
  public var rowSize: Int { shape.dropFirst().reduce(1, *) }

  /// The value at a flat row-major offset.
  @inlinable public subscript(flat index: Int) -> Float {
    get { storage[index] }
    set { storage[index] = newValue }
  }

  /// The value at a multi-dimensional index.
  subscript(_ indices: Int...) -> Float {
    get { storage[offset(of: indices)] }
    set { storage[offset(of: indices)] = newValue }
  }

  private func offset(of indices: [Int]) -> Int {
    precondition(indices.count == shape.count, "index \(indices) does not match shape \(shape)")
    var offset = 0
    for (i, n) in zip(indices, shape) {
      precondition(i >= 0 && i < n, "index \(indices) is out of bounds for shape \(shape)")
      offset = offset * n + i
    }
    return offset
  }

  /// Calls `body` with the values in row-major order.
  @inlinable
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R)
    rethrows -> R
  {
    try storage.withUnsafeBufferPointer(body)
  }

  /// Calls `body` with the values for writing; copies them first if they are shared.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    try storage.withUnsafeMutableBufferPointer(body)
  }

  /// Calls `body` with the first value's address of every tensor, all writable at once (each
  /// copied first if shared); an empty tensor's address points at no value and must not be used.
  public static func withMutableBaseAddresses<R>(
    _ tensors: inout [Tensor], _ body: ([UnsafeMutablePointer<Float>]) throws -> R
  ) rethrows -> R {
    // Through the array's buffer, each tensor is reached as its own memory: holding one
    // tensor's values while taking the next is not an overlapping access to the array.
    try tensors.withUnsafeMutableBufferPointer { all in
      func nest(_ i: Int, _ bases: [UnsafeMutablePointer<Float>]) throws -> R {
        guard i < all.count else { return try body(bases) }
        return try all[i].storage.withUnsafeMutableBufferPointer { values in
          let base =
            values.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Float>.alignment)!
          return try nest(i + 1, bases + [base])
        }
      }
      return try nest(0, [])
    }
  }

  /// The same values under another shape with the same number of values.
  ///
  /// - Precondition: the products of both shapes are equal.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    Tensor(shape: newShape, scalars: storage)
  }

  /// The same values as a matrix `[rows, rowSize]`.
  public var flattenedRows: Tensor { reshaped([rows, rowSize]) }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let preview = storage.prefix(8).map { String($0) }.joined(separator: ", ")
    return "Tensor(\(shape), [\(preview)\(storage.count > 8 ? ", …" : "")])"
  }
}

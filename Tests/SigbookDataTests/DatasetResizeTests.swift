import Testing

@testable import SigbookData
@testable import SigbookTensor

/// `resize`: area averaging when shrinking, linear interpolation when growing, labels kept.
@Suite("Resizing images") struct DatasetResizeTests {
  static func images(_ values: [Float], shape: [Int]) -> Dataset {
    let n = values.count / shape.reduce(1, *)
    return Dataset(
      name: "d", features: Tensor(shape: [n] + shape, scalars: values),
      labels: (0..<n).map { $0 % 2 }, classNames: ["a", "b"])
  }

  @Test func halvingIsTheMeanOfEachBlock() throws {
    // 4 × 4 → 2 × 2: each output the mean of a 2 × 2 block.
    let d = Self.images(
      [
        1, 2, 3, 4,
        5, 6, 7, 8,
        9, 10, 11, 12,
        13, 14, 15, 16,
      ], shape: [1, 4, 4])
    let r = try d.resized(height: 2, width: 2)
    #expect(r.featureShape == [1, 2, 2])
    #expect(r.features.scalars == [3.5, 5.5, 11.5, 13.5])
    #expect(r.labels == d.labels && r.classNames == d.classNames)
  }

  @Test func aThirdOfAPixelCountsForAThird() throws {
    // 3 → 2 across: [a b c] → [(a + b/2) / 1.5, (b/2 + c) / 1.5]; rows kept.
    let d = Self.images([3, 6, 9], shape: [1, 1, 3])
    let r = try d.resized(height: 1, width: 2)
    #expect(r.features.scalars.count == 2)
    #expect(abs(r.features.scalars[0] - 4) < 1e-6)
    #expect(abs(r.features.scalars[1] - 8) < 1e-6)
  }

  @Test func mnistToUSPSKeepsTheMeanIntensity() throws {
    // Area averaging keeps the mean of every image (28 → 16 is not a whole factor).
    var g = SeededGenerator(seed: 3)
    let values = (0..<(2 * 784)).map { _ in g.nextFloat() }
    let d = Self.images(values, shape: [1, 28, 28])
    let r = try d.resized(height: 16, width: 16)
    #expect(r.featureShape == [1, 16, 16] && r.count == 2)
    for i in 0..<2 {
      let before = values[(i * 784)..<((i + 1) * 784)].reduce(0, +) / 784
      let after = r.features.scalars[(i * 256)..<((i + 1) * 256)].reduce(0, +) / 256
      #expect(abs(before - after) < 1e-5)
    }
  }

  @Test func doublingInterpolatesBetweenCentres() throws {
    // 2 → 4: output centres at input positions −0.25, 0.25, 0.75, 1.25 (clamped to 0 and 1).
    let d = Self.images([0, 4], shape: [1, 1, 2])
    let r = try d.resized(height: 1, width: 4)
    #expect(r.features.scalars == [0, 1, 3, 4])
  }

  @Test func channelsAndVectorsKeepTheirKind() throws {
    let rgb = Self.images((0..<(3 * 16)).map(Float.init), shape: [3, 4, 4])
    let r = try rgb.resized(height: 2, width: 2)
    #expect(r.featureShape == [3, 2, 2])
    // The green channel's first block: 16 + [0, 1, 4, 5] → mean 18.5.
    #expect(r.features.scalars[4] == 18.5)
    let flat = Self.images((0..<16).map(Float.init), shape: [16])
    #expect(try flat.resized(height: 2, width: 2).featureShape == [4])
  }

  @Test func refusesWhatIsNotAnImageAndAbsurdSizes() {
    let points = Self.images([1, 2, 3, 4, 5, 6], shape: [3])
    #expect(throws: DataError.self) { try points.resized(height: 2, width: 2) }
    do {
      _ = try points.resized(height: 2, width: 2)
    } catch {
      #expect(
        "\(error)"
          == "'d' holds inputs of shape [3], not images [channels, height, width] (or vectors of a square number of pixels)"
      )
    }
    let image = Self.images([1, 2, 3, 4], shape: [1, 2, 2])
    for (h, w) in [(0, 2), (2, -1), (5000, 2)] {
      #expect(throws: DataError.self) { try image.resized(height: h, width: w) }
    }
  }
}

import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN

/// Training gives bit-identical weights whatever the number of threads: batches are split into
/// fixed chunks (never by core count), products run on one OpenBLAS thread, chunk gradients
/// are added in chunk order, and dropout's masks are hashed from each value's place in the
/// whole batch.
@Suite("Training determinism", .serialized) struct TrainingDeterminismTests {
  /// Fits `model` with OpenBLAS set to `threads` threads, then restores the count.
  func fitted(_ model: Model, _ data: Dataset, _ options: TrainingOptions, threads: Int) throws
    -> Model
  {
    let previous = BLAS.threadCount
    BLAS.setThreadCount(threads)
    defer { BLAS.setThreadCount(previous) }
    return try model.fitted(on: data, options: options)
  }

  @Test(arguments: [Optimizer.sgd, .adam], [0, 0.3] as [Float])
  func mlpWeightsDoNotDependOnThreads(_ optimizer: Optimizer, dropout: Float) throws {
    let data = try Dataset.mnistSample(perClass: 30, seed: 4)
    let net = try Model.mlp([784, 64, 32, 10], dropout: dropout, seed: 4)
    // Batches of 100 make 4 chunks, the last one short.
    let options = TrainingOptions(
      epochs: 2, batchSize: 100, learningRate: 0.01, optimizer: optimizer, seed: 4)
    let one = try fitted(net, data, options, threads: 1)
    let two = try fitted(net, data, options, threads: 2)
    #expect(one.hasSameWeights(as: two))
    #expect(one.history?.batchLosses == two.history?.batchLosses)
  }

  /// A dense chain's signatures (`hiddenOutputs`, its products written into the signature
  /// rows) are the same bits at 1 and 2 OpenBLAS threads: W2's network's sizes, 1,100 rows in
  /// batches of 1,024 (chunks of 256, the last ones short).
  @Test func denseSignaturesDoNotDependOnThreads() throws {
    let net = try Model.mlp([784, 256, 128, 10], seed: 6)
    var g = SeededGenerator(seed: 6)
    let x = Tensor.uniform(shape: [1100, 784], low: 0, high: 1, generator: &g)
    func signatures(threads: Int) -> [[Float]] {
      let previous = BLAS.threadCount
      BLAS.setThreadCount(threads)
      defer { BLAS.setThreadCount(previous) }
      return net.hiddenOutputs(x).map(\.scalars)
    }
    let one = signatures(threads: 1)
    #expect(one.count == 2 && one[0].count == 1100 * 256)
    let same = signatures(threads: 2) == one
    #expect(same, "the signatures at 2 OpenBLAS threads differ from those at 1")
  }

  @Test func cnnWeightsDoNotDependOnThreads() throws {
    let data = try Dataset.mnistSample(perClass: 12, seed: 5)
    let net = try Model.cnn(conv: [4, 8], dense: [], classes: 10, seed: 5)
    let options = TrainingOptions(epochs: 1, batchSize: 64, learningRate: 0.05, seed: 5)
    let one = try fitted(net, data, options, threads: 1)
    let four = try fitted(net, data, options, threads: 4)
    #expect(one.hasSameWeights(as: four))
  }

  /// A graph with dropout (a ViT's four kinds of dropout node), batches of three chunks.
  @Test func vitWithDropoutWeightsDoNotDependOnThreads() throws {
    let data = try Dataset.mnistSample(perClass: 8, seed: 8)
    let net = try Model.vit(
      patch: 7, width: 8, depth: 1, heads: 2, mlp: 16, dropout: 0.2, seed: 8)
    let options = TrainingOptions(
      epochs: 1, batchSize: 80, learningRate: 0.01, optimizer: .adam, seed: 8)
    let one = try fitted(net, data, options, threads: 1)
    let two = try fitted(net, data, options, threads: 2)
    #expect(one.hasSameWeights(as: two))
    #expect(one.history?.batchLosses == two.history?.batchLosses)
  }

  /// A batch split into chunks trains as the whole batch does, up to rounding; with dropout,
  /// each chunk drops what the whole batch drops in its rows.
  @Test(arguments: [0, 0.3] as [Float])
  func chunkedGradientsMatchTheWholeBatch(dropout: Float) throws {
    let data = try Dataset.mnistSample(perClass: 7, seed: 6)
    let net = try Model.mlp([784, 16, 10], dropout: dropout, seed: 6)
    let x = data.features.rows(0..<70)
    let labels = Array(data.labels.prefix(70))
    let target = net.target(for: x, labels: labels)
    let head = net.lossHead(for: .crossEntropy)
    let step = dropout > 0 ? TrainingContext(seed: 6, epoch: 1, step: 2) : nil
    let chunked = net.gradients(
      of: x, target: target, loss: .crossEntropy, head: head, training: step)
    let whole = net.chunkGradients(
      of: x, target: target, loss: .crossEntropy, head: head, batchRows: 70, training: step)
    #expect(isClose(chunked.loss, whole.loss, tolerance: 1e-6))
    for (a, b) in zip(chunked.gradients.joined(), whole.gradients.joined()) {
      for (u, v) in zip(a.scalars, b.scalars) {
        #expect(isClose(u, v, tolerance: 1e-5))
      }
    }
  }
  /// Dense layers are stepped straight from δ and X (`stepDenseLayers`; for SGD without a
  /// gradient, for the others from one gradient accumulated by the products): the weights after
  /// two steps are those of the gradient-then-step path, up to rounding, conv layers and all.
  @Test(arguments: [false, true], [Optimizer.sgd, .momentum, .adam])
  func fusedDenseStepsMatchGradientThenStep(_ convolutional: Bool, optimizer: Optimizer) throws {
    let data = try Dataset.mnistSample(perClass: 14, seed: 7)
    let net =
      convolutional
      ? try Model.cnn(conv: [4], dense: [12], classes: 10, seed: 7)
      : try Model.mlp([784, 24, 16, 10], seed: 7)
    let inputs = net.shaped(data.features)
    let labels = data.labels
    let head = net.lossHead(for: .crossEntropy)
    func step(fused: Bool) -> Model {
      var model = net
      var states = net.layers.map { layer in
        layer.parameters.map { ParameterState(count: $0.count, optimizer: optimizer) }
      }
      let rate: Float = optimizer == .adam ? 1e-3 : 0.5
      for step in 1...2 {
        // 70 rows: three chunks, the last one short.
        let rows = Array((step - 1) * 70..<step * 70)
        var chunks = model.chunkPasses(
          rows: rows[...], of: inputs, labels: rows.map { labels[$0] }, loss: .crossEntropy,
          head: head, fusesDenseSteps: fused)
        #expect(chunks.count == 3)
        #expect(chunks[0].factors.contains { $0 != nil } == fused)
        model.update(
          with: &chunks, optimizer: optimizer, states: &states, learningRate: rate, step: step)
      }
      return model
    }
    let fused = step(fused: true), separate = step(fused: false)
    #expect(!fused.hasSameWeights(as: net))
    for (a, b) in zip(fused.layers, separate.layers) {
      for (p, q) in zip(a.parameters, b.parameters) {
        for (u, v) in zip(p.scalars, q.scalars) {
          #expect(isClose(u, v, tolerance: 1e-6))
        }
      }
    }
  }
}

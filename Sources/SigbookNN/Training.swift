import Foundation
import SigbookTensor

/// How `Model.fitted` trains.
public struct TrainingOptions: Sendable {
  var epochs: Int = 10
  public var batchSize: Int = 32
  public var learningRate: Double = 0.01
  public var optimizer: Optimizer = .sgd
  /// The loss; `nil` picks the usual one: cross-entropy for a classifier, BCE for a sigmoid
  /// output (one-output classifier or autoencoder), MSE otherwise.
  var loss: Loss?
  /// Seeds the order of the inputs in every epoch.
  var seed: Int = 0
  /// How the learning rate changes over the steps of training.
  public var schedule: LearningRateSchedule = .constant

  public init(
    epochs: Int = 10, batchSize: Int = 32, learningRate: Double = 0.01,
    optimizer: Optimizer = .sgd, loss: Loss? = nil, seed: Int = 0
  ) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.optimizer = optimizer
    self.loss = loss
    self.seed = seed
  }
}

/// How the learning rate changes over training.
public enum LearningRateSchedule: String, Sendable, CaseIterable {
  /// The same rate for every step.
  case constant
  /// Cosine annealing without restarts (Loshchilov and Hutter, 2017): step t of T takes
  /// lr · ½ (1 + cos(π t / T)), from lr at the first step down towards 0 at the last (PyTorch's
  /// `CosineAnnealingLR` with `T_max` the number of steps, stepped after every batch).
  case cosine

  /// The rate of step `step` (0-based) of `steps`, for a base rate `rate`.
  func rate(_ rate: Double, step: Int, of steps: Int) -> Double {
    switch self {
    case .constant: rate
    case .cosine: rate * 0.5 * (1 + cos(Double.pi * Double(step) / Double(max(steps, 1))))
    }
  }
}

/// One epoch of training, as recorded in a `History`.
public struct EpochRecord: Sendable, Equatable {
  public var epoch: Int
  /// The mean training loss over the epoch's batches (weighted by batch size).
  public var loss: Double
  /// The fraction of training inputs classified right during the epoch (classifiers only).
  public var accuracy: Double?
  public var validationLoss: Double?
  public var validationAccuracy: Double?
  /// Wall-clock time of the epoch (not part of any reproducible output).
  var seconds: Double
}

/// Loss and accuracy per epoch (and loss per batch) of one training run, and how it was trained.
public struct History: Sendable {
  public var records: [EpochRecord]
  public var options: TrainingOptions
  public var loss: Loss
  /// The number of training inputs.
  public var sampleCount: Int
  /// The mean loss of every batch, in training order (epoch 1's batches first): what the
  /// optimiser saw at each step, before that step's update.
  public var batchLosses: [Double] = []
  /// Wall-clock time of the whole run in seconds (not part of any reproducible output).
  public var seconds: Double = 0

  /// The number of batches of each epoch (the last batch of an epoch may be smaller).
  var batchesPerEpoch: Int {
    records.isEmpty ? 0 : batchLosses.count / records.count
  }
}

/// Where training is, reported after every batch.
public struct TrainingProgress: Sendable {
  public var epoch: Int
  public var epochs: Int
  var batch: Int
  var batches: Int
  /// The mean loss of the current epoch so far.
  public var loss: Double
  /// Inputs processed per second since training started.
  public var samplesPerSecond: Double
  /// Fraction of the whole run done, in [0, 1].
  public var fraction: Double {
    (Double(epoch - 1) + Double(batch) / Double(max(1, batches))) / Double(max(1, epochs))
  }
}

/// Why training stopped without a model.
public enum TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The loss became NaN or infinite.
  case nonFiniteLoss(value: Double, epoch: Int, batch: Int, learningRate: Double)
  /// The loss grew to more than 1,000 times its first value (at least 1): the steps are too
  /// large and training diverges.
  case diverged(value: Double, first: Double, epoch: Int, batch: Int, learningRate: Double)
  /// `isCancelled` returned true (Ctrl-C).
  case cancelled(epoch: Int, batch: Int)
  /// The data does not fit the model.
  case mismatch(String)

  public var description: String {
    switch self {
    case .nonFiniteLoss(let value, let epoch, let batch, _):
      "the loss became \(value.isNaN ? "NaN" : "infinite") at epoch \(epoch), batch \(batch); "
        + "training stopped"
    case .diverged(let value, let first, let epoch, let batch, _):
      "the loss grew from \(NumberFormat.display(first)) to \(NumberFormat.display(value)) at "
        + "epoch \(epoch), batch \(batch): training diverged and stopped"
    case .cancelled(let epoch, let batch):
      "training cancelled at epoch \(epoch), batch \(batch)"
    case .mismatch(let message): message
    }
  }

}

extension Model {
  /// The loss `fit` uses when none is given.
  var defaultLoss: Loss {
    switch (task, layers.last?.spec) {
    case (.reconstruction, .sigmoid?): .bce
    case (.reconstruction, _): .mse
    case (.classification, .sigmoid?) where outputCount == 1: .bce
    case (.classification, _) where outputCount == 1 && outputKind == .logits: .bce
    case (.classification, _): .crossEntropy
    }
  }

  /// Checks that inputs (and labels) fit this model; the message is ready for a user.
  public func validate(inputs: Tensor, labels: [Int]?, dataName: String = "the data")
    throws(TrainingError)
  {
    let features = inputs.rowSize
    if features != inputCount {
      throw .mismatch(
        "\(summaryName) expects \(inputCount) inputs but \(dataName) has \(features) features")
    }
    if inputs.rank > 2 && Array(inputs.shape.dropFirst()) != inputShape && inputShape.count > 1 {
      throw .mismatch(
        "\(summaryName) expects inputs of shape \(inputShape) but \(dataName) has \(Array(inputs.shape.dropFirst()))"
      )
    }
    if task == .classification, let labels {
      if labels.count != inputs.rows {
        throw .mismatch("\(dataName) has \(inputs.rows) inputs but \(labels.count) labels")
      }
      if let top = labels.max(), top >= classCount {
        throw .mismatch(
          "\(summaryName) has \(outputCount) output\(outputCount == 1 ? "" : "s") for \(classCount) classes "
            + "but \(dataName) has \(top + 1) classes")
      }
    }
  }

  /// The model's name as used in messages: the function that built it.
  var summaryName: String { summary.prefix { $0 != "(" }.description }

  /// Trains a copy of this model by mini-batch gradient descent and returns it.
  ///
  /// Each epoch visits the inputs in an order drawn from `options.seed` (so two runs with the
  /// same seed give bit-identical weights), in batches of `options.batchSize` (the last one may
  /// be smaller). A classifier learns `labels`; an autoencoder learns to reproduce its input.
  /// Dropout layers drop values in every step, drawn from the seed, the step and each value's
  /// place in the batch (`TrainingContext`), whatever the threads.
  ///
  /// - Parameters:
  ///   - inputs: `[N, …]`, each item of `inputShape`.
  ///   - labels: class indices in `0 ..< classCount` (ignored by an autoencoder).
  ///   - classNames: the names of the classes, kept with the trained model.
  ///   - validation: inputs and labels measured after every epoch.
  ///   - progress: called after every batch.
  ///   - isCancelled: checked before every batch; training stops when it returns true.
  /// - Throws: `TrainingError` for a mismatch, a NaN or infinite loss, or a cancellation.
  public func fitted(
    inputs: Tensor, labels: [Int], classNames: [String]? = nil, options: TrainingOptions,
    validation: (inputs: Tensor, labels: [Int])? = nil,
    progress: ((TrainingProgress) -> Void)? = nil, isCancelled: () -> Bool = { false }
  ) throws(TrainingError) -> Model {
    try validate(inputs: inputs, labels: labels)
    if let validation {
      try validate(
        inputs: validation.inputs, labels: validation.labels, dataName: "the validation data")
    }
    let inputs = shaped(inputs)
    guard options.epochs > 0, options.batchSize > 0, options.learningRate > 0 else {
      throw .mismatch("epochs, batch and lr must be positive")
    }
    let loss = options.loss ?? defaultLoss
    let head = lossHead(for: loss)
    let n = inputs.rows
    let batchSize = Swift.min(options.batchSize, Swift.max(n, 1))
    let batches = (n + batchSize - 1) / batchSize
    let totalSteps = options.epochs * batches

    // Products run on one OpenBLAS thread; the batch's chunks use the cores (see `gradients`).
    BLAS.beginSingleThreaded()
    defer { BLAS.endSingleThreaded() }
    var model = self
    var states = layers.map { layer in
      layer.parameters.map { ParameterState(count: $0.count, optimizer: options.optimizer) }
    }
    var generator = SeededGenerator(seed: options.seed)
    var records: [EpochRecord] = []
    var batchLosses: [Double] = []
    batchLosses.reserveCapacity(options.epochs * batches)
    var step = 0
    let clock = ContinuousClock()
    let start = clock.now
    var seen = 0

    for epoch in 1...options.epochs {
      let epochStart = clock.now
      let order = generator.permutation(n)
      var lossSum = 0.0, correct = 0
      for b in 0..<batches {
        if isCancelled() { throw .cancelled(epoch: epoch, batch: b + 1) }
        let indices = order[b * batchSize..<Swift.min(n, (b + 1) * batchSize)]
        let count = indices.count
        let batchLabels = indices.map { labels[$0] }
        var chunks = model.chunkPasses(
          rows: indices, of: inputs, labels: batchLabels, loss: loss, head: head,
          fusesDenseSteps: true,
          training: TrainingContext(seed: options.seed, epoch: epoch, step: step))
        let batchLoss = chunks.reduce(0) { $0 + $1.loss }
        guard batchLoss.isFinite else {
          throw .nonFiniteLoss(
            value: batchLoss, epoch: epoch, batch: b + 1, learningRate: options.learningRate)
        }
        // A loss 1,000 times its first value is a divergence that ends in NaN (or in a network
        // that no longer learns): stop now and say so.
        let first = batchLosses.first ?? batchLoss
        if batchLoss > 1000 * Swift.max(first, 1) {
          throw .diverged(
            value: batchLoss, first: first, epoch: epoch, batch: b + 1,
            learningRate: options.learningRate)
        }
        lossSum += batchLoss * Double(count)
        batchLosses.append(batchLoss)
        if task == .classification {
          // Only a classifier's predictions are looked at (to count hits): an autoencoder's are
          // not copied together.
          let z = Tensor.concatenate(chunks.map(\.prediction))
          let predicted = Self.classes(
            ofOutputs: z, kind: head.readsLogits(outputKind: outputKind) ? .logits : .probabilities)
          for (p, l) in zip(predicted, batchLabels) where p == l { correct += 1 }
        }
        let lr = Float(options.schedule.rate(options.learningRate, step: step, of: totalSteps))
        step += 1
        model.update(
          with: &chunks, optimizer: options.optimizer, states: &states, learningRate: lr,
          step: step)
        seen += count
        if let progress {
          let elapsed = (clock.now - start).seconds
          progress(
            TrainingProgress(
              epoch: epoch, epochs: options.epochs, batch: b + 1, batches: batches,
              loss: lossSum / Double(b * batchSize + count),
              samplesPerSecond: elapsed > 0 ? Double(seen) / elapsed : 0))
        }
      }
      var record = EpochRecord(
        epoch: epoch, loss: lossSum / Double(Swift.max(n, 1)),
        accuracy: task == .classification ? Double(correct) / Double(Swift.max(n, 1)) : nil,
        seconds: (clock.now - epochStart).seconds)
      if let validation {
        let (vLoss, vAccuracy) = model.measure(
          inputs: validation.inputs, labels: validation.labels, loss: loss)
        record.validationLoss = vLoss
        record.validationAccuracy = vAccuracy
      }
      records.append(record)
    }
    model.history = History(
      records: records, options: options, loss: loss, sampleCount: n, batchLosses: batchLosses,
      seconds: (clock.now - start).seconds)
    if let classNames { model.classNames = classNames }
    return model
  }

  /// The rows of one chunk of a training batch: batches above this are split into chunks of
  /// this many rows (the last may be smaller), run on all cores, their gradients added in chunk
  /// order. Fixed, not derived from the core count, so results do not depend on it.
  static let chunkRows = 32

  /// One forward and backward pass over a batch.
  ///
  /// A batch of more than `chunkRows` rows is split into chunks that run concurrently, each a
  /// whole forward and backward pass; the loss and the gradients (means over the whole batch)
  /// are the sums of the chunks', added in chunk order.
  ///
  /// - Parameter training: the step, for layers that train differently from how they infer
  ///   (dropout); nil runs them without randomness.
  /// - Returns: the batch's mean loss, what the loss was computed on (`[B, D]`: logits when the
  ///   last activation is fused into the loss), and the gradients of every layer's parameters
  ///   (`gradients[i]` in `layers[i].parameters` order; empty for a skipped last layer).
  func gradients(
    of batch: Tensor, target: Tensor, loss: Loss, head: LossHead,
    training: TrainingContext? = nil
  ) -> ChunkPass {
    let rows = batch.rows
    let chunks = (rows + Self.chunkRows - 1) / Self.chunkRows
    guard chunks > 1 else {
      return chunkGradients(
        of: batch, target: target, loss: loss, head: head, batchRows: rows, training: training)
    }
    let passes = Parallel.map(chunks) { c in
      let range = c * Self.chunkRows..<Swift.min(rows, (c + 1) * Self.chunkRows)
      return chunkGradients(
        of: batch.rows(range), target: target.rows(range), loss: loss, head: head,
        batchRows: rows, training: training?.startingAt(row: range.lowerBound))
    }
    var total = passes[0]
    for pass in passes.dropFirst() {
      total.loss += pass.loss
      for i in total.gradients.indices {
        for p in total.gradients[i].indices {
          let count = total.gradients[i][p].count
          pass.gradients[i][p].withUnsafeBufferPointer { g in
            total.gradients[i][p].withUnsafeMutableBufferPointer { t in
              guard let tp = t.baseAddress, let gp = g.baseAddress else { return }
              Kernels.add(tp, gp, count: count)
            }
          }
        }
      }
    }
    total.prediction = Tensor.concatenate(passes.map(\.prediction))
    return total
  }

  /// One forward and backward pass over (a chunk of) a batch, the loss and gradients being
  /// means over `batchRows` rows.
  ///
  /// - Parameters:
  ///   - fusesDenseSteps: whether dense layers leave their weight gradients to the step
  ///     (`ChunkPass.factors`; see `stepDenseLayers`) instead of computing them.
  ///   - training: the step and the chunk's first row in the batch, for layers that train
  ///     differently from how they infer (dropout); nil runs them without randomness.
  func chunkGradients(
    of batch: Tensor, target: Tensor, loss: Loss, head: LossHead, batchRows: Int,
    fusesDenseSteps: Bool = false, training: TrainingContext? = nil
  ) -> ChunkPass {
    if wiring != nil {
      return graphChunkGradients(
        of: batch, target: target, loss: loss, head: head, batchRows: batchRows,
        training: training)
    }
    let trainedCount = head.skipsLastLayer ? layers.count - 1 : layers.count
    var x = batch
    var caches: [any Sendable] = []
    caches.reserveCapacity(trainedCount)
    for i in 0..<trainedCount {
      let (output, cache) = forwardErased(layers[i], consume x, training: training?.at(layer: i))
      caches.append(cache)
      x = output
    }
    let prediction = x.flattenedRows
    let (value, lossGradient) = loss.evaluate(
      prediction: prediction, target: target, head: head, batchRows: batchRows)
    var gradients = [[Tensor]](repeating: [], count: layers.count)
    var factors = [DenseFactors?](repeating: nil, count: layers.count)
    let statistics = collectStatistics(caches)
    var gradient = lossGradient.reshaped(x.shape)
    for i in stride(from: trainedCount - 1, through: 0, by: -1) {
      if fusesDenseSteps, let dense = layers[i] as? Dense, let input = caches[i] as? Tensor {
        let (inputGradient, factor) = dense.deferredBackward(
          consume gradient, cache: input, needsInputGradient: i > 0)
        factors[i] = factor
        gradient = inputGradient
      } else {
        gradient = backwardErased(
          layers[i], consume gradient, cache: caches[i], gradients: &gradients[i],
          needsInputGradient: i > 0)
      }
    }
    return ChunkPass(
      loss: value, prediction: prediction, gradients: gradients, factors: factors,
      statistics: statistics)
  }

  /// What each layer's `forward` in training measured for its buffers (`Layer.statistics(of:)`),
  /// nil for most layers; `caches[i]` is layer i's cache (nil where it did not run).
  func collectStatistics(_ caches: [(any Sendable)?]) -> [[Tensor]?] {
    var statistics = [[Tensor]?](repeating: nil, count: layers.count)
    for (i, cache) in caches.enumerated() {
      guard let cache, !layers[i].bufferNames.isEmpty else { continue }
      statistics[i] = statisticsErased(layers[i], cache: cache)
    }
    return statistics
  }

  /// One chunk's forward and backward pass: its share of the batch's mean loss, what the loss was
  /// computed on, and its share of every parameter's gradient — or, for a dense layer whose step
  /// is fused with its gradient, the two factors of that share.
  struct ChunkPass {
    var loss: Double
    var prediction: Tensor
    /// `gradients[i]` in `layers[i].parameters` order; empty for a skipped last layer and for a
    /// layer with `factors[i]`.
    var gradients: [[Tensor]]
    var factors: [DenseFactors?]
    /// `statistics[i]`: what layer i measured for its buffers over this chunk, or nil.
    var statistics: [[Tensor]?]
  }

  /// A dense layer's weight gradient over a chunk, left unmultiplied: `outputGradientᵀ · input`.
  struct DenseFactors {
    /// `[rows, outputs]`, already divided by the batch's rows.
    let outputGradient: Tensor
    /// `[rows, inputs]`.
    let input: Tensor
  }

  /// The passes of a batch's chunks, each gathering its own rows of `inputs` (no batch copy),
  /// run concurrently; added in chunk order they give the batch's loss and gradients exactly as
  /// `gradients(of:target:loss:head:)` does.
  func chunkPasses(
    rows indices: ArraySlice<Int>, of inputs: Tensor, labels: [Int], loss: Loss, head: LossHead,
    fusesDenseSteps: Bool = false, training: TrainingContext? = nil
  ) -> [ChunkPass] {
    let rows = indices.count
    let chunks = Swift.max(1, (rows + Self.chunkRows - 1) / Self.chunkRows)
    let first = indices.startIndex
    let passes = Parallel.map(chunks) { c in
      let range = c * Self.chunkRows..<Swift.min(rows, (c + 1) * Self.chunkRows)
      let x = inputs.rows(
        at: Array(indices[(first + range.lowerBound)..<(first + range.upperBound)]))
      return chunkGradients(
        of: x, target: target(for: x, labels: Array(labels[range])), loss: loss, head: head,
        batchRows: rows, fusesDenseSteps: fusesDenseSteps,
        training: training?.startingAt(row: range.lowerBound))
    }
    return passes
  }

  /// Parameters above this many values are updated in segments of this size on all cores.
  static let updateSegment = 16_384

  /// Applies one optimizer step to every parameter from the chunks' gradients.
  ///
  /// For each parameter, segment by segment and concurrently, the chunks' gradients are added
  /// into the first chunk's in chunk order and the step follows while the segment is in cache:
  /// every value sees the same operations in the same order as a sum over the whole tensor then
  /// a step, so the result does not depend on the segments or the cores. Dense layers whose
  /// chunks carry factors instead of gradients are stepped by `stepDenseLayers`.
  mutating func update(
    with chunks: inout [ChunkPass], optimizer: Optimizer, states: inout [[ParameterState]],
    learningRate lr: Float, step: Int
  ) {
    guard !chunks.isEmpty else { return }
    // Buffers (running statistics) take each chunk's measurement in chunk order.
    for i in chunks[0].statistics.indices where chunks[0].statistics[i] != nil {
      for chunk in chunks {
        if let statistics = chunk.statistics[i] { layers[i].absorb(statistics: statistics) }
      }
    }
    let dense = chunks[0].factors.indices.filter { chunks[0].factors[$0] != nil }
    stepDenseLayers(
      dense, factors: dense.map { i in chunks.compactMap { $0.factors[i] } },
      optimizer: optimizer, states: &states, learningRate: lr, step: step)
    for i in chunks[0].gradients.indices {
      for p in chunks[0].gradients[i].indices {
        let others = chunks.dropFirst().map { $0.gradients[i][p] }
        let count = chunks[0].gradients[i][p].count
        precondition(
          layers[i].parameters[p].count == count,
          "gradient of \(count) values for \(layers[i].parameters[p].shape)")
        chunks[0].gradients[i][p].withUnsafeMutableBufferPointer { g in
          layers[i].parameters[p].withUnsafeMutableBufferPointer { parameter in
            states[i][p].withMoments { m, v in
              // Each segment touches only its own range of these buffers.
              nonisolated(unsafe) let (g, parameter, m, v) = (g, parameter, m, v)
              let segments = (count + Self.updateSegment - 1) / Self.updateSegment
              Parallel.forEach(segments) { s in
                let range =
                  s * Self.updateSegment..<Swift.min(count, (s + 1) * Self.updateSegment)
                guard let total = g.baseAddress else { return }
                for other in others {
                  other.withUnsafeBufferPointer { o in
                    guard let source = o.baseAddress else { return }
                    Kernels.add(
                      total + range.lowerBound, source + range.lowerBound, count: range.count)
                  }
                }
                optimizer.update(
                  UnsafeMutableBufferPointer(rebasing: parameter[range]),
                  gradient: UnsafeBufferPointer(rebasing: g[range]),
                  first: m.isEmpty ? m : UnsafeMutableBufferPointer(rebasing: m[range]),
                  second: v.isEmpty ? v : UnsafeMutableBufferPointer(rebasing: v[range]),
                  learningRate: lr, step: step)
              }
            }
          }
        }
      }
    }
  }

  /// The parts a fused dense step is cut into (by output rows), run concurrently. A constant, not
  /// the core count, so that the weights do not depend on the machine.
  static let denseStepParts = 2

  /// One optimizer step on dense layers `indices` from their chunks' factors (`factors[k]` for
  /// layer `indices[k]`), without a gradient per chunk.
  ///
  /// Plain SGD never writes the weight gradient: `W ← W − lr · δᵀ X` is accumulated into the
  /// weights by the product itself (and `b ← b − lr · Σ δ`), chunk after chunk; for the first
  /// layer of a 784-input net the gradient was three passes over as many values as its weights
  /// at every batch. The other rules need the gradient: each part's rows of it are accumulated
  /// chunk after chunk into one buffer by the products (the first overwriting, the others
  /// adding, which rounds as adding the chunks' gradients in chunk order did), and the step
  /// follows while those rows are in the cache. The bias gradient is then each chunk's column
  /// sums added in chunk order, as `update` adds the gradients of other layers.
  ///
  /// Every layer's weight rows are cut into `denseStepParts`, and each part steps its rows of
  /// every layer on one thread with single-threaded products: one parallel call for all the
  /// layers (each call's start and end cost microseconds, and a small network takes hundreds of
  /// steps), and a result that does not depend on how many threads run the parts.
  mutating func stepDenseLayers(
    _ indices: [Int], factors: [[DenseFactors]], optimizer: Optimizer,
    states: inout [[ParameterState]], learningRate lr: Float, step: Int
  ) {
    let plans: [DenseStepPlan] = zip(indices, factors).compactMap { i, factors in
      guard let first = factors.first else { return nil }
      let outputs = first.outputGradient.rowSize, inputs = first.input.rowSize
      precondition(
        layers[i].parameters[0].count == outputs * inputs
          && factors.allSatisfy {
            $0.outputGradient.rowSize == outputs && $0.input.rowSize == inputs
              && $0.outputGradient.rows == $0.input.rows
          },
        "dense step of \(first.outputGradient.shape) and \(first.input.shape) for "
          + "\(layers[i].parameters[0].shape)")
      return DenseStepPlan(layer: i, factors: factors, outputs: outputs, inputs: inputs)
    }
    guard !plans.isEmpty else { return }
    let isSGD = optimizer == .sgd
    // Each layer's weights and moments are taken out of the model while the parts write them, so
    // that every buffer is held once; the gradients live in two flat buffers, at offsets.
    var weights = plans.map { layers[$0.layer].parameters[0] }
    var firsts = plans.map { states[$0.layer][0].first }
    var seconds = plans.map { states[$0.layer][0].second }
    for plan in plans {
      layers[plan.layer].parameters[0] = Tensor(zeros: [0])
      states[plan.layer][0].first = []
      states[plan.layer][0].second = []
    }
    var biasOffsets = [0], gradientOffsets = [0]
    for plan in plans {
      biasOffsets.append(biasOffsets[biasOffsets.count - 1] + plan.outputs)
      gradientOffsets.append(
        gradientOffsets[gradientOffsets.count - 1] + (isSGD ? 0 : plan.outputs * plan.inputs))
    }
    var biasGradients = [Float](repeating: 0, count: biasOffsets[plans.count])
    var weightGradients = [Float](repeating: 0, count: gradientOffsets[plans.count])
    Tensor.withMutableBaseAddresses(&weights) { weightBases in
      Self.withBaseAddresses(&firsts) { firstBases in
        Self.withBaseAddresses(&seconds) { secondBases in
          biasGradients.withUnsafeMutableBufferPointer { biasGradients in
            weightGradients.withUnsafeMutableBufferPointer { weightGradients in
              let buffers = plans.indices.map { k in
                DenseStepBuffers(
                  weights: weightBases[k], first: firstBases[k], second: secondBases[k],
                  biasGradient: biasGradients.baseAddress.map { $0 + biasOffsets[k] },
                  weightGradient: weightGradients.baseAddress.map { $0 + gradientOffsets[k] })
              }
              // Each part writes its own rows of every layer's weights, gradient and moments, and
              // its own range of every bias gradient.
              nonisolated(unsafe) let shared = buffers
              Parallel.forEach(Self.denseStepParts) { part in
                for (plan, buffers) in zip(plans, shared) {
                  Self.stepDenseRows(
                    part: part, of: plan, buffers, optimizer: optimizer, learningRate: lr,
                    step: step)
                }
              }
            }
          }
        }
      }
    }
    for (k, plan) in plans.enumerated() {
      let i = plan.layer
      layers[i].parameters[0] = weights[k]
      states[i][0].first = firsts[k]
      states[i][0].second = seconds[k]
      layers[i].parameters[1].withUnsafeMutableBufferPointer { bias in
        biasGradients[biasOffsets[k]..<biasOffsets[k + 1]].withUnsafeBufferPointer { g in
          states[i][1].withMoments { m, v in
            optimizer.update(bias, gradient: g, first: m, second: v, learningRate: lr, step: step)
          }
        }
      }
    }
  }

  /// A dense layer's step: its index, its chunks' factors and its sizes.
  struct DenseStepPlan {
    let layer: Int
    let factors: [DenseFactors]
    let outputs: Int, inputs: Int
  }

  /// Where a dense layer's step writes: its weights, their moments (nil where the rule keeps
  /// none), its bias gradient and its weight gradient (nil for SGD).
  struct DenseStepBuffers {
    let weights: UnsafeMutablePointer<Float>
    let first: UnsafeMutablePointer<Float>?, second: UnsafeMutablePointer<Float>?
    let biasGradient: UnsafeMutablePointer<Float>?
    let weightGradient: UnsafeMutablePointer<Float>?
  }

  /// Part `part` of `stepDenseLayers` for one layer: its rows of the weights stepped, and its
  /// range of the bias gradient summed.
  static func stepDenseRows(
    part: Int, of plan: DenseStepPlan, _ buffers: DenseStepBuffers, optimizer: Optimizer,
    learningRate lr: Float, step: Int
  ) {
    let outputs = plan.outputs, inputs = plan.inputs, parts = denseStepParts
    let low = part * outputs / parts, high = (part + 1) * outputs / parts
    guard high > low, let g = buffers.biasGradient else { return }
    let w = buffers.weights, width = high - low
    let isSGD = optimizer == .sgd
    var chunkSums = [Float](repeating: 0, count: isSGD ? 0 : width)
    for (c, factor) in plan.factors.enumerated() {
      factor.outputGradient.withUnsafeBufferPointer { d in
        factor.input.withUnsafeBufferPointer { x in
          guard let d = d.baseAddress else { return }
          let rows = factor.input.rows
          if isSGD {
            BLAS.gemm(
              transposeA: true, transposeB: false, m: width, n: inputs, k: rows, alpha: -lr,
              a: d + low, lda: outputs, b: x.baseAddress, beta: 1, c: w + low * inputs)
            for r in 0..<rows { Kernels.add(g + low, d + r * outputs + low, count: width) }
            return
          }
          BLAS.gemm(
            transposeA: true, transposeB: false, m: width, n: inputs, k: rows,
            a: d + low, lda: outputs, b: x.baseAddress, beta: c == 0 ? 0 : 1,
            c: buffers.weightGradient.map { $0 + low * inputs })
          chunkSums.withUnsafeMutableBufferPointer { sums in
            guard let s = sums.baseAddress else { return }
            sums.update(repeating: 0)
            for r in 0..<rows { Kernels.add(s, d + r * outputs + low, count: width) }
            if c == 0 {
              (g + low).update(from: s, count: width)
            } else {
              Kernels.add(g + low, s, count: width)
            }
          }
        }
      }
    }
    guard !isSGD, let gradient = buffers.weightGradient else { return }
    let start = low * inputs, count = width * inputs
    let none = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    optimizer.update(
      UnsafeMutableBufferPointer(start: w + start, count: count),
      gradient: UnsafeBufferPointer(start: gradient + start, count: count),
      first: buffers.first.map { UnsafeMutableBufferPointer(start: $0 + start, count: count) }
        ?? none,
      second: buffers.second.map { UnsafeMutableBufferPointer(start: $0 + start, count: count) }
        ?? none,
      learningRate: lr, step: step)
  }

  /// Calls `body` with the base address of each array (nil for an empty one), each held by its
  /// own `withUnsafeMutableBufferPointer` for the whole call.
  static func withBaseAddresses<R>(
    _ arrays: inout [[Float]], _ body: ([UnsafeMutablePointer<Float>?]) -> R
  ) -> R {
    arrays.withUnsafeMutableBufferPointer { all in
      func nest(_ i: Int, _ bases: [UnsafeMutablePointer<Float>?]) -> R {
        guard i < all.count else { return body(bases) }
        return all[i].withUnsafeMutableBufferPointer { nest(i + 1, bases + [$0.baseAddress]) }
      }
      return nest(0, [])
    }
  }

  /// The training target of a batch: one-hot rows (or the 0/1 label for one output) for a
  /// classifier, the input itself for an autoencoder.
  func target(for batch: Tensor, labels: [Int]) -> Tensor {
    switch task {
    case .reconstruction:
      return batch.flattenedRows
    case .classification:
      let d = outputCount
      return Tensor(shape: [labels.count, d]) { t in
        for (r, label) in labels.enumerated() {
          if d == 1 { t[r] = Float(label) } else { t[r * d + label] = 1 }
        }
      }
    }
  }

  /// The mean loss and (for a classifier) the accuracy on a dataset, in batches.
  public func measure(inputs: Tensor, labels: [Int], loss: Loss? = nil, batchSize: Int = 1024)
    -> (loss: Double, accuracy: Double?)
  {
    let loss = loss ?? defaultLoss
    let head = lossHead(for: loss)
    let inputs = shaped(inputs)
    let n = inputs.rows
    var total = 0.0, correct = 0
    var start = 0
    while start < n {
      let end = Swift.min(n, start + batchSize)
      let batch = inputs.rows(start..<end)
      let x = lossInput(batch, skipsLastLayer: head.skipsLastLayer)
      let batchLabels = Array(labels[start..<end])
      let (value, _) = loss.evaluate(
        prediction: x.flattenedRows, target: target(for: batch, labels: batchLabels), head: head)
      total += value * Double(end - start)
      if task == .classification {
        let output = head.skipsLastLayer ? layers[layers.count - 1].apply(x) : x
        for (p, l) in zip(classes(ofOutputs: output.flattenedRows), batchLabels) where p == l {
          correct += 1
        }
      }
      start = end
    }
    let count = Double(Swift.max(n, 1))
    return (total / count, task == .classification ? Double(correct) / count : nil)
  }
}

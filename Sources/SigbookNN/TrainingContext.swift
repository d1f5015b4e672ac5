import SigbookTensor

/// Where a forward pass is in a run of training: what a layer that trains differently from how
/// it infers (dropout) draws its randomness from.
///
/// Every field is a position, none the state of a generator: a layer hashes them with the
/// index of each value it draws for (`SeededGenerator.splitMix`, counter-based), so what it
/// draws depends on the run's seed and on where the value is in the batch, never on the number
/// of threads or on how the batch is cut into chunks.
public struct TrainingContext: Sendable, Equatable {
  /// The run's seed (`TrainingOptions.seed`).
  var seed: Int
  /// The epoch, from 1.
  var epoch: Int
  /// The optimizer step over the whole run, from 0.
  var step: Int
  /// The row, within the whole batch, of the first row the pass is given (a chunk's offset).
  var firstRow = 0
  /// The position in the model of the layer the pass runs.
  var layer = 0

  /// This context for the chunk of the batch that starts at row `row`.
  func startingAt(row: Int) -> TrainingContext {
    var copy = self
    copy.firstRow = row
    return copy
  }

  /// This context for layer `index` (0-based) of the model.
  func at(layer index: Int) -> TrainingContext {
    var copy = self
    copy.layer = index
    return copy
  }

  /// 64 random bits of this seed, epoch, step and layer: the state from which row r's bits are
  /// `splitMix(key, index: r)` (r within the whole batch), and unit j's of that row
  /// `splitMix(rowBits, index: j)`.
  var key: UInt64 {
    // The first draw marks the stream as dropout's ("drop"), apart from the generator the
    // same seed starts for the order of the inputs.
    var k = SeededGenerator.splitMix(UInt64(bitPattern: Int64(seed)), index: 0x6472_6F70)
    k = SeededGenerator.splitMix(k, index: UInt64(bitPattern: Int64(epoch)))
    k = SeededGenerator.splitMix(k, index: UInt64(bitPattern: Int64(step)))
    return SeededGenerator.splitMix(k, index: UInt64(bitPattern: Int64(layer)))
  }
}

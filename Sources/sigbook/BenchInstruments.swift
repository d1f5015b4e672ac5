import Foundation
import SigbookTensor
import SigbookData
import SigbookNN
import SigbookAnalysis

/// The instrument rows: linear probes on every layer of W2's signatures (W12, against
/// scikit-learn), linear CKA between all layer pairs on 10,000 inputs (W13, against NumPy) and
/// integrated gradients of 1,000 inputs (W14, against Captum).
///
/// Every setting here is also in `Benchmarks/peers/common.py`: change both together. W12 and
/// W13 write the signatures they read for the peers beside `--signatures-out`.
enum BenchInstruments {
  /// W2's network's signatures of the first 10,000 Fashion-MNIST training and all 10,000 test
  /// images, written for the peers (`w12-{train,test}-h{1,2}.npy`, labels `w12-*-labels.npy`).
  static func probeSets(_ context: BenchContext) throws -> (SignatureSet, SignatureSet) {
    let model = try context.fashionNetwork()
    let train = try context.fashion(.train).rows(0..<10_000), test = try context.fashion(.test)
    let sets = (SignatureSet(model: model, data: train), SignatureSet(model: model, data: test))
    if let out = context.signaturesOut {
      let folder = (out as NSString).deletingLastPathComponent
      for (part, set) in [("train", sets.0), ("test", sets.1)] {
        for (h, layer) in set.layers.enumerated() {
          try AtomicFile.write(
            NPY.encode(layer.scalars, shape: layer.shape), to: folder + "/w12-\(part)-h\(h + 1).npy"
          )
        }
        try AtomicFile.write(
          NPY.encode(set.labels.map(Float.init), shape: [set.count]),
          to: folder + "/w12-\(part)-labels.npy")
      }
    }
    return sets
  }

  /// W14's network: W3's CNN (seeded, untrained: integrated gradients cost the same whatever
  /// the weights), and its input, the first 1,000 MNIST test images.
  static func attributionCase(_ context: BenchContext) throws -> (Model, Dataset) {
    (try Model.cnn(conv: [8, 16], dense: [], classes: 10), try context.mnistTest().rows(0..<1000))
  }

  static let all: [BenchWorkload] = [
    BenchWorkload(
      id: "W12", name: "linear probes on both layers of W2's net, 10,000 + 10,000", repeats: 3
    ) {
      context, repeats in
      let (train, test) = try probeSets(context)
      let (times, table) = try timed(repeats) {
        try LinearProbes.table(
          train: train, test: test, c: 1, standardize: true, control: false, seed: 0)
      }
      let accuracies =
        table.column("test_accuracy")?.compactMap { cell -> Double? in
          if case .number(let x) = cell { x } else { nil }
        } ?? []
      return BenchResult(
        id: "W12", name: "linear probes on both layers of W2's net, 10,000 + 10,000", times: times,
        quality: "test accuracy H2", value: accuracies.last ?? 0,
        extra: ["test accuracy H1": accuracies.first ?? 0])
    },
    BenchWorkload(
      id: "W13", name: "linear CKA, all layer pairs of W2's net, 10,000 inputs", repeats: 9
    ) {
      context, repeats in
      let (_, test) = try probeSets(context)
      let (times, matrix) = try timed(repeats) {
        try CKA.matrix(test.layers, test.layers, kernel: .linear, unbiased: false)
      }
      return BenchResult(
        id: "W13", name: "linear CKA, all layer pairs of W2's net, 10,000 inputs", times: times,
        quality: "CKA H1-H2", value: matrix[0][1])
    },
    BenchWorkload(
      id: "W14", name: "integrated gradients, 50 steps, 1,000 images, W3's cnn", repeats: 3
    ) {
      context, repeats in
      let (model, data) = try attributionCase(context)
      let (times, maps) = try timed(repeats) {
        try Attribution.maps(
          model: model, inputs: data.features, targets: data.labels, method: .integrated_gradients)
      }
      return BenchResult(
        id: "W14", name: "integrated gradients, 50 steps, 1,000 images, W3's cnn", times: times,
        quality: "maps", value: Double(maps.rows))
    },
  ]
}

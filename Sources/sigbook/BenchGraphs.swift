import Foundation
import SigbookTensor
import SigbookData
import SigbookNN
import SigbookONNX

/// The graph-model rows: a small ResNet's signatures at every block (W10, against ONNX Runtime
/// computing the same intermediate outputs from sigbook's export of the network) and one epoch
/// of its training (W11, against PyTorch's same architecture, `Benchmarks/peers/torch_bench.py`).
///
/// Every hyper-parameter here is also in `Benchmarks/peers/common.py`: change both together.
enum BenchGraphs {
  /// `resnet(widths: [16, 32, 64], blocks: 1)` on 28 × 28 images, seeded.
  static func network() throws -> Model {
    try Model.resnet(input: [1, 28, 28], widths: [16, 32, 64], blocks: 1, classes: 10, seed: 0)
  }

  /// The process's peak resident memory so far, in MiB (`getrusage`'s maximum resident set).
  static func peakMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
  }

  static let all: [BenchWorkload] = [
    BenchWorkload(
      id: "W10", name: "resnet 16-32-64 signatures at every block, 10,000 images", repeats: 5
    ) { context, repeats in
      let test = try context.fashion(.test)
      let model = try network()
      // The export the peer runs, its block outputs named in its metadata.
      if let out = context.signaturesOut {
        let path = (out as NSString).deletingLastPathComponent + "/w10-resnet.onnx"
        try AtomicFile.write(Data(ONNXFormat().encode(model)), to: path)
      }
      let (times, outputs) = timed(repeats) { model.hiddenOutputs(test.features) }
      let values = outputs.reduce(0) { $0 + $1.count }
      return BenchResult(
        id: "W10", name: "resnet 16-32-64 signatures at every block, 10,000 images",
        times: times, quality: "signature values", value: Double(values),
        extra: ["peak MiB": peakMiB()])
    },
    BenchWorkload(id: "W11", name: "resnet 16-32-64, momentum b64, 1 epoch fashion", repeats: 3) {
      context, repeats in
      let train = try context.fashion(.train)
      let test = try context.fashion(.test)
      let model = try network()
      let options = TrainingOptions(
        epochs: 1, batchSize: 64, learningRate: 0.05, optimizer: .momentum, seed: 0)
      let (times, trained) = try timed(repeats) {
        try model.fitted(inputs: train.features, labels: train.labels, options: options)
      }
      return BenchResult(
        id: "W11", name: "resnet 16-32-64, momentum b64, 1 epoch fashion", times: times,
        quality: "accuracy", value: BenchWorkloads.accuracy(trained, test),
        extra: ["peak MiB": peakMiB()])
    },
  ]
}

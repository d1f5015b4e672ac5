import Foundation
import SigbookData
import SigbookWorkbook

/// Rows that have no peer: speeds that used to be asserted by unit tests (no timed tests; speed
/// lives in `make bench`).
enum BenchExtras {
  static let all: [BenchWorkload] = [
    BenchWorkload(id: "X1", name: "parse the embedded 5,000-image CSV sample", repeats: 5) {
      _, repeats in
      let path =
        ProcessInfo.processInfo.environment["SIGBOOK_SAMPLE"]
        ?? (Dataset.repositoryRoot ?? ".") + "/Data/mnist_5k.csv.gz"
      guard FileManager.default.fileExists(atPath: path) else {
        throw BenchSkip(reason: "the embedded sample is not at '\(path)'")
      }
      let (times, data) = try timed(repeats) { try Dataset.csv(path: path) }
      return BenchResult(
        id: "X1", name: "parse the embedded 5,000-image CSV sample", times: times,
        quality: "images", value: Double(data.count))
    },
    BenchWorkload(id: "X2", name: "check every workbook of Workbooks/, ×20", repeats: 5) {
      _, repeats in
      guard let root = Dataset.repositoryRoot else { throw BenchSkip(reason: "no checkout") }
      let folder = root + "/Workbooks"
      let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        .filter { $0.hasSuffix(".sigbook") }.sorted()
      let texts = names.compactMap {
        try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8)
      }
      guard !texts.isEmpty else { throw BenchSkip(reason: "no workbooks in \(folder)") }
      let (times, errors) = timed(repeats) { () -> Int in
        var errors = 0
        for _ in 0..<20 {
          for (name, text) in zip(names, texts) {
            errors += Checker.check(text: text, file: name).count
          }
        }
        return errors
      }
      return BenchResult(
        id: "X2", name: "check every workbook of Workbooks/, ×20", times: times,
        quality: "errors", value: Double(errors))
    },
  ]
}

import Foundation
import SigbookTestSupport
import Testing

@Suite(
  "Command line", .enabled(if: Binary.isBuilt, "needs the built sigbook binary (swift build)"))
struct CommandLineTests {
  static let oneVersusSeven = """
    # One versus seven

    ```sigbook
    digits = mnist_sample(digits: [1, 7])
    train, test = split(digits, test: 0.2, seed: 7)
    ```

    ```sigbook
    lr = 0.05
    net = fit(mlp(784, 32, 64, 2), train, epochs: 5, batch: 32, lr: lr, seed: 7)
    accuracy(net, test)
    ```
    """

  @Test func runTrainsAndPrintsTheSameBytesTwice() throws {
    let folder = try TemporaryFolder()
    try folder.write("w.sigbook", Self.oneVersusSeven)
    let first = try Binary.run(["run", "w.sigbook"], in: folder.url)
    let second = try Binary.run(["run", "w.sigbook"], in: folder.url)
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout == second.stdout)
    let lines = first.stdout.split(separator: "\n")
    #expect(lines.first == "── cell 1 · line 4 ──")
    let accuracy = try #require(Double(lines.last ?? ""))
    #expect(accuracy >= 0.98)
    #expect(first.stderr.contains("cell 2: "))
  }

  @Test func setCellAndReport() throws {
    let folder = try TemporaryFolder()
    try folder.write("w.sigbook", Self.oneVersusSeven)
    let result = try Binary.run(
      ["run", "w.sigbook", "--set", "lr=0.01", "--cell", "2", "--report"], in: folder.url)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(!result.stdout.contains("cell 1 ·") && result.stdout.contains("cell 2 ·"))
    let report = try folder.read("w.report.md")
    #expect(report.hasPrefix("> Run with `lr = 0.01`"))
    let html = try folder.read("w.report.html")
    #expect(html.contains("<h1>One versus seven</h1>") && html.contains("<pre class=\"code\">"))
  }

  @Test func aFailingCellStopsTheRunWithItsLocation() throws {
    let folder = try TemporaryFolder()
    try folder.write(
      "bad.sigbook",
      "# Bad\n\n```sigbook\nnet = mlp(784, 32, 2)\nd = synthetic(.two_gaussians, n: 20)\nfit(net, d)\n```\n\n```sigbook\nprint(\"never\")\n```\n"
    )
    let result = try Binary.run(["run", "bad.sigbook"], in: folder.url)
    #expect(result.status != 0)
    #expect(!result.stdout.contains("never"))
    #expect(
      result.stderr.contains(
        "bad.sigbook:6:10: error: mlp expects 784 inputs but 'd' has 2 features\n"
          + "  fit(net, d)\n" + "           ^\n"))
  }

  @Test func checkReportsAllThreeMistakes() throws {
    let folder = try TemporaryFolder()
    try folder.write(
      "three.sigbook",
      """
      # Three mistakes

      ```sigbook
      digits = mnist_sampel(digits: [1, 7])
      ```

      ```sigbook
      net = mlp(784, 32, 2, activation: .rleu)
      trained = fit(net, digits, epoch: 3)
      ```
      """)
    let result = try Binary.run(["check", "three.sigbook"], in: folder.url)
    #expect(result.status == 1)
    #expect(result.stdout.contains("three.sigbook:4:10: error: unknown function 'mnist_sampel'"))
    #expect(
      result.stdout.contains(
        "three.sigbook:8:35: error: mlp takes .relu, .tanh or .sigmoid for 'activation:', not .rleu"
      ))
    #expect(result.stdout.contains("three.sigbook:9:28: error: fit has no label 'epoch:'"))
    #expect(result.stdout.contains("3 problems"))
  }

  @Test func helpPrintsACatalogueEntry() throws {
    let folder = try TemporaryFolder()
    let result = try Binary.run(["help", "mnist_sample"], in: folder.url)
    #expect(result.status == 0)
    #expect(
      result.stdout.hasPrefix(
        "mnist_sample(digits: all, per_class: all (500), seed: 0) → a dataset"))
    let unknown = try Binary.run(["help", "kmean"], in: folder.url)
    #expect(unknown.status != 0)
    let command = try Binary.run(["help", "run"], in: folder.url)
    #expect(command.stdout.hasPrefix("OVERVIEW: Run workbooks top to bottom"))
  }
}

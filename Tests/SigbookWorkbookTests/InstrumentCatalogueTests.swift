import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookAnalysis
@testable import SigbookWorkbook

/// `probe`, `probe_plot`, `cka`, `cka_plot`, `attribution` and `attribution_plot` in the
/// language, on the embedded sample.
@Suite("Instruments in the language") struct InstrumentCatalogueTests {
  static func session() throws -> Session {
    let session = Session(
      file: "t", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-instruments.figures")
    _ = try runSource(
      """
      data = mnist_sample(digits: [1, 7, 3], per_class: 40)
      net = fit(mlp(784, 16, 8, 3), data, epochs: 2, batch: 16, lr: 0.05, seed: 1)
      sig = signatures(net, data)
      """, session: session)
    return session
  }

  func table(_ source: String, _ session: Session) throws -> Table {
    _ = try runSource("t = \(source)", session: session)
    guard case .table(let table)? = session.variables["t"] else {
      Issue.record("no table for \(source)")
      throw CancellationError()
    }
    return table
  }

  @Test func probesSplitTheSetTheWayDataSplits() throws {
    let session = try Self.session()
    _ = try runSource("held = probe(sig, split: 0.25, seed: 3)", session: session)
    let held = try table("held", session)
    #expect(held.title?.contains("90 training and 30 test inputs") == true)
    // The same inputs as split(data, test: 0.25, seed: 3) gives, probed explicitly.
    _ = try runSource("train, test = split(data, test: 0.25, seed: 3)", session: session)
    let given = try table(
      "probe(signatures(net, train), signatures(net, test), seed: 3)", session)
    // Equal but for rounding: the signatures of 90 inputs and of 120 differ in the last bits.
    for (g, h) in zip(given.rows, held.rows) {
      for (a, b) in zip(g, h) {
        if case .number(let x) = a, case .number(let y) = b {
          #expect(abs(x - y) < 1e-6)
        } else {
          #expect(a == b)
        }
      }
    }
    _ = try runSource("control = probe(sig, control: true)", session: session)
    let control = try table("control", session)
    #expect(control.columns.last == "selectivity")
    _ = try runSource("f = probe_plot(held, control, labels: [\"a\", \"b\"])", session: session)
    guard case .figure(let figure)? = session.variables["f"] else {
      Issue.record("probe_plot gave no figure")
      return
    }
    #expect(figure.svg.contains("b (control)"))
    // With the inputs as layer 0, the probes' rows sit at their layer numbers 0, 1, 2.
    _ = try runSource(
      "pixels = probe(signatures(net, train, input: true), signatures(net, test, input: true))\n"
        + "g = probe_plot(pixels, held)", session: session)
    let pixels = try table("pixels", session)
    #expect(pixels.rows.count == 3 && pixels.rows[0][0] == .text("H0 · input · 784"))
    guard case .figure(let withPixels)? = session.variables["g"] else {
      Issue.record("probe_plot gave no figure")
      return
    }
    #expect(withPixels.svg.contains(">layer (0: the inputs)<") && withPixels.svg.contains(">0<"))
  }

  @Test func ckaOfALayerWithItselfIsOne() throws {
    let session = try Self.session()
    let linear = try table("cka(sig)", session)
    #expect(linear.columns == ["layer", "H1", "H2"])
    for (i, row) in linear.rows.enumerated() {
      guard case .number(let x) = row[i + 1] else { continue }
      #expect(abs(x - 1) < 1e-9)
    }
    let rbf = try table("cka(sig, sig, kernel: .rbf, unbiased: true)", session)
    #expect(rbf.columns == ["layer", "H1", "H2"])
    _ = try runSource("f = cka_plot(cka(sig, kernel: .rbf))", session: session)
    guard case .figure(let figure)? = session.variables["f"] else {
      Issue.record("cka_plot gave no figure")
      return
    }
    #expect(figure.kind == "heatmap")
  }

  @Test func attributionsAreDatasetsOfMaps() throws {
    let session = try Self.session()
    _ = try runSource(
      """
      few = subset(data, per_class: 2, seed: 1)
      ig = attribution(net, few, steps: 8)
      by_label = attribution(net, few, method: .gradient, target: .label)
      sevens = attribution(net, few, method: .gradient, target: "7")
      f = attribution_plot(ig, few, count: 4)
      """, session: session)
    guard case .dataset(let ig)? = session.variables["ig"],
      case .dataset(let sevens)? = session.variables["sevens"],
      case .figure(let figure)? = session.variables["f"]
    else {
      Issue.record("attribution gave no maps or no figure")
      return
    }
    #expect(ig.featureShape == [1, 28, 28] && ig.count == 6)
    #expect(ig.name.hasPrefix("integrated gradients of the predicted class"))
    #expect(sevens.name.hasPrefix("gradient of class 7"))
    #expect(figure.kind == "attribution_plot")
    let target = try #require(throws: WorkbookError.self) {
      _ = try runSource("attribution(net, few, target: 5)", session: session)
    }
    #expect(target.message == "target: the network's classes are numbered 0 to 2, not 5")
    let name = try #require(throws: WorkbookError.self) {
      _ = try runSource("attribution(net, few, target: \"4\")", session: session)
    }
    #expect(name.message == "target: the network has no class '4'")
    let mismatch = try #require(throws: WorkbookError.self) {
      _ = try runSource("attribution_plot(ig, data)", session: session)
    }
    #expect(mismatch.message.contains("pass the inputs attribution explained"))
  }

  @Test func topInputsOfAUnitAndOfACluster() throws {
    let session = try Self.session()
    _ = try runSource(
      """
      unit = top_inputs(sig, data, layer: 1, unit: 2, n: 5)
      c = kmeans(sig, k: 3)
      near = top_inputs(c, data, layer: 2, cluster: 0, n: 4)
      """, session: session)
    guard case .figure(let unit)? = session.variables["unit"],
      case .figure(let near)? = session.variables["near"],
      case .signatures(let sig)? = session.variables["sig"]
    else {
      Issue.record("top_inputs gave no figure")
      return
    }
    #expect(unit.svg.contains("unit 2 of H1: the 5 inputs exciting it most"))
    #expect(near.svg.contains("cluster 0 of H2: the 4 inputs nearest its centre"))
    // The first caption is the largest activation of the unit.
    let largest = (0..<sig.count).map { sig.layers[0].scalars[$0 * 16 + 2] }.max() ?? 0
    #expect(unit.svg.contains("· \(NumberFormat.display(Double(largest)))<"))
    let wrong = try #require(throws: WorkbookError.self) {
      _ = try runSource("top_inputs(sig, data, layer: 1, unit: 16)", session: session)
    }
    #expect(wrong.message == "unit: layer 1 has units 0 to 15, not 16")
    let other = try #require(throws: WorkbookError.self) {
      _ = try runSource(
        "top_inputs(sig, mnist_sample(digits: [1], per_class: 5), layer: 1, unit: 0)",
        session: session)
    }
    #expect(other.message.contains("data are not the inputs of these signatures"))
  }

  @Test func badArgumentsAreExplained() throws {
    let session = try Self.session()
    let c = try #require(throws: WorkbookError.self) {
      _ = try runSource("probe(sig, c: 0)", session: session)
    }
    #expect(c.message == "c: must be a positive number, not 0")
    let split = try #require(throws: WorkbookError.self) {
      _ = try runSource("probe(sig, split: 1.5)", session: session)
    }
    #expect(split.message.contains("split: must be between 0 and 1"))
    let other = try #require(throws: WorkbookError.self) {
      _ = try runSource(
        "cka(sig, signatures(net, mnist_sample(digits: [1], per_class: 5)))", session: session)
    }
    #expect(other.message.contains("cka compares representations of the same inputs"))
    let plot = try #require(throws: WorkbookError.self) {
      _ = try runSource("cka_plot(layer_report(kmeans(sig, k: 2)))", session: session)
    }
    #expect(plot.message.contains("not one of cka"))
  }
}

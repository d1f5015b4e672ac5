import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN
@testable import SigbookPlot
@testable import SigbookWorkbook
@testable import SigbookONNX

/// `feature_maps` and `filters` of a CNN exported from PyTorch: the maps after each
/// convolution's activation equal PyTorch's (`scripts/make-pytorch-fixtures.py`: conv, batch
/// normalisation, ReLU, … conv, sigmoid), and the figures name the ONNX nodes.
@Suite("Feature maps of an ONNX CNN") struct ONNXFeatureMapTests {
  @Test func mapsAfterEachActivationEqualPyTorchs() throws {
    let net = try ONNXImporter.load(path: fixture("cnn.onnx"), inputShape: nil, classNames: nil)
    let x = try fixtureTensor("x.npy")
    let data = Dataset(
      name: "x", features: x, labels: [Int](repeating: 0, count: x.rows),
      classNames: (0..<10).map(String.init))
    let convolutions = net.convolutionLayerIndices
    #expect(convolutions.count == 2)
    let layers = Catalogue.featureMapLayers(
      net, data, convolutions: convolutions, activated: true)
    for (layer, file) in [(0, "cnn_h1.npy"), (1, "cnn_h2.npy")] {
      let expected = try fixtureTensor(file)
      let name = layers.names[layer], maps = layers.maps[layer]
      #expect(name.contains(" → "), "\(name)")
      for n in 0..<data.count {
        let got = Array(maps.scalars[(n * maps.rowSize)..<((n + 1) * maps.rowSize)])
        let want = Array(expected.scalars[(n * expected.rowSize)..<((n + 1) * expected.rowSize)])
        #expect(largestRelativeError(got, want) < 1e-4, "\(name), input \(n)")
      }
    }
  }

  @Test func theFiguresNameTheONNXNodes() throws {
    let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    let workbook = ONNXWorkbook(
      folder: folder.path,
      figures: FileManager.default.temporaryDirectory.path + "/sigbook-onnx-maps.figures")
    try workbook.run(
      """
      net = load_onnx("cnn.onnx")
      maps = feature_maps(net, npy("x.npy"), count: 1)
      kernels = filters(net, layer: 2)
      """)
    guard case .figure(let maps)? = workbook.session.variables["maps"],
      case .figure(let kernels)? = workbook.session.variables["kernels"],
      case .model(let net)? = workbook.session.variables["net"]
    else {
      Issue.record("no figures")
      return
    }
    let names = net.convolutionLayerIndices.map { net.layerNames[$0] }
    for name in names { #expect(maps.svg.contains(name)) }
    #expect(
      kernels.title.hasPrefix("filters of \(names[1]): 6 filters of 3×3 over 4 input channels"))
  }
}

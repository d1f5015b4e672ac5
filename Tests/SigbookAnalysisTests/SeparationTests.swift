import SigbookTestSupport
import Testing

@testable import SigbookAnalysis
@testable import SigbookData
@testable import SigbookNN
@testable import SigbookTensor

/// The inputs as layer 0 and the one criterion for "from which layer the classes part".
@Suite("Separating layer")
struct SeparationTests {
  /// Eight inputs, four of class 0 then four of class 1.
  static let labels = [0, 0, 0, 0, 1, 1, 1, 1]

  /// A clustering layer numbered `number` whose assignments are `assignments`.
  static func layer(_ number: Int, _ assignments: [Int]) -> Clustering.Layer {
    let points = PointSet(
      points: Tensor(shape: [8, 1], scalars: assignments.map(Float.init)), name: "H\(number)",
      labels: labels, classNames: ["a", "b"], layer: number)
    let k = (assignments.max() ?? 0) + 1
    return Clustering.Layer(
      points: points,
      result: KMeansResult(
        k: k, centres: Tensor(shape: [k, 1], scalars: (0..<k).map(Float.init)),
        assignments: assignments, inertia: 0, iterations: 1, converged: true),
      scores: [], silhouette: nil)
  }

  // NMI by hand: [0,0,0,0,1,1,1,1] against the labels is 1; [0,0,0,1,1,1,1,1] (one input
  // misplaced) is 0.5616 (MI 0.3804 over the mean entropy 0.6774); [0,1,0,1,0,1,0,1] is 0.
  static let perfect = [0, 0, 0, 0, 1, 1, 1, 1]
  static let oneOff = [0, 0, 0, 1, 1, 1, 1, 1]
  static let none = [0, 1, 0, 1, 0, 1, 0, 1]

  @Test func theFirstLayerNearTheBestSeparates() {
    let c = Clustering(layers: [Self.layer(1, Self.none), Self.layer(2, Self.perfect)])
    #expect(c.separatingLayer == "H2")
    let both = Clustering(layers: [Self.layer(1, Self.perfect), Self.layer(2, Self.perfect)])
    #expect(both.separatingLayer == "H1")
  }

  @Test func noLayerBelowTheFloor() {
    let c = Clustering(layers: [Self.layer(1, Self.none), Self.layer(2, Self.none)])
    #expect(c.separatingLayer == nil)
  }

  @Test func aLayerMustBeatTheInputs() {
    // The inputs already part the classes perfectly: no hidden layer adds anything.
    let same = Clustering(layers: [Self.layer(0, Self.perfect), Self.layer(1, Self.perfect)])
    #expect(same.separatingLayer == nil)
    // The inputs at 0.5616; a perfect H2 is more than 0.05 above them, H1 (equal) is not.
    let beaten = Clustering(
      layers: [Self.layer(0, Self.oneOff), Self.layer(1, Self.oneOff), Self.layer(2, Self.perfect)])
    #expect(beaten.separatingLayer == "H2")
    #expect(
      isClose(
        Metrics.normalizedMutualInformation(Self.oneOff, Self.labels), 0.5616, tolerance: 1e-4))
  }

  @Test func aRangeOfLayersKeepsTheirNumbers() throws {
    let c = Clustering(
      layers: [Self.layer(0, Self.oneOff), Self.layer(1, Self.none), Self.layer(2, Self.perfect)])
    let hidden = try #require(c.layers(1...2))
    #expect(hidden.layerNumbers == [1, 2] && hidden.layer(2).layers[0].assignments == Self.perfect)
    #expect(c.layers(2...3) == nil && c.layer(0).layerNumbers == [0])
  }

  @Test func theInputsAreLayerZero() throws {
    let data = Dataset(
      name: "four", features: Tensor(shape: [4, 2], scalars: [0, 1, 2, 3, 4, 5, 6, 7]),
      labels: [0, 0, 1, 1], classNames: ["a", "b"])
    let net = try Model.mlp([2, 3, 2], seed: 1)
    let sig = SignatureSet(model: net, data: data, includingInput: true)
    #expect(sig.layerNumbers == 0...1 && sig.includesInput)
    #expect(sig.layerNames[0] == "H0 · input · 2")
    #expect(sig.layer(0).points.scalars == data.features.scalars && sig.layer(0).layer == 0)
    #expect(
      sig.layer(1).points.scalars == SignatureSet(model: net, data: data).layer(1).points.scalars)
    #expect(sig.namedArrays.map(\.name).prefix(2) == ["H0", "H1"])
  }
}

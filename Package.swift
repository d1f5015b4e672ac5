// swift-tools-version:6.2
import PackageDescription

/// The engine's targets, which the test targets may all use.
let engine: [Target.Dependency] = [
  "SigbookTensor", "SigbookData", "SigbookNN", "SigbookAnalysis", "SigbookPlot", "SigbookWorkbook",
]

let package = Package(
  name: "sigbook",
  products: [
    .executable(name: "sigbook", targets: ["sigbook"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // ONNX model files are protobuf messages; onnx.pb.swift is generated once and committed
    // (scripts/generate-onnx-protobuf.sh), so only the runtime library is built here.
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    // HTTP for `sigbook serve` (SigbookServe only): a maintained server rather than hand-rolled
    // sockets; the reason is in the README.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    // Already required by Hummingbird; named so that SigbookServe may import them.
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    // HMAC-SHA256 of the Jupyter kernel's messages (SigbookKernel only): a maintained, constant-
    // time implementation rather than our own. Already in the tree through Hummingbird's TLS
    // and certificate packages, whose range ("3.12.3"..<"6.0.0") this repeats: `from: "3.12.3"`
    // would stop below 4.0 and force the resolved 4.x back to 3.x.
    .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"6.0.0"),
    // The tests' one closeness check, `isApproximatelyEqual(to:relativeTolerance:)`.
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CPlatform"),
    // ZeroMQ, the transport of the Jupyter messaging protocol (`sigbook kernel`).
    .systemLibrary(name: "CZmq", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
    // cmark, the reference implementation of CommonMark, for the prose of reports and of the
    // served page (the README says why not Ink).
    .systemLibrary(name: "CCmark", pkgConfig: "libcmark", providers: [.apt(["libcmark-dev"])]),
    .systemLibrary(
      name: "CRsvg", pkgConfig: "librsvg-2.0",
      providers: [.apt(["librsvg2-dev", "libcairo2-dev", "libfontconfig-dev"])]),
    // The engine, a target per layer; each imports only the layers below it (the README's
    // layout section draws the graph).
    .target(
      name: "SigbookTensor", dependencies: ["COpenBLAS", "CKernels"],
      linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
    .target(name: "SigbookData", dependencies: ["SigbookTensor", "CZlib"]),
    // Our own C: the direct convolution kernels of inference, k-means's centre products, the
    // probes' softmax regression and training's elementwise passes, in vector variants chosen at
    // run time (the README and the C files say why they exist).
    .target(name: "CKernels"),
    .target(name: "SigbookNN", dependencies: ["SigbookTensor", "SigbookData", "CKernels"]),
    .target(
      name: "SigbookAnalysis",
      dependencies: ["SigbookTensor", "SigbookData", "SigbookNN", "COpenBLAS", "CKernels"]),
    // Figures are pure functions from values to SVG: the plots know tensors, nothing of models.
    .target(name: "SigbookPlot", dependencies: ["SigbookTensor", "CZlib", "CRsvg"]),
    // The workbook language: front end (Language/), evaluation, the function catalogue and the
    // documents it writes.
    .target(
      name: "SigbookWorkbook",
      dependencies: [
        "SigbookTensor", "SigbookData", "SigbookNN", "SigbookAnalysis", "SigbookPlot", "CCmark",
      ]),
    // ONNX import and export, in a target of its own so that the engine does not depend on
    // swift-protobuf: the executable registers its format in every session it creates.
    .target(
      name: "SigbookONNX",
      dependencies: [
        "SigbookTensor", "SigbookNN", "SigbookWorkbook",
        .product(name: "SwiftProtobuf", package: "swift-protobuf")],
      exclude: ["Proto"]),
    .target(
      name: "SigbookServe",
      dependencies: [
        "SigbookWorkbook", "CPlatform",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
      ]),
    // `sigbook kernel`: the Jupyter messaging protocol over ZeroMQ, one session per kernel.
    .target(
      name: "SigbookKernel",
      dependencies: [
        "SigbookWorkbook", "SigbookPlot", "SigbookData", "SigbookTensor", "CZmq",
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
    .executableTarget(
      name: "sigbook",
      dependencies: [
        "SigbookTensor", "SigbookData", "SigbookNN", "SigbookAnalysis", "SigbookPlot",
        "SigbookWorkbook", "SigbookONNX", "SigbookServe", "SigbookKernel", "CReadline",
        "CPlatform", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // What the test targets share: the built binary's locator, a process runner that drains
    // standard output and error at once, the one closeness check, temporary folders, the tmux
    // driver for the REPL, and the seeded mutator of the reader fuzz tests.
    .target(
      name: "SigbookTestSupport",
      dependencies: [
        "SigbookTensor", "CZlib", .product(name: "RealModule", package: "swift-numerics"),
      ],
      path: "Tests/SigbookTestSupport"),
    // A test target per engine target: a test goes where the code it tests lives.
    .testTarget(
      name: "SigbookTensorTests", dependencies: ["SigbookTensor", "SigbookTestSupport"]),
    .testTarget(
      name: "SigbookDataTests",
      dependencies: ["SigbookTensor", "SigbookData", "SigbookTestSupport"]),
    .testTarget(
      name: "SigbookNNTests",
      dependencies: ["SigbookTensor", "SigbookData", "SigbookNN", "SigbookTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "SigbookAnalysisTests",
      dependencies: [
        "SigbookTensor", "SigbookData", "SigbookNN", "SigbookAnalysis", "SigbookTestSupport",
      ],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "SigbookPlotTests",
      dependencies: [
        "SigbookTensor", "SigbookData", "SigbookNN", "SigbookAnalysis", "SigbookPlot",
        "SigbookTestSupport",
      ],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "SigbookWorkbookTests", dependencies: engine + ["SigbookTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "sigbookTests", dependencies: ["sigbook", "SigbookTestSupport"] + engine),
    .testTarget(
      name: "SigbookONNXTests", dependencies: ["SigbookONNX", "SigbookTestSupport"] + engine,
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "SigbookServeTests",
      dependencies: engine + [
        "SigbookServe", "SigbookTestSupport", .product(name: "Hummingbird", package: "hummingbird"),
      ],
      // The browser script is run from the source tree by `BrowserTests`.
      exclude: ["browser.py"]),
    .testTarget(
      name: "SigbookKernelTests",
      dependencies: engine + ["SigbookKernel", "SigbookTestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)

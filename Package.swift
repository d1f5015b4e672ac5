// swift-tools-version:6.2
import PackageDescription

let package = Package(
  name: "sigbook",
  products: [
    .library(name: "SigbookCore", targets: ["SigbookCore"]),
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
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CPlatform"),
    // cmark, the reference implementation of CommonMark, for the prose of reports and of the
    // served page (the README says why not Ink).
    .systemLibrary(name: "CCmark", pkgConfig: "libcmark", providers: [.apt(["libcmark-dev"])]),
    .systemLibrary(
      name: "CRsvg", pkgConfig: "librsvg-2.0",
      providers: [.apt(["librsvg2-dev", "libcairo2-dev", "libfontconfig-dev"])]),
    .target(
      name: "SigbookCore",
      dependencies: ["COpenBLAS", "CZlib", "CRsvg", "CCmark"],
      linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
    // ONNX import and export, in a target of its own so that SigbookCore does not depend on
    // swift-protobuf: the executable registers its format in every session it creates.
    .target(
      name: "SigbookONNX",
      dependencies: ["SigbookCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
      exclude: ["Proto"]),
    .target(
      name: "SigbookServe",
      dependencies: [
        "SigbookCore",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
      ]),
    .executableTarget(
      name: "sigbook",
      dependencies: [
        "SigbookCore", "SigbookONNX", "SigbookServe", "CReadline", "CPlatform",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // The seeded mutator the reader fuzz tests of SigbookCoreTests and SigbookONNXTests share.
    .target(name: "FuzzSupport", dependencies: ["SigbookCore"], path: "Tests/FuzzSupport"),
    .testTarget(
      name: "SigbookCoreTests", dependencies: ["SigbookCore", "FuzzSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "sigbookTests", dependencies: ["sigbook", "SigbookCore"]),
    .testTarget(
      name: "SigbookONNXTests", dependencies: ["SigbookONNX", "SigbookCore", "FuzzSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "SigbookServeTests",
      dependencies: [
        "SigbookServe", "SigbookCore",
        .product(name: "Hummingbird", package: "hummingbird"),
      ]),
  ],
  swiftLanguageModes: [.v6]
)

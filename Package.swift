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
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CPlatform"),
    .systemLibrary(
      name: "CRsvg", pkgConfig: "librsvg-2.0",
      providers: [.apt(["librsvg2-dev", "libcairo2-dev", "libfontconfig-dev"])]),
    .target(
      name: "SigbookCore",
      dependencies: ["COpenBLAS", "CZlib", "CRsvg"],
      linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
    // ONNX import and export, in a target of its own so that SigbookCore does not depend on
    // swift-protobuf: the executable registers its format in every session it creates.
    .target(
      name: "SigbookONNX",
      dependencies: ["SigbookCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
      exclude: ["Proto"]),
    .executableTarget(
      name: "sigbook",
      dependencies: [
        "SigbookCore", "SigbookONNX", "CReadline", "CPlatform",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .testTarget(
      name: "SigbookCoreTests", dependencies: ["SigbookCore"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "sigbookTests", dependencies: ["sigbook", "SigbookCore"]),
    .testTarget(
      name: "SigbookONNXTests", dependencies: ["SigbookONNX", "SigbookCore"],
      resources: [.copy("Fixtures")]),
  ],
  swiftLanguageModes: [.v6]
)

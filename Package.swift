// swift-tools-version:6.2
import PackageDescription

let package = Package(
  name: "sigbook",
  products: [
    .library(name: "SigbookCore", targets: ["SigbookCore"]),
    .executable(name: "sigbook", targets: ["sigbook"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
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
    .executableTarget(
      name: "sigbook",
      dependencies: [
        "SigbookCore", "CReadline", "CPlatform",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .testTarget(
      name: "SigbookCoreTests", dependencies: ["SigbookCore"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "sigbookTests", dependencies: ["sigbook", "SigbookCore"]),
  ],
  swiftLanguageModes: [.v6]
)

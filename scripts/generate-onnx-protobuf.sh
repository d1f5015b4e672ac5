#!/bin/sh
# Regenerates Sources/SigbookONNX/onnx.pb.swift from Sources/SigbookONNX/Proto/onnx.proto.
#
# The generated file is committed: building swift-protobuf's plugin takes minutes, so the
# package itself never runs protoc. Run this only after replacing onnx.proto (take it from the
# onnx Python package, `python3 -c "import onnx, os; print(os.path.dirname(onnx.__file__))"`,
# or from github.com/onnx/onnx, onnx/onnx.proto).
#
# Needs protoc (Debian: apt-get install protobuf-compiler) and protoc-gen-swift of the
# swift-protobuf version Package.swift names, built outside the repository:
#   git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   (cd /tmp/swift-protobuf && git checkout 1.39.0 && swift build -c release --product protoc-gen-swift)
#   PROTOC_GEN_SWIFT=/tmp/swift-protobuf/.build/release/protoc-gen-swift scripts/generate-onnx-protobuf.sh
set -eu
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
if [ -z "$plugin" ] || [ ! -x "$plugin" ]; then
  echo "protoc-gen-swift not found: set PROTOC_GEN_SWIFT to its path (see this script's header)" >&2
  exit 1
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
protoc --plugin=protoc-gen-swift="$plugin" --proto_path=Sources/SigbookONNX/Proto \
  --swift_opt=Visibility=Internal --swift_out="$out" onnx.proto
mv "$out/onnx.pb.swift" Sources/SigbookONNX/onnx.pb.swift
echo "wrote Sources/SigbookONNX/onnx.pb.swift ($(wc -l < Sources/SigbookONNX/onnx.pb.swift) lines)"

#!/usr/bin/env python3
"""Writes the fixtures of sigbook's tests of ONNX graph models (residual connections, depthwise
convolutions, attention): small seeded PyTorch models exported to ONNX, their inputs, and the
output of every node as ONNX Runtime computes it, which the tests compare sigbook's import against.

It runs in two stages, as PyTorch and ONNX Runtime live in different Pythons here. From the
repository root, offline:

    /usr/bin/python3 scripts/make-graph-fixtures.py export      # Debian's python3-torch, python3-onnx
    python3 scripts/make-graph-fixtures.py reference            # a Python with onnx, onnxruntime, numpy

Without an argument it prints these two lines. The export stage needs torch (1.13 or later) and
numpy; the reference stage needs onnx, onnxruntime and numpy, and not torch.

Models (each put in eval mode, BatchNorm running statistics and affine weights and LayerNorm
weights set to seeded random values, as a trained model has):
  resnet     [N,1,28,28]: conv3x3 stem, BatchNorm, ReLU; three residual stages of one block
             (conv-BN-ReLU-conv-BN + skip; 1x1 conv-BN projection where the channels or stride
             change, stride 2 in stages 2 and 3), 8/16/32 channels; global average pool,
             flatten, Linear to 10
  mobilenet  [N,3,32,32]: stride-2 stem conv, BN, ReLU6; two inverted-residual blocks (1x1
             expand conv, BN, ReLU6, 3x3 depthwise conv, BN, ReLU6, 1x1 project conv, BN,
             residual add where the shapes agree) and one more with Hardswish; global average
             pool, Linear to 10
  vit        [N,1,28,28]: 7x7 stride-7 patch embedding (16 patches, dim 32), class token,
             position embedding; two pre-norm blocks of LayerNorm + hand-written 4-head
             self-attention (qkv Linear, q @ k^T / sqrt(d), softmax, @ v, proj Linear) +
             residual, LayerNorm + MLP (Linear, exact GELU, Linear) + residual; final
             LayerNorm, class-token output, Linear head to 10
  vit_mha    as vit with one block whose attention is torch's nn.MultiheadAttention
             (batch_first=True); left out, with a note, where torch cannot export it

Each is exported with torch.onnx.export (the TorchScript exporter, constant folding on) with a
dynamic batch axis, input `input` and output `output`, at opsets 13 and 17 (at 17 LayerNorm is
one LayerNormalization node, at 13 it is ReduceMean/Sub/Pow/Sqrt/Div...).

Writes Tests/SigbookONNXTests/Fixtures/graphs/
  x28.npy, x32.npy        [N,1,28,28] and [N,3,32,32] float32 inputs (N = 2): smooth blobs in
                          [0, 1], one per channel
  NAME_opK.onnx           the exported models (NAME as above, K = 13 or 17)
  NAME_opK/torch_output.npy      PyTorch's output for the input (export stage)
  NAME_opK/output.npy            ONNX Runtime's output of the model (reference stage)
  NAME_opK/<output name>.npy     the output of each node whose output is a float tensor (not the
                                 Constant nodes, nor the int64/bool shape computations), named by
                                 its output name with characters other than [A-Za-z0-9._-]
                                 replaced by '_'
  NAME_opK/manifest.json         those nodes in graph order: [{"node", "op", "output", "file",
                                 "shape"}, ...]
ONNX Runtime runs on the CPU with one thread and its default graph optimisations (which leave a
node alone once its output is a graph output). The reference stage checks that its output equals
PyTorch's within 1e-4 and that a batch of 1 gives the first row (the batch axis is dynamic),
and fails otherwise. Everything is seeded, so running it again gives the same arrays (the .onnx
bytes may differ between torch versions); the output is committed and the Swift tests never run
Python.
"""
import json
import math
import os
import re
import shutil
import sys

import numpy as np

try:  # The export stage's Python has torch; the reference stage's need not.
    import torch
    from torch import nn
except ImportError:
    torch = nn = None

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT_DIR = os.path.join(ROOT, "Tests/SigbookONNXTests/Fixtures/graphs")
N = 2
OPSETS = (13, 17)
# Each model and the input file it reads.
INPUTS = {"resnet": "x28.npy", "mobilenet": "x32.npy", "vit": "x28.npy", "vit_mha": "x28.npy",
          # tf2onnx's exports of Keras models (make-tf2onnx-graph-fixtures.py) take NHWC images.
          "keras_resnet": "x28_nhwc.npy", "keras_mobilenet": "x32_nhwc.npy",
          "keras_vit": "x28_nhwc.npy"}
# The exporter's own output for the input, which ONNX Runtime's must equal.
EXPORTER_OUTPUTS = ("torch_output.npy", "keras_output.npy")
TOLERANCE = 1e-4

USAGE = """Writes sigbook's ONNX graph-model fixtures in two stages, from the repository root:

    /usr/bin/python3 scripts/make-graph-fixtures.py export      # needs torch: models, .onnx, inputs
    python3 scripts/make-graph-fixtures.py reference            # needs onnxruntime: node outputs
"""


def blobs(n, channels, size, seed):
    """Inputs that look like images: one smooth blob per channel in [0, 1], plus a little noise,
    seeded (for 28x28 the same kind of blob as make-pytorch-fixtures.py draws)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    x = np.zeros((n, channels, size, size), dtype=np.float32)
    for i in range(n):
        for c in range(channels):
            cy, cx = rng.uniform(0.3 * size, 0.7 * size, size=2)
            s = rng.uniform(size / 9, size / 4)
            x[i, c] = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    x += rng.uniform(0, 0.1, size=x.shape).astype(np.float32)
    return np.clip(x, 0, 1).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Stage 1: the PyTorch models and their export.
# ---------------------------------------------------------------------------------------------

Module = nn.Module if nn is not None else object


class BasicBlock(Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus the skip, then ReLU; the skip is a 1x1 conv + BN
    projection where the stride or the channels change, the identity otherwise."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Identity()
        self.relu2 = nn.ReLU()

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + self.shortcut(x))


class ResNet(Module):
    """[N,1,28,28]: stem 1→8 (28x28), stages 8→8 (28x28), 8→16 (14x14), 16→32 (7x7), global
    average pool, flatten, Linear(32→10)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.stage1 = BasicBlock(8, 8, 1)
        self.stage2 = BasicBlock(8, 16, 2)
        self.stage3 = BasicBlock(16, 32, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


class InvertedResidual(Module):
    """MobileNetV2's block: 1x1 expand conv + BN + act, 3x3 depthwise conv (groups = channels)
    + BN + act, 1x1 project conv + BN (linear bottleneck), plus the input where the shapes
    agree."""

    def __init__(self, cin, cout, expand, stride, act):
        super().__init__()
        hidden = cin * expand
        self.expand = nn.Sequential(nn.Conv2d(cin, hidden, 1, bias=False),
                                    nn.BatchNorm2d(hidden), act())
        self.depthwise = nn.Sequential(
            nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), act())
        self.project = nn.Sequential(nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        out = self.project(self.depthwise(self.expand(x)))
        return x + out if self.residual else out


class MobileNet(Module):
    """[N,3,32,32]: stem 3→8 stride 2 (16x16), ReLU6 blocks 8→16→8 (residual) and 8→16→16
    stride 2 (8x8), a Hardswish block 16→32→16 (residual), global average pool, Linear(16→10)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(8), nn.ReLU6())
        self.block1 = InvertedResidual(8, 8, 2, 1, nn.ReLU6)
        self.block2 = InvertedResidual(8, 16, 2, 2, nn.ReLU6)
        self.block3 = InvertedResidual(16, 16, 2, 1, nn.Hardswish)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


class Attention(Module):
    """Multi-head self-attention written out, as timm's ViT does: the shapes are read from the
    input (B, T, C = x.shape), so the exporter emits Shape-based Reshapes."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = math.sqrt(dim // heads)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, T, C = x.shape
        qkv = self.qkv(x).reshape(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                     # [B, heads, T, C / heads]
        attn = torch.softmax(q @ k.transpose(-2, -1) / self.scale, dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, T, C)
        return self.proj(x)


class TorchAttention(Module):
    """The same through torch's nn.MultiheadAttention (batch_first)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.mha = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


class Block(Module):
    """Pre-norm transformer block: x + attn(LN(x)), then x + MLP(LN(x)) with exact GELU."""

    def __init__(self, dim, heads, attention):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(Module):
    """[N,1,28,28]: 7x7 stride-7 patches → 16 tokens of dim 32, class token prepended, position
    embedding added, `depth` blocks, LayerNorm, the class token's features, Linear(32→10)."""

    def __init__(self, depth=2, attention=Attention, dim=32, heads=4):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, 7, stride=7)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, 17, dim) * 0.5)
        self.blocks = nn.Sequential(*[Block(dim, heads, attention) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)              # [B, 16, dim]
        cls = self.cls_token.expand(x.shape[0], -1, -1)            # [B, 1, dim]
        x = torch.cat([cls, x], dim=1) + self.pos_embed           # [B, 17, dim]
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def perturb(model):
    """Non-trivial normalisation parameters, as a trained model has: BatchNorm running
    statistics and affine weights, LayerNorm affine weights."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n) * 0.5)
                m.running_var.copy_(torch.rand(n) + 0.5)
                m.weight.copy_(torch.rand(n) + 0.5)
                m.bias.copy_(torch.rand(n) - 0.5)
            elif isinstance(m, nn.LayerNorm):
                n = m.normalized_shape[0]
                m.weight.copy_(torch.rand(n) + 0.5)
                m.bias.copy_(torch.rand(n) - 0.5)


def op_summary(model_proto):
    """'Op×count, …' of a graph, sorted by op type."""
    counts = {}
    for node in model_proto.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return ", ".join(f"{op}×{n}" if n > 1 else op for op, n in sorted(counts.items()))


def export_stage():
    if torch is None:
        sys.exit("the export stage needs torch: run it with /usr/bin/python3 (Debian's python3-torch)")
    import onnx

    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    inputs = {"x28.npy": blobs(N, 1, 28, seed=0), "x32.npy": blobs(N, 3, 32, seed=1)}
    for name, x in inputs.items():
        np.save(os.path.join(OUT_DIR, name), x)

    # Built in this order from one seed, so each model's weights are fixed.
    models = {"resnet": ResNet(), "mobilenet": MobileNet(), "vit": ViT(),
              "vit_mha": ViT(depth=1, attention=TorchAttention)}
    for name, model in models.items():
        perturb(model)
        model.eval()
        x = torch.from_numpy(inputs[INPUTS[name]])
        with torch.no_grad():
            expected = model(x).numpy().astype(np.float32)
        for opset in OPSETS:
            stem = f"{name}_op{opset}"
            path = os.path.join(OUT_DIR, f"{stem}.onnx")
            try:
                torch.onnx.export(
                    model, x, path, opset_version=opset, input_names=["input"],
                    output_names=["output"], do_constant_folding=True,
                    dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            except Exception as error:  # torch.onnx raises several kinds of error
                print(f"NOTE: {stem} left out: torch {torch.__version__} cannot export it: "
                      f"{type(error).__name__}: {str(error).splitlines()[0]}")
                if os.path.exists(path):
                    os.remove(path)
                continue
            # A fresh folder: the reference stage fills it with the node outputs.
            folder = os.path.join(OUT_DIR, stem)
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder)
            np.save(os.path.join(folder, "torch_output.npy"), expected)
            proto = onnx.load(path)
            print(f"{stem}.onnx: {os.path.getsize(path)} bytes, {len(proto.graph.node)} nodes: "
                  f"{op_summary(proto)}")


# ---------------------------------------------------------------------------------------------
# Stage 2: ONNX Runtime's output of every node.
# ---------------------------------------------------------------------------------------------

def file_name(output_name, taken):
    """A file name for a tensor name: characters other than [A-Za-z0-9._-] become '_'
    ('/stage1/conv1/Conv_output_0' → 'stage1_conv1_Conv_output_0.npy'), made unique."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", output_name).strip("_.") or "tensor"
    name, i = f"{base}.npy", 1
    while name in taken:
        name, i = f"{base}_{i}.npy", i + 1
    taken.add(name)
    return name


def session(model_proto):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model_proto.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def reference_stage():
    import onnx
    from onnx import TensorProto

    stems = sorted(f[:-len(".onnx")] for f in os.listdir(OUT_DIR) if f.endswith(".onnx"))
    if not stems:
        sys.exit(f"no .onnx files in {OUT_DIR}: run the export stage first")
    failures = []
    for stem in stems:
        folder = os.path.join(OUT_DIR, stem)
        x = np.load(os.path.join(OUT_DIR, INPUTS[stem.rsplit("_op", 1)[0]]))
        model = onnx.load(os.path.join(OUT_DIR, f"{stem}.onnx"))

        # ONNX Runtime's output of the model as it is.
        output = session(model).run(["output"], {"input": x})[0]
        single = session(model).run(["output"], {"input": x[:1]})[0]

        # The element type of every tensor, through shape inference.
        inferred = onnx.shape_inference.infer_shapes(model)
        types = {v.name: v.type.tensor_type.elem_type for v in
                 list(inferred.graph.value_info) + list(inferred.graph.output)}

        # Every float output of a non-Constant node becomes a graph output (type only: the batch
        # axis is dynamic).
        entries, shape_ops, taken = [], {}, {"output.npy", *EXPORTER_OUTPUTS}
        for node in model.graph.node:
            if node.op_type == "Constant":
                continue
            for name in node.output:
                if not name:
                    continue  # an optional output left out
                if name not in types:
                    sys.exit(f"{stem}: shape inference gives no type for {name} ({node.op_type})")
                if types[name] != TensorProto.FLOAT:
                    shape_ops[node.op_type] = shape_ops.get(node.op_type, 0) + 1
                    continue
                entries.append({"node": node.name, "op": node.op_type, "output": name,
                                "file": "output.npy" if name == "output" else file_name(name, taken)})
        augmented = onnx.ModelProto()
        augmented.CopyFrom(model)
        graph_outputs = {o.name for o in model.graph.output}
        for e in entries:
            if e["output"] not in graph_outputs:
                augmented.graph.output.append(
                    onnx.helper.make_tensor_value_info(e["output"], TensorProto.FLOAT, None))
        names = [e["output"] for e in entries]
        values = session(augmented).run(names, {"input": x})

        # Start from an empty folder but for PyTorch's output, then write the arrays.
        os.makedirs(folder, exist_ok=True)
        for f in os.listdir(folder):
            if f not in EXPORTER_OUTPUTS and (f.endswith(".npy") or f == "manifest.json"):
                os.remove(os.path.join(folder, f))
        np.save(os.path.join(folder, "output.npy"), output.astype(np.float32))
        for e, value in zip(entries, values):
            e["shape"] = list(value.shape)
            if e["file"] != "output.npy":
                np.save(os.path.join(folder, e["file"]), value.astype(np.float32))
        with open(os.path.join(folder, "manifest.json"), "w") as f:
            # One node a line, for readable diffs.
            f.write("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")

        # Checks: PyTorch's output, the augmented run's, and a batch of 1 against the first row.
        float_ops = {}
        for e in entries:
            float_ops[e["op"]] = float_ops.get(e["op"], 0) + 1
        print(f"{stem}: {len(model.graph.node)} nodes, {len(entries)} float outputs written")
        print("  float ops: " + ", ".join(f"{op}×{n}" for op, n in sorted(float_ops.items())))
        if shape_ops:
            print("  shape ops: " + ", ".join(f"{op}×{n}" for op, n in sorted(shape_ops.items())))
        constants = sum(node.op_type == "Constant" for node in model.graph.node)
        print(f"  Constant nodes: {constants}, initializers: {len(model.graph.initializer)}")
        checks = [("augmented run", values[names.index("output")], output)]
        exported = [f for f in EXPORTER_OUTPUTS if os.path.exists(os.path.join(folder, f))]
        for f in exported:
            checks.append((f[:-len("_output.npy")], np.load(os.path.join(folder, f)), output))
        if not exported:
            failures.append(f"{stem}: no {' or '.join(EXPORTER_OUTPUTS)}")
        checks.append(("batch of 1", single, output[:1]))
        for what, got, want in checks:
            diff = float(np.max(np.abs(got - want)))
            relative = diff / max(float(np.max(np.abs(want))), 1e-12)
            print(f"  {what} vs ORT output: max abs diff {diff:.3g} (relative to max {relative:.3g})")
            if not diff < TOLERANCE:
                failures.append(f"{stem}: {what} differs by {diff:.3g}")
    if failures:
        sys.exit("FAILED:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    stage = sys.argv[1] if len(sys.argv) == 2 else None
    if stage == "export":
        export_stage()
    elif stage == "reference":
        reference_stage()
    else:
        print(USAGE, end="")
        sys.exit(0 if stage is None and len(sys.argv) == 1 else 2)

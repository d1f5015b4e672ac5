#!/usr/bin/env python3
"""Writes the fixture of sigbook's test that a model ending at its logits is read right: a small
PyTorch MLP exported with torch.onnx.export's defaults (no Softmax node at the end), fixed normal
and novel inputs, and the softmax-novelty (MSP) scores and AUROC that ONNX Runtime + NumPy give.

Run from the repository root, offline, with Debian's python3-torch and
`pip install onnxruntime onnx`:

    /usr/bin/python3 scripts/make-logits-fixture.py

Writes Tests/SigbookONNXTests/Fixtures/
  logits_mlp.onnx       4-16-8-3 MLP (ReLU), trained briefly on three Gaussian blobs, ending at
                        the last Linear layer's logits
  logits_normal.npy     [40, 4] float32: inputs of the three known blobs
  logits_novel.npy      [40, 4] float32: inputs of a fourth blob between them
  logits_reference.json the logits, MSP scores 1 - max softmax(logits) of both sets, computed
                        from ONNX Runtime's outputs with NumPy, and the AUROC (novel positive,
                        ties counted one half)
Seeded: running it again gives the same arrays (the .onnx bytes may differ between torch
versions). The Swift tests read these files and never run Python.
"""
import json
import os

import numpy as np
import onnxruntime
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests/SigbookONNXTests/Fixtures")

torch.manual_seed(0)
rng = np.random.default_rng(3)
centres = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float32)
novel_centre = np.array([0.8, 0.8, 0.8, 0], dtype=np.float32)


def blob(centre, n):
    return (centre + rng.normal(0, 0.7, size=(n, 4))).astype(np.float32)


train_x = np.concatenate([blob(c, 100) for c in centres])
train_y = np.repeat(np.arange(3), 100)
normal = np.concatenate([blob(c, 14) for c in centres])[:40]
novel = blob(novel_centre, 40)

net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
# Through lists: Debian's torch may be built against another NumPy than onnxruntime needs.
xs, ys = torch.tensor(train_x.tolist()), torch.tensor(train_y.tolist())
for _ in range(60):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(net(xs), ys)
    loss.backward()
    optimizer.step()
net.eval()

path = os.path.join(OUT, "logits_mlp.onnx")
torch.onnx.export(
    net, torch.tensor(normal[:1].tolist()), path, input_names=["input"], output_names=["logits"],
    dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
np.save(os.path.join(OUT, "logits_normal.npy"), normal)
np.save(os.path.join(OUT, "logits_novel.npy"), novel)

session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])


def logits(x):
    return session.run(None, {"input": x})[0].astype(np.float64)


def msp_scores(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return 1 - p.max(axis=1)


def auroc(negatives, positives):
    # The probability that a positive scores above a negative, ties one half.
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))


normal_logits, novel_logits = logits(normal), logits(novel)
normal_scores, novel_scores = msp_scores(normal_logits), msp_scores(novel_logits)
reference = {
    "normal_logits": normal_logits.tolist(),
    "novel_logits": novel_logits.tolist(),
    "normal_scores": normal_scores.tolist(),
    "novel_scores": novel_scores.tolist(),
    "auroc": auroc(normal_scores, novel_scores),
}
with open(os.path.join(OUT, "logits_reference.json"), "w") as f:
    json.dump(reference, f, indent=1)
print("auroc", reference["auroc"])

#!/usr/bin/env python3
"""Trains the small Fashion-MNIST CNN that Workbooks/pytorch-model.sigbook studies, and exports it
as Workbooks/models/fashion-cnn.onnx (torch.onnx.export, opset 13, dynamic batch).

Eight of the ten classes: sneakers and bags are left out, so the workbook can ask whether the
network's signatures tell them apart from what it knows. Run from the repository root with
Debian's python3-torch and dataset-fashion-mnist (both offline):

    /usr/bin/python3 scripts/train-fashion-cnn.py [/path/to/fashion-mnist]

Seeded; on 2 CPU cores it takes about a minute and a half. The .onnx (about 210 KB) is committed.
"""
import gzip
import os
import sys

import numpy as np
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
KEPT = [0, 1, 2, 3, 4, 5, 6, 9]  # all but sneaker (7) and bag (8)
torch.manual_seed(0)
torch.set_num_threads(2)


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        data = f.read()
    if name.find("images") >= 0:
        return np.frombuffer(data, np.uint8, offset=16).reshape(-1, 1, 28, 28)
    return np.frombuffer(data, np.uint8, offset=8)


def subset(images, labels):
    keep = np.isin(labels, KEPT)
    mapped = np.array([KEPT.index(int(l)) for l in labels[keep]], dtype=np.int64)
    return torch.from_numpy(images[keep].astype(np.float32) / 255), torch.from_numpy(mapped)


x_train, y_train = subset(idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz"))
x_test, y_test = subset(idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz"))

model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, len(KEPT)))
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(3):
    model.train()
    order = torch.randperm(len(x_train))
    for start in range(0, len(order), 128):
        batch = order[start:start + 128]
        optimizer.zero_grad()
        loss = loss_fn(model(x_train[batch]), y_train[batch])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {accuracy:.4f}")

# Exported with its softmax, so that the file gives probabilities (sigbook's evaluate and the
# softmax novelty baseline read outputs as probabilities).
path = os.path.join(ROOT, "Workbooks/models/fashion-cnn.onnx")
torch.onnx.export(
    nn.Sequential(model, nn.Softmax(dim=1)), x_test[:1], path, opset_version=13,
    input_names=["image"], output_names=["probabilities"],
    dynamic_axes={"image": {0: "batch"}, "probabilities": {0: "batch"}})
print(f"{path}: {os.path.getsize(path)} bytes; PyTorch test accuracy {accuracy:.4f}")

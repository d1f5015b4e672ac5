#!/usr/bin/env python3
"""Trains in PyTorch the network sigbook's `resnet(input: [1, 28, 28], widths: [16, 32, 64],
blocks: 1)` builds, the way `fit(..., epochs: 2, batch: 64, lr: 0.05, optimizer: .momentum)`
trains it, on Fashion-MNIST, and prints its test accuracy: the reference sigbook's accuracy is
compared with.

    /usr/bin/python3 scripts/resnet-fashion-pytorch.py [--epochs 2] [--seed 1] [--threads 1]
                                                        [--schedule constant|cosine]

Same architecture (3x3 stem conv + BatchNorm + ReLU; one basic block per stage, 16/32/64
channels, stride 2 in stages 2 and 3 with a 1x1 conv + BatchNorm projection; global average
pooling; Linear to 10; convolutions with a bias, as sigbook's), same data (pixels / 255), same
optimiser (SGD, momentum 0.9, no weight decay, lr 0.05, batch 64, shuffled each epoch; with
--schedule cosine, CosineAnnealingLR over all steps, stepped after every batch, as sigbook's
`schedule: .cosine`), cross entropy. What differs: the initial weights (PyTorch's default initialisation, its own seed) and
batch normalisation's statistics (PyTorch normalises by the whole batch of 64, sigbook by
chunks of 32). Reads /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
"""
import argparse
import os
import sys
import gzip
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Benchmarks", "peers"))
from torch_resnet import resnet  # noqa: E402  (the architecture, shared with the benchmark)

FOLDER = "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(f"{FOLDER}/{name}", "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def images(name):
    return torch.from_numpy(idx(name).astype(np.float32)[:, None] / 255)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--schedule", choices=["constant", "cosine"], default="constant")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = images("train-images-idx3-ubyte.gz"), torch.from_numpy(
        idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    xt, yt = images("t10k-images-idx3-ubyte.gz"), torch.from_numpy(
        idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
    model = resnet()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    steps = args.epochs * ((len(x) + 63) // 64)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
                 if args.schedule == "cosine" else None)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x))
        total = 0.0
        for b in range(0, len(x), 64):
            i = order[b:b + 64]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[i]), y[i])
            loss.backward()
            opt.step()
            if scheduler:
                scheduler.step()
            total += loss.item() * len(i)
        print(f"epoch {epoch + 1}: loss {total / len(x):.4f}, "
              f"{time.perf_counter() - start:.1f} s", flush=True)
    model.eval()
    with torch.no_grad():
        correct = sum((model(xt[b:b + 1000]).argmax(1) == yt[b:b + 1000]).sum().item()
                      for b in range(0, len(xt), 1000))
    print(f"test accuracy: {correct / len(xt):.4f} ({args.schedule} rate, torch {torch.__version__}, "
          f"{args.threads} thread{'s' if args.threads > 1 else ''})")


if __name__ == "__main__":
    main()

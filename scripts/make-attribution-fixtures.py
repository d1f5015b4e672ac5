#!/usr/bin/env python3
"""Attributions computed by Captum, for sigbook's tests of `attribution`.

Writes Tests/SigbookONNXTests/Fixtures/attribution/: two small networks exported by
torch.onnx.export (ending at the logits, the batch symbolic) — a CNN with batch normalisation
(running statistics set away from 0 and 1) and a residual block — and, for four 1x12x12 inputs
and targets [0, 1, 2, 3]:
    x.npy                      the inputs
    {net}_saliency.npy         Captum Saliency(abs=False): the gradient of the target's logit
    {net}_ig.npy               Captum IntegratedGradients, baseline 0, n_steps 50 (its default
                               Gauss-Legendre method)
    {net}_occlusion.npy        Captum Occlusion, window (1, 4, 4), strides (1, 2, 2), baseline 0

Run once, offline, with Debian's python3-torch and Captum 0.7 (a venv made with
--system-site-packages; `pip install --no-deps captum==0.7.0 tqdm`, and matplotlib):
    python scripts/make-attribution-fixtures.py
The tests read only the committed files.
"""
import os

import numpy as np
import torch
from captum.attr import IntegratedGradients, Occlusion, Saliency

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SigbookONNXTests", "Fixtures",
                   "attribution")


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.pool = torch.nn.MaxPool2d(2)
        self.fc1 = torch.nn.Linear(4 * 6 * 6, 16)
        self.fc2 = torch.nn.Linear(16, 4)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        return self.fc2(torch.tanh(self.fc1(torch.flatten(x, 1))))


class Residual(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.a = torch.nn.Conv2d(4, 4, 3, padding=1)
        self.b = torch.nn.Conv2d(4, 4, 3, padding=1)
        self.head = torch.nn.Linear(4, 4)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        h = torch.relu(h + self.b(torch.relu(self.a(h))))
        return self.head(h.mean(dim=(2, 3)))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(3)
    x = torch.rand(4, 1, 12, 12)
    targets = torch.tensor([0, 1, 2, 3])
    np.save(os.path.join(OUT, "x.npy"), x.numpy())
    for name, net in [("cnn", CNN()), ("residual", Residual())]:
        if name == "cnn":
            net.bn.running_mean.uniform_(-0.3, 0.3)
            net.bn.running_var.uniform_(0.5, 2.0)
            net.bn.weight.data.uniform_(0.5, 1.5)
            net.bn.bias.data.uniform_(-0.2, 0.2)
        net.eval()
        torch.onnx.export(
            net, x, os.path.join(OUT, f"{name}.onnx"), opset_version=13,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        saliency = Saliency(net).attribute(x, target=targets, abs=False)
        ig = IntegratedGradients(net).attribute(
            x, baselines=torch.zeros_like(x), target=targets, n_steps=50)
        occlusion = Occlusion(net).attribute(
            x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), baselines=0, target=targets)
        for kind, value in [("saliency", saliency), ("ig", ig), ("occlusion", occlusion)]:
            np.save(os.path.join(OUT, f"{name}_{kind}.npy"), value.detach().numpy())


if __name__ == "__main__":
    main()

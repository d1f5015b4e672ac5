#!/usr/bin/env python3
"""Writes the PyTorch fixtures of sigbook's tests: small models and the hidden outputs PyTorch
computes for a few inputs, which the tests compare sigbook's signatures against.

Run from the repository root with Debian's python3-torch (it works offline):

    /usr/bin/python3 scripts/make-pytorch-fixtures.py

Writes
  Tests/SigbookONNXTests/Fixtures/   {mlp,cnn,ae,cnn_fixed}.onnx (torch.onnx.export, TorchScript
                                     exporter, opsets 11 to 17), x.npy (the inputs) and for each
                                     model NAME_h1.npy … (the output of each hidden activation, and
                                     the autoencoder's linear code) and NAME_out.npy
  Tests/SigbookWorkbookTests/Fixtures/pytorch/
                                     {mlp,ae}_state.safetensors (state_dict through
                                     safetensors.torch.save_file), x.npy and the same outputs
Every model is seeded, so running it again gives the same arrays (the .onnx bytes may differ
between torch versions); the output is committed.
"""
import os
import numpy as np
import torch
from torch import nn

torch.manual_seed(0)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
ONNX_DIR = os.path.join(ROOT, "Tests/SigbookONNXTests/Fixtures")
STATE_DIR = os.path.join(ROOT, "Tests/SigbookWorkbookTests/Fixtures/pytorch")
N = 8

# Inputs that look like images: smooth blobs in [0, 1], seeded.
rng = np.random.default_rng(0)
yy, xx = np.mgrid[0:28, 0:28]
x = np.zeros((N, 1, 28, 28), dtype=np.float32)
for i in range(N):
    cy, cx, s = rng.uniform(8, 20), rng.uniform(8, 20), rng.uniform(3, 7)
    x[i, 0] = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
x += rng.uniform(0, 0.1, size=x.shape).astype(np.float32)
x = np.clip(x, 0, 1).astype(np.float32)


class MLP(nn.Module):
    """784-32-16-10 with ReLU, BatchNorm1d (after the activation, so it is not folded) and
    tanh; flattens with x.view(x.size(0), -1), the Shape → Gather → Unsqueeze → Concat chain."""

    def __init__(self):
        super().__init__()
        self.fc1, self.act1 = nn.Linear(784, 32), nn.ReLU()
        self.bn = nn.BatchNorm1d(32)
        self.drop = nn.Dropout(0.2)
        self.fc2, self.act2 = nn.Linear(32, 16), nn.Tanh()
        self.fc3 = nn.Linear(16, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = self.drop(self.bn(self.act1(self.fc1(x))))
        return torch.softmax(self.fc3(self.act2(self.fc2(x))), dim=1)


class CNN(nn.Module):
    """conv(1→4, 3, padding 1) BatchNorm ReLU maxpool(2) conv(4→6, 3, stride 2) sigmoid
    avgpool(2) flatten dense(54→16) ReLU dense(16→10)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, stride=2), nn.Sigmoid(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(54, 16), nn.ReLU(), nn.Linear(16, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class AE(nn.Module):
    """784-32-8 autoencoder: tanh encoder, a linear code, mirrored decoder, sigmoid output
    reshaped to images with a constant shape."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 32), nn.Tanh(), nn.Linear(32, 8))
        self.decoder = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 784), nn.Sigmoid())

    def forward(self, x):
        code = self.encoder(x.reshape(x.shape[0], -1))
        return self.decoder(code).view(-1, 1, 28, 28)


def randomize_batchnorm(model):
    """Non-trivial running statistics, as a trained model has."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n) * 0.5)
            m.running_var.copy_(torch.rand(n) + 0.5)
            m.weight.data.copy_(torch.rand(n) + 0.5)
            m.bias.data.copy_(torch.rand(n) - 0.5)


def hidden_outputs(model, inputs, modules):
    """The outputs of the given modules for the inputs, through forward hooks."""
    saved = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: saved.append(o.detach().numpy()))
             for m in modules]
    with torch.no_grad():
        out = model(torch.from_numpy(inputs)).numpy()
    for h in hooks:
        h.remove()
    return [s.reshape(len(inputs), -1).astype(np.float32) for s in saved], out.astype(np.float32)


def save_arrays(folder, name, hidden, out):
    for i, h in enumerate(hidden):
        np.save(os.path.join(folder, f"{name}_h{i + 1}.npy"), h)
    np.save(os.path.join(folder, f"{name}_out.npy"), out)


def export(model, name, opset, dynamic=True):
    path = os.path.join(ONNX_DIR, f"{name}.onnx")
    torch.onnx.export(
        model, torch.from_numpy(x[:1]), path, opset_version=opset, input_names=["input"],
        output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}
        if dynamic else None)
    print(f"{path}: {os.path.getsize(path)} bytes, opset {opset}")


os.makedirs(ONNX_DIR, exist_ok=True)
os.makedirs(STATE_DIR, exist_ok=True)
np.save(os.path.join(ONNX_DIR, "x.npy"), x)

mlp = MLP()
randomize_batchnorm(mlp)
mlp.eval()
# Signature layers: the outputs of the hidden activations (BatchNorm and dropout follow the
# first, so H1 is the ReLU's output as sigbook's own models define it).
save_arrays(ONNX_DIR, "mlp", *hidden_outputs(mlp, x, [mlp.act1, mlp.act2]))
export(mlp, "mlp", 13)

cnn = CNN()
randomize_batchnorm(cnn)
cnn.eval()
f, c = cnn.features, cnn.classifier
save_arrays(ONNX_DIR, "cnn", *hidden_outputs(cnn, x, [f[2], f[5], c[1]]))
export(cnn, "cnn", 11)
export(cnn, "cnn_fixed", 11, dynamic=False)

ae = AE()
ae.eval()
save_arrays(ONNX_DIR, "ae", *hidden_outputs(
    ae, x, [ae.encoder[1], ae.encoder[2], ae.decoder[1]]))
export(ae, "ae", 17)

# PyTorch state_dicts for load_model(…, architecture:): sigbook's mlp(784, 16, 8, 10) and
# autoencoder(784, 16, 4), under PyTorch's own names (encoder.* sorts after decoder.*).
from safetensors.torch import save_file

flat = x.reshape(N, 784)
np.save(os.path.join(STATE_DIR, "x.npy"), flat)
state_mlp = nn.Sequential()
state_mlp.fc1, state_mlp.relu1 = nn.Linear(784, 16), nn.ReLU()
state_mlp.fc2, state_mlp.relu2 = nn.Linear(16, 8), nn.ReLU()
state_mlp.fc3, state_mlp.softmax = nn.Linear(8, 10), nn.Softmax(dim=1)
state_mlp.eval()
save_arrays(STATE_DIR, "mlp", *hidden_outputs(state_mlp, flat, [state_mlp.relu1, state_mlp.relu2]))
save_file(state_mlp.state_dict(), os.path.join(STATE_DIR, "mlp_state.safetensors"))

state_ae = AE()
state_ae.encoder = nn.Sequential(nn.Linear(784, 16), nn.Tanh(), nn.Linear(16, 4))
state_ae.decoder = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 784), nn.Sigmoid())
state_ae.eval()
e, d = state_ae.encoder, state_ae.decoder
hidden, out = hidden_outputs(state_ae, flat, [e[1], e[2], d[1]])
save_arrays(STATE_DIR, "ae", hidden, out.reshape(N, 784))
save_file(state_ae.state_dict(), os.path.join(STATE_DIR, "ae_state.safetensors"))
print("state dicts:", sorted(os.listdir(STATE_DIR)))

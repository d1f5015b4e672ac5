"""PyTorch (CPU, Debian's python3-torch): W1, W2, W3, W4, W8, W9."""

import torch
from torch import nn

import common as c
from torch_resnet import resnet

# Debian's build starts with one thread unless OMP_NUM_THREADS says otherwise: set both pools
# (inter-op before any parallel work, or it refuses).
torch.set_num_threads(c.THREADS)
torch.set_num_interop_threads(c.THREADS)
peer = c.Peer("pytorch")
peer.versions["torch"] = torch.__version__
peer.threads["intra_op"] = torch.get_num_threads()
peer.threads["inter_op"] = torch.get_num_interop_threads()


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def train(make, x, y, batch, epochs, lr, loss_fn, optimizer="sgd", target=None):
    """Trains a fresh model; returns (model, last epoch's mean loss). Data are tensors in memory,
    batches taken by a shuffled index each epoch: PyTorch's fastest usual loop."""
    torch.manual_seed(0)
    model = make()
    opt = (torch.optim.SGD(model.parameters(), lr=lr) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=lr))
    n = len(x)
    for _ in range(epochs):
        order = torch.randperm(n)
        total = 0.0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            xb = x[idx]
            yb = y[idx] if target is None else xb
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
    return model, total / n


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def tensors(x, y):
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


def w1(repeats):
    (xt, yt), (xv, yv) = c.ones_and_sevens()
    xt, yt = tensors(xt, yt)
    xv, yv = tensors(xv, yv)
    p = c.W1
    times, (model, _) = c.timed(repeats, lambda: train(
        lambda: mlp(p["sizes"]), xt, yt, p["batch"], p["epochs"], p["lr"], nn.CrossEntropyLoss()))
    return c.record("W1", times, "accuracy", accuracy(model, xv, yv))


fashion_model = {}


def w2(repeats):
    xt, yt = tensors(*c.fashion("train"))
    xv, yv = tensors(*c.fashion("test"))
    p = c.W2
    times, (model, _) = c.timed(repeats, lambda: train(
        lambda: mlp(p["sizes"]), xt, yt, p["batch"], p["epochs"], p["lr"], nn.CrossEntropyLoss()))
    fashion_model["model"] = model
    return c.record("W2", times, "accuracy", accuracy(model, xv, yv))


def cnn():
    a, b = c.W3["conv"]
    k = c.W3["kernel"]
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, a, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(a, b, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(b * 7 * 7, 10))


def w3(repeats):
    xt, yt = tensors(*c.fashion("train"))
    xv, yv = tensors(*c.fashion("test"))
    p = c.W3
    times, (model, _) = c.timed(repeats, lambda: train(
        cnn, xt, yt, p["batch"], p["epochs"], p["lr"], nn.CrossEntropyLoss()))
    return c.record("W3", times, "accuracy", accuracy(model, xv, yv))


def w4(repeats):
    x, _ = tensors(*c.fashion("test"))
    model = fashion_model.get("model") or mlp(c.W2["sizes"])
    l1, l2 = model[0], model[2]

    def hidden():
        with torch.no_grad():
            h1 = torch.relu(l1(x))
            h2 = torch.relu(l2(h1))
        return h2

    times, h2 = c.timed(repeats, hidden)
    return c.record("W4", times, "zero fraction H2", (h2 == 0).float().mean().item())


def w8(repeats):
    x, _ = tensors(*c.mnist_test())
    i, h, code = c.W8["sizes"]
    p = c.W8

    def make():
        return nn.Sequential(nn.Linear(i, h), nn.Tanh(), nn.Linear(h, code),
                             nn.Linear(code, h), nn.Tanh(), nn.Linear(h, i))

    # BCE on the logits, fused as sigbook fuses it with the sigmoid.
    times, (_, loss) = c.timed(repeats, lambda: train(
        make, x, x, p["batch"], p["epochs"], p["lr"], nn.BCEWithLogitsLoss(), optimizer="adam",
        target="input"))
    return c.record("W8", times, "epoch loss", loss)


def w9(repeats):
    torch.manual_seed(0)
    a = torch.rand(1024, 1024) * 2 - 1
    b = torch.rand(1024, 1024) * 2 - 1
    times, _ = c.timed(repeats, lambda: torch.mm(a, b))
    import statistics
    return c.record("W9", times, "GFLOP/s", 2 * 1024 ** 3 / statistics.median(times) / 1e9)


def w11(repeats):
    xt, yt = tensors(*c.fashion("train"))
    xv, yv = tensors(*c.fashion("test"))
    xt, xv = xt.reshape(-1, 1, 28, 28), xv.reshape(-1, 1, 28, 28)
    p = c.W11

    def run():
        torch.manual_seed(0)
        model = resnet(c.W11["widths"])
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"])
        loss_fn = nn.CrossEntropyLoss()
        order = torch.randperm(len(xt))
        for start in range(0, len(xt), p["batch"]):
            idx = order[start:start + p["batch"]]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
        return model

    times, model = c.timed(repeats, run)
    model.eval()
    result = c.record("W11", times, "accuracy", accuracy(model, xv, yv))
    result["extra"] = {"peak MiB": c.peak_mib()}
    return result


for wid, body in [("W1", w1), ("W2", w2), ("W3", w3), ("W4", w4), ("W8", w8), ("W9", w9),
                  ("W11", w11)]:
    peer.run(wid, body)
peer.finish()

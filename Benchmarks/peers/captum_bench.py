"""Captum (on Debian's PyTorch): W14, integrated gradients of W3's CNN for 1,000 MNIST images."""

import captum
import torch
from captum.attr import IntegratedGradients
from torch import nn

import common as c

# Captum runs on torch's pools: set both, as torch_bench.py does.
torch.set_num_threads(c.THREADS)
torch.set_num_interop_threads(c.THREADS)
peer = c.Peer("captum")
peer.versions["captum"] = captum.__version__
peer.versions["torch"] = torch.__version__
peer.threads["intra_op"] = torch.get_num_threads()
peer.threads["inter_op"] = torch.get_num_interop_threads()


def cnn():
    """W3's network (as torch_bench.py's), seeded; the weights do not change the work."""
    torch.manual_seed(0)
    a, b = c.W3["conv"]
    k = c.W3["kernel"]
    return nn.Sequential(
        nn.Conv2d(1, a, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(a, b, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(b * 7 * 7, 10)).eval()


def w14(repeats):
    x, y = c.mnist_test()
    p = c.W14
    inputs = torch.from_numpy(x[:p["count"]].reshape(-1, 1, 28, 28).copy())
    targets = torch.from_numpy(y[:p["count"]].copy())
    ig = IntegratedGradients(cnn())
    # Captum's fastest batching here: 256 rows a pass as sigbook's (5 inputs × 50 steps).
    times, maps = c.timed(repeats, lambda: ig.attribute(
        inputs, baselines=torch.zeros_like(inputs), target=targets, n_steps=p["steps"],
        internal_batch_size=256))
    return c.record("W14", times, "maps", maps.shape[0])


peer.run("W14", w14)
peer.finish()

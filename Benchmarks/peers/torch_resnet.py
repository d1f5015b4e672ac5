"""sigbook's `resnet(input: [1, 28, 28], widths: [16, 32, 64], blocks: 1)` in PyTorch: the
network `Benchmarks/peers/torch_bench.py` (W11) times and `scripts/resnet-fashion-pytorch.py`
trains for the accuracy reference."""

import torch
from torch import nn


class Block(nn.Module):
    """sigbook's residual block: conv-BN-ReLU-conv-BN plus the skip (a 1x1 conv + BN where the
    shape changes), ReLU after the join; convolutions with a bias, as sigbook's."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


def resnet(widths=(16, 32, 64), classes=10):
    """`resnet(input: [1, 28, 28], widths: [16, 32, 64], blocks: 1)`: stem conv-BN-ReLU, one
    block per stage (stride 2 from the second), global average pool, Linear."""
    layers, cin = [nn.Conv2d(1, widths[0], 3, 1, 1), nn.BatchNorm2d(widths[0]), nn.ReLU()], widths[0]
    for s, w in enumerate(widths):
        layers.append(Block(cin, w, 2 if s > 0 else 1))
        cin = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)

"""The work each workload does, in floating-point operations, counted analytically: the figure
behind the table's "GFLOP/s · % of sgemm" column (achieved GFLOP/s, and their share of W9's
float32 1024³ matmul rate in the same run, the roofline of a BLAS-bound step).

What is counted, and only that:
  - a dense product of an [m, k] by a [k, n] matrix: 2·m·n·k (one multiply and one add);
  - a convolution: 2·Cout·Cin·kh·kw·Hout·Wout per image;
  - training: forward × 3, the backward pass taken as 2× the forward (one product for the
    weights' gradient and one for the inputs'; the first layer's input gradient, which nobody
    needs, is counted all the same);
  - integrated gradients: forward × 2 per step (the backward pass to the inputs only).
Not counted: activations, pooling, batch norm, losses and optimiser updates. They are
O(activations) or O(parameters) per step, a few percent of the products here, and they are not
what a BLAS-bound step is bounded by.

The shapes are those of Sources/sigbook/BenchWorkloads.swift and Benchmarks/peers/common.py:
change all three together.
"""

FASHION_TRAIN = 60_000
FASHION_TEST = 10_000
MNIST_TEST = 10_000
# W1 trains on the first 80 % of MNIST's test 1s and 7s (1,135 + 1,028).
ONES_AND_SEVENS_TRAIN = round((1135 + 1028) * 0.8)
W5_POINTS, W5_FEATURES = 2_000, 128
W5_KS, W5_RESTARTS = range(2, 11), 10
W13_INPUTS, W13_WIDTHS = 10_000, (256, 128)
W14_IMAGES, W14_STEPS = 1_000, 50


def dense(sizes):
    """FLOPs of one input through a chain of dense layers (784-256-128-10 …)."""
    return sum(2 * a * b for a, b in zip(sizes, sizes[1:]))


def conv(cin, cout, kernel, hout, wout):
    """FLOPs of one image through one convolution."""
    return 2 * cout * cin * kernel * kernel * hout * wout


def cnn():
    """W3's network on one 28 × 28 image: conv8 3×3 'same', pool, conv16 3×3 'same', pool,
    dense 16·7·7 → 10."""
    return conv(1, 8, 3, 28, 28) + conv(8, 16, 3, 14, 14) + dense([16 * 7 * 7, 10])


def resnet():
    """`resnet(input: [1, 28, 28], widths: [16, 32, 64], blocks: 1)` on one image: stem conv,
    one block per stage (two 3×3 convolutions, a 1×1 shortcut where the shape changes, stride 2
    from the second stage), the final dense layer."""
    stem = conv(1, 16, 3, 28, 28)
    stage1 = 2 * conv(16, 16, 3, 28, 28)
    stage2 = conv(16, 32, 3, 14, 14) + conv(32, 32, 3, 14, 14) + conv(16, 32, 1, 14, 14)
    stage3 = conv(32, 64, 3, 7, 7) + conv(64, 64, 3, 7, 7) + conv(32, 64, 1, 7, 7)
    return stem + stage1 + stage2 + stage3 + dense([64, 10])


def kmeans_lower_bound():
    """W5 (k-means k = 2…10 × 10 restarts, exact silhouette): the GEMM work no implementation
    avoids, the n × n distances of the silhouette once and one assignment step (distances to k
    centres as a product) per k and restart. Lloyd runs many such steps, how many depends on
    the data and is not reported, so this is a lower bound and the rate from it one too."""
    n, d = W5_POINTS, W5_FEATURES
    return 2 * n * n * d + sum(2 * n * k * d * W5_RESTARTS for k in W5_KS)


def cka():
    """W13 (linear CKA between every pair of W2's two hidden layers): the Gram products
    Xᵢᵀ·Xⱼ for i ≤ j, each 2·n·dᵢ·dⱼ; centring and the norms are O(n·d). The NumPy peer
    multiplies in float64, whose GEMM runs at about half the float32 rate this is compared to."""
    widths = W13_WIDTHS
    return sum(2 * W13_INPUTS * widths[i] * widths[j]
               for i in range(len(widths)) for j in range(i, len(widths)))


TRAINING = 3

# Workload → (FLOPs, whether the count is exact or a lower bound). Rows missing here (W6 t-SNE,
# W7 UMAP, W12 probes, S) have no bound known that the table could state: they show "—".
# W12's logistic regressions are GEMMs too, but their iteration count is the solver's.
WORK = {
    "W1": (TRAINING * dense([784, 32, 64, 2]) * ONES_AND_SEVENS_TRAIN * 5, "exact"),
    "W2": (TRAINING * dense([784, 256, 128, 10]) * FASHION_TRAIN, "exact"),
    "W3": (TRAINING * cnn() * FASHION_TRAIN, "exact"),
    "W4": (dense([784, 256, 128]) * FASHION_TEST, "exact"),
    "W5": (kmeans_lower_bound(), "lower bound"),
    "W8": (TRAINING * dense([784, 100, 10, 100, 784]) * MNIST_TEST, "exact"),
    "W9": (2 * 1024 ** 3, "exact"),
    "W10": (resnet() * FASHION_TEST, "exact"),
    "W11": (TRAINING * resnet() * FASHION_TRAIN, "exact"),
    "W13": (cka(), "exact"),
    "W14": (2 * cnn() * W14_IMAGES * W14_STEPS, "exact"),
}


def rate(wid, seconds, sgemm_gflops):
    """Achieved GFLOP/s of a time for `wid` and their share of the sgemm rate, or None where the
    work is not counted; `bound` says whether the FLOPs are exact or a lower bound."""
    if wid not in WORK or not seconds:
        return None
    flops, bound = WORK[wid]
    gflops = flops / seconds / 1e9
    share = gflops / sgemm_gflops if sgemm_gflops else None
    return dict(gflop=flops / 1e9, gflops=gflops, sgemm_share=share, bound=bound)

"""numpy: W4 (both hidden layers as two products), W9 (float32 matmul 1024³) and W13 (linear CKA
between every pair of W2's layers, Kornblith et al.'s feature-space formula in float64)."""

import statistics

import numpy as np

import common as c

peer = c.Peer("numpy")
peer.versions["numpy"] = np.__version__


def w4(repeats):
    x, _ = c.fashion("test")
    rng = np.random.default_rng(0)
    (i, a, b, _) = c.W2["sizes"]
    w1 = (rng.standard_normal((a, i)) * (2 / i) ** 0.5).astype(np.float32)
    w2 = (rng.standard_normal((b, a)) * (2 / a) ** 0.5).astype(np.float32)
    b1, b2 = np.zeros(a, np.float32), np.zeros(b, np.float32)

    def hidden():
        h1 = x @ w1.T
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2.T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        return h1, h2

    times, (_, h2) = c.timed(repeats, hidden)
    return c.record("W4", times, "zero fraction H2", float((h2 == 0).mean()))


def w9(repeats):
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (1024, 1024)).astype(np.float32)
    b = rng.uniform(-1, 1, (1024, 1024)).astype(np.float32)
    out = np.empty((1024, 1024), np.float32)
    times, _ = c.timed(repeats, lambda: np.matmul(a, b, out=out))
    return c.record("W9", times, "GFLOP/s", 2 * 1024 ** 3 / statistics.median(times) / 1e9)


def w13(repeats):
    layers, _ = c.probe_sets()["test"]

    def cka():
        centred = [x.astype(np.float64) - x.astype(np.float64).mean(axis=0) for x in layers]
        own = [np.linalg.norm(x.T @ x) for x in centred]
        return [[np.linalg.norm(y.T @ x) ** 2 / (own[i] * own[j])
                 for j, y in enumerate(centred)] for i, x in enumerate(centred)]

    times, matrix = c.timed(repeats, cka)
    return c.record("W13", times, "CKA H1-H2", matrix[0][1])


peer.run("W4", w4)
peer.run("W9", w9)
peer.run("W13", w13)
peer.finish()

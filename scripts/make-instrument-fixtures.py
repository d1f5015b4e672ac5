#!/usr/bin/env python3
"""Reference values for sigbook's instruments, computed by their reference implementations.

Writes Tests/SigbookAnalysisTests/Fixtures/instruments/:
  probe_{train,test}_h{1,2,3}.npy, probe_{train,test}_labels.npy
      three layers of a small random ReLU network over four overlapping Gaussian classes;
  probe.json
      per layer, scikit-learn's LogisticRegression (lbfgs, C = 1, features standardised by
      StandardScaler fitted on the training part, tol 1e-10): coefficients, intercepts, train
      and test accuracy, test log-loss;
  cka_x.npy, cka_y.npy, cka.json
      two representations of 120 inputs and their CKA (Kornblith et al. 2019) computed in
      float64 with n x n kernel matrices: linear and RBF (bandwidth 0.8 and 0.4 of the median
      distance), biased HSIC and the unbiased estimator of Song et al. (2012);
  novelty_metrics.json
      novelty scores of normal and novel inputs (with ties), and scikit-learn's roc_auc_score
      and average_precision_score (novel inputs positive) and FPR at 95% TPR as OpenOOD computes
      it (known inputs positive, confidence = -score, roc_curve, first TPR >= 0.95);
  vim_*.npy, vim.json
      features and a classifier head (weight, bias) of reference, normal and novel inputs, and
      the ViM novelty score of every normal and novel input as OpenOOD's ViM postprocessor
      computes it (origin -pinv(W) b, EmpiricalCovariance(assume_centered=True), the
      eigenvectors beyond the top `dim`, alpha = mean max logit / mean residual norm), negated
      so that higher is more unusual.

Run once, offline, where scikit-learn and NumPy are installed (any recent release):
    python3 scripts/make-instrument-fixtures.py
The tests read only the committed files.
"""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score, roc_curve
from sklearn.covariance import EmpiricalCovariance
from sklearn.preprocessing import StandardScaler

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SigbookAnalysisTests", "Fixtures",
                   "instruments")


def save(name, array):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array, dtype=np.float32))


def probe_fixtures():
    rng = np.random.default_rng(7)
    classes, dims = 4, 5
    centres = rng.normal(0, 1.2, (classes, dims))

    def inputs(n):
        labels = np.arange(n) % classes
        rng.shuffle(labels)
        return centres[labels] + rng.normal(0, 1, (n, dims)), labels

    a1, b1 = rng.normal(0, 0.6, (dims, 12)), rng.normal(0, 0.2, 12)
    a2, b2 = rng.normal(0, 0.4, (12, 8)), rng.normal(0, 0.2, 8)
    a3 = rng.normal(0, 0.5, (8, 4))

    def layers(x):
        h1 = np.maximum(x @ a1 + b1, 0)
        h2 = np.maximum(h1 @ a2 + b2, 0)
        return [h1, h2, h2 @ a3]

    reference = []
    (xtr, ytr), (xte, yte) = inputs(240), inputs(160)
    train, test = layers(xtr), layers(xte)
    save("probe_train_labels.npy", ytr)
    save("probe_test_labels.npy", yte)
    for h, (tr, te) in enumerate(zip(train, test), start=1):
        # The values the tests read: float32, as sigbook holds signatures.
        tr, te = tr.astype(np.float32), te.astype(np.float32)
        save(f"probe_train_h{h}.npy", tr)
        save(f"probe_test_h{h}.npy", te)
        scaler = StandardScaler().fit(tr.astype(np.float64))
        fit = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(
            scaler.transform(tr.astype(np.float64)), ytr)
        p = fit.predict_proba(scaler.transform(te.astype(np.float64)))
        reference.append({
            "coefficients": fit.coef_.tolist(), "intercepts": fit.intercept_.tolist(),
            "train_accuracy": float(fit.score(scaler.transform(tr.astype(np.float64)), ytr)),
            "test_accuracy": float(np.mean(np.argmax(p, axis=1) == yte)),
            "test_log_loss": float(log_loss(yte, p, labels=list(range(classes)))),
        })
    with open(os.path.join(OUT, "probe.json"), "w") as f:
        json.dump(reference, f, indent=1)


def hsic(k, l, unbiased):
    n = k.shape[0]
    if not unbiased:
        h = np.eye(n) - np.ones((n, n)) / n
        return np.trace(k @ h @ l @ h) / (n - 1) ** 2
    k, l = k.copy(), l.copy()
    np.fill_diagonal(k, 0)
    np.fill_diagonal(l, 0)
    one = np.ones(n)
    return (np.trace(k @ l) + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (one @ k @ l @ one)) / (n * (n - 3))


def gram_linear(x):
    x = x - x.mean(axis=0)
    return x @ x.T


def gram_rbf(x, bandwidth):
    sq = np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=2)
    return np.exp(-sq / (2 * bandwidth ** 2 * np.median(sq)))


def cka(k, l, unbiased):
    return hsic(k, l, unbiased) / np.sqrt(hsic(k, k, unbiased) * hsic(l, l, unbiased))


def cka_fixtures():
    rng = np.random.default_rng(11)
    n = 120
    x = rng.normal(0, 1, (n, 6)) * np.array([3, 2, 1.5, 1, 0.5, 0.2]) + 4
    y = np.tanh(x[:, :5] @ rng.normal(0, 0.5, (5, 5))) + rng.normal(0, 0.3, (n, 5))
    x, y = x.astype(np.float32), y.astype(np.float32)
    save("cka_x.npy", x)
    save("cka_y.npy", y)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    reference = {}
    for name, gram in [("linear", gram_linear), ("rbf0.8", lambda v: gram_rbf(v, 0.8)),
                       ("rbf0.4", lambda v: gram_rbf(v, 0.4))]:
        kx, ky = gram(x64), gram(y64)
        for unbiased in (False, True):
            reference[f"{name}{'_unbiased' if unbiased else ''}"] = cka(kx, ky, unbiased)
    with open(os.path.join(OUT, "cka.json"), "w") as f:
        json.dump(reference, f, indent=1)


def novelty_fixtures():
    rng = np.random.default_rng(5)
    cases = []
    for n_normal, n_novel, shift, rounding in [(200, 80, 0.8, 1), (57, 143, 0.3, 10), (40, 40, 2.0, 100)]:
        normal = np.round(rng.normal(0, 1, n_normal) * rounding) / rounding
        novel = np.round(rng.normal(shift, 1, n_novel) * rounding) / rounding
        scores = np.concatenate([normal, novel])
        is_novel = np.concatenate([np.zeros(n_normal), np.ones(n_novel)])
        fpr, tpr, _ = roc_curve(1 - is_novel, -scores)
        cases.append({
            "normal": normal.tolist(), "novel": novel.tolist(),
            "auroc": roc_auc_score(is_novel, scores),
            "aupr": average_precision_score(is_novel, scores),
            "fpr95": float(fpr[np.argmax(tpr >= 0.95)]),
        })
    with open(os.path.join(OUT, "novelty_metrics.json"), "w") as f:
        json.dump(cases, f, indent=1)


def vim_fixtures():
    rng = np.random.default_rng(13)
    d, k, dim = 12, 4, 6
    basis = rng.normal(0, 1, (d, d))
    scales = np.array([3, 2.5, 2, 1.7, 1.4, 1.2, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15])

    def features(n, shift):
        return (rng.normal(0, 1, (n, d)) * scales) @ basis.T + shift

    reference = features(300, 0.5).astype(np.float32)
    normal = features(100, 0.5).astype(np.float32)
    novel = (features(80, 0.5) + rng.normal(0, 1.5, (80, d)) * (scales < 1)).astype(np.float32)
    weight = rng.normal(0, 0.5, (k, d)).astype(np.float32)
    bias = rng.normal(0, 0.5, k).astype(np.float32)
    for name, value in [("reference", reference), ("normal", normal), ("novel", novel),
                        ("weight", weight), ("bias", bias)]:
        save(f"vim_{name}.npy", value)
    w, b = weight.astype(np.float64), bias.astype(np.float64)

    def logits(x):
        return x.astype(np.float64) @ w.T + b

    u = -np.matmul(np.linalg.pinv(w), b)
    ec = EmpiricalCovariance(assume_centered=True)
    ec.fit(reference.astype(np.float64) - u)
    eig_vals, eigen_vectors = np.linalg.eig(ec.covariance_)
    ns = np.ascontiguousarray((eigen_vectors.T[np.argsort(eig_vals * -1)[dim:]]).T)
    alpha = logits(reference).max(axis=-1).mean() / np.linalg.norm(
        (reference.astype(np.float64) - u) @ ns, axis=-1).mean()

    def score(x):
        vlogit = np.linalg.norm((x.astype(np.float64) - u) @ ns, axis=-1) * alpha
        lse = np.log(np.sum(np.exp(logits(x)), axis=-1))
        return (vlogit - lse).tolist()

    with open(os.path.join(OUT, "vim.json"), "w") as f:
        json.dump({"dim": dim, "alpha": alpha, "normal": score(normal), "novel": score(novel)}, f,
                  indent=1)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    probe_fixtures()
    cka_fixtures()
    novelty_fixtures()
    vim_fixtures()

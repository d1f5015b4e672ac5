"""S: the one-vs-seven study the way the original project did it, in one headless process:
Keras for the network, scikit-learn for k-means, silhouettes, metrics and novelty, umap-learn
for the planes, matplotlib (Agg) for every figure. It does what Workbooks/one-vs-seven.sigbook
does: train 784-32-64-2 on the sample's 1s and 7s, signatures of the test images, k-means
k = 2…10 per layer by silhouette, layer report (purity, NMI, ARI), paths and a Sankey diagram,
UMAP of each layer by label and by cluster, neuron heat map, the 7s on the 1s' path, unseen 3s
and 4s assigned and scored (k-NN, Mahalanobis, softmax) with one ROC figure.

Timed as `sigbook bench` times S: from reading the data to the last figure written, once to warm
up and then REPEATS["S"] times, in this process (imports not counted).
"""

import gzip
import os
import shutil
import tempfile
from collections import Counter

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
import umap  # noqa: E402
from keras import layers  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.covariance import LedoitWolf  # noqa: E402
from sklearn.metrics import (adjusted_rand_score, normalized_mutual_info_score,  # noqa: E402
                             roc_auc_score, roc_curve, silhouette_score)
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

import common as c  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(c.THREADS)
tf.config.threading.set_inter_op_parallelism_threads(c.THREADS)
SAMPLE = os.environ.get("SIGBOOK_SAMPLE", os.path.join(c.ROOT, "Data", "mnist_5k.csv.gz"))


def load_sample(digits, per_class=None, seed=0):
    with gzip.open(SAMPLE, "rt") as f:
        table = np.fromstring(f.read().replace("\n", ","), sep=",").reshape(-1, 785)
    x, y = table[:, :784].astype(np.float32) / 255, table[:, 784].astype(np.int64)
    keep = np.isin(y, digits)
    x, y = x[keep], y[keep]
    if per_class:
        rng = np.random.default_rng(seed)
        chosen = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == d), per_class, False)
                                         for d in digits]))
        x, y = x[chosen], y[chosen]
    return x, np.searchsorted(sorted(digits), y)


def kmeans_sweep(s, seed):
    best = None
    for k in range(2, 11):
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(s)
        sil = silhouette_score(s, km.labels_)
        if best is None or sil > best[2]:
            best = (k, km, sil)
    return best


def purity(labels, clusters):
    return sum(Counter(labels[clusters == k]).most_common(1)[0][1]
               for k in np.unique(clusters)) / len(labels)


def sankey(ax, columns):
    """Flows between consecutive columns of cluster ids, as bands between stacked boxes."""
    n = len(columns[0])
    positions = []
    for col in columns:
        counts = Counter(col)
        y, pos = 0.0, {}
        for k in sorted(counts):
            pos[k] = [y, y + counts[k] / n]
            y += counts[k] / n + 0.02
        positions.append(pos)
    for i, pos in enumerate(positions):
        for k, (a, b) in pos.items():
            ax.add_patch(plt.Rectangle((i - 0.05, a), 0.1, b - a, color="0.3"))
            ax.text(i, (a + b) / 2, str(k), color="white", ha="center", va="center", fontsize=7)
    for i in range(len(columns) - 1):
        out = {k: v[0] for k, v in positions[i].items()}
        inn = {k: v[0] for k, v in positions[i + 1].items()}
        for (a, b), count in sorted(Counter(zip(columns[i], columns[i + 1])).items()):
            h = count / n
            xs = np.linspace(i + 0.05, i + 0.95, 30)
            t = (1 - np.cos(np.pi * (xs - xs[0]) / (xs[-1] - xs[0]))) / 2
            low = out[a] + (inn[b] - out[a]) * t
            ax.fill_between(xs, low, low + h, alpha=0.4)
            out[a] += h
            inn[b] += h
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(0, 1.1)
    ax.axis("off")


def study(folder):
    figures = []

    def save(fig, name):
        path = os.path.join(folder, name + ".png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        figures.append(path)

    x, y = load_sample([1, 7])
    xt, xv, yt, yv = train_test_split(x, y, test_size=0.2, random_state=7, stratify=y)
    keras.utils.set_random_seed(7)
    inputs = keras.Input((784,))
    h1 = layers.Dense(32, activation="relu")(inputs)
    h2 = layers.Dense(64, activation="relu")(h1)
    out = layers.Dense(2, activation="softmax")(h2)
    net = keras.Model(inputs, out)
    net.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    history = net.fit(xt, yt, batch_size=32, epochs=10, validation_data=(xv, yv), verbose=0)
    fig, ax = plt.subplots()
    ax.plot(history.history["loss"], label="train")
    ax.plot(history.history["val_loss"], label="validation")
    ax.legend()
    save(fig, "training")
    probabilities = net.predict(xv, verbose=0)
    predictions = probabilities.argmax(1)
    print("test accuracy:", (predictions == yv).mean())

    signature_model = keras.Model(inputs, [h1, h2])
    sig = [s for s in signature_model.predict(xv, verbose=0)]
    sweeps = [kmeans_sweep(s, 7) for s in sig]
    clusters = [km.labels_ for _, km, _ in sweeps]
    fig, ax = plt.subplots()
    for i, s in enumerate(sig):
        scores = [silhouette_score(s, KMeans(k, n_init=10, random_state=7).fit_predict(s))
                  for k in range(2, 11)]
        ax.plot(range(2, 11), scores, marker="o", label=f"H{i + 1}")
    ax.legend()
    save(fig, "choice")
    separating = "none"
    for i, cl in enumerate(clusters):
        nmi = normalized_mutual_info_score(yv, cl)
        print(f"H{i + 1}: k={sweeps[i][0]} purity={purity(yv, cl):.3f} nmi={nmi:.3f} "
              f"ari={adjusted_rand_score(yv, cl):.3f}")
        if separating == "none" and nmi > 0.8:
            separating = f"H{i + 1}"
    print("the classes separate from layer", separating)

    paths = Counter(zip(*clusters, predictions))
    print("paths:", paths.most_common(6))
    fig, ax = plt.subplots(figsize=(8, 5))
    sankey(ax, clusters + [predictions])
    save(fig, "flows")

    fig, axes = plt.subplots(2, 2, figsize=(10, 10))
    for i, s in enumerate(sig):
        plane = umap.UMAP(random_state=7, n_jobs=1).fit_transform(s)
        axes[i, 0].scatter(plane[:, 0], plane[:, 1], c=yv, s=4, cmap="tab10")
        axes[i, 0].set_title(f"H{i + 1} by label")
        axes[i, 1].scatter(plane[:, 0], plane[:, 1], c=clusters[i], s=4, cmap="tab10")
        axes[i, 1].set_title(f"H{i + 1} by cluster")
    save(fig, "planes")
    fig, ax = plt.subplots()
    ax.imshow(np.stack([sig[1][yv == d].mean(0) for d in (0, 1)]), aspect="auto")
    save(fig, "neurons")

    majority = {p: Counter(yv[[tuple(q) == p for q in zip(*clusters)]]).most_common(1)[0][0]
                for p in set(zip(*clusters))}
    layer_paths = Counter(zip(*clusters))
    ones_path = max((p for p in layer_paths if majority[p] == 0), key=lambda p: layer_paths[p])
    on_path = np.array([tuple(q) == ones_path for q in zip(*clusters)])
    sevens = np.flatnonzero(on_path & (yv == 1))
    print("the 1s' main path:", ones_path, on_path.sum(), "images,", len(sevens), "are 7s")
    if len(sevens):
        fig, axes = plt.subplots(4, 4, figsize=(6, 6))
        for ax, i in zip(axes.flat, list(sevens[:16]) + [None] * 16):
            ax.axis("off")
            if i is not None:
                ax.imshow(xv[i].reshape(28, 28), cmap="gray")
                ax.set_title(f"pred {'17'[predictions[i]]}", fontsize=7)
        save(fig, "lookalikes")

    xu, _ = load_sample([3, 4], per_class=100, seed=3)
    sig_u = signature_model.predict(xu, verbose=0)
    sig_t = signature_model.predict(xt, verbose=0)
    assigned = [km.predict(s) for (_, km, _), s in zip(sweeps, sig_u)]
    print("unseen paths:", Counter(zip(*assigned)).most_common(6))

    def normalised(s):
        return s / np.maximum(np.linalg.norm(s, axis=1, keepdims=True), 1e-12)

    def knn_scores(ref, s, k=10):
        nn = NearestNeighbors(n_neighbors=k).fit(normalised(ref))
        return nn.kneighbors(normalised(s))[0][:, -1]

    def maha_scores(ref, labels, s):
        means = np.stack([ref[labels == d].mean(0) for d in (0, 1)])
        precision = LedoitWolf().fit(ref - means[labels]).precision_
        d = [np.einsum("ij,jk,ik->i", s - m, precision, s - m) for m in means]
        return np.sqrt(np.min(d, axis=0))

    truth = np.r_[np.zeros(len(xv)), np.ones(len(xu))]
    scores = {
        "k-NN": sum(np.r_[knn_scores(r, a), knn_scores(r, b)] for r, a, b in zip(sig_t, sig, sig_u)),
        "Mahalanobis": sum(np.r_[maha_scores(r, yt, a), maha_scores(r, yt, b)]
                           for r, a, b in zip(sig_t, sig, sig_u)),
        "softmax": 1 - np.r_[probabilities.max(1), net.predict(xu, verbose=0).max(1)],
    }
    fig, ax = plt.subplots()
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(truth, s)
        ax.plot(fpr, tpr, label=f"{name} {roc_auc_score(truth, s):.3f}")
    ax.legend()
    save(fig, "detection")
    print("AUROC:", {k: round(roc_auc_score(truth, s), 3) for k, s in scores.items()})
    return len(figures)


def s(repeats):
    folder = tempfile.mkdtemp(prefix="peer-study-")
    try:
        times, figures = c.timed(repeats, lambda: study(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return c.record("S", times, "figures", figures)


if os.environ.get("STUDY_ONCE"):
    # One cold run in a fresh process (imports and numba compilation included), untimed here:
    # run.py times the whole process.
    folder = tempfile.mkdtemp(prefix="peer-study-")
    study(folder)
    shutil.rmtree(folder, ignore_errors=True)
    raise SystemExit(0)

peer = c.Peer("keras+sklearn+umap+matplotlib")
peer.versions.update({"tensorflow": tf.__version__, "umap-learn": umap.__version__,
                      "matplotlib": matplotlib.__version__})
peer.run("S", s)
peer.finish()

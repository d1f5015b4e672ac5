#!/usr/bin/env python3
"""Reference inertias for sigbook's k-means, computed by scikit-learn.

Writes Tests/SigbookAnalysisTests/Fixtures/kmeans/:
  h1.npy, h2.npy
      the one-vs-seven network's signatures (Workbooks/one-vs-seven.sigbook: its 200 test
      images, layers H1 [200, 32] and H2 [200, 64], float32), on which k-means has many nearby
      minima for k >= 5;
  w5.npy
      W5's input in `sigbook bench` (the second hidden layer of W2's Fashion-MNIST network on
      2,000 test images, [2000, 128] float32);
  kmeans.json
      per layer and k = 2..10, the inertia of scikit-learn's KMeans(n_clusters=k, n_init=10,
      random_state=0) on those float32 arrays, recomputed in float64 from its labels (the sum of
      squared distances of the points to the means of their clusters, as sigbook measures it),
      with scikit-learn's own inertia_ beside it, the worst of random_state 0..9 (how far
      scikit-learn's own ten restarts spread) and the scikit-learn version.

The signatures come from sigbook itself; export them with a workbook holding the first cells of
Workbooks/one-vs-seven.sigbook followed by

    sig = signatures(net, test)
    export(sig, "ovs.npz")

(`sigbook run export.sigbook` writes export.figures/ovs.npz), then, where scikit-learn and NumPy
are installed (any recent release):

    sigbook bench --only W5 --repeats 0 --signatures-out w5.npy
    python3 scripts/make-kmeans-fixtures.py export.figures/ovs.npz w5.npy

The tests read only the committed files.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.cluster import KMeans

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SigbookAnalysisTests", "Fixtures",
                   "kmeans")


def partition_inertia(x, labels):
    x = x.astype(np.float64)
    total = 0.0
    for c in np.unique(labels):
        points = x[labels == c]
        total += float(((points - points.mean(axis=0)) ** 2).sum())
    return total


def reference_rows(x):
    rows = []
    for k in range(2, 11):
        fits = [KMeans(n_clusters=k, n_init=10, random_state=r).fit(x) for r in range(10)]
        rows.append({"k": k, "inertia": partition_inertia(x, fits[0].labels_),
                     "sklearn_inertia": float(fits[0].inertia_),
                     "worst_of_random_states": max(partition_inertia(x, f.labels_)
                                                   for f in fits)})
    return rows


def main():
    signatures = np.load(sys.argv[1])
    layers = {name.lower(): signatures[name] for name in ("H1", "H2")}
    layers["w5"] = np.load(sys.argv[2])
    reference = {"sklearn": sklearn.__version__, "layers": {}}
    for name, array in layers.items():
        x = np.ascontiguousarray(array, dtype=np.float32)
        np.save(os.path.join(OUT, name + ".npy"), x)
        reference["layers"][name] = reference_rows(x)
    with open(os.path.join(OUT, "kmeans.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

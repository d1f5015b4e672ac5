#!/usr/bin/env python3
"""Reference inertias for sigbook's k-means, computed by scikit-learn.

Writes Tests/SigbookAnalysisTests/Fixtures/kmeans/:
  h1.npy, h2.npy
      the one-vs-seven network's signatures (Workbooks/one-vs-seven.sigbook: its 200 test
      images, layers H1 [200, 32] and H2 [200, 64], float32), on which k-means has many nearby
      minima for k >= 5;
  kmeans.json
      per layer and k = 2..10, the inertia of scikit-learn's KMeans(n_clusters=k, n_init=10,
      random_state=0) on those float32 arrays, recomputed in float64 from its labels (the sum of
      squared distances of the points to the means of their clusters, as sigbook measures it),
      with scikit-learn's own inertia_ beside it and the scikit-learn version.

The signatures come from sigbook itself; export them with a workbook holding the first cells of
Workbooks/one-vs-seven.sigbook followed by

    sig = signatures(net, test)
    export(sig, "ovs.npz")

(`sigbook run export.sigbook` writes export.figures/ovs.npz), then, where scikit-learn and NumPy
are installed (any recent release):

    python3 scripts/make-kmeans-fixtures.py export.figures/ovs.npz

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


def main():
    signatures = np.load(sys.argv[1])
    reference = {"sklearn": sklearn.__version__, "layers": {}}
    for layer in ("H1", "H2"):
        x = np.ascontiguousarray(signatures[layer], dtype=np.float32)
        np.save(os.path.join(OUT, layer.lower() + ".npy"), x)
        rows = []
        for k in range(2, 11):
            fit = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
            rows.append({"k": k, "inertia": partition_inertia(x, fit.labels_),
                         "sklearn_inertia": float(fit.inertia_)})
        reference["layers"][layer.lower()] = rows
    with open(os.path.join(OUT, "kmeans.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

"""umap-learn: W7 (defaults, 15 neighbours, min_dist 0.1, spectral initialisation), n_jobs
threads (numba's pool, which NUMBA_NUM_THREADS caps, is sized by umap-learn from it).

The first fit in the process compiles umap-learn's numba code ("cold"); the timed runs after it
are "warm", the figure compared.
"""

import time

import umap
from sklearn.manifold import trustworthiness

import common as c

peer = c.Peer("umap-learn")
peer.versions["umap-learn"] = umap.__version__
peer.threads["n_jobs"] = c.THREADS


def w7(repeats):
    x = c.signatures()
    start = time.perf_counter()
    umap.UMAP(n_jobs=c.THREADS).fit_transform(x)
    cold = time.perf_counter() - start
    times, embedding = c.timed(repeats, lambda: umap.UMAP(n_jobs=c.THREADS).fit_transform(x))
    return c.record("W7", times, "trustworthiness", trustworthiness(x, embedding, n_neighbors=10),
                    cold=cold)


peer.run("W7", w7)
peer.finish()

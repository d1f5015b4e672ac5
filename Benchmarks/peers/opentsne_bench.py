"""openTSNE: W6 (defaults: perplexity 30, PCA initialisation, 250 + 500 iterations), n_jobs
threads."""

import openTSNE
from sklearn.manifold import trustworthiness

import common as c

peer = c.Peer("openTSNE")
peer.versions["openTSNE"] = openTSNE.__version__
peer.threads["n_jobs"] = c.THREADS


def w6(repeats):
    x = c.signatures()
    times, embedding = c.timed(
        repeats, lambda: openTSNE.TSNE(n_jobs=c.THREADS, random_state=0).fit(x))
    return c.record("W6", times, "trustworthiness", trustworthiness(x, embedding, n_neighbors=10))


peer.run("W6", w6)
peer.finish()

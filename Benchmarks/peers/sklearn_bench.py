"""scikit-learn: W2 (MLPClassifier, plain SGD), W5 (k-means sweep + exact silhouette) and W12
(linear probes: LogisticRegression on standardised signatures, every layer)."""

import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_score
from sklearn.neural_network import MLPClassifier

import common as c

warnings.filterwarnings("ignore", category=ConvergenceWarning)
peer = c.Peer("scikit-learn")
peer.versions["scikit-learn"] = sklearn.__version__
# KMeans, LogisticRegression and MLPClassifier take their threads from OpenMP and BLAS, which
# c.Peer limits; only the silhouette's pairwise distances take n_jobs.
peer.threads["n_jobs"] = c.THREADS


def w2(repeats):
    xt, yt = c.fashion("train")
    xv, yv = c.fashion("test")
    p = c.W2

    def fit():
        return MLPClassifier(
            hidden_layer_sizes=p["sizes"][1:-1], solver="sgd", batch_size=p["batch"],
            learning_rate_init=p["lr"], max_iter=p["epochs"], momentum=0,
            nesterovs_momentum=False, alpha=0, shuffle=True, random_state=0).fit(xt, yt)

    times, model = c.timed(repeats, fit)
    return c.record("W2", times, "accuracy", model.score(xv, yv))


def w5(repeats):
    x = c.signatures()

    def sweep():
        best = None
        for k in c.W5["ks"]:
            labels = KMeans(n_clusters=k, n_init=c.W5["restarts"], random_state=0).fit_predict(x)
            s = silhouette_score(x, labels, n_jobs=c.THREADS)
            if best is None or s > best[1]:
                best = (k, s)
        return best

    times, (k, s) = c.timed(repeats, sweep)
    return c.record("W5", times, "k", k, silhouette=s)


def w12(repeats):
    sets = c.probe_sets()
    (train, ytrain), (test, ytest) = sets["train"], sets["test"]
    p = c.W12

    def probes():
        accuracies = []
        for xt, xv in zip(train, test):
            scaler = StandardScaler().fit(xt)
            fit = LogisticRegression(C=p["c"], tol=p["tol"], max_iter=p["max_iter"]).fit(
                scaler.transform(xt), ytrain)
            accuracies.append(fit.score(scaler.transform(xv), ytest))
        return accuracies

    times, accuracies = c.timed(repeats, probes)
    return c.record("W12", times, "test accuracy H2", accuracies[-1],
                    **{"test accuracy H1": accuracies[0]})


peer.run("W2", w2)
peer.run("W5", w5)
peer.run("W12", w12)
peer.finish()

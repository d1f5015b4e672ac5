"""Keras (tensorflow-cpu): W1, W2, W3, W4, W8."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

import common as c  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(c.THREADS)
tf.config.threading.set_inter_op_parallelism_threads(c.THREADS)
keras.utils.set_random_seed(0)

peer = c.Peer("keras")
peer.versions["tensorflow"] = tf.__version__
peer.versions["keras"] = keras.__version__
peer.threads["intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()
peer.threads["inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()


def mlp(sizes):
    model = keras.Sequential([keras.Input((sizes[0],))]
                             + [layers.Dense(s, activation="relu") for s in sizes[1:-1]]
                             + [layers.Dense(sizes[-1], activation="softmax")])
    return model


def trainer(model, loss, optimizer, x, y, batch, epochs):
    """Compiles once; each call restores the initial weights (and a fresh optimizer state) and
    fits, so the traced training function is reused as a Keras user re-running a cell would."""
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"] if loss != "binary_crossentropy" else None)
    initial = model.get_weights()
    initial_opt = None

    def fit():
        nonlocal initial_opt
        model.set_weights(initial)
        if initial_opt is None and model.optimizer.variables:
            initial_opt = [v.numpy() for v in model.optimizer.variables]
        elif initial_opt is not None:
            for v, value in zip(model.optimizer.variables, initial_opt):
                v.assign(value)
        history = model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0)
        return model, history.history["loss"][-1]

    return fit


def accuracy(model, x, y):
    return float((model.predict(x, batch_size=1024, verbose=0).argmax(1) == y).mean())


def w1(repeats):
    (xt, yt), (xv, yv) = c.ones_and_sevens()
    p = c.W1
    fit = trainer(mlp(p["sizes"]), "sparse_categorical_crossentropy",
                  keras.optimizers.SGD(p["lr"]), xt, yt, p["batch"], p["epochs"])
    times, (model, _) = c.timed(repeats, fit)
    return c.record("W1", times, "accuracy", accuracy(model, xv, yv))


fashion_model = {}


def w2(repeats):
    xt, yt = c.fashion("train")
    xv, yv = c.fashion("test")
    p = c.W2
    fit = trainer(mlp(p["sizes"]), "sparse_categorical_crossentropy",
                  keras.optimizers.SGD(p["lr"]), xt, yt, p["batch"], p["epochs"])
    times, (model, _) = c.timed(repeats, fit)
    fashion_model["model"] = model
    return c.record("W2", times, "accuracy", accuracy(model, xv, yv))


def w3(repeats):
    xt, yt = c.fashion("train")
    xv, yv = c.fashion("test")
    p = c.W3
    a, b = p["conv"]
    k = p["kernel"]
    model = keras.Sequential([
        keras.Input((784,)), layers.Reshape((28, 28, 1)),
        layers.Conv2D(a, k, padding="same", activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(b, k, padding="same", activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(10, activation="softmax")])
    fit = trainer(model, "sparse_categorical_crossentropy", keras.optimizers.SGD(p["lr"]),
                  xt, yt, p["batch"], p["epochs"])
    times, (model, _) = c.timed(repeats, fit)
    return c.record("W3", times, "accuracy", accuracy(model, xv, yv))


def w4(repeats):
    x, _ = c.fashion("test")
    model = fashion_model.get("model") or mlp(c.W2["sizes"])
    hidden = keras.Model(model.inputs, [model.layers[0].output, model.layers[1].output])
    xt = tf.constant(x)
    times, (_, h2) = c.timed(repeats, lambda: hidden(xt, training=False))
    return c.record("W4", times, "zero fraction H2", float((h2.numpy() == 0).mean()))


def w8(repeats):
    x, _ = c.mnist_test()
    i, h, code = c.W8["sizes"]
    p = c.W8
    model = keras.Sequential([keras.Input((i,)), layers.Dense(h, activation="tanh"),
                              layers.Dense(code), layers.Dense(h, activation="tanh"),
                              layers.Dense(i, activation="sigmoid")])
    fit = trainer(model, "binary_crossentropy", keras.optimizers.Adam(p["lr"]), x, x,
                  p["batch"], p["epochs"])
    times, (_, loss) = c.timed(repeats, fit)
    return c.record("W8", times, "epoch loss", loss)


for wid, body in [("W1", w1), ("W2", w2), ("W3", w3), ("W4", w4), ("W8", w8)]:
    peer.run(wid, body)
peer.finish()

#!/usr/bin/env python3
"""Writes the Keras fixture of sigbook's ONNX tests: a small Keras CNN on NHWC images, converted
with tf2onnx, with the inputs and the outputs Keras computes for them.

Needs TensorFlow and tf2onnx (in a virtual environment, as tf2onnx pins its own protobuf):

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf2onnx
    /tmp/tfvenv/bin/python scripts/make-keras-fixture.py

Writes Tests/SigbookONNXTests/Fixtures/keras.onnx, keras_x.npy ([N, 28, 28, 1], as Keras takes
images), keras_h3.npy (the dense hidden layer's ReLU output) and keras_out.npy (the softmax).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
import tf2onnx

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests/SigbookONNXTests/Fixtures")
tf.keras.utils.set_random_seed(0)

inputs = tf.keras.Input(shape=(28, 28, 1), name="image")
x = tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
x = tf.keras.layers.MaxPooling2D(2)(x)
x = tf.keras.layers.Conv2D(6, 3, activation="tanh")(x)
x = tf.keras.layers.AveragePooling2D(2)(x)
x = tf.keras.layers.Flatten()(x)
x = tf.keras.layers.BatchNormalization()(x)
hidden = tf.keras.layers.Dense(16, activation="relu", name="hidden")(x)
outputs = tf.keras.layers.Dense(10, activation="softmax")(hidden)
model = tf.keras.Model(inputs, outputs)
# Non-trivial normalisation statistics, as a trained model has.
bn = model.layers[6]
rng = np.random.default_rng(0)
n = bn.gamma.shape[0]
bn.set_weights([rng.uniform(0.5, 1.5, n), rng.uniform(-0.5, 0.5, n), rng.uniform(0, 0.5, n),
                rng.uniform(0.5, 1.5, n)])

for layer in model.layers:  # non-zero biases, so the converter keeps its bias additions
    if hasattr(layer, "bias") and layer.bias is not None:
        layer.bias.assign(rng.uniform(-0.3, 0.3, layer.bias.shape).astype(np.float32))

xs = np.load(os.path.join(OUT, "x.npy")).transpose(0, 2, 3, 1).copy()  # NCHW → NHWC
np.save(os.path.join(OUT, "keras_x.npy"), xs.astype(np.float32))
np.save(os.path.join(OUT, "keras_out.npy"), model(xs, training=False).numpy().astype(np.float32))
probe = tf.keras.Model(inputs, hidden)
np.save(os.path.join(OUT, "keras_h3.npy"), probe(xs, training=False).numpy().astype(np.float32))

spec = (tf.TensorSpec((None, 28, 28, 1), tf.float32, name="image"),)
fn = tf.function(lambda t: model(t, training=False))
path = os.path.join(OUT, "keras.onnx")
tf2onnx.convert.from_function(fn, input_signature=spec, opset=13, output_path=path)
print(f"{path}: {os.path.getsize(path)} bytes, tf {tf.__version__}, tf2onnx {tf2onnx.__version__}")

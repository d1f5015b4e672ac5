#!/usr/bin/env python3
"""Writes the tf2onnx graph-model fixtures of sigbook's ONNX tests: small seeded Keras models
(residual connections, depthwise convolutions, multi-head attention) converted by tf2onnx, as
Keras users export them. The companion of make-graph-fixtures.py (PyTorch's exports); its
reference stage then computes every node's output with ONNX Runtime for both.

Needs TensorFlow and tf2onnx, in a virtual environment of their own (tf2onnx pins its own
protobuf). From the repository root:

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf2onnx
    /tmp/tfvenv/bin/python scripts/make-tf2onnx-graph-fixtures.py   # the .onnx files, Keras's outputs
    python3 scripts/make-graph-fixtures.py reference                # every node's output (ONNX Runtime)

Made with TensorFlow 2.21 (Keras 3.15) and tf2onnx 1.17, the batch axis symbolic, at opset 13,
and the ViT at 17 too (tf2onnx writes the ResNet and the MobileNet node for node alike at 17;
the ViT's nodes come in another order). Models (NHWC inputs, as Keras takes images; batch normalisation and layer
normalisation given seeded statistics and weights, as trained models have):
  keras_resnet     [N,28,28,1]: conv-BN-ReLU stem (8 channels); a residual block; a block of 16
                   channels with stride 2 and a 1x1 conv-BN projection on the skip; global
                   average pooling; Dense 10
  keras_mobilenet  [N,32,32,3]: stride-2 conv-BN-ReLU6 stem; three inverted-residual blocks (1x1
                   expansion, DepthwiseConv2D 3x3, 1x1 projection, each with BN; ReLU6, then
                   hard-swish in the last; the residual add where the shapes agree); global
                   average pooling; Dense 10
  keras_vit        [N,28,28,1]: 7x7 stride-7 patch embedding (16 tokens of 32), a class token
                   tiled to the batch, a learned position embedding; two pre-norm blocks of
                   LayerNormalization + keras MultiHeadAttention (4 heads of 8) + residual,
                   LayerNormalization + Dense 64 with exact GELU (written with erf: TensorFlow
                   2.21's gelu uses erfc, which tf2onnx does not convert) + Dense 32 + residual;
                   final LayerNormalization, the class token, Dense 10

tf2onnx writes Keras's layer normalisation as moments (GlobalAveragePool over the last axis,
Sub, Mul, Sqrt, Reciprocal), the attention's einsums as Transpose/Reshape/MatMul with the sizes
computed from Shape/Gather/ReduceProd/Max/Concat, and the class token's repetition as Tile.

Writes Tests/SigbookONNXTests/Fixtures/graphs/
  x28_nhwc.npy, x32_nhwc.npy    x28.npy and x32.npy (make-graph-fixtures.py's inputs) in NHWC
  keras_NAME_opK.onnx           the converted models, input `input`, output `output`
  keras_NAME_opK/keras_output.npy   Keras's output for the input
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT_DIR = os.path.join(ROOT, "Tests/SigbookONNXTests/Fixtures/graphs")
OPSETS = {"resnet": (13,), "mobilenet": (13,), "vit": (13, 17)}
keras = tf.keras
L = keras.layers


def seeded_normalisation(model, rng):
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.uniform(-0.5, 0.5, n),
                               rng.uniform(-0.3, 0.3, n), rng.uniform(0.5, 1.5, n)])
        elif isinstance(layer, L.LayerNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.uniform(-0.3, 0.3, n)])


def resnet():
    x0 = keras.Input((28, 28, 1), name="input")

    def conv_bn(x, channels, kernel=3, stride=1, relu=True):
        x = L.Conv2D(channels, kernel, strides=stride, padding="same", use_bias=False)(x)
        x = L.BatchNormalization(epsilon=1e-5)(x)
        return L.ReLU()(x) if relu else x

    x = conv_bn(x0, 8)
    y = conv_bn(conv_bn(x, 8), 8, relu=False)
    x = L.ReLU()(L.Add()([x, y]))
    y = conv_bn(conv_bn(x, 16, stride=2), 16, relu=False)
    skip = conv_bn(x, 16, kernel=1, stride=2, relu=False)
    x = L.ReLU()(L.Add()([skip, y]))
    return keras.Model(x0, L.Dense(10)(L.GlobalAveragePooling2D()(x)))


def mobilenet():
    x0 = keras.Input((32, 32, 3), name="input")
    x = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x0)
    x = L.ReLU(max_value=6)(L.BatchNormalization(epsilon=1e-5)(x))

    def block(x, expand, out, activation):
        y = activation(L.BatchNormalization(epsilon=1e-5)(L.Conv2D(expand, 1, use_bias=False)(x)))
        y = L.DepthwiseConv2D(3, padding="same", use_bias=False)(y)
        y = activation(L.BatchNormalization(epsilon=1e-5)(y))
        y = L.BatchNormalization(epsilon=1e-5)(L.Conv2D(out, 1, use_bias=False)(y))
        return L.Add()([x, y]) if x.shape[-1] == out else y

    def relu6(t):
        return L.ReLU(max_value=6)(t)

    def hard_swish(t):
        return L.Activation("hard_swish")(t)

    x = block(x, 16, 8, relu6)
    x = block(x, 24, 12, relu6)
    x = block(x, 24, 12, hard_swish)
    return keras.Model(x0, L.Dense(10)(L.GlobalAveragePooling2D()(x)))


class ClassToken(L.Layer):
    def build(self, shape):
        self.token = self.add_weight(shape=(1, 1, shape[-1]), initializer="random_normal")

    def call(self, x):
        return tf.concat([tf.tile(self.token, [tf.shape(x)[0], 1, 1]), x], axis=1)


class PositionEmbedding(L.Layer):
    def build(self, shape):
        self.position = self.add_weight(shape=(1, shape[1], shape[2]), initializer="random_normal")

    def call(self, x):
        return x + self.position


def gelu(t):
    return 0.5 * t * (1.0 + tf.math.erf(t / np.float32(np.sqrt(2.0))))


def vit():
    x0 = keras.Input((28, 28, 1), name="input")
    x = L.Reshape((16, 32))(L.Conv2D(32, 7, strides=7)(x0))
    x = PositionEmbedding()(ClassToken()(x))
    for _ in range(2):
        y = L.LayerNormalization(epsilon=1e-5)(x)
        x = L.Add()([x, L.MultiHeadAttention(num_heads=4, key_dim=8)(y, y)])
        y = L.Dense(64, activation=gelu)(L.LayerNormalization(epsilon=1e-5)(x))
        x = L.Add()([x, L.Dense(32)(y)])
    x = L.Lambda(lambda t: t[:, 0])(L.LayerNormalization(epsilon=1e-5)(x))
    return keras.Model(x0, L.Dense(10)(x))


def main():
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    inputs = {}
    for size in (28, 32):
        x = np.load(os.path.join(OUT_DIR, f"x{size}.npy"))
        inputs[size] = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # NCHW → NHWC
        np.save(os.path.join(OUT_DIR, f"x{size}_nhwc.npy"), inputs[size])
    for name, make, size in [("resnet", resnet, 28), ("mobilenet", mobilenet, 32), ("vit", vit, 28)]:
        model = make()
        seeded_normalisation(model, rng)
        spec = (tf.TensorSpec((None,) + tuple(model.input.shape[1:]), tf.float32, name="input"),)
        function = tf.function(lambda t, m=model: m(t, training=False))
        expected = model(inputs[size], training=False).numpy().astype(np.float32)
        for opset in OPSETS[name]:
            stem = f"keras_{name}_op{opset}"
            converted, _ = tf2onnx.convert.from_function(
                function, input_signature=spec, opset=opset)
            # The output is named `output`, as make-graph-fixtures.py's reference stage reads it.
            old = converted.graph.output[0].name
            for node in converted.graph.node:
                node.input[:] = ["output" if i == old else i for i in node.input]
                node.output[:] = ["output" if o == old else o for o in node.output]
            converted.graph.output[0].name = "output"
            onnx.save(converted, os.path.join(OUT_DIR, f"{stem}.onnx"))
            os.makedirs(os.path.join(OUT_DIR, stem), exist_ok=True)
            np.save(os.path.join(OUT_DIR, stem, "keras_output.npy"), expected)
            ops = sorted({n.op_type for n in converted.graph.node})
            print(f"{stem}: {len(converted.graph.node)} nodes: {', '.join(ops)}")
    print(f"tf {tf.__version__}, keras {keras.__version__}, tf2onnx {tf2onnx.__version__}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the ONNX project's own conformance material for sigbook's importer to a folder, where
the Swift test `ONNXConformanceTests` reads it. Needs the `onnx` package (its backend node test
cases and its light model-zoo networks), `onnxruntime` and `numpy`; offline.

    python3 scripts/onnx-conformance.py node OUT OPERATOR [OPERATOR ...]
    python3 scripts/onnx-conformance.py light OUT

Writes
  OUT/node/NAME/model.onnx    each backend node test case (`collect_testcases()`) whose node is
                              one of OPERATORS, its first input left as the model's input and
                              every other input made an initializer holding the case's value
                              (sigbook imports models of one input; the case's data are constants)
  OUT/node/NAME/input.npy     the first input of the case's first data set
  OUT/node/NAME/output.npy    the case's expected first output
  OUT/node/index.json         [{"name", "op"}] of those cases; cases whose first input or
                              output is not float32, or whose node has more than one output used,
                              are left out (listed under "skipped" with the reason)
  OUT/light/NAME.onnx         onnx/backend/test/data/light's networks (ResNet-50, DenseNet-121,
                              Inception v1 and v2, ShuffleNet, SqueezeNet, VGG-19, AlexNet,
                              ZFNet-512), unchanged
  OUT/light/NAME/input.npy    a seeded input in [0, 1) of the model's input shape
  OUT/light/NAME/manifest.json and one .npy per node output: ONNX Runtime's output of every node
                              whose output is a float tensor, at most 16 evenly spread (the graph
                              given them as outputs), as scripts/make-graph-fixtures.py
                              writes them
"""
import json
import os
import re
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def node_cases(out, operators):
    from onnx.backend.test.case.node import collect_testcases

    folder = os.path.join(out, "node")
    os.makedirs(folder, exist_ok=True)
    index, skipped = [], []
    for case in collect_testcases():
        model = case.model
        ops = {n.op_type for n in model.graph.node}
        if len(model.graph.node) != 1 or not ops <= operators:
            continue
        op = model.graph.node[0].op_type
        inputs, outputs = case.data_sets[0]
        if not inputs or not outputs:
            continue
        x = np.asarray(inputs[0])
        y = outputs[0]
        if not isinstance(y, np.ndarray) or x.dtype != np.float32 or y.dtype != np.float32:
            skipped.append({"name": case.name, "op": op, "why": "not float32"})
            continue
        graph = model.graph
        names = [i.name for i in graph.input]
        constants = [
            numpy_helper.from_array(np.asarray(v), name)
            for name, v in zip(names[1:], inputs[1:])
        ]
        new_graph = helper.make_graph(
            list(graph.node), graph.name, [graph.input[0]], [graph.output[0]],
            initializer=list(graph.initializer) + constants)
        new_model = helper.make_model(new_graph, opset_imports=model.opset_import)
        new_model.ir_version = model.ir_version
        target = os.path.join(folder, case.name)
        os.makedirs(target, exist_ok=True)
        onnx.save(new_model, os.path.join(target, "model.onnx"))
        np.save(os.path.join(target, "input.npy"), np.ascontiguousarray(x))
        np.save(os.path.join(target, "output.npy"), np.ascontiguousarray(y))
        index.append({"name": case.name, "op": op})
    with open(os.path.join(folder, "index.json"), "w") as f:
        json.dump({"cases": index, "skipped": skipped}, f)


MAX_NODES = 16


def light_models(out):
    import onnxruntime as ort

    source = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
    folder = os.path.join(out, "light")
    os.makedirs(folder, exist_ok=True)
    names = []
    for file in sorted(os.listdir(source)):
        if not file.endswith(".onnx"):
            continue
        name = file[: -len(".onnx")]
        model = onnx.load(os.path.join(source, file))
        onnx.save(model, os.path.join(folder, file))
        inits = {i.name for i in model.graph.initializer}
        feed = [i for i in model.graph.input if i.name not in inits]
        shape = [d.dim_value for d in feed[0].type.tensor_type.shape.dim]
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        target = os.path.join(folder, name)
        os.makedirs(target, exist_ok=True)
        np.save(os.path.join(target, "input.npy"), np.ascontiguousarray(x))
        # Every float node output as a graph output (shape inference gives the element types).
        inferred = onnx.shape_inference.infer_shapes(model)
        types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
        existing = {o.name for o in model.graph.output}
        candidates = [
            (node, node.output[0]) for node in model.graph.node
            if node.op_type not in ("Constant", "ConstantOfShape") and node.output
            and node.output[0] and types.get(node.output[0], 1) == 1
        ]
        # At most MAX_NODES nodes, evenly spread and the last among them: their outputs at
        # 224 x 224 would take hundreds of megabytes.
        step = max(1, -(-len(candidates) // MAX_NODES))
        wanted = candidates[::-1][::step][::-1]
        for _, o in wanted:
            if o not in existing:
                model.graph.output.append(helper.make_tensor_value_info(o, 1, None))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        results = session.run(None, {feed[0].name: x})
        by_name = dict(zip([o.name for o in session.get_outputs()], results))
        manifest = []
        for node, o in wanted:
            file_name = re.sub(r"[^A-Za-z0-9._-]", "_", o) + ".npy"
            np.save(os.path.join(target, file_name), by_name[o].astype(np.float32))
            manifest.append({
                "node": node.name or o, "op": node.op_type, "output": o, "file": file_name,
                "shape": list(by_name[o].shape)})
        with open(os.path.join(target, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        names.append(name)
    with open(os.path.join(folder, "index.json"), "w") as f:
        json.dump(names, f)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("node", "light"):
        print(__doc__)
        sys.exit(2)
    if sys.argv[1] == "node":
        node_cases(sys.argv[2], set(sys.argv[3:]))
    else:
        light_models(sys.argv[2])


if __name__ == "__main__":
    main()

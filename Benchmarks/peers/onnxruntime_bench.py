"""ONNX Runtime (CPU): W10, the signatures of sigbook's ResNet at every block.

Reads Benchmarks/results/w10-resnet.onnx, which `sigbook bench` W10 writes (its export of the
network it times), gives the block outputs its metadata names (`sigbook.signatures`) as extra
graph outputs, and runs the 10,000 Fashion-MNIST test images through it in batches of 1,024 (as
sigbook does), with c.THREADS intra-op threads (`make bench` runs it at 1 and at 2).
"""

import json
import os

import numpy as np
import onnx
import onnxruntime as ort

import common as c

peer = c.Peer("onnxruntime")
peer.versions["onnxruntime"] = ort.__version__
peer.versions["onnx"] = onnx.__version__
peer.threads["intra_op"] = c.THREADS


def session(model_bytes, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def w10(repeats):
    path = os.path.join(c.ROOT, "Benchmarks", "results", "w10-resnet.onnx")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} (run `sigbook bench --only W10` first)")
    model = onnx.load(path)
    meta = {p.key: p.value for p in model.metadata_props}
    outputs = [tensor for _, tensor in json.loads(meta["sigbook.signatures"])]
    existing = {o.name for o in model.graph.output}
    for name in outputs:
        if name not in existing:
            model.graph.output.append(onnx.helper.make_tensor_value_info(name, 1, None))
    x, _ = c.fashion("test")
    x = np.ascontiguousarray(x.reshape(-1, 1, 28, 28))
    batch = c.W10["batch"]
    s = session(model.SerializeToString(), c.THREADS)

    def run():
        parts = [s.run(outputs, {"input": x[b:b + batch]}) for b in range(0, len(x), batch)]
        return [np.concatenate([p[i] for p in parts]) for i in range(len(outputs))]

    times, signature = c.timed(repeats, run)
    result = c.record("W10", times, "signature values", sum(s.size for s in signature))
    result["extra"] = {"peak MiB": c.peak_mib()}
    return result

peer.run("W10", w10)
peer.finish()

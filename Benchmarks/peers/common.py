"""What every peer script shares: the data (read from the IDX files directly), the workloads'
hyper-parameters, the timing rule and the JSON each script prints.

The hyper-parameters are those of Sources/sigbook/BenchWorkloads.swift: change both together.
Each script prints one JSON object on its last line of standard output:
{"peer": ..., "versions": {...}, "threads": {...}, "workloads": [{"id", "seconds", "min", "max",
"runs", "quality", "value", "extra"?} ...]}.
"""

import gzip
import json
import os
import statistics
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The workloads' settings (see DESIGN.md §7).
W1 = dict(sizes=(784, 32, 64, 2), batch=32, epochs=5, lr=0.05)
W2 = dict(sizes=(784, 256, 128, 10), batch=64, epochs=1, lr=0.05)
W3 = dict(conv=(8, 16), kernel=3, batch=64, epochs=1, lr=0.05)
W8 = dict(sizes=(784, 100, 10), batch=64, epochs=1, lr=1e-3)
W5 = dict(ks=range(2, 11), restarts=10)
# W10/W11: `resnet(input: [1, 28, 28], widths: [16, 32, 64], blocks: 1)`; W10 reads sigbook's
# ONNX export of it (Benchmarks/results/w10-resnet.onnx, written by `sigbook bench` W10).
W10 = dict(batch=1024)
W11 = dict(widths=(16, 32, 64), batch=64, epochs=1, lr=0.05, momentum=0.9)
# W12/W13: W2's network's signatures of the first 10,000 Fashion-MNIST training images and the
# 10,000 test images, written by `sigbook bench` W12 (Benchmarks/results/w12-*.npy); probes are
# LogisticRegression(C=1) on standardised features, tol 1e-4 as sigbook's. W14: W3's CNN
# (seeded, untrained), integrated gradients of the first 1,000 MNIST test images, 50 steps,
# baseline 0, target the label.
W12 = dict(c=1.0, tol=1e-4, max_iter=1000)
W14 = dict(count=1000, steps=50)
# Threads each peer is given: `make bench` runs every script once with 1 and once with 2
# (BENCH_THREADS, and the thread variables of OpenMP, OpenBLAS, MKL and numba set to the same
# before the libraries load); the faster counts. All cores when run by hand.
THREADS = int(os.environ.get("BENCH_THREADS") or os.cpu_count() or 1)
REPEATS = dict(W1=9, W2=3, W3=3, W4=31, W5=3, W6=3, W7=3, W8=5, W9=51, W10=5, W11=3, W12=3,
               W13=9, W14=3, S=3)


def peak_mib():
    """The process's peak resident memory so far, in MiB."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def data_root():
    """$SIGBOOK_DATA, else ../shared/data beside the checkout (as `sigbook bench`)."""
    root = os.environ.get("SIGBOOK_DATA")
    return root if root else os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))


def _open(path):
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            return gzip.open(candidate, "rb") if candidate.endswith(".gz") else open(candidate, "rb")
    raise FileNotFoundError(path)


def read_idx(path):
    """An IDX file (raw or gzip) as a numpy array of its declared shape."""
    with _open(path) as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, f"{path}: not an unsigned-byte IDX file"
    shape = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def images_and_labels(folder, prefix):
    x = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte")).astype(np.float32) / 255
    y = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return x.reshape(len(x), 784), y


def mnist_test():
    return images_and_labels(os.path.join(data_root(), "mnist"), "t10k")


def fashion(split):
    """Fashion-MNIST `train` or `test`, from $SIGBOOK_DATA/fashion-mnist or Debian's folder."""
    prefix = "train" if split == "train" else "t10k"
    for folder in (os.path.join(data_root(), "fashion-mnist"), "/usr/share/datasets/fashion-mnist"):
        if os.path.exists(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")) or os.path.exists(
            os.path.join(folder, f"{prefix}-labels-idx1-ubyte")
        ):
            return images_and_labels(folder, prefix)
    raise FileNotFoundError("Fashion-MNIST: apt-get install dataset-fashion-mnist")


def ones_and_sevens():
    """MNIST's test 1s and 7s in file order (labels 0 and 1), the first 80 % for training."""
    x, y = mnist_test()
    keep = (y == 1) | (y == 7)
    x, y = x[keep], (y[keep] == 7).astype(np.int64)
    cut = int(round(len(x) * 0.8))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def signatures():
    """W5–W7's input: written by `sigbook bench --signatures-out` (the same numbers both sides)."""
    path = os.environ.get(
        "SIGBOOK_SIGNATURES", os.path.join(ROOT, "Benchmarks", "results", "signatures.npy"))
    return np.load(path).astype(np.float32)


def probe_sets():
    """W12/W13's signatures, as `sigbook bench` wrote them: {part: ([H1, H2], labels)}."""
    folder = os.path.join(ROOT, "Benchmarks", "results")
    sets = {}
    for part in ("train", "test"):
        layers = [np.load(os.path.join(folder, f"w12-{part}-h{h}.npy")).astype(np.float32)
                  for h in (1, 2)]
        labels = np.load(os.path.join(folder, f"w12-{part}-labels.npy")).astype(np.int64)
        sets[part] = (layers, labels)
    return sets


class Times(list):
    """The wall seconds of the timed runs, and how many of the process's threads did work
    during them (`busy_threads`): it is how `make bench` checks that a script honours the thread
    count it was given, on a shared machine too, where CPU time per wall second says little.
    It counts threads that worked, not at once: Keras at 1 thread shows 2 (the Python thread
    that feeds TensorFlow's one worker), at 2 threads 3."""


def thread_ticks():
    """CPU time (user + system, in clock ticks) of each thread of this process, from /proc."""
    ticks = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        ticks[tid] = int(fields[11]) + int(fields[12])
    return ticks


def busy_threads(before, after):
    """Threads that used at least a tenth of the busiest thread's CPU time between two
    thread_ticks() (a pool's idle or barely woken threads do not count)."""
    used = [after[t] - before.get(t, 0) for t in after]
    most = max(used, default=0)
    return sum(1 for u in used if most and u >= most / 10)


def timed(repeats, body):
    """Runs `body` once to warm up, then `repeats` times; returns (Times, last value)."""
    last = body()
    times = Times()
    before = thread_ticks()
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        last = body()
        times.append(time.perf_counter() - start)
    times.busy_threads = busy_threads(before, thread_ticks())
    return times, last


def record(wid, times, quality, value, **extra):
    """The JSON of one workload from its Times (see timed), its quality figure and extras."""
    r = dict(id=wid, seconds=statistics.median(times), min=min(times), max=max(times),
             runs=len(times), quality=quality, value=float(value), busy_threads=times.busy_threads)
    if extra:
        r["extra"] = {k: float(v) for k, v in extra.items()}
    return r


def blas_info():
    """The BLAS/OpenMP pools this process loaded: library, version, kernel and threads, as
    threadpoolctl sees them at the end of the run."""
    from threadpoolctl import threadpool_info
    return [dict(api=p.get("internal_api"), kernel=p.get("architecture"),
                 threads=p.get("num_threads"), version=p.get("version"),
                 library=os.path.basename(p.get("filepath", "")))
            for p in threadpool_info()]


class Peer:
    """Collects one peer's results; skips a workload whose data or library is missing.

    Made after the peer's imports: it limits the BLAS and OpenMP pools those loaded to THREADS
    with threadpoolctl, whatever environment variable each library reads (run.py sets the usual
    ones too), and the limits hold for the rest of the process.
    """

    def __init__(self, name):
        from threadpoolctl import threadpool_limits
        threadpool_limits(THREADS)
        self.name = name
        self.results = []
        self.versions = {"python": sys.version.split()[0], "numpy": np.__version__}
        self.threads = {"requested": THREADS}
        self.only = set(filter(None, os.environ.get("BENCH_ONLY", "").upper().split(",")))

    def wants(self, wid):
        return not self.only or wid in self.only

    def run(self, wid, body):
        if not self.wants(wid):
            return
        try:
            result = body(REPEATS[wid] if wid in REPEATS else 3)
        except FileNotFoundError as error:
            result = dict(id=wid, skipped=f"missing data: {error}")
        except Exception as error:  # report and go on: one broken workload must not hide the rest
            import traceback
            traceback.print_exc()
            result = dict(id=wid, skipped=f"{type(error).__name__}: {error}")
        print(f"{self.name} {wid}: {json.dumps(result)}", file=sys.stderr, flush=True)
        self.results.append(result)

    def finish(self):
        print(json.dumps(dict(peer=self.name, versions=self.versions, threads=self.threads,
                              blas=blas_info(), workloads=self.results)))

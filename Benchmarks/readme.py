"""Writes the README's performance section from Benchmarks/results/latest.json (`make bench`).

The section runs from the line `## Performance` to the next `## ` heading; it is replaced whole.
"""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def rounds_text(report):
    """Which workloads ran in rounds, and how their times were kept."""
    ran = [w for w in report["sigbook"]["workloads"] if len(w.get("rounds") or []) > 1]
    if not ran:
        return ""
    ids = [w["id"] for w in ran]
    listed = ", ".join(ids[:-1]) + f" and {ids[-1]}" if len(ids) > 1 else ids[0]
    return (f"{listed} in {len(ran[0]['rounds'])} rounds of sigbook then the peers, each side's "
            "time the median of its rounds'")


def section(report):
    m = report["machine"]
    env = report["sigbook"]["environment"]
    counts = " and ".join(str(t) for t in m["peer_thread_counts"])
    sgemm = report["limits"]["sgemm_gflops"]
    lines = [
        "## Performance",
        "",
        f"`make bench` on {report['date'][:10]}: {m['cpu']}, {m['cores']} cores, "
        f"OPENBLAS_CORETYPE {m['openblas_coretype'] or 'unset'}; sigbook with OpenBLAS "
        f"{env['blasCore']} kernels and {env['blasThreads']} threads, all on the same data in one "
        "run (median of several runs after a warm-up"
        + (f"; {rounds_text(report)}" if rounds_text(report) else "")
        + "; Benchmarks/results/latest.json has min, max, versions and thread counts). The ratio is the fastest peer's time over sigbook's "
        "(for W9, sigbook's GFLOP/s over the fastest peer's). S is the study as a user runs it, "
        "`sigbook run` against `python study_keras.py`, each a whole process (median of 3 "
        "after one untimed run of each, alternating); S~ is the same study timed inside a "
        "process that has already started and run it once. Machines are noisy and differ 2–4× in "
        "speed: compare ratios from one run, never times from two."
        + (f" Load average during this run: {load[0]:.1f} on {m['cores']} cores (a shared "
           "machine: figures are noisy)." if (load := m.get("load_average_start")
                                             or m.get("load_average")) else ""),
        "",
        f"Every peer at its best: each runs at {counts} threads in the same round (the order "
        "alternating), `@1t`/`@2t` say which, the faster first and in the ratio. Threads are set "
        "through each library's own control (PyTorch's intra- and inter-op threads, TensorFlow's "
        "intra- and inter-op parallelism, `n_jobs`, ONNX Runtime's intra-op threads) and, for "
        "BLAS and OpenMP, threadpoolctl's limits and `OMP_NUM_THREADS`, "
        "`OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` and `NUMBA_NUM_THREADS`; OpenMP waits with "
        f"`OMP_WAIT_POLICY={m['omp_wait_policy'] or 'unset'}` (set for both sides; on a "
        "shared machine "
        "OpenMP's spinning default made PyTorch's W1 at 2 threads 10–30× slower; at 1 thread and "
        "for large products it made no difference). W10 runs on both sides with glibc keeping "
        "freed memory (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`; without them ONNX "
        "Runtime's runs spread 1.3–4.9 s as its 1.76 GB of outputs were unmapped and faulted "
        "in anew; Benchmarks/run.py's `ROW_ENV`). "
        "The last column is the work each row does, counted analytically (Benchmarks/flops.py: "
        "dense products and convolutions; training as 3× the forward pass), over its time, and "
        "its share of W9's sgemm rate in the same run"
        + (f" ({sgemm:.0f} GFLOP/s)" if sgemm else "") + ", the roofline of a "
        "BLAS-bound step; for k-means (W5) the count is a lower bound (≥), and rows with no "
        "known bound show —.",
        "",
        f"Versions: {report['versions']}.",
        "",
        report["table"],
        "",
    ] + [
        f"{'Rows' if len(u['rows']) > 1 else 'Row'} {', '.join(u['rows'])} "
        f"{'were' if len(u['rows']) > 1 else 'was'} rerun on {u['date']} (`make bench ONLY="
        f"{','.join(u['rows'])}`, load average {u['load_average_start'][0]:.1f} at start) and "
        f"{'replace' if len(u['rows']) > 1 else 'replaces'} that run's."
        for u in report.get("updates", [])
    ] + ([""] if report.get("updates") else []) + [
        "Regenerate with `make bench && make bench-readme`; rerun one row with "
        "`make bench ONLY=W6` (or several: `ONLY=W1,W9`): those rows replace theirs in "
        "latest.json and the run's date stays, the rerun listed under `updates`.",
        "",
        "OpenBLAS 0.3.21 (Debian 12) does not recognise recent Intel processors and falls back to",
        "generic kernels about 7× slower; `sigbook` then restarts itself once with",
        "`OPENBLAS_CORETYPE` set to the AVX-512 (or AVX2) kernels the processor runs. A",
        "`OPENBLAS_CORETYPE` you set yourself is always respected.",
        "",
    ]
    return "\n".join(lines)


def main():
    with open(os.path.join(HERE, "results", "latest.json")) as f:
        report = json.load(f)
    if "limits" not in report:
        # Written before the peers ran at both thread counts: its table lacks the new columns.
        sys.exit("readme.py: Benchmarks/results/latest.json is from an older `make bench`; "
                 "run `make bench` first")
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    pattern = re.compile(r"^## Performance\n.*?(?=^## |\Z)", re.S | re.M)
    new = section(report) + "\n"
    text = pattern.sub(lambda _: new, text, count=1) if pattern.search(text) else text + "\n" + new
    with open(path, "w") as f:
        f.write(text)
    print("README.md: performance section written from", report["date"])


if __name__ == "__main__":
    main()

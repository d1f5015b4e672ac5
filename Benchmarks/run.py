"""`make bench`: sigbook and every peer on the same machine in one go, one table.

Runs each workload in turn, first `sigbook bench --json --only W…` (which also writes W5–W7's
signatures for the peers), then every peer script that has it, each in its own process, once
with 1 thread and once with 2 (in alternating order, round after round); prints one table (per
workload: each peer's time at its faster thread count and at the other, its quality, sigbook's,
the ratio fastest peer / sigbook, the target, and where the work is counted the GFLOP/s achieved
and their share of W9's sgemm rate) and writes Benchmarks/results/latest.json with the machine,
the peers' versions, thread counts and BLAS libraries.

    python3 Benchmarks/run.py [--sigbook PATH] [--only W1,W3] [--skip-peers]
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

import flops

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")

WORKLOADS = [
    ("W1", "784-32-64-2 MLP, SGD b32, 5 epochs, MNIST 1 vs 7 (1,730)", 5.0),
    ("W2", "784-256-128-10 MLP, SGD b64, 1 epoch Fashion-MNIST (60,000)", 2.0),
    ("W3", "conv8-pool-conv16-pool-10, b64, 1 epoch (60,000)", 1.5),
    ("W4", "both hidden layers of W2's net, 10,000 images", 1.1),
    ("W5", "k-means k=2…10 ×10 + exact silhouette, 2,000×128", 8.0),
    ("W6", "t-SNE 2,000×128", 4.0),
    ("W7", "UMAP 2,000×128 (peer warm)", 12.0),
    ("W8", "autoencoder 784-100-10-100-784, BCE, Adam, 1 epoch (10,000)", 3.0),
    ("W9", "float32 matmul 1024³", 0.95),
    ("W10", "resnet 16-32-64 signatures at every block, 10,000 images (peak MiB beside)", 1.0),
    ("W11", "resnet 16-32-64, momentum b64, 1 epoch Fashion-MNIST (60,000)", 1.5),
    ("W12", "linear probes on both layers of W2's net, 10,000 train + 10,000 test signatures", 3.0),
    ("W13", "linear CKA between all layer pairs of W2's net, 10,000 inputs", 2.0),
    ("W14", "integrated gradients, 50 steps, 1,000 MNIST images, W3's CNN", 2.0),
    ("S", "the one-vs-seven study, one headless process each (start-up and imports included)",
     50.0),
    ("S~", "the same study in process, after a warm-up (imports not counted)", None),
]
# S is what a user waits for: `sigbook run` against `python study_keras.py`, each a whole
# process (the peer figure, 15.2 s, is such a time). S~ times the study inside an
# already-started process (`sigbook bench`'s S, the peer script's S): shown, no target.
STUDY_RUNS = 3
# The peers' two environments (scripts/bench-peers makes them): Debian's PyTorch 1.13 with NumPy
# 1.x for torch and Captum, and the newest PyPI releases for everything else.
PYTHONS = {"torch": os.path.join(HERE, "peers", ".venv-torch", "bin", "python"),
           "latest": os.path.join(HERE, "peers", ".venv-latest", "bin", "python")}
# Each peer script, the environment it runs in and the workloads it has.
PEERS = {"torch_bench.py": ("torch", ["W1", "W2", "W3", "W4", "W8", "W9", "W11"]),
         "onnxruntime_bench.py": ("latest", ["W10"]),
         "keras_bench.py": ("latest", ["W1", "W2", "W3", "W4", "W8"]),
         "sklearn_bench.py": ("latest", ["W2", "W5", "W12"]),
         "numpy_bench.py": ("latest", ["W4", "W9", "W13"]),
         "captum_bench.py": ("torch", ["W14"]),
         "opentsne_bench.py": ("latest", ["W6"]),
         "umap_bench.py": ("latest", ["W7"]),
         "study_keras.py": ("latest", ["S"])}
# Every peer runs at each of these thread counts; the faster counts (DESIGN.md §7: "every peer
# at its best"). sigbook runs as it always does, OpenBLAS choosing (both cores).
THREAD_COUNTS = (1, 2)
# sigbook's rows without a peer, run last.
EXTRAS = ["X1", "X2"]


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON object in the output")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_sigbook(binary, only):
    command = [binary, "bench", "--json", "--signatures-out",
               os.path.join(RESULTS, "signatures.npy")]
    if only:
        # W5–W7 (and so the signatures the peers' W5–W7 read) train W2's network first.
        command += ["--only", only]
    env = dict(os.environ, **ROW_ENV.get(only, {}))
    print("$", " ".join(command), file=sys.stderr, flush=True)
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                         env=env)
    return json.loads(out.stdout)


def peer_env(threads):
    """The environment of a peer's process at `threads` threads. The scripts also set each
    library's own thread count (torch, TensorFlow, n_jobs, threadpoolctl); these variables
    size the pools that start when a library loads, before a script can set them: OpenMP's,
    OpenBLAS's, MKL's and numba's."""
    env = dict(os.environ, BENCH_THREADS=str(threads))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMBA_NUM_THREADS"):
        env[name] = str(threads)
    return env


# glibc settings that keep freed memory in the process instead of unmapping it: ONNX Runtime's
# W10 returns 1.76 GB of outputs a run (its batches' outputs, then their concatenation), which
# glibc unmapped and the next run faulted in anew; its runs then spread from 1.3 s to 4.5 s on a
# quiet machine (medians 3.0 and 4.0 s in two runs of `make bench`), against 1.30-1.37 s with
# these. Both sides of the row run with them (the same environment): sigbook's 880 MB of
# signatures a run are then reused too, where they were mapped anew (sigbook's own malloc
# settings give way to these variables).
KEEP_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(1 << 32), "MALLOC_TRIM_THRESHOLD_": str(1 << 36)}
ROW_ENV = {"W10": KEEP_MEMORY}


def run_peer(script, only, threads):
    python = PYTHONS[PEERS[script][0]]
    env = peer_env(threads)
    env.update(ROW_ENV.get(only, {}))
    if only:
        env["BENCH_ONLY"] = only
    print(f"$ {python} {script}  ({threads} thread{'s' if threads > 1 else ''})",
          file=sys.stderr, flush=True)
    out = subprocess.run([python, os.path.join(HERE, "peers", script)], stdout=subprocess.PIPE,
                         text=True, env=env, cwd=os.path.join(HERE, "peers"))
    if out.returncode != 0:
        return dict(peer=script, error=f"exited with {out.returncode}", workloads=[])
    try:
        return last_json(out.stdout)
    except ValueError as error:
        return dict(peer=script, error=str(error), workloads=[])


def process_seconds(command, env=None, cwd=ROOT):
    """Wall time of one whole process (start-up, imports and JIT included), or None on failure."""
    import time
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=env, cwd=cwd)
    seconds = time.perf_counter() - start
    return seconds if done.returncode == 0 else None


def study_processes(binary):
    """S as a user meets it: `sigbook run` against `python study_keras.py`, each a whole process,
    the peer at each thread count.

    One untimed run of each first (files in the page cache, numba's on-disk cache filled), then
    STUDY_RUNS timed runs of each, alternating, so a noisy spell hits both sides alike.
    Returns sigbook's times and the peer's by thread count (None where a run failed).
    """
    import shutil
    import tempfile
    folder = tempfile.mkdtemp(prefix="sigbook-study-")
    workbook = os.path.join(folder, "one-vs-seven.sigbook")
    with open(os.path.join(ROOT, "Workbooks", "one-vs-seven.sigbook")) as f, open(workbook, "w") as g:
        g.write(f.read())
    sample = os.path.join(ROOT, "Data", "mnist_5k.csv.gz")
    env = dict(os.environ, SIGBOOK_SAMPLE=sample)
    mine_command = [binary, "run", workbook]
    peer_command = [PYTHONS[PEERS["study_keras.py"][0]],
                    os.path.join(HERE, "peers", "study_keras.py")]
    peer_envs = {t: dict(peer_env(t), SIGBOOK_SAMPLE=sample, STUDY_ONCE="1")
                 for t in THREAD_COUNTS}
    peer_cwd = os.path.join(HERE, "peers")
    print(f"$ sigbook run one-vs-seven.sigbook; python study_keras.py at {THREAD_COUNTS} threads "
          f"(whole processes, 1 + {STUDY_RUNS} each, alternating)", file=sys.stderr, flush=True)
    process_seconds(mine_command, env=env, cwd=folder)
    process_seconds(peer_command, env=peer_envs[THREAD_COUNTS[0]], cwd=peer_cwd)
    mine, peer = [], {str(t): [] for t in THREAD_COUNTS}
    for r in range(STUDY_RUNS):
        mine.append(process_seconds(mine_command, env=env, cwd=folder))
        for t in thread_order(r):
            peer[str(t)].append(process_seconds(peer_command, env=peer_envs[t], cwd=peer_cwd))
    shutil.rmtree(folder, ignore_errors=True)
    return dict(sigbook=mine, peer=peer)


def thread_order(turn):
    """The thread counts in the order a turn runs them: reversed every other turn, so neither
    count always runs first (warmer caches, or a quieter machine, for one of them)."""
    return THREAD_COUNTS if turn % 2 == 0 else THREAD_COUNTS[::-1]


def processes_record(times, quality, value):
    """A workload record (as the scripts print) from whole-process times; None if any failed."""
    if not times or any(t is None for t in times):
        return None
    ordered = sorted(times)
    return dict(id="S", seconds=ordered[len(ordered) // 2], min=ordered[0], max=ordered[-1],
                runs=len(times), quality=quality, value=value)


# Short workloads, and those whose peers' times moved most between runs, run in rounds: sigbook,
# then every peer, ROUNDS times over. A busy spell on this shared machine then hits one round of
# each side rather than all of one side's runs.
ROUNDS = {"W1": 3, "W2": 3, "W4": 3, "W7": 3, "W9": 3}


def merged_rounds(rounds):
    """One workload list from the same workloads' results in several rounds: each time the
    median of the rounds' medians, min and max over all runs, runs added up, quality from the
    round whose median was kept."""
    if len(rounds) == 1:
        return rounds[0]
    merged = []
    for w in rounds[0]:
        same = [r for results in rounds for r in results if r.get("id") == w.get("id")]
        timed = sorted((r for r in same if r.get("seconds") is not None),
                       key=lambda r: r["seconds"])
        if not timed:
            merged.append(w)
            continue
        kept = dict(timed[(len(timed) - 1) // 2])
        kept["min"] = min(r.get("min", r["seconds"]) for r in timed)
        kept["max"] = max(r.get("max", r["seconds"]) for r in timed)
        kept["runs"] = sum(r.get("runs", 1) for r in timed)
        kept["rounds"] = [r["seconds"] for r in same if r.get("seconds") is not None]
        merged.append(kept)
    return merged


def run_interleaved(binary, only, skip_peers):
    """Every workload in turn: sigbook's run of it, then every peer's at each thread count, then
    the next workload.

    The machine is shared: run whole, one side after the other, the two sides of a ratio were
    minutes apart (the peers' times moved 1.5-2x between runs). Workload by workload, they are
    seconds apart; so are a peer's two thread counts, whose order alternates from one peer and
    round to the next. Returns sigbook's report, one report per peer (each workload at its
    faster thread count, see peers_at_best) and the whole-process study times.
    """
    wanted = set(filter(None, only.split(",")))
    ids = [w for w, _, _ in WORKLOADS if w != "S~"] + EXTRAS
    mine = dict(environment=None, workloads=[])
    runs = {}
    processes = None
    for wid in ids:
        if wanted and wid not in wanted:
            continue
        rounds = ROUNDS.get(wid, 1) if not skip_peers else 1
        scripts = [] if skip_peers else [s for s, (_, has) in PEERS.items() if wid in has]
        mine_rounds, peer_rounds = [], {}
        for r in range(rounds):
            report = run_sigbook(binary, wid)
            mine["environment"] = report["environment"]
            mine_rounds.append(report["workloads"])
            for turn, script in enumerate(scripts):
                for threads in thread_order(r + turn):
                    result = run_peer(script, wid, threads)
                    merged = runs.setdefault((script, threads), dict(peer=script, workloads=[]))
                    if "error" in result:
                        merged["error"] = "; ".join(filter(None, [merged.get("error"),
                                                                  f"{wid}: {result['error']}"]))
                        continue
                    merged.update({k: v for k, v in result.items()
                                   if k not in ("workloads", "error")})
                    peer_rounds.setdefault((script, threads), []).append(
                        result.get("workloads", []))
        mine["workloads"] += merged_rounds(mine_rounds)
        for key, results in peer_rounds.items():
            runs[key]["workloads"] += merged_rounds(results)
        if wid == "S" and not skip_peers:
            processes = study_processes(binary)
    if not any(w["id"] == "W9" for w in mine["workloads"]) and any(
            w["id"] in flops.WORK for w in mine["workloads"]):
        # The GFLOP/s column compares with W9's sgemm rate in the same run: sigbook's side
        # of W9 (a second) when the run was asked for rows without it.
        mine["sgemm"] = run_sigbook(binary, "W9")["workloads"][0]
    return mine, peers_at_best(runs), processes


def best_of(records):
    """The fastest of one workload's records by thread count ({"1": record, "2": record}),
    with `threads` (its count) and `by_threads` (every count's seconds) added; a skipped
    record when no count has a time."""
    timed = {t: r for t, r in records.items() if r.get("seconds") is not None}
    if not timed:
        return next(iter(records.values()))
    threads = min(timed, key=lambda t: timed[t]["seconds"])
    return dict(timed[threads], threads=int(threads),
                by_threads={t: r["seconds"] for t, r in timed.items()})


def peers_at_best(runs):
    """One report per peer script from its runs at each thread count ({(script, threads):
    report}): each workload at its faster count (best_of), and every count's report, thread
    settings and BLAS pools whole under `configurations`."""
    peers = {}
    for (script, threads), report in runs.items():
        peer = peers.setdefault(script, dict(peer=report.get("peer", script), configurations={}))
        peer["configurations"][str(threads)] = report
        peer["versions"] = report.get("versions", peer.get("versions", {}))
        if "error" in report:
            peer["error"] = "; ".join(filter(None, [peer.get("error"),
                                                    f"{threads} threads: {report['error']}"]))
    for peer in peers.values():
        peer["workloads"] = fastest_workloads(peer["configurations"])
    return list(peers.values())


def fastest_workloads(configurations):
    """Each workload of a peer's runs by thread count at its faster count (best_of)."""
    ids = dict.fromkeys(w["id"] for c in configurations.values() for w in c["workloads"])
    return [best_of({t: w for t, c in configurations.items()
                     for w in c["workloads"] if w["id"] == wid})
            for wid in ids]


def order_key(workload):
    ids = [w for w, _, _ in WORKLOADS] + EXTRAS
    return ids.index(workload["id"]) if workload["id"] in ids else len(ids)


def updated(previous, mine, peers, processes, rows, load):
    """The last run's raw results (`previous`, latest.json's sigbook, peers and study
    processes) with the rows of a partial run (`make bench ONLY=…`) put in place of theirs:
    a partial run updates the whole table instead of replacing it. The rows and their loads
    are listed under `updates`."""
    def replaced(old, new):
        return sorted([w for w in old if w["id"] not in rows] + new, key=order_key)

    ran = set(rows)
    mine_all = dict(previous["sigbook"], environment=mine["environment"] or
                    previous["sigbook"]["environment"],
                    workloads=replaced(previous["sigbook"]["workloads"],
                                       [w for w in mine["workloads"] if w["id"] in ran]))
    by_name = {p["peer"]: p for p in previous["peers"]}
    for p in peers:
        old = by_name.setdefault(p["peer"], dict(peer=p["peer"], configurations={}))
        for threads, c in p["configurations"].items():
            kept = old["configurations"].get(threads, dict(c, workloads=[]))
            old["configurations"][threads] = dict(
                kept, workloads=replaced(kept["workloads"], c["workloads"]))
        old["versions"] = p.get("versions", old.get("versions", {}))
        old["workloads"] = fastest_workloads(old["configurations"])
    processes = processes if "S" in ran else previous.get("study_processes")
    updates = previous.get("updates", []) + [dict(rows=sorted(ran, key=lambda w: order_key(
        dict(id=w))), date=datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"), load_average_start=load[0], load_average_end=load[1])]
    return mine_all, list(by_name.values()), processes, updates


def fmt_time(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_value(v):
    return str(int(v)) if v == int(v) and abs(v) < 1e9 else f"{v:.3f}"


def with_study_processes(report):
    """The workloads of sigbook and the peers, S renamed S~ (in process) and S made from the
    whole-process times."""
    def renamed(workloads):
        return [dict(w, id="S~") if w.get("id") == "S" else w for w in workloads]

    mine = renamed(report["sigbook"]["workloads"])
    peers = [dict(p, workloads=renamed(p.get("workloads", []))) for p in report["peers"]]
    processes = report.get("study_processes") or {}
    figures = {p["peer"]: w.get("value") for p in peers for w in p["workloads"]
               if w.get("id") == "S~"}
    in_process = next((w for w in mine if w.get("id") == "S~"), {})
    record = processes_record(processes.get("sigbook"), "figures", in_process.get("value", 0))
    if record:
        mine.append(record)
    for p in peers:
        if p["peer"] in figures:
            records = {t: processes_record(times, "figures", figures[p["peer"]])
                       for t, times in (processes.get("peer") or {}).items()}
            records = {t: r for t, r in records.items() if r}
            if records:
                p["workloads"].append(best_of(records))
    return mine, peers


def peer_cell(peer, w):
    """A peer's time at its faster thread count, then at the others, and its quality:
    `pytorch 122.7 ms @2t, 140.2 ms @1t (accuracy 0.998)`."""
    others = sorted((float(s), t) for t, s in w.get("by_threads", {}).items()
                    if int(t) != w.get("threads"))
    times = [f"{fmt_time(w['seconds'])}" + (f" @{w['threads']}t" if "threads" in w else "")]
    times += [f"{fmt_time(s)} @{t}t" for s, t in others]
    text = f"{peer} {', '.join(times)} ({w['quality']} {fmt_value(w['value'])})"
    if "extra" in w and "cold" in w["extra"]:
        text += f", cold {fmt_time(w['extra']['cold'])}"
    return text


def sgemm_rate(report):
    """W9's GFLOP/s in this run (sigbook's float32 1024³ matmul), the GFLOP/s column's 100 %."""
    w9 = next((w for w in report["sigbook"]["workloads"] if w.get("id") == "W9"),
              report["sigbook"].get("sgemm"))
    return (w9 or {}).get("value")


def limits(report, mine, peers):
    """Per workload with counted work (flops.WORK): GFLOP/s and share of sgemm of sigbook's time
    and of the fastest peer's, as {id: {"sigbook": rate, "peer": rate, "peer name": …}}."""
    sgemm = sgemm_rate(report)
    out = {}
    for wid in flops.WORK:
        entry = {}
        if wid in mine:
            entry["sigbook"] = flops.rate(wid, mine[wid].get("seconds"), sgemm)
        if peers.get(wid):
            name, w = min(peers[wid], key=lambda pw: pw[1]["seconds"])
            entry["peer"] = flops.rate(wid, w["seconds"], sgemm)
            entry["peer name"] = name
        if entry:
            out[wid] = entry
    return out


def fmt_rate(rate):
    """`187 · 95%` (GFLOP/s · share of sgemm); `≥ …` where the work counted is a lower bound."""
    if not rate:
        return "—"
    at_least = "≥ " if rate["bound"] == "lower bound" else ""
    text = f"{at_least}{rate['gflops']:.3g}"
    share = rate["sgemm_share"]
    if share:
        text += f" · {at_least}{share:.0%}" if share >= 0.1 else f" · {at_least}{share:.1%}"
    return text


def table(report):
    """The Markdown table: one row per workload. Also returns the ratios against the targets
    and the GFLOP/s column's figures (see limits)."""
    mine_workloads, peer_reports = with_study_processes(report)
    sig = {w["id"]: w for w in mine_workloads}
    by_id = {}
    for p in peer_reports:
        for w in p.get("workloads", []):
            if "seconds" in w:
                by_id.setdefault(w["id"], []).append((p["peer"], w))
    rates = limits(report, sig, by_id)
    rows = ["| workload | peers (time @threads, quality; fastest first) | sigbook "
            "| fastest peer / sigbook | target | GFLOP/s · % of sgemm: sigbook (fastest peer) |",
            "|---|---|---|---|---|---|"]
    summary = []
    for wid, name, target in WORKLOADS:
        peers = by_id.get(wid, [])
        cells = [peer_cell(peer, w) for peer, w in sorted(peers, key=lambda pw: pw[1]["seconds"])]
        mine = sig.get(wid)
        if mine is None and not peers:
            continue
        target_text = "–" if target is None else (
            f"{target:.0%}" if wid == "W9" else f"≥ {target:g}×")
        rate = rates.get(wid, {})
        rate_text = fmt_rate(rate.get("sigbook")) + (
            f" ({fmt_rate(rate['peer'])})" if rate.get("peer") else "")
        if mine is None or "seconds" not in mine or mine.get("seconds") is None:
            reason = (mine or {}).get("skipped", "not run")
            rows.append(f"| {wid} {name} | {'; '.join(cells) or '–'} | skipped: {reason} | – | "
                        f"{target_text} | {rate_text} |")
            continue
        sb = f"{fmt_time(mine['seconds'])} ({mine['quality']} {fmt_value(mine['value'])})"
        if peers:
            fastest = min(w["seconds"] for _, w in peers)
            ratio = fastest / mine["seconds"]
            met = "" if target is None else ("✓" if ratio >= target else "✗")
            # Three decimals below 10×, so that a ratio just under its target does not print
            # as the target (1.098× is not 1.10×).
            ratio_text = (f"{ratio:.1%}" if wid == "W9" else
                          f"{ratio:.3f}×" if ratio < 10 else f"{ratio:.1f}×")
            if target is not None:
                summary.append((wid, ratio, target, met))
        else:
            ratio_text, met = "–", ""
        rows.append(f"| {wid} {name} | {'; '.join(cells) or '–'} | {sb} | {ratio_text} {met} | "
                    f"{target_text} | {rate_text} |")
    return "\n".join(rows), summary, rates


BLAS_NAMES = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}


def versions_text(peers):
    """One line: Python's version, then every peer's libraries and the BLAS libraries that
    threadpoolctl found in its process (`pytorch: torch 1.13.0a0, numpy 1.26.4, OpenBLAS 0.3.21
    (Cooperlake) · …`); a process can load two (NumPy's wheel brings its own)."""
    parts, python = [], None
    for p in peers:
        versions = dict(p.get("versions", {}))
        python = versions.pop("python", python)
        configuration = next((c for c in p.get("configurations", {}).values() if c.get("blas")),
                             {})
        blas = dict.fromkeys(
            f"{BLAS_NAMES[b['api']]} {b.get('version')}"
            + (f" ({b['kernel']})" if b.get("kernel") else "")
            for b in configuration.get("blas", []) if b.get("api") in BLAS_NAMES)
        parts.append(f"{p['peer']}: " + ", ".join([f"{k} {v}" for k, v in versions.items()]
                                                  + list(blas)))
    return " · ".join(([f"Python {python}"] if python else []) + parts)


def configurations_text(peers):
    """Per peer and thread count, the threads each library was set to and the threads of the
    BLAS and OpenMP pools at the end of its run: what shows the count was honoured."""
    lines = []
    for p in peers:
        for threads, c in sorted(p.get("configurations", {}).items()):
            settings = ", ".join(f"{k} {v}" for k, v in c.get("threads", {}).items())
            pools = ", ".join(f"{b.get('api')} {b.get('threads')}"
                              for b in c.get("blas", []) if "api" in b)
            lines.append(f"{p['peer']} @{threads}t: {settings}"
                         + (f"; pools: {pools}" if pools else "")
                         + (f"  ERROR {c['error']}" if "error" in c else ""))
    return "\n".join(lines)


# The rows that read MNIST's test files from $SIGBOOK_DATA/mnist (the others use the embedded
# sample or Fashion-MNIST).
MNIST_ROWS = {"W1", "W8", "W14"}


def missing_mnist(only):
    """A message when rows that need MNIST's test files would run without them: said before
    a 35-minute run rather than as skipped rows at its end; None when they are there."""
    rows = MNIST_ROWS & set(filter(None, only.split(","))) if only else MNIST_ROWS
    folder = os.path.join(os.environ.get("SIGBOOK_DATA", ""), "mnist")
    present = lambda stem: any(os.path.exists(os.path.join(folder, stem + ext))
                               for ext in ("", ".gz"))
    if not rows or all(present(f"t10k-{kind}") for kind in
                       ("images-idx3-ubyte", "labels-idx1-ubyte")):
        return None
    return (f"run.py: {', '.join(sorted(rows, key=lambda w: order_key(dict(id=w))))} need MNIST's test files "
            "(t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]), not found in "
            f"'{folder}'; set SIGBOOK_DATA to the folder holding mnist/ (make bench "
            "SIGBOOK_DATA=…), or leave those rows out with ONLY=")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sigbook", default=os.path.join(ROOT, ".build", "release", "sigbook"))
    parser.add_argument("--only", default="")
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    # On a shared machine OpenMP's spinning workers (PyTorch, scikit-learn, openTSNE) lose whole
    # time slices to other processes: PyTorch's W1 at 2 threads took 1.3 s spinning and 0.08 s
    # passive; measured again with both environments (load 9 on 2 cores), 4-9 s with OpenMP's
    # default against 0.13-0.32 s passive, W4 (two large products) and 1 thread alike under
    # both. Passive waiting is the peers' best setting there; both sides run under it. To
    # compare on a quiet machine, set it yourself: OMP_WAIT_POLICY=ACTIVE, or empty for
    # OpenMP's default.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    only = args.only.upper()
    missing = missing_mnist(only)
    if missing:
        sys.exit(missing)
    load_at_start = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    mine, peers, processes = run_interleaved(args.sigbook, only, args.skip_peers)
    machine = dict(cpu=cpu_name(), cores=os.cpu_count(), system=platform.platform(),
                   openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"),
                   omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
                   load_average_start=load_at_start, load_average_end=os.getloadavg(),
                   peer_thread_counts=list(THREAD_COUNTS))
    report = dict(study_processes=processes, date=started.strftime("%Y-%m-%d %H:%M UTC"),
                  machine=machine, sigbook=mine, peers=peers)
    path = os.path.join(RESULTS, "latest.json")
    if only and os.path.exists(path):
        # A partial run updates the last whole run's rows; its date and machine stay.
        with open(path) as f:
            previous = json.load(f)
        rows = set(filter(None, only.split(",")))
        mine, peers, processes, updates = updated(
            previous, mine, peers, processes, rows,
            (machine["load_average_start"], machine["load_average_end"]))
        report = dict(previous, study_processes=processes, sigbook=mine, peers=peers,
                      updates=updates)
    text, summary, rates = table(report)
    report["table"] = text
    report["limits"] = dict(sgemm_gflops=sgemm_rate(report), workloads=rates)
    report["versions"] = versions_text(peers)
    report["ratios"] = [dict(id=w, ratio=r, target=t, met=m == "✓") for w, r, t, m in summary]
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    env = mine["environment"]
    m = report["machine"]
    print()
    print(f"{report['date']} · {m['cpu']}, {m['cores']} cores · "
          f"OPENBLAS_CORETYPE={m['openblas_coretype'] or '(unset)'} · "
          f"OMP_WAIT_POLICY={m['omp_wait_policy']} · "
          f"load average {m['load_average_start'][0]:.1f} at start, "
          f"{m['load_average_end'][0]:.1f} at end")
    print(f"sigbook: OpenBLAS {env['blasCore']} kernels, {env['blasThreads']} threads")
    print(configurations_text(peers))
    print(f"versions: {report['versions']}")
    print()
    print(text)
    print(f"\nwritten: {os.path.relpath(os.path.join(RESULTS, 'latest.json'), ROOT)}")


if __name__ == "__main__":
    main()

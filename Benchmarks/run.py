"""`make bench`: sigbook and every peer on the same machine in one go, one table.

Runs each workload in turn, first `sigbook bench --json --only W…` (which also writes W5–W7's
signatures for the peers), then every peer script that has it, each in its own process under the
same environment; prints one table (per workload: each
peer's time and quality, sigbook's, the ratio fastest peer / sigbook and the target) and writes
Benchmarks/results/latest.json with the machine, thread counts and OpenBLAS kernels.

    python Benchmarks/run.py [--sigbook PATH] [--python PATH] [--only W1,W3]
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

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
# Each peer script and the workloads it has.
PEERS = {"torch_bench.py": ["W1", "W2", "W3", "W4", "W8", "W9", "W11"],
         "onnxruntime_bench.py": ["W10"],
         "keras_bench.py": ["W1", "W2", "W3", "W4", "W8"],
         "sklearn_bench.py": ["W2", "W5", "W12"],
         "numpy_bench.py": ["W4", "W9", "W13"],
         "captum_bench.py": ["W14"],
         "opentsne_bench.py": ["W6"],
         "umap_bench.py": ["W7"],
         "study_keras.py": ["S"]}
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
    print("$", " ".join(command), file=sys.stderr, flush=True)
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return json.loads(out.stdout)


def run_peer(python, script, only):
    env = dict(os.environ)
    if only:
        env["BENCH_ONLY"] = only
    print("$", python, script, file=sys.stderr, flush=True)
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


def study_processes(binary, python):
    """S as a user meets it: `sigbook run` against `python study_keras.py`, each a whole process.

    One untimed run of each first (files in the page cache, numba's on-disk cache filled), then
    STUDY_RUNS timed runs of each, alternating, so a noisy spell hits both sides alike.
    Returns each side's times (None where a run failed).
    """
    import shutil
    import tempfile
    folder = tempfile.mkdtemp(prefix="sigbook-study-")
    workbook = os.path.join(folder, "one-vs-seven.sigbook")
    with open(os.path.join(ROOT, "Workbooks", "one-vs-seven.sigbook")) as f, open(workbook, "w") as g:
        g.write(f.read())
    env = dict(os.environ, SIGBOOK_SAMPLE=os.path.join(ROOT, "Data", "mnist_5k.csv.gz"))
    mine_command = [binary, "run", workbook]
    peer_command = [python, os.path.join(HERE, "peers", "study_keras.py")]
    peer_env = dict(env, STUDY_ONCE="1")
    peer_cwd = os.path.join(HERE, "peers")
    print(f"$ sigbook run one-vs-seven.sigbook; python study_keras.py (whole processes, 1 + "
          f"{STUDY_RUNS} each, alternating)", file=sys.stderr, flush=True)
    process_seconds(mine_command, env=env, cwd=folder)
    process_seconds(peer_command, env=peer_env, cwd=peer_cwd)
    mine, peer = [], []
    for _ in range(STUDY_RUNS):
        mine.append(process_seconds(mine_command, env=env, cwd=folder))
        peer.append(process_seconds(peer_command, env=peer_env, cwd=peer_cwd))
    shutil.rmtree(folder, ignore_errors=True)
    return dict(sigbook=mine, peer=peer)


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


def run_interleaved(binary, python, only, skip_peers):
    """Every workload in turn: sigbook's run of it, then every peer's, then the next workload.

    The machine is shared: run whole, one side after the other, the two sides of a ratio were
    minutes apart (the peers' times moved 1.5-2x between runs). Workload by workload, they are
    seconds apart. Returns sigbook's report, one report per peer (its workloads gathered from
    its runs) and the whole-process study times.
    """
    wanted = set(filter(None, only.split(",")))
    ids = [w for w, _, _ in WORKLOADS if w != "S~"] + EXTRAS
    mine = dict(environment=None, workloads=[])
    peers = {}
    processes = None
    for wid in ids:
        if wanted and wid not in wanted:
            continue
        rounds = ROUNDS.get(wid, 1) if not skip_peers else 1
        mine_rounds, peer_rounds = [], {}
        for _ in range(rounds):
            report = run_sigbook(binary, wid)
            mine["environment"] = report["environment"]
            mine_rounds.append(report["workloads"])
            if skip_peers:
                continue
            for script, has in PEERS.items():
                if wid not in has:
                    continue
                result = run_peer(python, script, wid)
                merged = peers.setdefault(script, dict(peer=script, workloads=[]))
                if "error" in result:
                    merged["error"] = "; ".join(filter(None, [merged.get("error"),
                                                              f"{wid}: {result['error']}"]))
                    continue
                merged.update({k: v for k, v in result.items()
                               if k not in ("workloads", "error")})
                peer_rounds.setdefault(script, []).append(result.get("workloads", []))
        mine["workloads"] += merged_rounds(mine_rounds)
        for script, results in peer_rounds.items():
            peers[script]["workloads"] += merged_rounds(results)
        if wid == "S":
            processes = study_processes(binary, python)
    return mine, list(peers.values()), processes


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
            record = processes_record(processes.get("peer"), "figures", figures[p["peer"]])
            if record:
                p["workloads"].append(record)
    return mine, peers


def table(report):
    """The Markdown table: one row per workload."""
    mine_workloads, peer_reports = with_study_processes(report)
    sig = {w["id"]: w for w in mine_workloads}
    rows = ["| workload | peers (time, quality) | sigbook | fastest peer / sigbook | target |",
            "|---|---|---|---|---|"]
    summary = []
    for wid, name, target in WORKLOADS:
        peers = [(p["peer"], w) for p in peer_reports for w in p.get("workloads", [])
                 if w.get("id") == wid and "seconds" in w]
        cells = []
        for peer, w in sorted(peers, key=lambda pw: pw[1]["seconds"]):
            text = f"{peer} {fmt_time(w['seconds'])} ({w['quality']} {fmt_value(w['value'])})"
            if "extra" in w and "cold" in w["extra"]:
                text += f", cold {fmt_time(w['extra']['cold'])}"
            cells.append(text)
        mine = sig.get(wid)
        if mine is None and not peers:
            continue
        target_text = "–" if target is None else (
            f"{target:.0%}" if wid == "W9" else f"≥ {target:g}×")
        if mine is None or "seconds" not in mine or mine.get("seconds") is None:
            reason = (mine or {}).get("skipped", "not run")
            rows.append(f"| {wid} {name} | {'; '.join(cells) or '–'} | skipped: {reason} | – | "
                        f"{target_text} |")
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
                    f"{target_text} |")
    return "\n".join(rows), summary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sigbook", default=os.path.join(ROOT, ".build", "release", "sigbook"))
    parser.add_argument("--python", default=os.path.join(HERE, "peers", ".venv", "bin", "python"))
    parser.add_argument("--only", default="")
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    # On a shared machine OpenMP's spinning workers (PyTorch, scikit-learn, openTSNE) lose whole
    # time slices to other processes: PyTorch's W1 took 1.3 s spinning and 0.08 s passive.
    # Passive waiting is the peers' best setting there; both sides run under it.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    only = args.only.upper()
    load_at_start = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    mine, peers, processes = run_interleaved(args.sigbook, args.python, only, args.skip_peers)
    report = dict(
        study_processes=processes,
        date=started.strftime("%Y-%m-%d %H:%M UTC"),
        machine=dict(cpu=cpu_name(), cores=os.cpu_count(), system=platform.platform(),
                     openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"),
                     omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
                     load_average_start=load_at_start, load_average_end=os.getloadavg(),
                     bench_threads=os.environ.get("BENCH_THREADS")),
        sigbook=mine, peers=peers)
    text, summary = table(report)
    report["table"] = text
    report["ratios"] = [dict(id=w, ratio=r, target=t, met=m == "✓") for w, r, t, m in summary]
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    env = mine["environment"]
    print()
    print(f"{report['date']} · {report['machine']['cpu']}, {report['machine']['cores']} cores · "
          f"OPENBLAS_CORETYPE={report['machine']['openblas_coretype'] or '(unset)'} · "
          f"OMP_WAIT_POLICY={report['machine']['omp_wait_policy']} · "
          f"load average {report['machine']['load_average_start'][0]:.1f} at start, "
          f"{report['machine']['load_average_end'][0]:.1f} at end")
    print(f"sigbook: OpenBLAS {env['blasCore']} kernels, {env['blasThreads']} threads")
    for p in peers:
        blas = ", ".join(f"{b.get('api')} {b.get('kernel') or ''} {b.get('threads')} threads"
                         for b in p.get("blas", []) if "api" in b)
        threads = ", ".join(f"{k} {v}" for k, v in p.get("threads", {}).items())
        print(f"{p['peer']}: {threads}{'; ' if threads and blas else ''}{blas}"
              + (f"  ERROR {p['error']}" if "error" in p else ""))
    print()
    print(text)
    print(f"\nwritten: {os.path.relpath(os.path.join(RESULTS, 'latest.json'), ROOT)}")


if __name__ == "__main__":
    main()

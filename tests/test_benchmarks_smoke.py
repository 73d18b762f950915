"""benchmarks/run.py --quick runs end to end: every workload is built, checked against numpy and timed once.

No timing is asserted (tiny sizes, one repeat: the numbers mean nothing). What is pinned: the script exits 0, which
it does only when every Kiln result matched its reference, and it prints the table with one row per workload for
Kiln and numpy. Peers are left out (`--peers none`) so the test does not depend on what else is installed.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"
GEMM = [f"gemm_{product}_{batch}" for batch in (32, 256, 1024) for product in ("fwd", "xtg", "gwt", "out", "dwt")]
WORKLOADS = ["fused_elementwise", "reduce_sum", "reduce_max", "softmax", "matmul", "dense_relu", "mlp_step_32",
             "mlp_step_256", "while_loop", "call_overhead", *GEMM, "first_call", "mlp_first_call", "cache_hit",
             "layers_first_call"]


def _table_rows(stdout: str) -> dict[str, list[str]]:
    """workload -> the impl names in its group, read from the aligned table."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("workload") and "x numpy" in line)
    groups: dict[str, list[str]] = {}
    current = None
    for line in lines[start + 2:]:
        if line.startswith(("[", "|")):   # the footnotes, the Markdown summary
            break
        if not line.strip():
            continue
        first = line.split()[0]
        if first in WORKLOADS:
            current = first
        cells = line.split()
        impl = next(c for c in cells if c in ("kiln", "numpy") or c.startswith(("kiln", "numpy")))
        assert current is not None
        groups.setdefault(current, []).append(impl)
    return groups


def test_quick_run_prints_every_workload_for_kiln_and_numpy(tmp_path):
    env = dict(os.environ, KILN_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, str(RUN), "--quick", "--peers", "none"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "machine: " in out.stdout and "OPENBLAS_CORETYPE=" in out.stdout
    groups = _table_rows(out.stdout)
    assert list(groups) == WORKLOADS
    for workload, impls in groups.items():
        assert impls[:2] == ["numpy", "kiln"], (workload, impls)
    assert "FAILED" not in out.stdout
    summary = [line for line in out.stdout.splitlines() if line.startswith("| `")]
    assert [line.split("`")[1] for line in summary] == [w for w in WORKLOADS for _ in
                                                         range(2 if w == "layers_first_call" else 1)]
    ratios = {line.split("`")[1]: line.strip().strip("|").split("|")[-1].strip() for line in summary}
    assert all(float(ratios[w]) > 0 for w in WORKLOADS[:-4])  # Kiln / the best other; without peers, numpy
    assert ratios["first_call"] == ratios["layers_first_call"] == ""  # numpy compiles nothing: no rival there


def test_only_selects_workloads_and_rejects_unknown_names(tmp_path):
    out = subprocess.run([sys.executable, str(RUN), "--quick", "--peers", "none", "--only", "reduce_max,call_overhead"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert list(_table_rows(out.stdout)) == ["reduce_max", "call_overhead"]
    bad = subprocess.run([sys.executable, str(RUN), "--only", "no_such_workload"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no_such_workload" in bad.stderr


def test_help_lists_every_workload_record():
    out = subprocess.run([sys.executable, str(RUN), "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    listed = [line.split()[0] for line in out.stdout.split("workloads:\n", 1)[1].splitlines() if line.strip()]
    assert listed == WORKLOADS


def test_json_record_has_the_rows_peaks_and_kiln_profiles(tmp_path):
    import json
    path = tmp_path / "run.json"
    out = subprocess.run([sys.executable, str(RUN), "--quick", "--peers", "none", "--only", "reduce_sum,call_overhead",
                          "--json", str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads(path.read_text())
    assert record["format"] == 1 and record["quick"] is True and "machine: " in record["machine"]
    assert record["peaks"]["gbytes_per_s"] > 0 and record["peaks"]["gflops_per_s"] > 0
    assert [w["name"] for w in record["workloads"]] == ["reduce_sum", "call_overhead"]
    for w in record["workloads"]:
        assert [r["impl"].split()[0] for r in w["rows"]] == ["numpy", "kiln"]
        assert all(r["median_s"] > 0 and r["status"] == "" for r in w["rows"])
    reduce_sum, call = record["workloads"]
    n = 1 << 14  # QUICK["reduce"]: the profiled kernel reads every float32 once and adds it
    assert reduce_sum["kiln_profile"]["bytes_per_call"] == 4 * n
    assert reduce_sum["kiln_profile"]["flops_per_call"] == n
    assert call["kiln_profile"]["bytes_per_call"] == 3 * 8 * 4 and "add(f32[8], f32[8])" in call["kiln_profile"]["table"]


def test_timed_runs_of_a_workloads_implementations_are_interleaved():
    """harness.measure_together runs every implementation once per round, each round starting one further on, so
    that a change in the machine's load falls on all of them alike; each run makes the same number of calls."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from harness import Config, measure_together
    calls: list[str] = []
    built = [(lambda name=name: calls.append(name), ()) for name in "abc"]
    results = measure_together(built, Config({}, repeats=4, warmup=0, min_run=0.0))
    assert len(results) == 3 and all(0 < low <= median for median, low in results)
    runs = calls[3:]  # after one calibration call each
    assert calls[:3] == ["a", "b", "c"] and runs == list("abc" "bca" "cab" "abc")

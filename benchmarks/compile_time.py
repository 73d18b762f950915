"""The compile-time workloads of benchmarks/run.py: first calls and disk-cache hits, each measured in a fresh process.

    first_call       the first call (trace + compile + run) of a fresh 20-op elementwise function, disk cache off
                     (Kiln's tiered compile: its quick build; the previous repeat's O3 build is waited for first)
    mlp_first_call   the first call (trace + autodiff + compile + run) of a fresh MLP training step, disk cache off
    cache_hit        the first call of the 20-op function in a fresh process whose disk cache a previous process warmed
    layers_first_call  the first call of an unrolled n-layer `tanh(x @ w)` (forward, and its gradient in the n
                     weights), n = 25, 50, 100, 200: compile time against program size, with where it went
                     (KILN_DUMP=time's phases) in the notes

Every function comes from a freshly written module file, so nothing that is cached per code object (AutoGraph's
conversion) or per function survives from one repeat to the next. The child processes are `run.py --child KIND`;
each prints one JSON line, which the parent turns into table rows. The first function of a child is not counted: it
pays the process's one-time setup (LLVM initialization, the first BLAS call's buffers).
Each workload is a `Workload` record with its own `run` (`WORKLOADS`, at the end).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

import engine
import mlp
import peers as peer_lib
from harness import Config, Notes, Row, Workload, flatten, load_module, measure, mismatch, progress, write_module
from mlp import MLP_ARGS, mlp_inputs, mlp_reference, mlp_source, numpy_mlp_step

F20_SOURCE = '''\
{import_line}


def f20(x):
    y = x * 0.5 + 0.25
    y = M.tanh(y) * x
    z = M.exp(-M.square(x))
    w = M.sin(y) + M.cos(z)
    v = M.maximum(w, 0.1) * M.minimum(y, 0.9)
    u = M.sqrt(M.abs(v) + 1.0)
    return (u - z) / (1.0 + M.square(w))
'''
IMPORTS = {"kiln": "import engine as M", "numpy": "import numpy as M"}


def f20_module(directory: str, name: str, import_line: str) -> str:
    return write_module(directory, name, F20_SOURCE.format(import_line=import_line))


def f20_input(n: int) -> np.ndarray:
    return np.linspace(-2.0, 2.0, n, dtype=np.float32)


def f20_expected(directory: str, n: int) -> np.ndarray:
    module = load_module(f20_module(directory, f"numpy_f20_{os.getpid()}", IMPORTS["numpy"]))
    return module.f20(f20_input(n).astype(np.float64))


def wrapper_for(impl: str) -> tuple[Callable[[Callable[..., Any], bool], Callable[..., Any]], Callable, Any]:
    """(wrap(fn, cache), to_numpy, peer or None) for an implementation name, inside a child process."""
    if impl == "kiln":
        return (lambda fn, cache: engine.function(fn)), (lambda r: r.numpy()), None
    peer = peer_lib.load_peers({impl})[0]
    return peer.wrap, peer.to_numpy, peer


# ---- the child side --------------------------------------------------------------------------------------------------
def child_first_call(args: argparse.Namespace) -> dict:
    """Fresh functions from fresh module files; the first one (process-wide setup) is not counted."""
    wrap, to_numpy, _ = wrapper_for(args.impl)
    x = f20_input(args.size)
    want = f20_expected(args.workdir, args.size)
    x_in = engine.constant(x) if args.impl == "kiln" else x
    runs = []
    for i in range(args.count + 1):
        module = load_module(f20_module(args.workdir, f"{args.impl}_f20_{os.getpid()}_{i}", args.import_line))
        f = wrap(module.f20, False)
        if args.impl == "kiln":  # the previous function's background O3 build (codegen.tiers) is not this one's
            from codegen import tiers
            tiers.wait()
        t0 = time.perf_counter()
        trace = None
        if args.impl == "kiln":
            f.get_concrete_function(x_in)
            trace = time.perf_counter() - t0
        result = f(x_in)
        total = time.perf_counter() - t0
        problem = mismatch(to_numpy(result), want, 1e-4 * np.abs(want) + 1e-5)
        runs.append({"total": total, "trace": trace, "problem": problem})
    return {"warmup": runs[0], "runs": runs[1:]}


def child_mlp_first_call(args: argparse.Namespace) -> dict:
    """A fresh training step per repeat: Kiln's from a fresh module file, a peer's from its kernel factory (which
    builds new, uncompiled functions each time)."""
    layers = tuple(int(v) for v in args.layers.split(","))
    d = mlp_inputs(layers, args.size, np.random.default_rng(0))
    want, tol = mlp_reference(d)
    peer = None if args.impl == "kiln" else peer_lib.load_peers({args.impl})[0]
    to_numpy = (lambda r: r.numpy()) if peer is None else peer.to_numpy
    inputs = tuple(engine.constant(d[k]) for k in MLP_ARGS)
    runs = []
    for i in range(args.count + 1):
        trace = None
        if peer is None:
            module = load_module(write_module(args.workdir, f"kiln_mlp_{os.getpid()}_{i}", mlp_source()))
            t0 = time.perf_counter()
            module.train_step.get_concrete_function(*inputs)
            trace = time.perf_counter() - t0
            result = module.train_step(*inputs)
        else:
            built = peer.kernel(MLP_STEP, d)
            if built is None:
                raise RuntimeError(peer.skipped.get(MLP_STEP.name, "no mlp_step kernel"))
            fn, fn_args = built
            t0 = time.perf_counter()
            result = fn(*fn_args)
        total = time.perf_counter() - t0
        runs.append({"total": total, "trace": trace, "problem": mismatch(flatten(result, to_numpy), want, tol)})
    return {"warmup": runs[0], "runs": runs[1:]}


def child_cache_hit(args: argparse.Namespace) -> dict:
    wrap, to_numpy, peer = wrapper_for(args.impl)
    x = f20_input(args.size)
    want = f20_expected(args.workdir, args.size)
    x_in = engine.constant(x) if args.impl == "kiln" else x
    f = wrap(load_module(args.module).f20, True)
    if peer is None:
        from codegen import runtime
        before = runtime.stats.get("cache_hits")
    t0 = time.perf_counter()
    result = f(x_in)
    seconds = time.perf_counter() - t0
    if peer is None:
        after = runtime.stats.get("cache_hits")
        hits = None if before is None or after is None else after - before
    else:
        hits = peer.cache_hits(f)
    return {"seconds": seconds, "hits": hits,
            "problem": mismatch(to_numpy(result), want, 1e-4 * np.abs(want) + 1e-5)}


LAYERS_SOURCE = '''\
import engine


def forward(x, ws):
    for w in ws:
        x = engine.tanh(x @ w)
    return engine.reduce_sum(x)


def gradient(x, ws):
    with engine.GradientTape() as tape:
        total = forward(x, ws)
    return total, tape.gradient(total, ws)
'''


def child_layers_first_call(args: argparse.Namespace) -> dict:
    """One n-layer function's first call (after a small one that pays the process's setup), with its phases."""
    from ir import timing
    n, mode = args.layers.split(":")
    rng = np.random.default_rng(0)
    x = engine.constant(rng.standard_normal((8, 16)).astype(np.float32))
    ws = [engine.Variable((rng.standard_normal((16, 16)) * 0.3).astype(np.float32)) for _ in range(int(n))]
    module = load_module(write_module(args.workdir, f"kiln_layers_{os.getpid()}", LAYERS_SOURCE))
    engine.function(module.forward)(x, ws[:2])  # process-wide setup
    f = engine.function(getattr(module, mode))
    with timing.compiling(mode) as compile_:
        t0, c0 = time.perf_counter(), time.process_time()
        f(x, ws)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
    record = compile_.record
    return {"total": total, "cpu": cpu, "phases": record.cpu if record else {}, "ops": record.ops if record else None}


CHILDREN = {"first_call": child_first_call, "mlp_first_call": child_mlp_first_call, "cache_hit": child_cache_hit,
            "layers_first_call": child_layers_first_call}


# ---- the parent side -------------------------------------------------------------------------------------------------
def child(kind: str, impl: str, import_line: str, env: dict, **extra: Any) -> dict:
    run_py = Path(__file__).resolve().parent / "run.py"
    cmd = [sys.executable, str(run_py), "--child", kind, "--impl", impl, "--import-line", import_line] + \
        [a for k, v in extra.items() for a in (f"--{k.replace('_', '-')}", str(v))]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{kind} subprocess for {impl} exited {out.returncode}: {tail}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compile_impls(peers: list) -> list[tuple[str, str, str, Any]]:
    """(table label, impl name, import line, peer) for Kiln and every peer with a generated-source workload."""
    found = [(f"kiln {engine.__version__}", "kiln", IMPORTS["kiln"], None)]
    return found + [(p.name, p.key, p.source_import, p) for p in peers if p.source_import]


def numpy_f20_row(name: str, cfg: Config, workdir: str, notes: Notes) -> Row:
    module = load_module(f20_module(workdir, "numpy_f20_eager", IMPORTS["numpy"]))
    median, low = measure(module.f20, (f20_input(cfg.sizes["f20"]),), cfg)
    note = notes.add("first_call, cache_hit numpy: nothing to compile; the row times one eager evaluation of the "
                     "same 20 ops, so `x numpy` says how many numpy calls the compile costs")
    return Row(name, f"numpy {np.__version__}", median, low, notes=[note])


def first_call_row(name: str, label: str, out: dict, note: str, notes: Notes) -> Row:
    """The row of a first-call child's result: median and min of the counted runs, Kiln's split into trace and
    the rest."""
    runs = out["runs"]
    problems = [r["problem"] for r in runs if r["problem"]]
    if problems:
        raise RuntimeError(problems[0])
    totals = [r["total"] for r in runs]
    row = Row(name, label, statistics.median(totals), min(totals))
    first = out["warmup"]["total"] * 1e3
    text = f"{note}, excluding the process's first one ({first:.0f} ms, which pays one-time setup)"
    if runs[0]["trace"] is not None:
        trace = statistics.median(r["trace"] for r in runs)
        text += (f"; KILN_CACHE=0; of the median, trace {trace * 1e3:.1f} ms and optimize + lower + LLVM + link + "
                 f"run {(row.median - trace) * 1e3:.1f} ms")  # type: ignore[operator]
    row.notes.append(notes.add(text))
    return row


def run_first_call(w: Workload, cfg: Config, peers: list, notes: Notes) -> list[Row]:
    n = cfg.sizes["f20"]
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as workdir:
        rows = [numpy_f20_row("first_call", cfg, workdir, notes)]
        progress(rows[0])
        for label, impl, import_line, peer in compile_impls(peers):
            env = dict(os.environ, KILN_CACHE="0")
            try:
                out = child("first_call", impl, import_line, env, count=cfg.repeats, size=n, workdir=workdir)
                note = f"first_call {label}: fresh function per repeat, float32[{n}]"
                if impl == "kiln":
                    note += " (trace includes AutoGraph)"
                row = first_call_row("first_call", label, out, note, notes)
            except Exception as e:
                row = Row("first_call", label, status="FAILED" if impl == "kiln" else "skipped")
                row.notes.append(notes.add(f"first_call {label}: {peer_lib.describe_error(e)}"))
            rows.append(row)
            progress(row)
    return rows


def run_mlp_first_call(w: Workload, cfg: Config, peers: list, notes: Notes) -> list[Row]:
    layers, batch = cfg.sizes["mlp"], cfg.sizes["mlp_first_batch"]
    d = mlp_inputs(layers, batch, np.random.default_rng(0))
    median, low = measure(numpy_mlp_step, tuple(d[k] for k in MLP_ARGS) + (d["lr"],), cfg)
    rows = [Row("mlp_first_call", f"numpy {np.__version__}", median, low, notes=[notes.add(
        "mlp_first_call numpy: nothing to compile; the row times one step of the numpy version, so `x numpy` says "
        "how many numpy steps the first call costs")])]
    progress(rows[0])
    impls = [(f"kiln {engine.__version__}", "kiln")] + [(p.name, p.key) for p in peers if p.key in MLP_STEP.peers]
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as workdir:
        for label, impl in impls:
            try:
                out = child("mlp_first_call", impl, "", dict(os.environ, KILN_CACHE="0"), count=cfg.repeats,
                            size=batch, layers=",".join(map(str, layers)), workdir=workdir)
                note = f"mlp_first_call {label}: fresh training step per repeat, batch {batch}"
                if impl == "kiln":
                    note += " (trace includes AutoGraph and reverse-mode autodiff)"
                row = first_call_row("mlp_first_call", label, out, note, notes)
            except Exception as e:
                row = Row("mlp_first_call", label, status="FAILED" if impl == "kiln" else "skipped")
                row.notes.append(notes.add(f"mlp_first_call {label}: {peer_lib.describe_error(e)}"))
            rows.append(row)
            progress(row)
    return rows


def run_cache_hit(w: Workload, cfg: Config, peers: list, notes: Notes) -> list[Row]:
    n = cfg.sizes["f20"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as workdir:
        rows.append(numpy_f20_row("cache_hit", cfg, workdir, notes))
        progress(rows[0])
        for label, impl, import_line, peer in compile_impls(peers):
            row = Row("cache_hit", label)
            cache_dir = os.path.join(workdir, f"{impl}-cache")
            if peer is None:
                env = dict(os.environ, KILN_CACHE="1", KILN_CACHE_DIR=cache_dir)
            else:
                env = dict(os.environ, **peer.cache_env(cache_dir))
                if not peer.cache_env(cache_dir):
                    continue  # this peer has no disk cache to point at a fresh directory
            try:
                module = f20_module(workdir, f"{impl}_f20_cached", import_line)
                kw = dict(module=module, size=n, workdir=workdir)
                cold = child("cache_hit", impl, import_line, env, **kw)  # fills the cache
                runs = [child("cache_hit", impl, import_line, env, **kw) for _ in range(cfg.repeats)]
                problems = [r["problem"] for r in [cold] + runs if r["problem"]]
                if problems:
                    raise RuntimeError(problems[0])
                if any(not r["hits"] for r in runs):
                    row.status = "n/a"
                    why = ("codegen.runtime.stats has no 'cache_hits'" if runs[0]["hits"] is None else
                           "the cache_hits counter did not move in the second process")
                    took = statistics.median(r["seconds"] for r in runs) * 1e3
                    row.notes.append(notes.add(f"cache_hit {label}: no disk-cache hit ({why}); that process's "
                                               f"first call took {took:.0f} ms"))
                else:
                    seconds = [r["seconds"] for r in runs]
                    row.median, row.low = statistics.median(seconds), min(seconds)
                    row.notes.append(notes.add(
                        f"cache_hit {label}: time from call to result in a fresh process (one-time process setup "
                        f"included); the process that filled the cache took {cold['seconds'] * 1e3:.0f} ms"))
            except Exception as e:
                row.status = "FAILED" if impl == "kiln" else "skipped"
                row.notes.append(notes.add(f"cache_hit {label}: {peer_lib.describe_error(e)}"))
            rows.append(row)
            progress(row)
    return rows


def run_layers_first_call(w: Workload, cfg: Config, peers: list, notes: Notes) -> list[Row]:
    curve = cfg.sizes.get("layers_curve", (25, 50, 100, 200) if cfg.sizes["f20"] >= 1024 else (4,))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16)).astype(np.float32)
    ws = [(rng.standard_normal((16, 16)) * 0.3).astype(np.float32) for _ in range(max(curve))]

    def numpy_forward(x: np.ndarray, ws: list) -> float:
        for w in ws:
            x = np.tanh(x @ w)
        return float(x.sum())
    median, low = measure(numpy_forward, (x, ws), cfg)
    rows = [Row("layers_first_call", f"numpy {np.__version__}", median, low, notes=[notes.add(
        f"layers_first_call numpy: nothing to compile; the row times one eager forward of {max(curve)} layers, so "
        f"`x numpy` says how many numpy forwards a first call costs")])]
    progress(rows[0])
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as workdir:
        for mode in ("forward", "gradient"):
            for n in curve:
                label = f"kiln {engine.__version__}, {n} layers, {mode}"
                row = Row("layers_first_call", label)
                try:
                    runs = [child("layers_first_call", "kiln", "", dict(os.environ, KILN_CACHE="0"),
                                  layers=f"{n}:{mode}", workdir=workdir) for _ in range(max(1, min(cfg.repeats, 3)))]
                    totals = [r["total"] for r in runs]
                    row.median, row.low = statistics.median(totals), min(totals)
                    best = min(runs, key=lambda r: r["total"])
                    phases = ", ".join(f"{k} {v * 1e3:.0f}" for k, v in sorted(best["phases"].items(),
                                                                                key=lambda kv: -kv[1]))
                    row.notes.append(notes.add(f"layers_first_call {n} layers {mode}: {best['ops']} traced ops, "
                                               f"KILN_CACHE=0, fresh process per run; the fastest run took "
                                               f"{best['cpu'] * 1e3:.0f} ms of CPU (wall time counts other "
                                               f"processes' turns on a busy machine), by phase (CPU ms): {phases}"))
                except Exception as e:
                    row.status = "FAILED"
                    row.notes.append(notes.add(f"layers_first_call {n} layers {mode}: {peer_lib.describe_error(e)}"))
                rows.append(row)
                progress(row)
    return rows


MLP_STEP = mlp.step_workload(32)  # its peers' versions; the batch comes from the child's arguments

WORKLOADS = [
    Workload("first_call", "the first call (trace + compile + run) of a fresh 20-op elementwise function, disk "
             "cache off", size=lambda s: f"20 ops f32[{s['f20']}]", run=run_first_call),
    Workload("mlp_first_call", "the first call (trace + autodiff + compile + run) of a fresh mlp_step at batch 32, "
             "cache off", size=lambda s: f"step, batch {s['mlp_first_batch']}", run=run_mlp_first_call),
    Workload("cache_hit", "the first call of the 20-op function in a fresh process whose disk cache another "
             "process filled", size=lambda s: "fresh process", run=run_cache_hit),
    Workload("layers_first_call", "the first call of an unrolled n-layer tanh(x @ w), forward and gradient, "
             "n = 25..200, cache off", size=lambda s: "x f32[8,16], w f32[16,16]", run=run_layers_first_call),
]

"""The generated GEMM's workers (codegen.gemm_library): what one costs to build, and how fast it runs alone.

    python benchmarks/gemm_build.py [--repeats N] [--speed] [--batches 32,256]

Build: for each float32/float64 worker of the host's vector width (and the f32 AVX2 one), the CPU time of this
thread to emit its LLVM IR (Python), parse it and run codegen as codegen.gemm_library does (no IR pass); medians
of `repeats` builds. `--speed`: each product of a 784-128-10 MLP's training step (benchmarks/gemm.py's shapes) run
by its worker on this thread, as the planner drives it alone, against numpy's OpenBLAS limited to one thread, in
alternating timed runs of enough calls for ~20 ms of CPU time each; the ratio is the median of the pairs' ratios
(below 1: faster than numpy). Each result is checked against float64 first.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import llvmlite.ir as lir  # noqa: E402

from codegen import gemm_library, llvm_setup  # noqa: E402
from codegen.rules import gemm_kernel  # noqa: E402
from codegen.rules.gemm import plan  # noqa: E402
from codegen.rules.gemm_plan import host_vector_bytes  # noqa: E402
from gemm import PRODUCTS  # noqa: E402
from ir.types import float32, float64  # noqa: E402


def build_times(name: str, repeats: int) -> tuple[float, float, float, int]:
    """Median CPU ms to emit, parse and codegen worker `name`, and its lines of IR."""
    runs = []
    for _ in range(repeats):
        t0 = time.thread_time()
        module = lir.Module(name=name)
        gemm_kernel.define_worker(module, name)
        text = str(module)
        t1 = time.thread_time()
        ref = llvm_setup.parse(text)
        t2 = time.thread_time()
        gemm_library._codegen(ref)
        runs.append((t1 - t0, t2 - t1, time.thread_time() - t2))
    emit, parse, codegen = (statistics.median(r[i] for r in runs) * 1e3 for i in range(3))
    return emit, parse, codegen, text.count("\n")


def _cpu_per_call(fn: Callable[[], None], calls: int) -> float:
    t0 = time.thread_time()
    for _ in range(calls):
        fn()
    return (time.thread_time() - t0) / calls


def speed(m: int, k: int, n: int, ta: bool, tb: bool, repeats: int) -> tuple[float, float]:
    """(median of worker / numpy CPU time over paired runs, numpy's µs per call) for one float32 product."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
    av, bv = (a.T if ta else a), (b.T if tb else b)
    c, c_np, counter = np.empty((m, n), np.float32), np.empty((m, n), np.float32), np.zeros(1, np.int64)
    g = plan(float32, m, n, k, ta, tb)
    row_grain, panel_grain = g.grains(team=False)
    values = dict(a=a.ctypes.data, b=b.ctypes.data, c=c.ctypes.data, counter=counter.ctypes.data, m=m, n=n, k=k,
                  row_grain=row_grain, panel_grain=panel_grain, pack_all=int(g.pack_b), pack_a=int(g.pack_a(False)))
    args = np.array([values[x] for x in gemm_kernel.ARGS], np.int64)
    name = gemm_kernel.worker_name(float32, ta, tb, host_vector_bytes())
    worker = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(gemm_library._address(name))
    pointer = args.ctypes.data  # (0.9 µs to read per call: as long as the smallest products take)

    def kiln() -> None:
        counter[0] = 0
        worker(pointer)

    def numpy() -> None:
        np.matmul(av, bv, out=c_np)
    kiln()
    want = av.astype(np.float64) @ bv.astype(np.float64)
    assert np.all(np.abs(c - want) <= 1e-5 * (np.abs(av) @ np.abs(bv)) + 1e-6), f"{m}x{k}x{n} wrong"
    calls = max(3, int(0.02 / max(1e-7, _cpu_per_call(numpy, 3))))
    pairs = [(_cpu_per_call(kiln, calls), _cpu_per_call(numpy, calls)) for _ in range(repeats)]
    return statistics.median(x / y for x, y in pairs), statistics.median(y for _, y in pairs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--speed", action="store_true", help="also time the training step's products")
    parser.add_argument("--batches", default="32,256")
    args = parser.parse_args()
    width = host_vector_bytes()
    names = [gemm_kernel.worker_name(d, ta, tb, width) for d in (float32, float64) for ta in (False, True)
             for tb in (False, True)] + ([gemm_kernel.worker_name(float32, False, False, 32)] if width == 64 else [])
    print(f"{'worker':28} {'IR lines':>8} {'emit':>7} {'parse':>7} {'codegen':>8} {'total':>7}  (CPU ms, medians)")
    for name in names:
        emit, parse, codegen, lines = build_times(name, args.repeats)
        print(f"{name:28} {lines:8} {emit:7.1f} {parse:7.1f} {codegen:8.1f} {emit + parse + codegen:7.1f}")
    if args.speed:
        print(f"\n{'product':10} {'m x k x n':18} {'worker / numpy':>15} {'numpy µs':>10}  (one thread, CPU time)")
        for batch in (int(v) for v in args.batches.split(",")):
            for product, shape in PRODUCTS.items():
                m, k, n, ta, tb = shape(batch)
                ratio, numpy_us = speed(m, k, n, ta, tb, args.repeats)
                marks = ("^T" if ta else "") + (" B^T" if tb else "")
                print(f"{product}_{batch:<6} {f'{m}x{k}x{n}{marks}':18} {ratio:15.3f} {numpy_us:10.1f}")


if __name__ == "__main__":
    main()

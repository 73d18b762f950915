"""tf.unique traced with a `TensorSpec([None])` signature (the `first_occurrence` row: a stable sort, O(n log n))
against numpy's np.unique(return_index=True, return_inverse=True) reordered to first-occurrence order, which is
what eager `tf.unique` runs.

    python benchmarks/unique.py [--repeats N] [--sizes 1000,10000,100000]

Vectors of int32 and float32 with about n/10 distinct values; each result is checked against numpy first. The table
gives the median time per call of each and their ratio (medians of `repeats` timings of enough calls to last ~20 ms).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import engine as tf  # noqa: E402
from engine.ops.unique_ops import _unique_numpy  # noqa: E402


def _per_call(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - t0 > 0.02:
            break
        calls *= 2
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t0) / calls)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sizes", default="1000,10000,100000")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'dtype':8} {'n':>7} {'kiln ms':>9} {'numpy ms':>9} {'ratio':>6}")
    for dtype in ("int32", "float32"):
        f = tf.function(tf.unique, input_signature=[tf.TensorSpec([None], tf.as_dtype(dtype))])
        for n in (int(s) for s in args.sizes.split(",")):
            a = rng.integers(0, max(n // 10, 1), n).astype(dtype)
            x = tf.constant(a)
            y, idx = f(x)
            want = _unique_numpy(a, tf.int32)
            assert np.array_equal(y.numpy(), want.y.numpy()) and np.array_equal(idx.numpy(), want.idx.numpy())
            tk = _per_call(lambda: f(x), args.repeats)
            tn = _per_call(lambda: _unique_numpy(a, tf.int32), args.repeats)
            print(f"{dtype:8} {n:>7} {tk * 1e3:9.3f} {tn * 1e3:9.3f} {tk / tn:6.2f}")


if __name__ == "__main__":
    main()

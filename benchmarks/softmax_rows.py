"""Softmax rows in one pass against the decomposed form (codegen.softmax_rows): each case compiled both ways in one
process and timed in alternating rounds, with numpy alongside.

    PYTHONPATH=. python benchmarks/softmax_rows.py [--rounds 9] [--threads 1] [case ...]

With `--threads 1` (KILN_NUM_THREADS) the figures are CPU time of the calling thread, which a busy machine disturbs
less than wall time; otherwise wall time. Medians and minimums over the rounds (each round: the median of
`--calls` calls). The disk cache is off: the two forms of a function share its cache key.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable

import numpy as np

CASES = {  # name: (function, shape, dtype, axis)
    "softmax_4096x1024": ("softmax", (4096, 1024), np.float32, -1),
    "softmax_4096x1024_f64": ("softmax", (4096, 1024), np.float64, -1),
    "softmax_64x262144": ("softmax", (64, 262144), np.float32, -1),
    "softmax_16384x10": ("softmax", (16384, 10), np.float32, -1),
    "log_softmax_4096x1024": ("log_softmax", (4096, 1024), np.float32, -1),
    "log_softmax_64x262144": ("log_softmax", (64, 262144), np.float32, -1),
    "log_softmax_4096x1024_f64": ("log_softmax", (4096, 1024), np.float64, -1),
    "log_softmax_axis0_1024x4096": ("log_softmax", (1024, 4096), np.float32, 0),
    "xent_4096x1024": ("xent", (4096, 1024), np.float32, -1),
}


def _numpy(name: str, axis: int) -> Callable[..., Any]:
    def log_softmax(x: np.ndarray) -> np.ndarray:
        s = x - x.max(axis, keepdims=True)
        return s - np.log(np.exp(s).sum(axis, keepdims=True))
    if name == "softmax":
        return lambda x: (lambda e: e / e.sum(axis, keepdims=True))(np.exp(x - x.max(axis, keepdims=True)))
    if name == "log_softmax":
        return log_softmax
    return lambda y, x: -(y * log_softmax(x)).sum(axis)


def _kiln(tf: Any, name: str, axis: int) -> Callable[..., Any]:
    if name == "xent":
        return tf.function(lambda y, x: tf.nn.softmax_cross_entropy_with_logits(y, x, axis=axis))
    fn = getattr(tf.nn, name)
    return tf.function(lambda x: fn(x, axis=axis))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"of {', '.join(CASES)} (default: all)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0, help="KILN_NUM_THREADS (default: the machine's cores)")
    args = parser.parse_args()
    os.environ["KILN_CACHE"] = "0"
    if args.threads:
        os.environ["KILN_NUM_THREADS"] = str(args.threads)
    clock = time.process_time if args.threads == 1 else time.perf_counter
    import engine as tf
    from codegen import softmax_rows
    fuse = softmax_rows.fuse

    def timed(f: Callable[..., Any], inputs: tuple) -> float:
        ts = []
        for _ in range(args.calls):
            t = clock()
            f(*inputs)
            ts.append(clock() - t)
        return float(np.median(ts)) * 1e3

    rng = np.random.default_rng(0)
    print(f"{'case':30s} {'numpy ms':>9s} {'decomposed':>10s} {'fused':>9s}  fused/decomposed (median, min)")
    for case in args.cases or list(CASES):
        name, shape, dtype, axis = CASES[case]
        x = rng.standard_normal(shape).astype(dtype)
        arrays = (x,) if name != "xent" else (rng.random(shape).astype(dtype), x)
        inputs = tuple(tf.constant(a) for a in arrays)
        softmax_rows.fuse = lambda fn: fn
        decomposed = _kiln(tf, name, axis)
        want = decomposed(*inputs).numpy()
        softmax_rows.fuse = fuse
        fused = _kiln(tf, name, axis)
        np.testing.assert_allclose(fused(*inputs).numpy(), want, rtol=1e-5, atol=1e-6)
        ref = _numpy(name, axis)
        times: dict[str, list[float]] = {"numpy": [], "decomposed": [], "fused": []}
        for _ in range(args.rounds):
            times["decomposed"].append(timed(decomposed, inputs))
            times["fused"].append(timed(fused, inputs))
            times["numpy"].append(timed(ref, arrays))
        med = {k: float(np.median(v)) for k, v in times.items()}
        low = {k: float(np.min(v)) for k, v in times.items()}
        print(f"{case:30s} {med['numpy']:9.3f} {med['decomposed']:10.3f} {med['fused']:9.3f}  "
              f"{med['fused'] / med['decomposed']:.2f}, {low['fused'] / low['decomposed']:.2f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

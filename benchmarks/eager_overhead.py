"""Eager per-op overhead: how long one tiny op takes, Kiln next to numpy (and torch, jax, tensorflow if installed).

On 8-element operands the arithmetic is free, so the time measured is the cost of getting in and out of an op:
argument checks, dtype rules, dispatch, tape bookkeeping and wrapping the result. Kiln's target for an eager
`a + b` of two float32[8] tensors is at most 2 µs.

    python benchmarks/eager_overhead.py [--repeat 20] [--number 20000]

Prints the median and the minimum over `repeat` runs of `number` calls each, per call, and each library's median
divided by numpy's (time/numpy: above 1 is slower than numpy); then the per-call time of a compiled
`engine.function` doing the same add. It checks nothing: timings depend on the machine.
"""
from __future__ import annotations

import argparse
import importlib
import platform
import statistics
import sys
import timeit
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
import engine  # noqa: E402

A = np.linspace(0.5, 1.5, 8, dtype=np.float32)
B = np.linspace(-1.0, 1.0, 8, dtype=np.float32)
M = np.linspace(-1.0, 1.0, 64, dtype=np.float32).reshape(8, 8)

OPS = ["a + b", "a * 2.0", "exp(a)", "reduce_sum(a)", "matmul 8x8"]


def kiln_ops() -> dict[str, Callable[[], Any]]:
    a, b, m = engine.constant(A), engine.constant(B), engine.constant(M)
    return {"a + b": lambda: a + b, "a * 2.0": lambda: a * 2.0, "exp(a)": lambda: engine.exp(a),
            "reduce_sum(a)": lambda: engine.reduce_sum(a), "matmul 8x8": lambda: engine.matmul(m, m)}


def numpy_ops() -> dict[str, Callable[[], Any]]:
    a, b, m = A.copy(), B.copy(), M.copy()
    return {"a + b": lambda: a + b, "a * 2.0": lambda: a * 2.0, "exp(a)": lambda: np.exp(a),
            "reduce_sum(a)": lambda: np.sum(a), "matmul 8x8": lambda: m @ m}


def torch_ops(torch: Any) -> dict[str, Callable[[], Any]]:
    a, b, m = torch.from_numpy(A.copy()), torch.from_numpy(B.copy()), torch.from_numpy(M.copy())
    return {"a + b": lambda: a + b, "a * 2.0": lambda: a * 2.0, "exp(a)": lambda: torch.exp(a),
            "reduce_sum(a)": lambda: torch.sum(a), "matmul 8x8": lambda: m @ m}


def jax_ops(jax: Any) -> dict[str, Callable[[], Any]]:
    jnp = jax.numpy
    a, b, m = jnp.asarray(A), jnp.asarray(B), jnp.asarray(M)
    # JAX dispatches asynchronously: wait for each result, or only the enqueueing is timed.
    return {"a + b": lambda: (a + b).block_until_ready(), "a * 2.0": lambda: (a * 2.0).block_until_ready(),
            "exp(a)": lambda: jnp.exp(a).block_until_ready(), "reduce_sum(a)": lambda: jnp.sum(a).block_until_ready(),
            "matmul 8x8": lambda: (m @ m).block_until_ready()}


def tensorflow_ops(tf: Any) -> dict[str, Callable[[], Any]]:
    a, b, m = tf.constant(A), tf.constant(B), tf.constant(M)
    return {"a + b": lambda: a + b, "a * 2.0": lambda: a * 2.0, "exp(a)": lambda: tf.exp(a),
            "reduce_sum(a)": lambda: tf.reduce_sum(a), "matmul 8x8": lambda: tf.matmul(m, m)}


def libraries() -> list[tuple[str, Callable[[], dict[str, Callable[[], Any]]]]]:
    found = [(f"kiln {engine.__version__}", kiln_ops), (f"numpy {np.__version__}", numpy_ops)]
    for module, make in [("torch", torch_ops), ("jax", jax_ops), ("tensorflow", tensorflow_ops)]:
        try:
            lib = importlib.import_module(module)
        except Exception:  # not installed, or broken: skip it
            print(f"({module} not importable: skipped)")
            continue
        found.append((f"{module} {getattr(lib, '__version__', '?')}", lambda make=make, lib=lib: make(lib)))
    return found


def per_call_us(fn: Callable[[], Any], repeat: int, number: int) -> tuple[float, float]:
    fn()  # warm up: first-call caches, lazy imports
    runs = timeit.repeat(fn, repeat=repeat, number=number)
    per_call = [t / number * 1e6 for t in runs]
    return statistics.median(per_call), min(per_call)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timing runs per op (default 20)")
    parser.add_argument("--number", type=int, default=20000, help="calls per timing run (default 20000)")
    args = parser.parse_args()

    print(f"Python {platform.python_version()} on {platform.machine()} ({platform.processor() or platform.system()})")
    found = libraries()
    print(f"per-call time of one eager op on float32[8] (matmul: float32[8, 8]); "
          f"{args.repeat} runs x {args.number} calls\n")
    results: dict[str, dict[str, tuple[float, float]]] = {}
    names = []
    for name, make in found:
        names.append(name)
        ops = make()
        results[name] = {op: per_call_us(ops[op], args.repeat, args.number) for op in OPS}

    numpy_name = names[1]
    header = f"{'op':<15}{'library':<20}{'median µs':>11}{'min µs':>10}{'time/numpy':>12}"
    print(header)
    print("-" * len(header))
    for op in OPS:
        for i, name in enumerate(names):
            median, low = results[name][op]
            ratio = median / results[numpy_name][op][0]
            print(f"{op if i == 0 else '':<15}{name:<20}{median:>11.3f}{low:>10.3f}{ratio:>11.1f}x")
    kiln_add = results[names[0]]["a + b"][0]
    print(f"\nkiln eager a + b: {kiln_add:.2f} µs median (target: <= 2 µs)")

    # For comparison, the call of a compiled function doing the same add: the native entry point's overhead.
    add = engine.function(lambda a, b: a + b)
    a, b = engine.constant(A), engine.constant(B)
    median, low = per_call_us(lambda: add(a, b), args.repeat, args.number)
    print(f"kiln @engine.function a + b (compiled, per call): {median:.2f} µs median, {low:.2f} µs min")


if __name__ == "__main__":
    main()

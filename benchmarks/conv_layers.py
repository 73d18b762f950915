"""Convolution layers of a small CNN (batch 32, NHWC, float32): the conv2d / pooling rows compiled by Kiln against
numpy references in the same run, forward and gradient (of a weighted sum with respect to input and filter).

    PYTHONPATH=. python benchmarks/conv_layers.py [--repeat 30] [--baseline module.path]

`--baseline` names a module with the same public functions as `engine.nn_conv` (e.g. a copy of an older version)
to time beside the rows. numpy's forward is as_strided windows and one tensordot (BLAS); its gradients are the same
contraction transposed. Each cell is min/median of `--repeat` calls, in milliseconds, the functions timed in turn.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import time
from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

import engine as tf
from engine import nn_conv

LAYERS = [("conv 28x28x1 -> 3x3x32", (32, 28, 28, 1), (3, 3, 1, 32)),
          ("conv 14x14x32 -> 3x3x64", (32, 14, 14, 32), (3, 3, 32, 64))]
POOL = ("max_pool 2x2 of 26x26x32", (32, 26, 26, 32))


def median_ms(fns: list[Callable[[], Any]], repeat: int) -> list[str]:
    """'min/median' milliseconds of each function, timed in turn within every round (so a busy machine slows all
    of them alike; the minimum is the least disturbed call)."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return [f"{1e3 * min(ts):.3f}/{1e3 * statistics.median(ts):.3f}" for ts in times]


def numpy_conv(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    kh, kw = f.shape[:2]
    s = x.strides
    win = as_strided(x, (n, h - kh + 1, w - kw + 1, kh, kw, c), (s[0], s[1], s[2], s[1], s[2], s[3]))
    return np.tensordot(win, f, axes=([3, 4, 5], [0, 1, 2]))


def numpy_conv_grads(x: np.ndarray, f: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, h, w, c = x.shape
    kh, kw = f.shape[:2]
    s = x.strides
    win = as_strided(x, (n, h - kh + 1, w - kw + 1, kh, kw, c), (s[0], s[1], s[2], s[1], s[2], s[3]))
    df = np.tensordot(win, g, axes=([0, 1, 2], [0, 1, 2]))
    cols = np.tensordot(g, f, axes=([3], [3]))
    dx = np.zeros_like(x)
    for i in range(kh):
        for j in range(kw):
            dx[:, i:i + g.shape[1], j:j + g.shape[2]] += cols[:, :, :, i, j]
    return dx, df


def kiln_pair(impl: Any, x: np.ndarray, f: np.ndarray, w: np.ndarray) -> tuple[Callable, Callable]:
    forward = tf.function(lambda a, b: impl.conv2d(a, b, 1, "VALID"))

    @tf.function
    def grads(a: Any, b: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch([a, b])
            loss = tf.reduce_sum(impl.conv2d(a, b, 1, "VALID") * w)
        return tape.gradient(loss, [a, b])
    xt, ft = tf.constant(x), tf.constant(f)
    return (lambda: forward(xt, ft)), (lambda: grads(xt, ft))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--baseline", default=None)
    args = ap.parse_args()
    impls = {"rows": nn_conv}
    if args.baseline:
        impls["baseline"] = importlib.import_module(args.baseline)
    rng = np.random.default_rng(0)
    print(f"{'layer':28s} {'impl':9s} {'forward ms':>15s} {'gradient ms':>15s}")
    for name, xs, fs in LAYERS:
        x, f = rng.standard_normal(xs, np.float32), rng.standard_normal(fs, np.float32)
        y = numpy_conv(x, f)
        w = rng.standard_normal(y.shape, np.float32)
        want_dx, want_df = numpy_conv_grads(x, f, w)
        fns = [lambda: numpy_conv(x, f), lambda: numpy_conv_grads(x, f, w)]
        for impl in impls.values():
            run_f, run_g = kiln_pair(impl, x, f, w)
            np.testing.assert_allclose(run_f().numpy(), y, rtol=1e-3, atol=1e-3)
            dx, df = run_g()
            np.testing.assert_allclose(df.numpy(), want_df, rtol=1e-3, atol=1e-2)
            np.testing.assert_allclose(dx.numpy(), want_dx, rtol=1e-3, atol=1e-2)
            fns += [run_f, run_g]
        ms = median_ms(fns, args.repeat)
        for k, label in enumerate(["numpy"] + list(impls)):
            print(f"{name if k == 0 else '':28s} {label:9s} {ms[2 * k]:>15s} {ms[2 * k + 1]:>15s}")
    name, xs = POOL
    x = rng.standard_normal(xs, np.float32)
    xt = tf.constant(x)
    fns = [lambda: x.reshape(32, 13, 2, 13, 2, 32).max(axis=(2, 4))]
    for impl in impls.values():
        pool = tf.function(lambda a, impl=impl: impl.max_pool2d(a, 2, 2, "VALID"))

        @tf.function
        def pool_grad(a: Any, impl: Any = impl) -> Any:
            with tf.GradientTape() as tape:
                tape.watch(a)
                loss = tf.reduce_sum(impl.max_pool2d(a, 2, 2, "VALID"))
            return tape.gradient(loss, a)
        fns += [lambda pool=pool: pool(xt), lambda pool_grad=pool_grad: pool_grad(xt)]
    ms = median_ms(fns, args.repeat)
    print(f"{name:28s} {'numpy':9s} {ms[0]:>15s} {'':>15s}")
    for k, label in enumerate(impls):
        print(f"{'':28s} {label:9s} {ms[1 + 2 * k]:>15s} {ms[2 + 2 * k]:>15s}")


if __name__ == "__main__":
    main()

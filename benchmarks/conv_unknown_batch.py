"""Convolutions with a run-time batch against static ones (issue 12): the conv2d rows (forward, and the gradient of
a weighted sum with respect to input and filter) and a Keras CNN train step, each as a `tf.function` with a
`[None, H, W, C]` signature (one kernel for every batch) next to the same function with a static `[N, H, W, C]`
signature, at the same batch, in the same run (interleaved rounds; median/minimum per call in ms).

    PYTHONPATH=. python benchmarks/conv_unknown_batch.py [--repeats 15] [--sizes 32] [--tensorflow] [--cpu]

`--tensorflow` runs the same program on TensorFlow itself (`import tensorflow as tf`, e.g. with /work/tfvenv's
python) for the peer's figures. The CNN (the layers of benchmarks/conv_layers.py): Conv2D(32, 3, relu),
MaxPooling2D, Flatten, Dense(10) on 28x28x1 inputs, sparse cross-entropy, tape.gradient, SGD apply_gradients.
Every dynamic result is checked against the static one first. `--cpu` times the process's CPU time instead of
wall time: on a machine shared with other work, wall time mostly measures waiting for a core (Kiln's conv kernels
run on one thread; TensorFlow's use several, so compare it by wall time).
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

LAYERS = [("conv 28x28x1 -> 3x3x32", (28, 28, 1), (3, 3, 1, 32)),
          ("conv 14x14x32 -> 3x3x64", (14, 14, 32), (3, 3, 32, 64))]


CLOCK = [time.perf_counter]


def per_call(f: Callable[[], Any], repeats: int) -> list[float]:
    """Seconds per call, one figure per repeat (each repeat times enough calls to last ~20 ms)."""
    clock = CLOCK[0]
    f()
    t0, calls = clock(), 0
    while clock() - t0 < 0.02:
        f()
        calls += 1
    out = []
    for _ in range(repeats):
        t0 = clock()
        for _ in range(calls):
            f()
        out.append((clock() - t0) / calls)
    return out


def compare(name: str, n: int, static: Callable[[], Any], dynamic: Callable[[], Any], repeats: int) -> None:
    ts: list[float] = []
    td: list[float] = []
    for _ in range(3):  # interleaved, so load changes on the shared machine hit both alike
        ts += per_call(static, repeats)
        td += per_call(dynamic, repeats)

    def cell(v: list[float]) -> str:
        return f"{statistics.median(v) * 1e3:.3f}/{min(v) * 1e3:.3f}"
    print(f"{name:<26}{n:>5}{cell(ts):>18}{cell(td):>18}{statistics.median(td) / statistics.median(ts):>8.2f}"
          f"{min(td) / min(ts):>7.2f}", flush=True)


def conv_rows(tf: Any, n: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    for name, hwc, fs in LAYERS:
        x = tf.constant(rng.standard_normal((n,) + hwc).astype(np.float32))
        f = tf.constant(rng.standard_normal(fs).astype(np.float32))
        w = tf.constant(rng.standard_normal((n,) + hwc[:2] + fs[3:]).astype(np.float32))

        def make(batch: Any) -> tuple[Any, Any]:
            spec = [tf.TensorSpec((batch,) + hwc, tf.float32), tf.TensorSpec(fs, tf.float32)]
            forward = tf.function(lambda a, b: tf.nn.conv2d(a, b, 1, "SAME"), input_signature=spec)

            @tf.function(input_signature=spec + [tf.TensorSpec((batch,) + hwc[:2] + fs[3:], tf.float32)])
            def grads(a: Any, b: Any, c: Any) -> Any:
                with tf.GradientTape() as tape:
                    tape.watch([a, b])
                    loss = tf.reduce_sum(tf.nn.conv2d(a, b, 1, "SAME") * c)
                return tape.gradient(loss, [a, b])
            return forward, grads
        (sf, sg), (df, dg) = make(n), make(None)
        np.testing.assert_allclose(df(x, f).numpy(), sf(x, f).numpy(), rtol=1e-5, atol=1e-4)
        for a, b in zip(dg(x, f, w), sg(x, f, w)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-3)
        compare(name + " fwd", n, lambda: sf(x, f), lambda: df(x, f), repeats)
        compare(name + " grad", n, lambda: sg(x, f, w), lambda: dg(x, f, w), repeats)


def cnn_step(tf: Any, n: Any, init: list) -> Any:
    keras = tf.keras
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
                              keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dense(10)])
    for v, a in zip(model.trainable_variables, init):
        v.assign(a)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt = keras.optimizers.SGD(0.01)

    @tf.function(input_signature=[tf.TensorSpec([n, 28, 28, 1], tf.float32), tf.TensorSpec([n], tf.int32)])
    def train(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss
    return train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--sizes", default="32")
    ap.add_argument("--tensorflow", action="store_true")
    ap.add_argument("--cpu", action="store_true", help="time CPU time rather than wall time")
    args = ap.parse_args()
    if args.cpu:
        CLOCK[0] = time.process_time
    if args.tensorflow:
        import tensorflow as tf
    else:
        import engine as tf
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'workload':<26}{'N':>5}{'static ms':>18}{'[?] ms':>18}{'[?]/st':>8}{'(min)':>7}")
    for n in sizes:
        conv_rows(tf, n, args.repeats)
    rng = np.random.default_rng(1)
    shapes = [(3, 3, 1, 32), (32,), (5408, 10), (10,)]
    init = [(rng.standard_normal(s) * (0.1 if len(s) > 1 else 0)).astype(np.float32) for s in shapes]
    for n in sizes:
        x = tf.constant(rng.standard_normal((n, 28, 28, 1)).astype(np.float32))
        y = tf.constant(rng.integers(0, 10, n).astype(np.int32))
        static, dynamic = cnn_step(tf, n, init), cnn_step(tf, None, init)
        np.testing.assert_allclose(dynamic(x, y).numpy(), static(x, y).numpy(), rtol=1e-4)
        compare("cnn train step", n, lambda: static(x, y), lambda: dynamic(x, y), args.repeats)


if __name__ == "__main__":
    main()

"""The time loop of Keras recurrent layers compiled two ways: one `while_loop` op over time against a static unroll
(one copy of the cell per step), for a train step (forward, MSE loss, tape.gradient, SGD) of one recurrent layer.

    KILN_CACHE=0 python benchmarks/rnn_loop.py [--repeats N] [--cases lstm:20:32,gru:100:128]

Per case (layer, time steps, units; batch 32, 16 features): the first call's time (trace, autodiff, compile) and
the median time of later steps, for both loops, checked to agree first; and a numpy forward pass of the same
layer (the cell written in numpy, no gradient) in the same run, for scale. torch's LSTM/GRU train step when torch
is importable.
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

BATCH, FEATURES = 32, 16


def _median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _train_step(kind: str, units: int, unroll: bool) -> tuple[Any, Any]:
    tf.keras.utils.set_random_seed(0)
    layer = {"lstm": tf.keras.layers.LSTM, "gru": tf.keras.layers.GRU,
             "simple": tf.keras.layers.SimpleRNN}[kind](units, unroll=unroll)
    opt = tf.keras.optimizers.SGD(0.01)

    @tf.function
    def step(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(x) - y))
        grads = tape.gradient(loss, layer.trainable_variables)
        opt.apply_gradients(zip(grads, layer.trainable_variables))
        return loss
    return step, layer


def _numpy_forward(kind: str, layer: Any, x: np.ndarray) -> np.ndarray:
    k, rk, b = (w.numpy() for w in layer.weights)
    h = np.zeros((x.shape[0], rk.shape[0]), np.float32)
    c = np.zeros_like(h)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z_all = x @ k + (b[0] if b.ndim == 2 else b)
    for t in range(x.shape[1]):
        if kind == "lstm":
            i, f, g, o = np.split(z_all[:, t] + h @ rk, 4, axis=-1)
            c = sig(f) * c + sig(i) * np.tanh(g)
            h = sig(o) * np.tanh(c)
        elif kind == "gru":
            xz, xr, xh = np.split(z_all[:, t], 3, axis=-1)
            rz, rr, rh = np.split(h @ rk + b[1], 3, axis=-1)
            z, r = sig(xz + rz), sig(xr + rr)
            h = z * h + (1 - z) * np.tanh(xh + r * rh)
        else:
            h = np.tanh(z_all[:, t] + h @ rk)
    return h


def _torch_step(kind: str, steps: int, units: int, repeats: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    mod = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "simple": torch.nn.RNN}[kind](FEATURES, units,
                                                                                     batch_first=True)
    opt = torch.optim.SGD(mod.parameters(), lr=0.01)
    x = torch.randn(BATCH, steps, FEATURES)
    y = torch.randn(BATCH, units)

    def step() -> None:
        opt.zero_grad()
        out, _ = mod(x)
        loss = ((out[:, -1] - y) ** 2).mean()
        loss.backward()
        opt.step()
    step()
    return _median_time(step, repeats)


def run_case(kind: str, steps: int, units: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, steps, FEATURES)).astype(np.float32)
    y = rng.standard_normal((BATCH, units)).astype(np.float32)
    row: dict = {"case": f"{kind} T={steps} H={units}"}
    losses = {}
    for unroll in (False, True):
        step, layer = _train_step(kind, units, unroll)
        start = time.perf_counter()
        losses[unroll] = float(step(x, y))
        row["first_unroll" if unroll else "first_while"] = time.perf_counter() - start
        row["step_unroll" if unroll else "step_while"] = _median_time(lambda: step(x, y), repeats)
        if not unroll:
            row["numpy_fwd"] = _median_time(lambda: _numpy_forward(kind, layer, x), repeats)
    assert abs(losses[True] - losses[False]) <= 1e-4 * max(1.0, abs(losses[False])), losses
    row["torch_step"] = _torch_step(kind, steps, units, repeats)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cases", default="lstm:20:32,lstm:20:128,lstm:50:64,lstm:100:32,lstm:100:128,"
                                           "gru:20:64,gru:100:64")
    args = parser.parse_args()
    print(f"{'case':22s} {'1st while':>10s} {'1st unroll':>10s} {'step while':>11s} {'step unroll':>11s} "
          f"{'np fwd':>9s} {'torch':>9s}")
    for case in args.cases.split(","):
        kind, steps, units = case.split(":")
        r = run_case(kind, int(steps), int(units), args.repeats)
        torch_ms = "-" if r["torch_step"] is None else f"{r['torch_step'] * 1e3:.2f}ms"
        print(f"{r['case']:22s} {r['first_while']:9.2f}s {r['first_unroll']:9.2f}s "
              f"{r['step_while'] * 1e3:9.2f}ms {r['step_unroll'] * 1e3:9.2f}ms {r['numpy_fwd'] * 1e3:7.2f}ms "
              f"{torch_ms:>9s}", flush=True)


if __name__ == "__main__":
    main()

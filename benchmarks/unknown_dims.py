"""One kernel for every batch size against one kernel per size: compiled `[?,784]` functions next to the static
`[N,784]` ones they replace, at N = 32 and 256 (issue 12's target: within 10%).

    python benchmarks/unknown_dims.py [--repeats N] [--sizes 32,256]

Workloads: the MLP layer forward `relu(x @ W + b)` (W 784x128) and an elementwise+reduce chain
`reduce_sum(exp(x) * x, axis 1)`, as IR built directly and compiled as the runtime compiles it (the `dim` row that
gives the run-time batch size to `broadcast_to` comes from the IR layer; a local stand-in is used until it is
there); then, through the engine's call path (the generated fast caller, engine.fastcall), the same forward and a
Keras train step (784-128-10 Dense model, sparse cross-entropy, tape.gradient, SGD apply_gradients) as
`tf.function`s with a `TensorSpec([None, 784])` signature against static `[N, 784]` ones. Every result is checked
against numpy (or the static function) first. Each repeat times enough calls to last ~20 ms; three interleaved
rounds of repeats; the table gives median/minimum per call, the dynamic/static ratio of medians and of minimums,
numpy's time in the same run, and how many threads share one call of the static kernel and of the `?` one (`thr`:
>1 when it is row-tiled; a `?` kernel decides per call from its rows). Last, a big row softmax and elementwise
chain with a [None, 1024] signature against a static one at N = 4096 (`--big`), with numpy in the same run.
KILN_NUM_THREADS=1 compares single-threaded kernels.
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
from codegen import runtime  # noqa: E402
from codegen.rules.shape import lower_dim  # noqa: E402
from ir.core import Block, Builder, Function, Value  # noqa: E402
from ir.opdef import NONDIFF, OPS, OpDef  # noqa: E402
from ir.types import TensorType, float32, int64  # noqa: E402

DIM = OPS.get("dim") or OpDef("dim", lambda types, *, axis: (TensorType(int64, ()),),
                              lambda x, *, axis: np.asarray(x.shape[axis], np.int64), NONDIFF, "shape",
                              attrs=("axis",), lower=lower_dim)


def _t(*shape: Any) -> TensorType:
    return TensorType(float32, shape)


def mlp_forward(n: Any) -> Function:
    x, w, bias = Value(_t(n, 784), "x"), Value(_t(784, 128), "w"), Value(_t(128), "b")
    b = Builder(Block([x, w, bias]))
    (mm,) = b.op(OPS["matmul"], [x, w], {"transpose_a": False, "transpose_b": False}, result_types=[_t(n, 128)])
    sizes = [b.op(DIM, [x], {"axis": 0}, result_types=[TensorType(int64, ())])[0]] if n is None else []
    (bb,) = b.op(OPS["broadcast_to"], [bias, *sizes], {"shape": (n, 128)}, result_types=[_t(n, 128)])
    (s,) = b.op(OPS["add"], [mm, bb], result_types=[_t(n, 128)])
    (r,) = b.op(OPS["relu"], [s], result_types=[_t(n, 128)])
    b.op(OPS["return"], [r], result_types=[])
    return Function("mlp_forward", b.block)


def exp_sum(n: Any) -> Function:
    x = Value(_t(n, 784), "x")
    b = Builder(Block([x]))
    (e,) = b.op(OPS["exp"], [x], result_types=[_t(n, 784)])
    (m,) = b.op(OPS["mul"], [e, x], result_types=[_t(n, 784)])
    (s,) = b.op(OPS["reduce_sum"], [m], {"axes": (1,)}, result_types=[_t(n)])
    b.op(OPS["return"], [s], result_types=[])
    return Function("exp_sum", b.block)


def compile_ir(fn: Function) -> Any:
    """Compiled as the runtime compiles it (tiling and GIL release decided the same way), without re-verifying:
    the IR layer's shape inference may not take `?` everywhere yet."""
    work = runtime.work(fn)
    tiling = runtime.tiling_plan(fn) if work >= runtime.TILE_ELEMENTS else None
    release = work >= runtime.RELEASE_GIL_ELEMENTS
    lowered, _, obj = runtime.build(fn, release, tiling)
    return runtime._link(fn, lowered, obj, release, tiling)


def per_call(f: Callable[[], Any], repeats: int) -> list[float]:
    """Seconds per call, one figure per repeat."""
    f()
    t0, calls = time.perf_counter(), 0
    while time.perf_counter() - t0 < 0.02:
        f()
        calls += 1
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            f()
        times.append((time.perf_counter() - t0) / calls)
    return times


def row(name: str, n: int, static: list[float], dynamic: list[float], peer: list[float], threads: int = 1,
        dyn_threads: int = 1) -> None:
    """Medians (and, after the slash, minimums: the least disturbed figure on a shared machine) in microseconds."""
    def cell(v: list[float]) -> str:
        return f"{statistics.median(v) * 1e6:.1f}/{min(v) * 1e6:.1f}" if v else "-"
    ratio = statistics.median(dynamic) / statistics.median(static)
    best = min(dynamic) / min(static)
    print(f"{name:<12}{n:>5}{cell(static):>18}{cell(dynamic):>18}{ratio:>8.2f}{best:>7.2f}{cell(peer):>18}"
          f"{threads:>4}{dyn_threads:>4}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--sizes", default="32,256")
    ap.add_argument("--big", type=int, default=4096)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((784, 128)) * 0.05).astype(np.float32)
    bias = rng.standard_normal(128).astype(np.float32)
    cases = [("mlp_forward", mlp_forward, lambda x: [x, w, bias], lambda x: np.maximum(x @ w + bias, 0)),
             ("exp_sum", exp_sum, lambda x: [x], lambda x: (np.exp(x) * x).sum(axis=1))]
    print(f"{'workload':<12}{'N':>5}{'static us':>18}{'[?] us':>18}{'[?]/st':>8}{'(min)':>7}{'numpy us':>18}{'thr':>4}"
          f"{'[?]':>4}")
    for name, make, argv, ref in cases:
        dynamic = compile_ir(make(None))
        for n in [int(s) for s in args.sizes.split(",")]:
            static = compile_ir(make(n))
            x = rng.standard_normal((n, 784)).astype(np.float32) * 0.5
            a = argv(x)
            for k in (static, dynamic):
                np.testing.assert_allclose(k.run(a)[0], ref(x), rtol=2e-4, atol=2e-4)
            ts, td, tn = [], [], []
            for _ in range(3):  # interleaved, so load changes on the shared machine hit both alike
                ts += per_call(lambda: static.run(a), args.repeats)
                td += per_call(lambda: dynamic.run(a), args.repeats)
                tn += per_call(lambda: ref(x), args.repeats)
            row(name, n, ts, td, tn, static.threads, dynamic.split(a)[1])
    train_steps([int(s) for s in args.sizes.split(",")], args.repeats)
    big_rows(args.big, args.repeats)


def train_steps(sizes: list[int], repeats: int) -> None:
    """Through the engine's call path (the generated fast caller): the MLP layer forward `relu(x@W+b)` and a Keras
    train step (784-128-10 Dense model, loss, tape.gradient, SGD `apply_gradients`) as `tf.function`s with a
    [None, 784] signature (one trace, one kernel) against ones with a static [N, 784] signature. Every step's loss
    is checked against the static one's first."""
    import engine as tf
    from engine import keras
    rng = np.random.default_rng(1)
    w0 = (rng.standard_normal((784, 128)) * 0.05).astype(np.float32)
    b0 = rng.standard_normal(128).astype(np.float32)
    init = [w0, np.zeros(128, np.float32), (rng.standard_normal((128, 10)) * 0.05).astype(np.float32),
            np.zeros(10, np.float32)]

    def forward(n: Any) -> Any:
        w, b = tf.Variable(w0), tf.Variable(b0)
        return tf.function(lambda x: tf.nn.relu(tf.matmul(x, w) + b),
                           input_signature=[tf.TensorSpec([n, 784], tf.float32)])

    def step(n: Any) -> Any:
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                                  keras.layers.Dense(10)])
        for v, a in zip(model.trainable_variables, init):
            v.assign(a)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        opt = keras.optimizers.SGD(0.01)

        @tf.function(input_signature=[tf.TensorSpec([n, 784], tf.float32), tf.TensorSpec([n], tf.int32)])
        def train(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss
        return train
    for name, make in (("fn_forward", forward), ("fn_train", step)):
        for n in sizes:
            dynamic = make(None)  # (a new one per size: both start from the same weights)
            x = tf.constant(rng.standard_normal((n, 784)).astype(np.float32))
            y = tf.constant(rng.integers(0, 10, n).astype(np.int32))
            static = make(n)
            argv = (x,) if name == "fn_forward" else (x, y)
            np.testing.assert_allclose(dynamic(*argv).numpy(), static(*argv).numpy(), rtol=1e-3, atol=1e-4)
            general = dynamic._call_general
            if getattr(dynamic._call, "__name__", "") != "fast":
                print(f"{name}: the [None] function has no fast caller (every call takes the general path)")
            ts, td = [], []
            for _ in range(3):  # interleaved
                ts += per_call(lambda: static(*argv), repeats)
                td += per_call(lambda: dynamic(*argv), repeats)
            assert dynamic._call_general == general
            row(name, n, ts, td, [], getattr(static.get_concrete_function().compiled, "threads", 1),
                _threads(dynamic, argv))


def _threads(f: Any, argv: tuple) -> int:
    """Threads sharing one call of a traced function's kernel on these arguments."""
    compiled = f.get_concrete_function().compiled
    split = getattr(compiled, "split", None)
    return split([a.numpy() for a in argv] + [None] * 8)[1] if split is not None else 1


def big_rows(n: int, repeats: int) -> None:
    """A row softmax and an elementwise chain at [n, 1024] through tf.function: a [None, 1024] signature against a
    static one, numpy in the same run."""
    import engine as tf
    x = np.random.default_rng(2).standard_normal((n, 1024)).astype(np.float32)

    def np_softmax(a: np.ndarray) -> np.ndarray:
        e = np.exp(a * 2.0 - (a * 2.0).max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    cases = (("softmax", lambda v: tf.nn.softmax(v * 2.0), np_softmax),
             ("elementwise", lambda v: tf.exp(v) * v + 1.0, lambda a: np.exp(a) * a + 1.0))
    for name, body, ref in cases:
        dynamic = tf.function(body, input_signature=[tf.TensorSpec([None, 1024], tf.float32)])
        static = tf.function(body, input_signature=[tf.TensorSpec([n, 1024], tf.float32)])
        t = tf.constant(x)
        for f in (dynamic, static):
            np.testing.assert_allclose(f(t).numpy(), ref(x), rtol=1e-5, atol=1e-6)
        ts, td, tn = [], [], []
        for _ in range(3):  # interleaved
            ts += per_call(lambda: static(t), repeats)
            td += per_call(lambda: dynamic(t), repeats)
            tn += per_call(lambda: ref(x), repeats)
        row(name, n, ts, td, tn, static.get_concrete_function().compiled.threads, _threads(dynamic, (t,)))


if __name__ == "__main__":
    main()

"""The first layer of the native entry's safety (DESIGN §3): an eager Tensor always holds an exact ndarray, whatever
made it (an op row's numpy kernel returning a numpy scalar for a 0-d result, a public op, a Variable read, indexing,
a random draw, a constant of a numpy scalar, a function's result, a gradient); and what a function accepts as
arguments converts as TensorFlow converts it.
"""
from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import numpy as np
import pytest


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _leaves(item)]
    if isinstance(x, dict):
        return [leaf for item in x.values() for leaf in _leaves(item)]
    return [x]


def _assert_eager_ndarrays(result: Any, what: str) -> int:
    from engine.tensor import Tensor
    n = 0
    for leaf in _leaves(result):
        if isinstance(leaf, Tensor):
            assert leaf._node is not None or type(leaf._value) is np.ndarray, \
                f"{what}: an eager Tensor holds {type(leaf._value).__name__}"
            n += 1
    return n


def test_every_op_row_gives_tensors_holding_ndarrays() -> None:
    """Through the dispatch funnel, every row of the op table (on its samples, 0-d ones included) returns Tensors
    holding ndarrays, although many rows' numpy kernels return numpy scalars for 0-d results."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_optable import SAMPLES

    import ir
    from engine import dispatch
    from engine.tensor import Tensor
    from ir.opdef import Kind
    from ir.types import Cell
    scalar_kernels = checked = 0
    for name, samples in SAMPLES.items():
        opdef = ir.OPS[name]
        if opdef.regions or opdef.terminator or opdef.kind is Kind.STACK or name in ("print",):
            continue
        for operands, attrs in samples:
            if any(isinstance(x, Cell) for x in operands):
                continue
            raw = opdef.eager(*operands, **attrs)
            scalar_kernels += any(isinstance(r, np.generic) for r in (raw if isinstance(raw, tuple) else (raw,)))
            checked += _assert_eager_ndarrays(dispatch.apply(opdef, *[Tensor(x) for x in operands], **attrs), name)
    assert checked > 100 and scalar_kernels > 10, (checked, scalar_kernels)


def test_every_public_op_gives_tensors_holding_ndarrays() -> None:
    """Every public function of `engine`, `engine.math` and `engine.nn` that accepts one of a few argument lists
    (0-d ones first) returns eager Tensors holding ndarrays; so do Variables, indexing, random draws, constants of
    numpy scalars, gradients and functions run on the interpreter."""
    import engine as tf
    s, s2 = tf.constant(1.5), tf.constant(0.5)
    v, m = tf.constant([0.5, 1.5, 2.0]), tf.constant([[0.5, 1.5, 2.0], [1.0, -1.0, 3.0]])
    i, iv, b = tf.constant(2), tf.constant([2, 0, 1]), tf.constant(True)
    arg_lists = [(s,), (s, s2), (i,), (i, i), (b,), (b, b), (v,), (v, v), (m,), (m, 0), (v, 0), (iv, 3), (s, 0.0, 1.0),
                 (v, [3]), (m, [3, 2]), ([s, s2],), ([v, v], 0), ([2, 3],), (m, [1, 0])]
    skip = {"function", "grad", "hessian", "jvp", "vjp", "value_and_grad", "make_ir", "custom_gradient", "print",
            "cond", "while_loop", "Assert"}
    calls = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module in (tf, tf.math, tf.nn):
            for name in sorted(dir(module)):
                fn = getattr(module, name)
                if name.startswith("_") or name in skip or not callable(fn) or isinstance(fn, type):
                    continue
                for args in arg_lists:
                    try:
                        result = fn(*args)
                    except Exception:  # noqa: BLE001  (not an argument list this function takes)
                        continue
                    calls += 1
                    _assert_eager_ndarrays(result, f"{module.__name__}.{name}{args!r}")
        var = tf.Variable(2.0)
        var.assign_add(1.0)
        more = [var.value(), var.read_value(), var + 1.0, v[0], m[1, 2], m[..., 0], tf.random.uniform([]),
                tf.random.normal([]), tf.constant(np.float32(1.0)), tf.convert_to_tensor(np.float64(2.0)),
                tf.reduce_sum(v), tf.function(lambda x: tf.reduce_sum(x), jit_compile=False)(v),
                tf.function(lambda x: x * 2.0)(s), tf.function(lambda x: x * 2.0)(tf.constant(1.0) + tf.constant(2.0))]
        with tf.GradientTape() as tape:
            tape.watch(s)
            y = s * s
        more.append(tape.gradient(y, s))
        more.append(tf.grad(lambda x: x * x)(s))
        calls += _assert_eager_ndarrays(more, "state, indexing, random, constants, functions, gradients")
    assert calls > 250, calls


@pytest.mark.filterwarnings("ignore:.*retracing:RuntimeWarning")  # TensorFlow warns about these retraces too
def test_function_arguments_convert_as_tensorflow_does() -> None:
    """Numpy scalars are tensor arguments (no retrace per value), numpy arrays of any layout convert by dtype and
    shape, Python numbers retrace per value. Results and trace counts are TensorFlow 2.21's for the same calls."""
    import engine as tf

    @tf.function
    def f(x: Any) -> Any:
        return x * 2
    buf = np.zeros(13, np.uint8).tobytes()
    calls = [  # (argument, TF 2.21's result, TF 2.21's tracing count after the call)
        (np.float32(1), np.float32(2.0), 1), (np.float32(2), np.float32(4.0), 1),
        (np.array(3.0, np.float32), np.float32(6.0), 1), (np.float64(1), np.float64(2.0), 2),
        (np.int64(2), np.int64(4), 3), (np.ones(3), np.full(3, 2.0), 4), (np.zeros(3), np.zeros(3), 4),
        (np.arange(6, dtype=np.float32)[::2], np.array([0.0, 4.0, 8.0], np.float32), 5),
        (np.ones((2, 3), np.float32).T, np.full((3, 2), 2.0, np.float32), 6),
        (np.frombuffer(buf, dtype=np.float32, offset=1), np.zeros(3, np.float32), 6),
        (3, np.int32(6), 7), (4, np.int32(8), 8), (2.5, np.float32(5.0), 9),
    ]
    for arg, want, traces in calls:
        got = f(arg)
        assert got.dtype.np == np.asarray(want).dtype and np.array_equal(got.numpy(), want), (arg, got)
        assert f.experimental_get_tracing_count() == traces, (arg, f.experimental_get_tracing_count())

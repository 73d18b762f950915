"""Elementwise ops broadcast a dim of unknown size that is 1 when the function runs (issue 12): `x - x[:1]` under a
`None` batch, `x + y` with two `None` dims of which either, both or neither is 1 at run time, as TF 2.21 does.

The trace joins two unknown sizes with `broadcast_dim` (numpy's rule, TF's InvalidArgumentError "Incompatible
shapes: [3] vs. [2]" otherwise) and broadcasts both operands to it, so one compiled kernel serves every size (a
run-time 1 gets stride 0, chosen once per call) and the gradient sums over the broadcast rows at run time. The
oracle is numpy; gradients against float64 finite differences; TF's static shapes and error texts are hard-coded.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest

import engine as tf
from codegen import runtime
from engine.kernels import compiles_generically
from engine.testing import check_grads
from ir.interp import run as interpret
from ir.parser import parse
from ir.printer import print_function
from ir.verify import verify


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    made: list = []
    real = runtime.compile_function

    def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(fn)
        return real(fn, *args, **kwargs)
    monkeypatch.setattr(runtime, "compile_function", counting)
    yield made


def _one_generic_kernel(f: Any, compiles: list) -> None:
    (concrete,) = f._cache.values()
    assert compiles_generically(concrete.ir) and not concrete._specializations
    assert len(compiles) == 1


# (rows of x, rows of y): either, both or neither 1 at run time, and a zero-row batch against a 1
PAIRS = [(3, 1), (1, 3), (1, 1), (3, 3), (0, 1), (1, 0), (17, 1), (1, 17), (17, 17)]


@pytest.mark.parametrize("opname", ["add", "subtract", "multiply", "maximum"])
def test_two_unknown_dims_broadcast_a_run_time_one(opname: str, compiles: list) -> None:
    op, ref = getattr(tf.math, opname), {"subtract": np.subtract}.get(opname, getattr(np, opname))
    f = tf.function(lambda x, y: op(x, y) * 2, input_signature=[tf.TensorSpec([None, 3], tf.int32)] * 2)
    rng = np.random.default_rng(1)
    for n, m in PAIRS:
        x, y = rng.integers(-50, 50, (n, 3)).astype(np.int32), rng.integers(-50, 50, (m, 3)).astype(np.int32)
        got = f(x, y).numpy()
        assert got.shape == (max(n, m) if min(n, m) else 0, 3)
        np.testing.assert_array_equal(got, ref(x, y) * 2)
    _one_generic_kernel(f, compiles)


def test_a_row_minus_the_first_row(compiles: list) -> None:
    f = tf.function(lambda x: (x - x[:1], x[:1] / x, tf.shape(x[:1] * x)),
                    input_signature=[tf.TensorSpec([None], tf.float32)])
    for n in (1, 3, 8, 33):
        a = np.arange(1, n + 1, dtype=np.float32) ** 2
        d, q, s = f(a)
        np.testing.assert_array_equal(d.numpy(), a - a[:1])
        np.testing.assert_array_equal(q.numpy(), a[:1] / a)
        assert s.numpy().tolist() == [n]
    _one_generic_kernel(f, compiles)


def test_an_inner_unknown_dim_of_size_one_broadcasts_too() -> None:
    f = tf.function(lambda x, y: x + y, input_signature=[tf.TensorSpec([2, None], tf.float64)] * 2)
    x, y = np.arange(8.0).reshape(2, 4), np.array([[10.0], [20.0]])
    np.testing.assert_array_equal(f(x, y).numpy(), x + y)
    np.testing.assert_array_equal(f(y, x).numpy(), y + x)


def test_where_broadcasts_three_unknown_dims() -> None:
    f = tf.function(lambda c, x, y: tf.where(c, x, y),
                    input_signature=[tf.TensorSpec([None], tf.bool), tf.TensorSpec([None], tf.float32),
                                     tf.TensorSpec([None], tf.float32)])
    c, x, y = np.array([True, False, True]), np.float32([1, 2, 3]), np.float32([9])
    np.testing.assert_array_equal(f(c, x, y).numpy(), np.where(c, x, y))
    np.testing.assert_array_equal(f(c[:1], x, y).numpy(), np.where(c[:1], x, y))
    np.testing.assert_array_equal(f(c[:1], y, y).numpy(), np.where(c[:1], y, y))


def test_static_shapes_are_tfs() -> None:
    # TF 2.21: ? vs ? -> ?, ? vs 1 -> ?, ? vs 5 -> 5, 1 vs ? -> ?
    seen = {}
    for a, b in (([None], [None]), ([None], [1]), ([None], [5]), ([1], [None])):
        def body(x: Any, y: Any, key: Any = (tuple(a), tuple(b))) -> Any:
            z = x * y
            seen[key] = tuple(z.shape)
            return z
        tf.function(body, input_signature=[tf.TensorSpec(a), tf.TensorSpec(b)]).get_concrete_function()
    assert seen == {((None,), (None,)): (None,), ((None,), (1,)): (None,), ((None,), (5,)): (5,),
                    ((1,), (None,)): (None,)}


def test_mismatched_sizes_raise_tfs_error() -> None:
    f = tf.function(lambda x, y: x * y, input_signature=[tf.TensorSpec([None], tf.float32)] * 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[3\] vs\. \[2\]"):
        f(np.ones(3, np.float32), np.ones(2, np.float32))
    g = tf.function(lambda x, y: x + y, input_signature=[tf.TensorSpec([None, 3], tf.float32)] * 2)
    # TF 2.21: InvalidArgumentError "Incompatible shapes: [3,3] vs. [2,3]"
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[3,3\] vs\. \[2,3\]"):
        g(np.ones((3, 3), np.float32), np.ones((2, 3), np.float32))
    # the kernel still works after a failed call
    np.testing.assert_array_equal(g(np.ones((1, 3), np.float32), np.ones((2, 3), np.float32)).numpy(), 2)


def test_the_interpreter_runs_the_same_ir() -> None:
    f = tf.function(lambda x, y: x - y, input_signature=[tf.TensorSpec([None, 2], tf.float64)] * 2)
    ir = f.get_concrete_function().ir
    text = print_function(ir)  # broadcast_dim's attrs print, parse back and verify
    assert "broadcast_dim" in text and print_function(parse(text)) == text
    verify(parse(text))
    x, y = np.arange(6.0).reshape(3, 2), np.array([[0.5, 1.5]])
    np.testing.assert_array_equal(interpret(ir, [x, y])[0], x - y)
    np.testing.assert_array_equal(interpret(ir, [y, x])[0], y - x)
    from ir.ops_state import InvalidArgumentError
    with pytest.raises(InvalidArgumentError, match=r"Incompatible shapes: \[3,2\] vs\. \[2,2\]"):
        interpret(ir, [x, x[:2]])


def _loss_np(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(np.sin(x * y - x[:1]) * np.arange(1.0, 4.0)))


def test_gradients_sum_over_the_broadcast_rows(compiles: list) -> None:
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float64)] * 2)
    def grads(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            loss = tf.reduce_sum(tf.sin(x * y - x[:1]) * np.arange(1.0, 4.0))
        return loss, tape.gradient(loss, [x, y])
    rng = np.random.default_rng(3)
    eps = 1e-6
    for n, m in ((4, 1), (1, 4), (1, 1), (4, 4)):
        x, y = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
        loss, (dx, dy) = grads(x, y)
        np.testing.assert_allclose(float(loss), _loss_np(x, y), rtol=1e-12)
        assert dx.shape == x.shape and dy.shape == y.shape
        for _ in range(2):  # random directions, float64 central differences
            u, v = rng.standard_normal(x.shape), rng.standard_normal(y.shape)
            fd_x = (_loss_np(x + eps * u, y) - _loss_np(x - eps * u, y)) / (2 * eps)
            fd_y = (_loss_np(x, y + eps * v) - _loss_np(x, y - eps * v)) / (2 * eps)
            np.testing.assert_allclose(np.sum(dx.numpy() * u), fd_x, rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(np.sum(dy.numpy() * v), fd_y, rtol=1e-6, atol=1e-7)
    _one_generic_kernel(grads, compiles)


@pytest.mark.parametrize("rows", [(3, 1), (1, 3), (2, 2)])
def test_forward_and_reverse_mode(rows: tuple) -> None:
    f = tf.function(lambda x, y: tf.reduce_sum(tf.exp(x / (2.0 + y * y)) * x),
                    input_signature=[tf.TensorSpec([None, 2], tf.float64)] * 2)
    rng = np.random.default_rng(5)
    check_grads(f, [rng.standard_normal((rows[0], 2)), rng.standard_normal((rows[1], 2))], order=1,
                modes=("fwd", "rev"))


def test_gradients_with_zero_rows_on_either_side() -> None:
    """A zero-row batch against one row: the gradients are zeros of each operand's shape (the run-time sum over
    broadcast rows must not divide by the zero size)."""
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float64)] * 2)
    def grads(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            loss = tf.reduce_sum(tf.sin(x * y))
        return tape.gradient(loss, [x, y])
    for n, m in ((0, 1), (1, 0), (0, 0)):
        dx, dy = grads(np.ones((n, 3)), np.ones((m, 3)))
        assert dx.shape == (n, 3) and dy.shape == (m, 3)
        np.testing.assert_array_equal(dx.numpy(), 0)
        np.testing.assert_array_equal(dy.numpy(), 0)


def test_an_unknown_dim_against_a_known_one() -> None:
    """`?` against 5: TF's static shape is 5; a run-time 1 broadcasts, another size raises TF's error (TF 2.21:
    InvalidArgumentError "Incompatible shapes: [3] vs. [5]"), compiled and interpreted alike."""
    f = tf.function(lambda x: x * tf.ones([5]), input_signature=[tf.TensorSpec([None])])
    assert f.get_concrete_function().structured_outputs.shape == (5,)
    np.testing.assert_array_equal(f(np.float32([2])).numpy(), np.full(5, 2, np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[3\] vs\. \[5\]"):
        f(np.ones(3, np.float32))
    from ir.ops_state import InvalidArgumentError
    with pytest.raises(InvalidArgumentError, match=r"Incompatible shapes: \[3\] vs\. \[5\]"):
        interpret(f.get_concrete_function().ir, [np.ones(3, np.float32)])
    # tf.broadcast_to itself: TF 2.21 says "Incompatible shapes: [3] vs. [2,5]"
    g = tf.function(lambda x: tf.broadcast_to(x, [2, 5]), input_signature=[tf.TensorSpec([None])])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[3\] vs\. \[2,5\]"):
        g(np.ones(3, np.float32))

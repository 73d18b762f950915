"""Second-order gradients through tensor loops, in every way a program asks for them, checked against float64
central differences of the first-order gradient (and TF 2.21's answers in tests/oracle/programs/grad2_loops.py):

- nested GradientTapes and a persistent tape inside a tf.function around AutoGraph `for`/`while` loops (the inner
  gradient's backward loop is one step of the outer tape: `engine.traced_gradient.LoopVJPStep`);
- eager nested tapes around a call of a tf.function whose body loops (the call's reverse of a reverse:
  `engine.call_gradient.reverse_of`);
- `engine.grad(engine.grad(f))` and `check_grads(order=2, modes=("rev",))` (reverse over reverse on the IR:
  `autodiff.loop_pairs`);
- `engine.hessian` and `engine.jvp` of `engine.grad` (forward over reverse);
with fixed and data-dependent trip counts (zero trips included), nested loops with a cond, captured values and
TensorArray, interpreted and compiled. A third order through a loop is refused clearly.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import engine as tf
from engine.testing import check_grads

JIT = [pytest.param(False, id="interp"), pytest.param(True, id="native")]


def fd_of(first: Callable[[np.ndarray], np.ndarray], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian of `first` (a float64 gradient) by central differences, one column per element of x."""
    cols = []
    for e in np.eye(x.size):
        e = e.reshape(x.shape) * eps
        cols.append((np.asarray(first(x + e)) - np.asarray(first(x - e))) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(first(x)) + x.shape)


# ---- the loops (each f: float64 vector -> scalar) --------------------------------------------------------------------
def data_dependent(x: Any) -> Any:
    """While the sum is small: y <- y * y * 0.5 + x (the trip count depends on x; x is also captured)."""
    y = x
    while tf.reduce_sum(y) < 6.0:
        y = y * y * 0.5 + x
    return tf.reduce_sum(tf.sin(y) * y)


def nested_with_cond(x: Any) -> Any:
    y = x
    for i in tf.range(2):
        for j in tf.range(3):
            if tf.reduce_sum(y) > 2.0:
                y = y * 0.5 + tf.sin(y)
            else:
                y = y * y + x
    return tf.reduce_sum(y * y)


def tensor_array(x: Any) -> Any:
    ta = tf.TensorArray(tf.float64, size=3)
    y = x
    for i in tf.range(3):
        y = tf.tanh(y) * x + y
        ta = ta.write(i, y)
    return tf.reduce_sum(ta.stack() * tf.constant([1.0, 2.0, 3.0], tf.float64)[:, None])


def explicit_while_loop(x: Any) -> Any:
    _, y = tf.while_loop(lambda i, y: i < 4, lambda i, y: (i + 1, y * tf.cos(x) + tf.exp(-y * y)),
                         (tf.constant(0), x))
    return tf.reduce_sum(y)


LOOPS = {"data_dependent": (data_dependent, [np.array([0.9, 1.2]), np.array([3.5, 4.0])]),
         "nested_with_cond": (nested_with_cond, [np.array([0.3, 0.4]), np.array([1.3, 0.9])]),
         "tensor_array": (tensor_array, [np.array([0.6, -0.4])]),
         "explicit_while_loop": (explicit_while_loop, [np.array([0.5, -1.1])])}
CASES = [pytest.param(name, x, id=f"{name}-{i}") for name, (_, xs) in LOOPS.items() for i, x in enumerate(xs)]


def eager_first(f: Callable[[Any], Any]) -> Callable[[np.ndarray], np.ndarray]:
    """f's gradient by the eager tape (no IR): the reference the second order is differenced from."""
    def g(x: np.ndarray) -> np.ndarray:
        t = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = f(t)
        return tape.gradient(y, t).numpy()
    return g


# ---- nested tapes inside a function ----------------------------------------------------------------------------------
@pytest.mark.parametrize("jit_compile", JIT)
@pytest.mark.parametrize("name, x", CASES)
def test_nested_tapes_inside_a_function(name: str, x: np.ndarray, jit_compile: bool) -> None:
    f = LOOPS[name][0]
    w = np.array([1.0, -2.0])

    @tf.function(jit_compile=jit_compile)
    def second(x):  # type: ignore[no-untyped-def]
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = f(x)
            d = t1.gradient(y, x)
            e = tf.reduce_sum(d * w)
        return d, t2.gradient(e, x)

    d, dd = second(tf.constant(x))
    np.testing.assert_allclose(d.numpy(), eager_first(f)(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dd.numpy(), fd_of(eager_first(f), x).T @ w, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("jit_compile", JIT)
def test_persistent_tape_gradient_of_gradient_inside_a_function(jit_compile: bool) -> None:
    @tf.function(jit_compile=jit_compile)
    def second(x):  # type: ignore[no-untyped-def]
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            y = data_dependent(x)
            d = t.gradient(y, x)
            e = tf.reduce_sum(d)
        return t.gradient(e, x)

    x = np.array([0.9, 1.2])
    np.testing.assert_allclose(second(tf.constant(x)).numpy(), fd_of(eager_first(data_dependent), x).sum(0),
                               rtol=1e-6, atol=1e-7)


# ---- eager tapes around a call ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("jit_compile", JIT)
@pytest.mark.parametrize("name, x", CASES)
def test_eager_nested_tapes_around_a_function_that_loops(name: str, x: np.ndarray, jit_compile: bool) -> None:
    f = LOOPS[name][0]
    g = tf.function(f, jit_compile=jit_compile)
    t = tf.constant(x)
    with tf.GradientTape() as t2:
        t2.watch(t)
        with tf.GradientTape() as t1:
            t1.watch(t)
            y = g(t)
        d = t1.gradient(y, t)
    h = t2.jacobian(d, t)
    np.testing.assert_allclose(d.numpy(), eager_first(f)(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), fd_of(eager_first(f), x), rtol=1e-6, atol=1e-7)


# ---- transforms ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("jit_compile", JIT)
@pytest.mark.parametrize("name, x", CASES)
def test_grad_of_grad_hessian_and_jvp_of_grad(name: str, x: np.ndarray, jit_compile: bool) -> None:
    f = tf.function(LOOPS[name][0], jit_compile=jit_compile)
    want = fd_of(eager_first(LOOPS[name][0]), x)
    w = np.array([1.0, -2.0])
    got = tf.grad(lambda v: tf.reduce_sum(tf.grad(f)(v) * w))(tf.constant(x)).numpy()
    np.testing.assert_allclose(got, want.T @ w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(tf.hessian(f)(tf.constant(x)).numpy(), want, rtol=1e-6, atol=1e-7)
    _, column = tf.jvp(tf.grad(f), (tf.constant(x),), (tf.constant(w),))
    np.testing.assert_allclose(column.numpy(), want @ w, rtol=1e-6, atol=1e-7)


def test_grad_of_grad_with_a_captured_scalar() -> None:
    """Mixed second derivatives: the loop captures `a` and starts from x (also captured)."""
    def f(x: Any, a: Any) -> Any:
        y = x
        while tf.reduce_sum(y) < 10.0:
            y = y * a + x
        return tf.reduce_sum(y * y)

    x, a = np.array([0.5, 1.5]), np.array(1.7)
    g = tf.function(f)
    gx, ga = tf.grad(lambda x, a: tf.grad(g, argnums=1)(x, a), argnums=(0, 1))(tf.constant(x), tf.constant(a))
    # The first-order da is TF 2.21's 122.98 at these values (oracle grad2_eager_tapes_around_function_data_dependent,
    # in float32); d(da)/dx = [49.19, 147.58] and d(da)/da = 152.70 there.
    np.testing.assert_allclose(gx.numpy(), [49.192, 147.576], rtol=1e-5)
    np.testing.assert_allclose(float(ga), 152.7, rtol=1e-5)
    da = lambda v: float(tf.grad(g, argnums=1)(tf.constant(v[:2]), tf.constant(v[2])))  # noqa: E731
    fd = fd_of(lambda v: np.array([da(v)]), np.array([0.5, 1.5, 1.7]))[0]
    np.testing.assert_allclose([*gx.numpy(), float(ga)], fd, rtol=1e-6)


@pytest.mark.parametrize("jit_compile", JIT)
def test_check_grads_order_two_in_reverse_mode(jit_compile: bool) -> None:
    for name, (f, xs) in LOOPS.items():
        check_grads(tf.function(f, jit_compile=jit_compile), [xs[0]], order=2, modes=("fwd", "rev"))


def test_zero_trip_loop_second_order_is_zero_as_in_tf() -> None:
    @tf.function
    def f(x):  # type: ignore[no-untyped-def]
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = x
                while y < 10.0:
                    y = y * y + x
            d = t1.gradient(y, x)
        return d, t2.gradient(d, x)

    d, dd = f(tf.constant(20.0))
    assert (float(d), float(dd)) == (1.0, 0.0)  # TF 2.21: 1.0, 0.0 (not None)


# ---- third order -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("jit_compile", JIT)
def test_third_order_by_grad_of_grad_of_grad(jit_compile: bool) -> None:
    """The second sweep's own loops come in the same taping/popping pairs, so a third sweep goes through them."""
    f = tf.function(data_dependent, jit_compile=jit_compile)
    x = np.array([0.9, 1.2])

    def second(v: np.ndarray) -> np.ndarray:
        return tf.grad(lambda u: tf.reduce_sum(tf.grad(f)(u)))(tf.constant(v)).numpy()

    third = tf.grad(lambda u: tf.reduce_sum(tf.grad(lambda v: tf.reduce_sum(tf.grad(f)(v)))(u)))(tf.constant(x))
    np.testing.assert_allclose(third.numpy(), fd_of(second, x).sum(0), rtol=1e-6)


@pytest.mark.parametrize("jit_compile", JIT)
def test_third_order_by_three_nested_tapes_inside_a_function(jit_compile: bool) -> None:
    """The second tape's backward of a loop is again a taping and a popping loop, recorded on the third tape as the
    jvp loop it tapes and its `LoopVJPStep`."""
    @tf.function(jit_compile=jit_compile)
    def orders(x):  # type: ignore[no-untyped-def]
        with tf.GradientTape() as t3:
            t3.watch(x)
            with tf.GradientTape() as t2:
                t2.watch(x)
                with tf.GradientTape() as t1:
                    t1.watch(x)
                    y = data_dependent(x)
                d = t1.gradient(y, x)
                e = tf.reduce_sum(d)
            dd = t2.gradient(e, x)
            f = tf.reduce_sum(dd * tf.constant([1.0, -2.0], tf.float64))
        return dd, t3.gradient(f, x)

    x = np.array([0.9, 1.2])
    dd, ddd = orders(tf.constant(x))
    second = lambda v: orders(tf.constant(v))[0].numpy()  # noqa: E731
    np.testing.assert_allclose(dd.numpy(), fd_of(eager_first(data_dependent), x).sum(0), rtol=1e-6)
    np.testing.assert_allclose(ddd.numpy(), fd_of(second, x).T @ np.array([1.0, -2.0]), rtol=1e-6)


def test_second_order_through_a_loop_with_unknown_dims() -> None:
    """A [None] signature: the popping loop's cotangents keep the carried (unknown) dims where the values they are
    computed from have known ones, and a tape's seed for a target of unknown size takes the target's size."""
    spec = [tf.TensorSpec([None], tf.float64)]
    f = tf.function(data_dependent, input_signature=spec)
    x = np.array([0.9, 1.2])
    want = fd_of(eager_first(data_dependent), x).sum(0)
    np.testing.assert_allclose(tf.grad(lambda v: tf.reduce_sum(tf.grad(f)(v)))(tf.constant(x)).numpy(), want,
                               rtol=1e-6)
    t = tf.constant(x)
    with tf.GradientTape() as t2:
        t2.watch(t)
        with tf.GradientTape() as t1:
            t1.watch(t)
            y = f(t)
        d = t1.gradient(y, t)
    np.testing.assert_allclose(t2.gradient(d, t).numpy(), want, rtol=1e-6)

    @tf.function(input_signature=spec)
    def inside(v):  # type: ignore[no-untyped-def]
        with tf.GradientTape() as t2:
            t2.watch(v)
            with tf.GradientTape() as t1:
                t1.watch(v)
                y = data_dependent(v)
            d = t1.gradient(y, v)
        return t2.gradient(d, v)

    np.testing.assert_allclose(inside(tf.constant(x)).numpy(), want, rtol=1e-6)

"""Tape gradients against float64 central differences, and the GradientTape API (TensorFlow's semantics).

Every differentiable row of the op table has cases in GRAD_CASES (`test_every_differentiable_row_has_cases` fails
for a new row without one). Each case runs the row through the dispatch funnel on float64 tensors under a tape and
compares <grad of sum(w * op(x...)), d> with the central difference of the row's numpy kernel along d.
"""
from __future__ import annotations

import zlib
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine as tf
import ir
from engine import dispatch
from oracles import directional_fd

Case = Callable[[np.random.Generator], tuple[list[np.ndarray], dict[str, Any]]]


# ---- input domains ---------------------------------------------------------------------------------------------------
def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def uniform(rng: np.random.Generator, lo: float, hi: float, *shape: int) -> np.ndarray:
    return rng.uniform(lo, hi, size=shape)


def signed(rng: np.random.Generator, lo: float, hi: float, *shape: int) -> np.ndarray:
    """|x| in [lo, hi], either sign: away from zero."""
    return rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def off_integers(rng: np.random.Generator, lo: float, hi: float, *shape: int) -> np.ndarray:
    """An integer plus a fraction in [lo, hi]: away from the jumps of floor/ceil (lo > 0) or round (|lo|, hi < .5)."""
    return rng.integers(-3, 4, size=shape) + rng.uniform(lo, hi, size=shape)


def spaced(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Distinct values at least 0.4 apart, in random order: reduce_max/min have a unique winner."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.5 + rng.uniform(0, 0.1, size=n) - n / 4).reshape(shape)


def _with_zeros(rng: np.random.Generator) -> np.ndarray:
    x = signed(rng, 0.5, 1.5, 3, 4)
    x[0, 1] = 0.0             # one zero in a row: only that element has a non-zero gradient
    x[1, 0] = x[1, 2] = 0.0   # two zeros: the whole row's gradient is zero
    return x


def _mod_operands(rng: np.random.Generator) -> list[np.ndarray]:
    y = signed(rng, 0.5, 2, 3, 4)
    return [off_integers(rng, 0.1, 0.9, 3, 4) * y, y]  # x / y keeps away from the jumps of floor


def _max_operands(rng: np.random.Generator) -> list[np.ndarray]:
    x = normal(rng, 3, 4)
    return [x, x + signed(rng, 0.1, 1, 3, 4)]


def _unary(domain: Callable[[np.random.Generator], np.ndarray]) -> list[Case]:
    return [lambda rng: ([domain(rng)], {})]


def _binary(dx: Callable, dy: Callable) -> list[Case]:
    return [lambda rng: ([dx(rng), dy(rng)], {})]


def _mm(ta: bool, tb: bool, batch: tuple = ()) -> Case:
    def case(rng: np.random.Generator) -> tuple[list[np.ndarray], dict[str, Any]]:
        a = normal(rng, *batch, *((4, 3) if ta else (3, 4)))
        b = normal(rng, *batch, *((5, 4) if tb else (4, 5)))
        return [a, b], {"transpose_a": ta, "transpose_b": tb}
    return case


_N = lambda rng: normal(rng, 3, 4)  # noqa: E731

_CONV = {"strides": (2, 1), "dilations": (1, 2), "paddings": ((1, 1), (1, 0))}  # output (2, 3, 3, 4)
_POOL = {"ksize": (3, 2), "strides": (2, 2), "paddings": ((1, 1), (0, 0))}  # of (2, 5, 4, 3): (2, 3, 2, 3)
GRAD_CASES: dict[str, list[Case]] = {
    "neg": _unary(_N), "exp": _unary(_N), "expm1": _unary(_N), "sin": _unary(_N), "cos": _unary(_N),
    "tanh": _unary(_N), "logistic": _unary(_N), "erf": _unary(_N),
    "abs": _unary(lambda rng: signed(rng, 0.1, 2, 3, 4)),
    "sign": _unary(lambda rng: signed(rng, 0.1, 2, 3, 4)),
    "relu": _unary(lambda rng: signed(rng, 0.1, 2, 3, 4)),
    "log": _unary(lambda rng: uniform(rng, 0.5, 2, 3, 4)),
    "sqrt": _unary(lambda rng: uniform(rng, 0.5, 2, 3, 4)),
    "rsqrt": _unary(lambda rng: uniform(rng, 0.5, 2, 3, 4)),
    "log1p": _unary(lambda rng: uniform(rng, -0.5, 2, 3, 4)),
    "relu": _unary(lambda rng: signed(rng, 0.1, 2, 3, 4)),
    "add": _binary(_N, _N), "sub": _binary(_N, _N), "mul": _binary(_N, _N),
    "div": _binary(_N, lambda rng: signed(rng, 0.5, 2, 3, 4)),
    "xlogy": _binary(_N, lambda rng: uniform(rng, 0.5, 2, 3, 4)),
    "pow": _binary(lambda rng: uniform(rng, 0.5, 2, 3, 4), _N),
    "mod": [lambda rng: (_mod_operands(rng), {})],
    "maximum": [lambda rng: (_max_operands(rng), {}), lambda rng: (_max_operands(rng)[::-1], {})],
    "minimum": [lambda rng: (_max_operands(rng), {}), lambda rng: (_max_operands(rng)[::-1], {})],
    "select": [lambda rng: ([rng.random((3, 4)) < 0.5, normal(rng, 3, 4), normal(rng, 3, 4)], {})],
    "convert": [lambda rng: ([normal(rng, 3, 4)], {"dtype": ir.types.float32})],
    "broadcast_to": [lambda rng: ([normal(rng, 3, 1)], {"shape": (2, 3, 4)}),
                     lambda rng: ([normal(rng)], {"shape": (2, 2)})],
    "reshape": [lambda rng: ([normal(rng, 2, 3, 4)], {"shape": (4, 6)})],
    "shape_cast": [lambda rng: ([normal(rng, 2, 3)], {"shape": (None, 3)})],
    "transpose": [lambda rng: ([normal(rng, 2, 3, 4)], {"perm": (2, 0, 1)})],
    "slice": [lambda rng: ([normal(rng, 5, 6)], {"begin": (1, 5), "end": (5, -1), "strides": (2, -2)}),
              lambda rng: ([normal(rng, 5, 6)], {"begin": (0, 1), "end": (4, 6), "strides": (3, 2)}),
              lambda rng: ([normal(rng, 4, 7)], {"begin": (3, 6), "end": (0, 1), "strides": (-1, -3)})],
    "concat": [lambda rng: ([normal(rng, 2, 1), normal(rng, 2, 3), normal(rng, 2, 2)], {"axis": 1})],
    "pad": [lambda rng: ([normal(rng, 2, 3)], {"paddings": ((1, 0), (2, 3)), "value": 0.0})],
    "gather": [lambda rng: ([normal(rng, 4, 3), np.array([[3, 0], [3, 1]], np.int32)], {"axis": 0}),
               lambda rng: ([normal(rng, 2, 4, 3), np.array([2, 2, 0], np.int64)], {"axis": 2})],
    "scatter_add": [lambda rng: ([normal(rng, 2, 3), np.array([0, 2, 0], np.int32)], {"axis": 1, "size": 4})],
    "reduce_sum": [lambda rng: ([normal(rng, 2, 3, 4)], {"axes": (0, 2)}),
                   lambda rng: ([normal(rng, 2, 3)], {"axes": (0, 1)})],
    "reduce_prod": [lambda rng: ([signed(rng, 0.5, 1.5, 3, 4)], {"axes": (1,)}),
                    lambda rng: ([_with_zeros(rng)], {"axes": (1,)}),
                    lambda rng: ([signed(rng, 0.5, 1.5, 2, 3)], {"axes": (0, 1)})],
    "reduce_max": [lambda rng: ([spaced(rng, 2, 3, 4)], {"axes": (1,)}),
                   lambda rng: ([spaced(rng, 2, 3, 4)], {"axes": (0, 1, 2)})],
    "reduce_min": [lambda rng: ([spaced(rng, 2, 3, 4)], {"axes": (0, 2)}),
                   lambda rng: ([spaced(rng, 3, 4)], {"axes": (0, 1)})],
    "matmul": [_mm(False, False), _mm(True, False), _mm(False, True), _mm(True, True), _mm(False, True, (2,))],
    "conv2d": [lambda rng: ([normal(rng, 2, 5, 4, 3), normal(rng, 3, 2, 3, 4)], _CONV)],
    "conv2d_backprop_input": [lambda rng: ([normal(rng, 2, 3, 3, 4), normal(rng, 3, 2, 3, 4)],
                                           dict(_CONV, shape=(2, 5, 4, 3)))],
    "conv2d_backprop_filter": [lambda rng: ([normal(rng, 2, 5, 4, 3), normal(rng, 2, 3, 3, 4)],
                                            dict(_CONV, shape=(3, 2, 3, 4)))],
    "max_pool2d": [lambda rng: ([spaced(rng, 2, 5, 4, 3)], _POOL)],
    "max_pool2d_grad": [lambda rng: ([spaced(rng, 2, 5, 4, 3), normal(rng, 2, 3, 2, 3)], _POOL)],
    "max_pool2d_grad_grad": [lambda rng: ([spaced(rng, 2, 5, 4, 3), normal(rng, 2, 5, 4, 3)],
                                          _POOL)],
    "avg_pool2d": [lambda rng: ([normal(rng, 2, 5, 4, 3)], _POOL)],
    "avg_pool2d_grad": [lambda rng: ([normal(rng, 2, 3, 2, 3)], dict(_POOL, shape=(2, 5, 4, 3)))],
    "cumsum": [lambda rng: ([normal(rng, 3, 4)], {"axis": 1, "exclusive": False, "reverse": False}),
               lambda rng: ([normal(rng, 3, 4)], {"axis": 0, "exclusive": True, "reverse": True})],
    "cumprod": [lambda rng: ([signed(rng, 0.5, 1.5, 3, 4)], {"axis": 1, "exclusive": False, "reverse": False}),
                lambda rng: ([signed(rng, 0.5, 1.5, 3, 4)], {"axis": 0, "exclusive": True, "reverse": True})],
    "segment_combine": [lambda rng, kind=kind: ([spaced(rng, 5, 2) if kind != "prod" else uniform(rng, 0.5, 1.5, 5, 2),
                                                 np.array([0, 2, 0, 1, 2], np.int32)], {"kind": kind, "size": 3})
                        for kind in ("max", "min", "prod")],
    "matrix_solve": [lambda rng: ([normal(rng, 2, 3, 3) + 5 * np.eye(3), normal(rng, 2, 3, 2)], {"adjoint": False}),
                     lambda rng: ([normal(rng, 3, 3) + 5 * np.eye(3), normal(rng, 3, 1)], {"adjoint": True})],
    "matrix_determinant": [lambda rng: ([normal(rng, 2, 3, 3) + 4 * np.eye(3)], {})],
    "matrix_slogdet": [lambda rng: ([normal(rng, 2, 3, 3) - 4 * np.eye(3)], {"part": "log_abs"})],  # det < 0
}
# Options per op: eps of the central difference and the relative tolerance.
OPTIONS = {"convert": {"eps": 1e-2, "rtol": 1e-3}}  # float32 rounding: a larger step keeps the quotient accurate

CASES = [pytest.param(name, k, id=f"{name}-{k}") for name in sorted(GRAD_CASES)
         for k in range(len(GRAD_CASES[name]))]


def test_every_differentiable_row_has_cases() -> None:
    # `read` is differentiated in IR reverse mode only (the tape tracks Variable reads itself; tests/test_grad.py).
    differentiable = {name for name, opdef in ir.OPS.items() if opdef.vjp is not ir.NONDIFF} - {"read"}
    missing, extra = sorted(differentiable - set(GRAD_CASES)), sorted(set(GRAD_CASES) - differentiable)
    assert not missing, f"differentiable rows without gradient cases in GRAD_CASES: {missing}"
    assert not extra, f"gradient cases for rows that are not differentiable: {extra}"


def assert_directional(ad: float, fd: float, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    assert abs(ad - fd) <= rtol * max(abs(ad), abs(fd)) + atol, f"tape gives {ad!r}, central difference {fd!r}"


@pytest.mark.parametrize("name, k", CASES)
def test_row_vjp_matches_central_difference(name: str, k: int) -> None:
    opdef = ir.OPS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()) + k)
    arrays, attrs = GRAD_CASES[name][k](rng)
    opts = {"eps": 1e-6, "rtol": 1e-5} | OPTIONS.get(name, {})
    diff = [i for i, a in enumerate(arrays) if a.dtype == np.float64]
    out = np.asarray(opdef.eager(*arrays, **attrs))
    w = rng.normal(size=out.shape).astype(out.dtype)
    ds = [rng.normal(size=arrays[i].shape) for i in diff]

    def f(*xs: np.ndarray) -> float:
        operands = list(arrays)
        for i, x in zip(diff, xs):
            operands[i] = x
        y = np.asarray(opdef.eager(*operands, **attrs)).astype(np.float64)
        return float(np.sum(w.astype(np.float64) * y))

    tensors = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        for i in diff:
            tape.watch(tensors[i])
        y = dispatch.apply(opdef, *tensors, **attrs)
        loss = tf.reduce_sum(tf.multiply(tf.constant(w), y))
    grads = tape.gradient(loss, [tensors[i] for i in diff])
    for g, i in zip(grads, diff):
        assert g is not None, f"{name}: no gradient for operand {i}"
        assert g.dtype is tf.float64 and tuple(g.shape) == arrays[i].shape
    ad = sum(float(np.sum(g.numpy() * d)) for g, d in zip(grads, ds))
    fd = directional_fd(f, [arrays[i] for i in diff], ds, eps=opts["eps"])
    assert_directional(ad, fd, rtol=opts["rtol"])


# ---- public composites (engine.*, engine.math, engine.nn) ------------------------------------------------------------
_labels = np.array([2, 0, 3], np.int32)
COMPOSITES: dict[str, tuple[Callable, Callable]] = {
    "reduce_mean": (lambda x: tf.reduce_mean(x, axis=1, keepdims=True), lambda rng: normal(rng, 3, 4)),
    "reduce_variance": (lambda x: tf.math.reduce_variance(x, axis=0), lambda rng: normal(rng, 3, 4)),
    "reduce_std": (lambda x: tf.math.reduce_std(x), lambda rng: normal(rng, 3, 4)),
    "reduce_logsumexp": (lambda x: tf.reduce_logsumexp(x, axis=-1), lambda rng: normal(rng, 3, 4)),
    "softmax": (lambda x: tf.nn.softmax(x, axis=0), lambda rng: normal(rng, 3, 4)),
    "log_softmax": (lambda x: tf.nn.log_softmax(x), lambda rng: normal(rng, 3, 4)),
    "sparse_ce": (lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=_labels, logits=x),
                  lambda rng: normal(rng, 3, 4)),
    "softmax_ce": (lambda x: tf.nn.softmax_cross_entropy_with_logits(
        labels=tf.nn.softmax(tf.constant(np.arange(12.0).reshape(3, 4))), logits=x), lambda rng: normal(rng, 3, 4)),
    "relu": (tf.nn.relu, lambda rng: signed(rng, 0.1, 2, 3, 4)),
    "softplus": (tf.math.softplus, lambda rng: normal(rng, 3, 4)),
    "clip_by_value": (lambda x: tf.clip_by_value(x, -0.5, 0.5), lambda rng: signed(rng, 0.1, 1, 3, 4) + 0.05),
    "where": (lambda x: tf.where(x > 0, tf.square(x), tf.sin(x)), lambda rng: signed(rng, 0.1, 2, 3, 4)),
    "broadcasting": (lambda x: x * tf.reduce_sum(x, axis=0) - tf.reshape(x[:, :1], (3, 1)) / 3.0,
                     lambda rng: normal(rng, 3, 4)),
    "stack_unstack": (lambda x: tf.stack(tf.unstack(x, axis=1)[::-1], axis=0) ** 2, lambda rng: normal(rng, 3, 4)),
    "tile_expand": (lambda x: tf.tile(tf.expand_dims(x, 0), [2, 1, 1]), lambda rng: normal(rng, 3, 4)),
    "divide_no_nan": (lambda x: tf.math.divide_no_nan(tf.ones_like(x), x), lambda rng: signed(rng, 0.5, 2, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composite_gradient_matches_central_difference(name: str) -> None:
    fn, domain = COMPOSITES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x0 = domain(rng)
    w = rng.normal(size=tuple(fn(tf.constant(x0)).shape))
    d = rng.normal(size=x0.shape)
    x = tf.constant(x0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(w * fn(x))
    g = tape.gradient(loss, x)
    fd = directional_fd(lambda v: tf.reduce_sum(w * fn(tf.constant(v))).numpy(), [x0], [d])
    assert_directional(float(np.sum(g.numpy() * d)), fd)


BROADCAST_OPS: dict[str, Callable] = {
    "add": tf.add, "subtract": tf.subtract, "multiply": tf.multiply, "divide": tf.divide, "pow": tf.pow,
    "maximum": tf.maximum, "minimum": tf.minimum, "where": lambda a, b: tf.where(a > b, a * b, a - b),
    "squared_difference": tf.math.squared_difference, "sum-of-product": lambda a, b: tf.reduce_sum(a * b),
}


@pytest.mark.parametrize("name", sorted(BROADCAST_OPS))
@given(data=st.data())
def test_broadcasting_gradients_over_drawn_shapes(name: str, data: st.DataObject) -> None:
    """Gradients of broadcast operands are summed back to their own shapes (scalars and size-1 axes included)."""
    shp = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    # x in [0.5, 1] or [1.5, 2], y in [1.1, 1.4]: either may win, never within 0.1 of the other (the kinks of
    # maximum, minimum and where), and both keep away from 0 (divide, pow).
    x0 = rng.uniform(0.5, 1.0, size=shp.input_shapes[0]) + rng.choice([0.0, 1.0], size=shp.input_shapes[0])
    y0 = rng.uniform(1.1, 1.4, size=shp.input_shapes[1])
    fn = BROADCAST_OPS[name]
    x, y = tf.constant(x0), tf.constant(y0)
    w = rng.normal(size=tuple(fn(x, y).shape))
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        loss = tf.reduce_sum(w * fn(x, y))
    gx, gy = tape.gradient(loss, [x, y])
    assert tuple(gx.shape) == x0.shape and tuple(gy.shape) == y0.shape
    dx, dy = rng.normal(size=x0.shape), rng.normal(size=y0.shape)
    fd = directional_fd(lambda a, b: tf.reduce_sum(w * fn(tf.constant(a), tf.constant(b))).numpy(), [x0, y0], [dx, dy])
    assert_directional(float(np.sum(gx.numpy() * dx) + np.sum(gy.numpy() * dy)), fd)


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
                                  "reduce_logsumexp"])
@given(data=st.data())
def test_reduction_gradients_over_drawn_axes(name: str, data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    rank = len(shape)
    axis = data.draw(st.none() | st.integers(-rank, rank - 1)
                     | st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
    keepdims = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    x0 = spaced(rng, *shape) / 4 + 0.01  # distinct (a unique max/min) and away from zero (prod)
    fn = getattr(tf, name)
    x = tf.constant(x0)
    w = rng.normal(size=tuple(fn(x, axis=axis, keepdims=keepdims).shape))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(w * fn(x, axis=axis, keepdims=keepdims))
    g = tape.gradient(loss, x)
    d = rng.normal(size=shape)
    fd = directional_fd(lambda v: tf.reduce_sum(w * fn(tf.constant(v), axis=axis, keepdims=keepdims)).numpy(),
                        [x0], [d])
    assert_directional(float(np.sum(g.numpy() * d)), fd)


@st.composite
def slice_args(draw: Any) -> tuple[tuple[int, ...], dict[str, tuple[int, ...]]]:
    """A shape and normalized slice attrs: per axis range(begin, end, stride), end -1 meaning 'through index 0'."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))
    begin, end, strides = [], [], []
    for d in shape:
        s = draw(st.sampled_from([1, 2, 3] if d == 0 else [-3, -2, -1, 1, 2, 3]))
        if s > 0:
            b = draw(st.integers(0, d))
            e = draw(st.integers(b, d))
        else:
            b = draw(st.integers(0, d - 1))
            e = draw(st.integers(-1, b))
        begin.append(b)
        end.append(e)
        strides.append(s)
    return shape, {"begin": tuple(begin), "end": tuple(end), "strides": tuple(strides)}


@given(args=slice_args(), seed=st.integers(0, 2 ** 32 - 1))
def test_slice_gradient_scatters_back_into_place(args: tuple, seed: int) -> None:
    """The slice vjp (built from slice, reshape and pad only) puts each cotangent where its element came from."""
    shape, attrs = args
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=shape))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = dispatch.apply(ir.OPS["slice"], x, **attrs)
        w = rng.normal(size=tuple(y.shape))
        loss = tf.reduce_sum(w * y)
    want = np.zeros(shape)
    bounds = zip(attrs["begin"], attrs["end"], attrs["strides"])
    want[tuple(slice(b, e if e >= 0 else None, s) for b, e, s in bounds)] += w
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), want)


# ---- second order: nested tapes --------------------------------------------------------------------------------------
def hvp(loss_fn: Callable, xs: list[np.ndarray], vs: list[np.ndarray]) -> list[np.ndarray]:
    """The Hessian-vector product of loss_fn at xs along vs, from a tape inside a tape."""
    ts = [tf.constant(x) for x in xs]
    with tf.GradientTape() as outer:
        outer.watch(ts)
        with tf.GradientTape() as inner:
            inner.watch(ts)
            loss = loss_fn(*ts)
        grads = inner.gradient(loss, ts)
        gv = tf.add_n([tf.reduce_sum(g * v) for g, v in zip(grads, vs)])
    return [h.numpy() for h in outer.gradient(gv, ts)]


def _sig(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _softmax_grad(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Gradient of sum(w * softmax(x, axis=-1)) in numpy."""
    s = np.exp(x - x.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    return s * (w - np.sum(w * s, axis=-1, keepdims=True))


@pytest.mark.parametrize("name", ["exp", "sin", "tanh", "logistic", "mul", "matmul", "softmax"])
def test_second_order_through_nested_tapes(name: str) -> None:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x, y, v, u = (rng.normal(size=(3, 4)) for _ in range(4))
    w = rng.normal(size=(3, 4))
    wt = tf.constant(w)
    if name in ("exp", "sin", "tanh", "logistic"):
        fn = {"exp": tf.exp, "sin": tf.sin, "tanh": tf.tanh, "logistic": tf.sigmoid}[name]
        t, s = np.tanh(x), _sig(x)
        second = {"exp": np.exp(x), "sin": -np.sin(x), "tanh": -2 * t * (1 - t * t),
                  "logistic": s * (1 - s) * (1 - 2 * s)}[name]
        (h,) = hvp(lambda a: tf.reduce_sum(wt * fn(a)), [x], [v])
        np.testing.assert_allclose(h, w * second * v, rtol=1e-10, atol=1e-12)
    elif name == "mul":
        hx, hy = hvp(lambda a, b: tf.reduce_sum(wt * a * b), [x, y], [v, u])
        np.testing.assert_allclose(hx, w * u, rtol=1e-12)
        np.testing.assert_allclose(hy, w * v, rtol=1e-12)
    elif name == "matmul":
        b0, vb, wm = rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), rng.normal(size=(3, 5))
        ha, hb = hvp(lambda a, b: tf.reduce_sum(tf.constant(wm) * tf.matmul(a, b)), [x, b0], [v, vb])
        np.testing.assert_allclose(ha, wm @ vb.T, rtol=1e-10)
        np.testing.assert_allclose(hb, v.T @ wm, rtol=1e-10)
    else:  # softmax: H v by central differences of the analytic gradient
        (h,) = hvp(lambda a: tf.reduce_sum(wt * tf.nn.softmax(a)), [x], [v])
        eps = 1e-6
        want = (_softmax_grad(x + eps * v, w) - _softmax_grad(x - eps * v, w)) / (2 * eps)
        np.testing.assert_allclose(h, want, rtol=1e-5, atol=1e-8)


def test_third_order_of_sin() -> None:
    x = tf.constant([0.3, -1.2])
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = tf.sin(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    np.testing.assert_allclose(d3.numpy(), -np.cos(x.numpy()), rtol=1e-6)


# ---- the GradientTape API --------------------------------------------------------------------------------------------
def test_gradient_with_respect_to_variables() -> None:
    v = tf.Variable([1.0, -2.0, 3.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v * v) + 3.0 * v[1]
    g = tape.gradient(y, v)
    np.testing.assert_allclose(g.numpy(), [2.0, -1.0, 6.0])
    assert g.dtype is tf.float32
    assert tape.watched_variables() == (v,)


def test_watch_accessed_variables_false_needs_an_explicit_watch() -> None:
    v, u = tf.Variable(2.0), tf.Variable(5.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(u)
        y = v * u
    gv, gu = tape.gradient(y, [v, u])
    assert gv is None
    assert float(gu) == 2.0


def test_non_trainable_variables_are_not_watched() -> None:
    v = tf.Variable(2.0, trainable=False)
    with tf.GradientTape() as tape:
        y = v * v
    assert tape.gradient(y, v) is None


def test_persistent_tape_gives_several_gradients() -> None:
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert float(tape.gradient(z, x)) == pytest.approx(4 * 27.0)
    assert float(tape.gradient(y, x)) == pytest.approx(6.0)
    assert float(tape.gradient(z, y)) == pytest.approx(18.0)


def test_non_persistent_tape_refuses_a_second_gradient() -> None:
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


def test_unconnected_sources() -> None:
    x, z = tf.constant([1.0, 2.0]), tf.constant([[3.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, z])
        y = tf.reduce_sum(x * 2.0)
    assert tape.gradient(y, z) is None
    gx, gz = tape.gradient(y, [x, z], unconnected_gradients="zero")
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0])
    assert tuple(gz.shape) == (1, 1) and gz.dtype is tf.float32 and float(gz[0, 0]) == 0.0
    gz = tape.gradient(y, z, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(gz.numpy(), [[0.0]])


def test_non_scalar_targets_are_summed() -> None:
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x             # shape (3,)
        z = tf.exp(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_allclose(tape.gradient([y, z], x).numpy(), 2 * x.numpy() + np.exp(x.numpy()), rtol=1e-6)


def test_output_gradients_seed_the_backward_pass() -> None:
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=tf.constant([1.0, 0.0, -2.0]))
    np.testing.assert_allclose(g.numpy(), [2.0, 0.0, -12.0])


def test_nested_sources_keep_their_structure() -> None:
    a, b, c = tf.constant(1.0), tf.constant([2.0, 3.0]), tf.constant(4.0)
    v = tf.Variable(5.0)
    with tf.GradientTape() as tape:
        tape.watch([a, b, c])
        y = a * 2.0 + tf.reduce_sum(b * b) + c * v
    g = tape.gradient(y, {"a": a, "rest": [b, (c, v)]})
    assert set(g) == {"a", "rest"} and isinstance(g["rest"], list) and isinstance(g["rest"][1], tuple)
    assert float(g["a"]) == 2.0
    np.testing.assert_allclose(g["rest"][0].numpy(), [4.0, 6.0])
    assert float(g["rest"][1][0]) == 5.0 and float(g["rest"][1][1]) == 4.0


def test_stop_gradient_blocks() -> None:
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * tf.stop_gradient(x * x)
    assert float(tape.gradient(y, x)) == pytest.approx(9.0)


def test_stop_recording_excludes_ops() -> None:
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        with tape.stop_recording():
            z = y * x  # not recorded: z is a constant to the tape
        w = y + z
    assert float(tape.gradient(w, x)) == pytest.approx(6.0)


def test_integer_sources_give_none() -> None:
    i = tf.constant([1, 2])
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch([i, x])
        y = tf.reduce_sum(tf.cast(i, tf.float32) * x)
    gi, gx = tape.gradient(y, [i, x])
    assert gi is None
    np.testing.assert_array_equal(gx.numpy(), [1.0, 2.0])


def test_gradient_of_an_unwatched_constant_is_none() -> None:
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None


def test_jacobian_matches_central_differences() -> None:
    rng = np.random.default_rng(7)
    x0 = rng.normal(size=(2, 3))
    m = rng.normal(size=(3, 4))

    def f(x: Any) -> Any:
        return tf.tanh(tf.matmul(x, tf.constant(m))) * tf.reduce_sum(x)

    x = tf.constant(x0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    jac = tape.jacobian(y, x)
    assert tuple(jac.shape) == (2, 4, 2, 3)
    eps = 1e-6
    for idx in np.ndindex(2, 3):
        e = np.zeros_like(x0)
        e[idx] = eps
        column = (f(tf.constant(x0 + e)).numpy() - f(tf.constant(x0 - e)).numpy()) / (2 * eps)
        np.testing.assert_allclose(jac.numpy()[(...,) + idx], column, rtol=1e-6, atol=1e-9)


def test_gradients_at_kinks_follow_tensorflow() -> None:
    """relu'(0) = 0; ties of maximum/minimum go to the first operand; tied maxima share the gradient equally."""
    x = tf.constant([-1.0, 0.0, 2.0, 6.0, 7.0])
    y = tf.constant([1.0, 3.0, 3.0, -1.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        relu, relu6, leaky = tf.nn.relu(x), tf.nn.relu6(x), tf.nn.leaky_relu(x, alpha=0.1)
        absolute = tf.abs(x)
        top = tf.reduce_max(y)
        mx = tf.maximum(y, tf.constant([1.0, 0.0, 3.0, 0.0]))
    np.testing.assert_array_equal(tape.gradient(relu, x).numpy(), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(tape.gradient(relu6, x).numpy(), [0, 0, 1, 0, 0])
    np.testing.assert_allclose(tape.gradient(leaky, x).numpy(), [0.1, 0.1, 1, 1, 1])
    np.testing.assert_array_equal(tape.gradient(top, y).numpy(), [0, 0.5, 0.5, 0])
    np.testing.assert_array_equal(tape.gradient(mx, y).numpy(), [1, 1, 1, 0])
    np.testing.assert_array_equal(tape.gradient(absolute, x).numpy(), [-1, 0, 1, 1, 1])

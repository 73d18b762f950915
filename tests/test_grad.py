"""Autodiff on the IR and the public transforms built on it, against independent oracles.

- Every program of the corpus tagged "differentiable" (tests/programs.py), with its float arguments cast to
  float64: IR reverse mode (`autodiff.reverse.vjp_function` on the traced IR, run on the interpreter and as native
  code) gives the same cotangents as the eager GradientTape (which replays the vjp rules on numpy, with no IR), and
  <J^T c, d> equals the float64 central difference of <c, f> along a random direction d, for random cotangents c
  on all float outputs; forward mode (`autodiff.forward.jvp_function`) satisfies <J d, c> == <d, J^T c>.
- engine.grad of engine.grad against analytic second derivatives (straight-line code, tf.cond, AutoGraph `if`);
  engine.hessian of a small MLP loss against central differences of the tape gradient; the compiled
  engine.value_and_grad of a 784-128-10 MLP loss against the tape in float32; engine.function(engine.grad(f)) and
  engine.make_ir(engine.grad(f)); Variables, stop_gradient, integer arguments, has_aux, argnums.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

import engine
import engine as tf
import ir
from autodiff.forward import jvp_function
from autodiff.reverse import vjp_function
from codegen import runtime
from codegen.runtime import compile_function
from engine import nest
from ir.interp import run
from ir.passes import optimize
from ir.verify import verify
from oracles import directional_fd
from programs import PROGRAMS, Program, engine_args

DIFFERENTIABLE = [pytest.param(p, id=p.name) for p in PROGRAMS if "differentiable" in p.tags]
FLOAT32_DIFFERENTIABLE = [pytest.param(p, id=p.name) for p in PROGRAMS
                          if "differentiable" in p.tags and "float32" in p.tags]


def assert_directional(ad: float, fd: float, what: str, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    assert abs(ad - fd) <= rtol * max(abs(ad), abs(fd)) + atol, f"{what} gives {ad!r}, central difference {fd!r}"


def as_float64(x: Any) -> Any:
    """The program's arguments with every float array (at any depth) cast to float64; Python values unchanged."""
    if isinstance(x, np.ndarray):
        return x.astype(np.float64) if x.dtype.kind == "f" else x
    if isinstance(x, dict):
        return {k: as_float64(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(as_float64(v) for v in x)
    return x


def inner(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return float(sum(np.sum(np.asarray(x, np.float64) * np.asarray(y, np.float64)) for x, y in zip(a, b)))


@dataclass
class Prepared:
    """A corpus program traced at one set of arguments, with what every gradient test of it needs."""
    p: Program
    raw: tuple                 # the program's arguments (numpy arrays and Python values, possibly nested)
    arrays: list[np.ndarray]   # the array leaves, in IR parameter order
    fn: ir.Function            # the traced IR
    wrt: list[int]             # the float parameters
    float_results: list[int]   # the float results
    cs: list[np.ndarray]       # a random cotangent per float result
    ds: list[np.ndarray]       # a random direction per float parameter

    def call(self, arrays: list[np.ndarray]) -> list[Any]:
        """The program run eagerly on these arrays (in place of self.arrays): its flattened outputs."""
        it = iter(arrays)
        flat = [tf.constant(next(it)) if isinstance(a, np.ndarray) else a for a in nest.flatten(list(self.raw))]
        out = self.p.fn(*nest.pack_sequence_as(list(self.raw), flat))
        return [o for o in nest.flatten(out) if o is not None]

    def loss(self, *xs: np.ndarray) -> float:
        """<c, f(x)> over the float outputs, in float64, with the float parameters set to xs."""
        arrays = list(self.arrays)
        for i, x in zip(self.wrt, xs):
            arrays[i] = x
        outs = self.call(arrays)
        return inner(self.cs, [outs[i].numpy() for i in self.float_results])

    def central_difference(self) -> float:
        return directional_fd(self.loss, [self.arrays[i] for i in self.wrt], self.ds)

    def tape_gradients(self) -> list[np.ndarray]:
        leaves = [tf.constant(a) for a in self.arrays]
        sources = [leaves[i] for i in self.wrt]
        it = iter(leaves)
        flat = [next(it) if isinstance(a, np.ndarray) else a for a in nest.flatten(list(self.raw))]
        with tf.GradientTape() as tape:
            tape.watch(sources)
            out = self.p.fn(*nest.pack_sequence_as(list(self.raw), flat))
            outs = [o for o in nest.flatten(out) if o is not None]
        grads = tape.gradient([outs[i] for i in self.float_results], sources,
                              output_gradients=[tf.constant(c) for c in self.cs],
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return [g.numpy() for g in grads]


def prepare(p: Program, float64: bool = True) -> Prepared:
    rng = np.random.default_rng(zlib.crc32(p.name.encode()))
    raw = p.make_args(rng)
    raw = as_float64(raw) if float64 else raw
    arrays = [a for a in nest.flatten(list(raw)) if isinstance(a, np.ndarray)]
    fn = tf.function(p.fn).get_concrete_function(*engine_args(raw)).ir
    assert [tuple(q.type.shape) for q in fn.params] == [a.shape for a in arrays]
    if float64:  # the cast reached every value: no float32 left anywhere in the program
        assert "f32[" not in str(fn), f"{p.name} still computes in float32 with float64 arguments"
    wrt = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    float_results = [i for i, r in enumerate(fn.results) if r.type.dtype.is_floating]
    cs = [rng.normal(size=fn.results[i].type.shape).astype(fn.results[i].type.dtype.np) for i in float_results]
    ds = [rng.normal(size=arrays[i].shape) for i in wrt]
    assert wrt and float_results
    return Prepared(p, raw, arrays, fn, wrt, float_results, cs, ds)


# ---- the corpus: reverse mode ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", DIFFERENTIABLE)
def test_reverse_mode_matches_tape_and_central_differences(p: Program) -> None:
    prep = prepare(p)
    rev = vjp_function(prep.fn, prep.wrt)
    verify(rev)
    assert str(ir.parse(str(rev))) == str(rev), "the gradient IR does not round-trip through its text"
    n = len(prep.fn.results)
    interpreted = run(rev, prep.arrays + prep.cs)
    compiled = compile_function(optimize(rev)).run(prep.arrays + prep.cs)
    for want, got in zip(prep.call(prep.arrays), interpreted[:n]):  # the primal results come along
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-12)
    grads = interpreted[n:]
    assert [g.shape for g in grads] == [prep.arrays[i].shape for i in prep.wrt]
    assert all(g.dtype == np.float64 for g in grads)
    for g, c in zip(grads, compiled[n:]):
        np.testing.assert_allclose(c, g, rtol=1e-10, atol=1e-12, err_msg="compiled vs interpreted gradient")
    for g, t in zip(grads, prep.tape_gradients()):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12, err_msg="IR reverse mode vs the eager tape")
    assert_directional(inner(grads, prep.ds), prep.central_difference(), "IR reverse mode")


@pytest.mark.parametrize("p", FLOAT32_DIFFERENTIABLE)
def test_reverse_mode_in_float32_matches_tape(p: Program) -> None:
    """The same programs at their own float32 arguments: the IR and the tape agree to float32 rounding."""
    prep = prepare(p, float64=False)
    rev = vjp_function(prep.fn, prep.wrt)
    n = len(prep.fn.results)
    grads = run(rev, prep.arrays + prep.cs)[n:]
    assert all(g.dtype == np.float32 for g in grads)
    for g, t in zip(grads, prep.tape_gradients()):
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-5)


# ---- the corpus: forward mode ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", DIFFERENTIABLE)
def test_forward_mode_agrees_with_reverse_mode(p: Program) -> None:
    """<J d, c> == <d, J^T c> for random d and c, forward mode interpreted and compiled."""
    prep = prepare(p)
    fwd = jvp_function(prep.fn, prep.wrt)
    verify(fwd)
    n = len(prep.fn.results)
    tangents = run(fwd, prep.arrays + prep.ds)[n:]
    assert [t.shape for t in tangents] == [prep.fn.results[i].type.shape for i in prep.float_results]
    for t, c in zip(tangents, compile_function(optimize(fwd)).run(prep.arrays + prep.ds)[n:]):
        np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12, err_msg="compiled vs interpreted tangent")
    grads = run(vjp_function(prep.fn, prep.wrt), prep.arrays + prep.cs)[n:]
    jt_c, t_jtc = inner(tangents, prep.cs), inner(prep.ds, grads)
    assert abs(jt_c - t_jtc) <= 1e-10 * max(1.0, abs(jt_c)), (jt_c, t_jtc)


# ---- second order ---------------------------------------------------------------------------------------------------
def _sig(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


def sin_x_squared(x: Any) -> Any:
    return tf.sin(x) * x * x


def exp_over_quadratic(x: Any) -> Any:
    return tf.exp(x) / (1.0 + x * x)


def log1p_square(x: Any) -> Any:
    return tf.math.log1p(x * x)


def pow_quadratic(x: Any) -> Any:
    return tf.pow(x * x + 1.0, 1.75)


def _exp_over_quadratic_2(x: float) -> float:
    u = 1 + x * x
    return np.exp(x) * (1 / u - 4 * x / u ** 2 - 2 / u ** 2 + 8 * x * x / u ** 3)


# name -> (f, analytic f'')
SECOND: dict[str, tuple[Callable[[Any], Any], Callable[[float], float]]] = {
    "sin_x_squared": (sin_x_squared, lambda x: (2 - x * x) * np.sin(x) + 4 * x * np.cos(x)),
    "exp_over_quadratic": (exp_over_quadratic, _exp_over_quadratic_2),
    "tanh": (tf.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    "log1p_square": (log1p_square, lambda x: 2 * (1 - x * x) / (1 + x * x) ** 2),
    "sigmoid": (tf.sigmoid, lambda x: _sig(x) * (1 - _sig(x)) * (1 - 2 * _sig(x))),
    "pow": (pow_quadratic, lambda x: 3.5 * (x * x + 1) ** 0.75 + 5.25 * x * x * (x * x + 1) ** -0.25),
}
POINTS = (-1.3, 0.4, 2.1)


@pytest.mark.parametrize("decorated", [False, True], ids=["python", "engine.function"])
@pytest.mark.parametrize("name", sorted(SECOND))
def test_grad_of_grad_straight_line(name: str, decorated: bool) -> None:
    f, second = SECOND[name]
    f = tf.function(f) if decorated else f
    d2 = tf.grad(tf.grad(f))
    for x in POINTS:
        got = d2(tf.constant(x, tf.float64))
        assert got.dtype is tf.float64 and tuple(got.shape) == ()
        np.testing.assert_allclose(got.numpy(), second(x), rtol=1e-12, atol=1e-12)


def cond_cubic_or_x_sin(x: Any) -> Any:
    return tf.cond(x > 0.5, lambda: x * x * x, lambda: x * tf.sin(x))


@tf.function
def autograph_cubic_or_x_sin(x: Any) -> Any:
    if x > 0.5:
        y = x * x * x
    else:
        y = x * tf.sin(x)
    return y


@pytest.mark.parametrize("f", [cond_cubic_or_x_sin, autograph_cubic_or_x_sin], ids=["tf.cond", "autograph_if"])
def test_grad_of_grad_through_cond(f: Callable[[Any], Any]) -> None:
    d1, d2 = tf.grad(f), tf.grad(tf.grad(f))
    for x in (1.2, 2.0, 0.3, -0.8):
        xt = tf.constant(x, tf.float64)
        first = 3 * x * x if x > 0.5 else np.sin(x) + x * np.cos(x)
        second = 6 * x if x > 0.5 else 2 * np.cos(x) - x * np.sin(x)
        np.testing.assert_allclose(d1(xt).numpy(), first, rtol=1e-13)
        np.testing.assert_allclose(d2(xt).numpy(), second, rtol=1e-13)


def test_third_derivative_of_sin() -> None:
    d3 = tf.grad(tf.grad(tf.grad(tf.sin)))
    for x in POINTS:
        np.testing.assert_allclose(d3(tf.constant(x, tf.float64)).numpy(), -np.cos(x), rtol=1e-13)


# ---- hessian of a small MLP -----------------------------------------------------------------------------------------
_rng = np.random.default_rng(3)
MLP_X = _rng.normal(size=(5, 3))
MLP_LABELS = _rng.dirichlet(np.ones(2), size=5)
MLP_W = _rng.normal(size=26) * 0.7  # W1 (3x4), b1 (4), W2 (4x2), b2 (2), flattened


def mlp_loss(w: Any) -> Any:
    """3 -> 4 (tanh) -> 2, softmax cross-entropy, weights as one flat vector."""
    w1, b1 = tf.reshape(w[:12], [3, 4]), w[12:16]
    w2, b2 = tf.reshape(w[16:24], [4, 2]), w[24:]
    h = tf.tanh(tf.matmul(tf.constant(MLP_X), w1) + b1)
    logits = tf.matmul(h, w2) + b2
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=tf.constant(MLP_LABELS), logits=logits))


def tape_grad(f: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = f(t)
    return tape.gradient(y, t).numpy()


def test_hessian_of_mlp_loss_matches_differences_of_the_gradient() -> None:
    h = tf.hessian(mlp_loss)(tf.constant(MLP_W))
    assert tuple(h.shape) == (26, 26) and h.dtype is tf.float64
    h = h.numpy()
    eps = 1e-5
    columns = []
    for k in range(26):
        e = np.zeros(26)
        e[k] = eps
        columns.append((tape_grad(mlp_loss, MLP_W + e) - tape_grad(mlp_loss, MLP_W - e)) / (2 * eps))
    np.testing.assert_allclose(h, np.stack(columns, axis=1), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-14)
    assert np.abs(h).max() > 1e-2  # not trivially zero


# ---- a 784-128-10 MLP in float32, compiled ------------------------------------------------------------------------
def mnist_loss(params: tuple, x: Any, labels: Any) -> Any:
    w1, b1, w2, b2 = params
    h = tf.nn.relu(tf.matmul(x, w1) + b1)
    logits = tf.matmul(h, w2) + b2
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def test_value_and_grad_of_784_128_10_mlp_matches_tape_in_float32() -> None:
    rng = np.random.default_rng(784)
    params = tuple(tf.constant(a.astype(np.float32)) for a in (
        rng.normal(size=(784, 128)) / 28, rng.normal(size=128) * 0.1, rng.normal(size=(128, 10)) / 11,
        rng.normal(size=10) * 0.1))
    x = tf.constant(rng.uniform(0, 1, size=(32, 784)).astype(np.float32))
    labels = tf.constant(rng.integers(0, 10, size=32).astype(np.int32))
    vg = tf.value_and_grad(mnist_loss)
    before = runtime.stats["compiled"] + runtime.stats["cache_hits"]
    value, grads = vg(params, x, labels)
    assert runtime.stats["compiled"] + runtime.stats["cache_hits"] > before, "value_and_grad ran native code"
    with tf.GradientTape() as tape:
        tape.watch(list(params))
        want_value = mnist_loss(params, x, labels)
    want = tape.gradient(want_value, list(params))
    assert value.dtype is tf.float32 and isinstance(grads, tuple) and len(grads) == 4
    np.testing.assert_allclose(value.numpy(), want_value.numpy(), rtol=1e-5)
    for g, w, p in zip(grads, want, params):
        assert g.dtype is tf.float32 and tuple(g.shape) == tuple(p.shape)
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-4, atol=1e-6)
    value2, grads2 = vg(params, x, labels)  # the second call reuses the trace and the native code
    np.testing.assert_array_equal(value2.numpy(), value.numpy())


# ---- engine.function(engine.grad(f)) and engine.make_ir(engine.grad(f)) -------------------------------------------
def newton_sqrt(a: Any) -> Any:
    y = a
    while tf.abs(y * y - a) > 1e-12 * a:
        y = 0.5 * (y + a / y)
    return y


def branchy(x: Any) -> Any:
    s = tf.reduce_sum(x)
    return tf.cond(s > 0.0, lambda: tf.reduce_sum(tf.sin(x) * x), lambda: tf.reduce_sum(tf.exp(x)))


@pytest.mark.parametrize("decorated", [False, True], ids=["python", "engine.function"])
def test_function_of_grad_compiles_and_agrees(decorated: bool) -> None:
    f = tf.function(branchy) if decorated else branchy
    fg = tf.function(tf.grad(f))
    for x0 in ([0.3, 1.2, -0.4], [-0.3, -1.2, 0.4]):
        x = tf.constant(x0, tf.float64)
        got = fg(x)
        cf = fg.get_concrete_function(x)
        assert cf.compiled is not None, "engine.function(grad(f)) runs native code"
        assert "cond" in str(cf.ir) and "cos" in str(cf.ir), "the gradient itself was traced"
        np.testing.assert_allclose(got.numpy(), tape_grad(branchy, np.array(x0)), rtol=1e-12)
        np.testing.assert_allclose(got.numpy(), tf.grad(f)(x).numpy(), rtol=1e-12)
    assert fg.experimental_get_tracing_count() == 1


def test_function_of_grad_through_a_while_loop() -> None:
    fg = tf.function(tf.grad(tf.function(newton_sqrt)))
    for a in (2.0, 10.0, 0.3):
        np.testing.assert_allclose(fg(tf.constant(a, tf.float64)).numpy(), 0.5 / np.sqrt(a), rtol=1e-12)


@pytest.mark.parametrize("f", [branchy, newton_sqrt], ids=["cond", "while"])
def test_make_ir_of_grad_prints_parses_and_verifies(f: Callable[[Any], Any]) -> None:
    x = tf.constant([0.3, 1.2, -0.4] if f is branchy else 3.0, tf.float64)
    fn = tf.make_ir(tf.grad(f))(x)
    assert isinstance(fn, ir.Function)
    verify(fn)
    text = str(fn)
    parsed = ir.parse(text)
    assert str(parsed) == text
    verify(parsed)
    if f is newton_sqrt:
        assert "stack_push" in text and "stack_pop" in text and text.count("while_loop") == 2
    got = ir.interpret(parsed, [x.numpy()])
    np.testing.assert_allclose(got[0], tf.grad(f)(x).numpy(), rtol=1e-12)


# ---- Variables, stop_gradient, integer arguments, has_aux, argnums ------------------------------------------------
def test_gradients_flow_to_variables_passed_as_arguments() -> None:
    def f(w: Any, x: Any) -> Any:
        return tf.reduce_sum(tf.sin(w) * x + w * w)

    w0, x0 = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -2.0])
    w = tf.Variable(w0)
    gw = tf.grad(f)(w, tf.constant(x0))
    assert isinstance(gw, tf.Tensor) and gw.dtype is tf.float64 and tuple(gw.shape) == (3,)
    np.testing.assert_allclose(gw.numpy(), np.cos(w0) * x0 + 2 * w0, rtol=1e-13)
    gw2, gx = tf.grad(f, argnums=(0, 1))(w, tf.constant(x0))
    np.testing.assert_allclose(gw2.numpy(), gw.numpy(), rtol=1e-13)
    np.testing.assert_allclose(gx.numpy(), np.sin(w0), rtol=1e-13)
    with tf.GradientTape() as tape:
        y = f(w, tf.constant(x0))
    np.testing.assert_allclose(gw.numpy(), tape.gradient(y, w).numpy(), rtol=1e-13)
    nested = tf.grad(lambda d: f(d["w"], d["x"]))({"w": w, "x": tf.constant(x0)})
    assert set(nested) == {"w", "x"}
    np.testing.assert_allclose(nested["w"].numpy(), gw.numpy(), rtol=1e-13)


def test_forward_mode_and_hessian_with_respect_to_variables() -> None:
    """Forward mode gives a Variable's reads its tangent: jvp == <grad, t>, and hessian works on Variables."""
    def f(w: Any) -> Any:
        return tf.reduce_sum(tf.sin(w) * w)

    w0 = np.array([0.5, -1.0, 2.0])
    w, t = tf.Variable(w0), np.array([1.0, -0.5, 0.25])
    value, tangent = tf.jvp(f, [w], [tf.constant(t)])
    np.testing.assert_allclose(value.numpy(), np.sum(np.sin(w0) * w0), rtol=1e-15)
    np.testing.assert_allclose(tangent.numpy(), np.sum((np.cos(w0) * w0 + np.sin(w0)) * t), rtol=1e-13)
    h = tf.hessian(f)(w)
    np.testing.assert_allclose(h.numpy(), np.diag(2 * np.cos(w0) - w0 * np.sin(w0)), rtol=1e-13, atol=1e-15)


def test_variable_gradient_is_the_sum_over_its_reads_as_tensorflow() -> None:
    """A Variable assigned inside f: its gradient is that of its reads (TensorFlow's tape semantics); the IR
    transform and the eager tape agree, and the assign runs once per gradient call."""
    def f(w: Any, x: Any) -> Any:
        before = tf.reduce_sum(w * x)
        w.assign(w * 2.0)
        return before + tf.reduce_sum(w * w)

    x = tf.constant([1.0, -2.0], tf.float64)
    w_ir, w_tape = tf.Variable([0.5, 1.5], dtype=tf.float64), tf.Variable([0.5, 1.5], dtype=tf.float64)
    g_ir = tf.grad(f)(w_ir, x)
    with tf.GradientTape() as tape:
        y = f(w_tape, x)
    g_tape = tape.gradient(y, w_tape)
    np.testing.assert_allclose(w_ir.numpy(), [1.0, 3.0])
    np.testing.assert_allclose(g_ir.numpy(), g_tape.numpy(), rtol=1e-13)
    np.testing.assert_allclose(g_ir.numpy(), x.numpy() + 2 * np.array([1.0, 3.0]), rtol=1e-13)


def test_captured_variables_are_constants_to_grad() -> None:
    v = tf.Variable([2.0, 3.0], dtype=tf.float64)
    g = tf.grad(lambda x: tf.reduce_sum(v * x * x))(tf.constant([1.0, -1.0], tf.float64))
    np.testing.assert_allclose(g.numpy(), [4.0, -6.0])


def test_stop_gradient_stops_gradients() -> None:
    x = tf.constant([0.5, -1.5, 2.0], tf.float64)
    g = tf.grad(lambda x: tf.reduce_sum(x * tf.stop_gradient(x) + tf.stop_gradient(tf.exp(x))))(x)
    np.testing.assert_allclose(g.numpy(), x.numpy(), rtol=1e-15)
    _, t = tf.jvp(lambda x: tf.stop_gradient(x * x) + x, [x], [tf.ones_like(x)])
    np.testing.assert_allclose(t.numpy(), [1.0, 1.0, 1.0])
    assert tf.grad(lambda x: tf.reduce_sum(tf.stop_gradient(x)))(x).numpy().tolist() == [0.0, 0.0, 0.0]


def test_integer_arguments_get_no_gradient() -> None:
    def f(x: Any, n: Any) -> Any:
        return tf.reduce_sum(x * tf.cast(n, tf.float64))

    x, n = tf.constant([1.0, 2.0], tf.float64), tf.constant([3, -4])
    gx, gn = tf.grad(f, argnums=(0, 1))(x, n)
    assert gn is None
    np.testing.assert_array_equal(gx.numpy(), [3.0, -4.0])
    assert tf.grad(f, argnums=1)(x, n) is None
    g = tf.grad(lambda d: f(d["x"], d["n"]))({"x": x, "n": n})
    assert g["n"] is None and g["x"].numpy().tolist() == [3.0, -4.0]
    _, vjp_fn = tf.vjp(f, x, n)
    gx, gn = vjp_fn(tf.constant(1.0, tf.float64))
    assert gn is None and gx.numpy().tolist() == [3.0, -4.0]


def test_vjp_takes_one_cotangent_per_output_ignoring_integer_outputs() -> None:
    def f(a: Any) -> Any:
        return tf.while_loop(lambda y, k: tf.abs(y * y - a) > 1e-12 * a, lambda y, k: (0.5 * (y + a / y), k + 1),
                             (a, tf.constant(0)))

    a = tf.constant(5.0, tf.float64)
    (y, k), vjp_fn = tf.vjp(f, a)
    np.testing.assert_allclose(y.numpy(), np.sqrt(5.0), rtol=1e-12)
    assert k.dtype is tf.int32 and int(k) > 2
    (g1,) = vjp_fn((tf.constant(1.0, tf.float64), None))
    (g2,) = vjp_fn((2.0, tf.constant(7)))
    (g3,) = vjp_fn(tf.constant(1.0, tf.float64))  # only the float output's
    np.testing.assert_allclose(g1.numpy(), 0.5 / np.sqrt(5.0), rtol=1e-10)  # Newton stops at |y*y - a| <= 1e-12 a
    np.testing.assert_allclose(g2.numpy(), 2 * g1.numpy(), rtol=1e-15)
    np.testing.assert_allclose(g3.numpy(), g1.numpy(), rtol=0)
    with pytest.raises(TypeError, match="cotangent"):
        vjp_fn((1.0, 2.0, 3.0))


def test_has_aux() -> None:
    def f(x: Any) -> Any:
        return tf.reduce_sum(x * x), {"mean": tf.reduce_mean(x), "n": tf.size(x)}

    x = tf.constant([1.0, 2.0, 4.0], tf.float64)
    g, aux = tf.grad(f, has_aux=True)(x)
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0, 8.0])
    assert set(aux) == {"mean", "n"}
    np.testing.assert_allclose(aux["mean"].numpy(), 7 / 3)
    assert int(aux["n"]) == 3
    (value, aux2), g2 = tf.value_and_grad(f, has_aux=True)(x)
    assert float(value) == 21.0 and int(aux2["n"]) == 3
    np.testing.assert_array_equal(g2.numpy(), g.numpy())
    traced = tf.function(lambda x: tf.grad(f, has_aux=True)(x))(x)
    np.testing.assert_array_equal(traced[0].numpy(), g.numpy())
    np.testing.assert_allclose(traced[1]["mean"].numpy(), 7 / 3)


def test_argnums_tuples() -> None:
    def f(a: Any, b: Any, c: Any) -> Any:
        return tf.reduce_sum(a * b * b * tf.exp(c))

    rng = np.random.default_rng(5)
    a0, b0, c0 = (rng.normal(size=3) for _ in range(3))
    a, b, c = (tf.constant(v) for v in (a0, b0, c0))
    ga, gc = tf.grad(f, argnums=(0, 2))(a, b, c)
    np.testing.assert_allclose(ga.numpy(), b0 * b0 * np.exp(c0), rtol=1e-13)
    np.testing.assert_allclose(gc.numpy(), a0 * b0 * b0 * np.exp(c0), rtol=1e-13)
    (gb,) = tf.grad(f, argnums=(1,))(a, b, c)
    np.testing.assert_allclose(gb.numpy(), 2 * a0 * b0 * np.exp(c0), rtol=1e-13)
    assert isinstance(tf.grad(f, argnums=1)(a, b, c), tf.Tensor)
    value, (gc2, ga2) = tf.value_and_grad(f, argnums=(2, 0))(a, b, c)
    np.testing.assert_allclose(value.numpy(), np.sum(a0 * b0 * b0 * np.exp(c0)), rtol=1e-13)
    np.testing.assert_allclose(ga2.numpy(), ga.numpy(), rtol=0)
    np.testing.assert_allclose(gc2.numpy(), gc.numpy(), rtol=0)


def test_python_numbers_are_differentiated_as_float32_scalars() -> None:
    g = tf.grad(lambda x, y: x * x * y, argnums=(0, 1))(3.0, 2.0)
    assert all(t.dtype is tf.float32 and tuple(t.shape) == () for t in g)
    assert [float(t) for t in g] == [12.0, 9.0]


def test_grad_errors_name_the_problem() -> None:
    x = tf.constant([1.0, 2.0])
    with pytest.raises(TypeError, match="floating-point scalar, got f32\\[2\\]"):
        tf.grad(lambda x: x * x)(x)
    with pytest.raises(TypeError, match="floating-point scalar, got i32"):
        tf.grad(lambda x: tf.size(x))(x)
    with pytest.raises(TypeError, match="argnums 2 is out of range"):
        tf.grad(lambda x: tf.reduce_sum(x), argnums=2)(x)


def test_grad_traces_once_per_signature() -> None:
    traces = []

    def f(x: Any) -> Any:
        traces.append(tuple(x.shape))
        return tf.reduce_sum(tf.sin(x))

    g = tf.grad(f)
    for _ in range(3):
        g(tf.constant([1.0, 2.0]))
    g(tf.constant([1.0, 2.0, 3.0]))
    assert traces == [(2,), (3,)]


def test_transforms_of_an_interpreted_function_do_not_compile() -> None:
    f = tf.function(lambda x: tf.reduce_sum(tf.tanh(x) * x), jit_compile=False)
    x = tf.constant([0.5, -1.0, 2.0], tf.float64)
    before = dict(runtime.stats)
    g = tf.grad(f)(x)
    _, t = tf.jvp(f, [x], [tf.ones_like(x)])
    (v,) = tf.vjp(f, x)[1](tf.constant(1.0, tf.float64))
    h = tf.hessian(f)(x)
    assert runtime.stats == before, "a transform of a jit_compile=False function compiled something"
    compiled = tf.function(lambda x: tf.reduce_sum(tf.tanh(x) * x))
    np.testing.assert_allclose(g.numpy(), tf.grad(compiled)(x).numpy(), rtol=1e-13)
    np.testing.assert_allclose(v.numpy(), g.numpy(), rtol=1e-15)
    np.testing.assert_allclose(t.numpy(), g.numpy().sum(), rtol=1e-13)
    np.testing.assert_allclose(h.numpy(), tf.hessian(compiled)(x).numpy(), rtol=1e-13)

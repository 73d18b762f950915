"""Control flow whose values change size (issue 12): `cond` branches of different sizes give a result with unknown
dims, `while_loop(shape_invariants=...)` and AutoGraph's `set_loop_options` let a carried value grow, a Python list
appended to in a tensor loop fails with a message naming the append, and `tf.unique` works in functions.

Values are checked against numpy; gradients against float64 central differences (`check_grads`); the `shape_cast`
row against the interpreter and compiled code. Answers marked "TF 2.21" were obtained by running the same program
with TensorFlow 2.21 (/work/tfvenv); tests/oracle/programs/dynamic_control.py replays more of them.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine as tf
from engine.testing import check_grads
from engine.trace import InaccessibleTensorError
from ir.interp import run as interpret
from ir.parser import parse
from ir.printer import print_function
from ir.verify import VerifyError, verify


def _cond_slices(x: Any, p: Any) -> Any:
    return tf.cond(p, lambda: x[:2] * x[1], lambda: tf.sin(x))


# ---- cond -----------------------------------------------------------------------------------------------------------
def test_cond_branches_of_different_sizes_give_an_unknown_dim() -> None:
    shapes = []

    @tf.function
    def f(x, p):
        y = tf.cond(p, lambda: x[:2], lambda: x)
        shapes.append(tuple(y.shape))
        return y, tf.shape(y)

    x = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    y, n = f(tf.constant(x), tf.constant(True))
    np.testing.assert_array_equal(y.numpy(), x[:2])
    np.testing.assert_array_equal(n.numpy(), [2])
    y, n = f(tf.constant(x), tf.constant(False))
    np.testing.assert_array_equal(y.numpy(), x)
    np.testing.assert_array_equal(n.numpy(), [4])
    assert shapes == [(None,)]  # TF 2.21: (None,), one trace
    assert f.experimental_get_tracing_count() == 1
    text = str(f.get_concrete_function(tf.constant(x), tf.constant(True)).ir)
    assert "shape_cast" in text and "cond %p, %x : f32[?]" in text


def test_autograph_if_with_sizes_that_differ_keeps_the_static_dims() -> None:
    @tf.function
    def f(m):
        if tf.reduce_sum(m) > 0.0:
            y = m[:1] * 2.0
        else:
            y = tf.concat([m, m], 0)
        return y

    m = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.testing.assert_array_equal(f(tf.constant(m)).numpy(), m[:1] * 2.0)
    np.testing.assert_array_equal(f(tf.constant(-m)).numpy(), np.concatenate([-m, -m]))
    assert "f32[?,2]" in str(f.get_concrete_function(tf.constant(m)).ir)


@pytest.mark.parametrize("p", [True, False])
def test_gradients_through_cond_branches_of_different_sizes(p: bool) -> None:
    f = tf.function(lambda x: tf.reduce_sum(_cond_slices(x, tf.constant(p)) ** 2))
    check_grads(f, [np.array([1.0, 2.0, 3.0, 4.0])], order=2, modes=("fwd", "rev"))


def test_cond_gradient_inside_a_function_matches_tf() -> None:
    @tf.function
    def f(x, p):
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.cond(p, lambda: x[:2], lambda: x)
            s = tf.reduce_sum(y * y)
        return t.gradient(s, x)

    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(f(x, tf.constant(True)).numpy(), [2.0, 4.0, 0.0, 0.0])  # TF 2.21
    np.testing.assert_array_equal(f(x, tf.constant(False)).numpy(), [2.0, 4.0, 6.0, 8.0])  # TF 2.21


def test_cond_branches_of_different_rank_still_raise() -> None:
    @tf.function
    def f(x):
        return tf.cond(x[0] > 0.0, lambda: x, lambda: tf.reshape(x, [2, 2]))

    with pytest.raises(TypeError, match="must agree in dtype and rank"):
        f(tf.constant([1.0, 2.0, 3.0, 4.0]))


# ---- while_loop -----------------------------------------------------------------------------------------------------
def _grow(n: Any) -> Any:
    i = tf.constant(0)
    v = tf.constant([7])
    return tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, tf.concat([v, [i * i]], 0)), [i, v],
                         shape_invariants=[i.shape, tf.TensorShape([None])])


@pytest.mark.parametrize("n", [0, 1, 4, 40])
def test_while_loop_with_shape_invariants_grows_a_value(n: int) -> None:
    f = tf.function(_grow)
    i, v = f(tf.constant(n))
    assert int(i) == n
    np.testing.assert_array_equal(v.numpy(), np.concatenate([[7], np.arange(n) ** 2]).astype(np.int32))


def test_while_loop_shape_invariants_eagerly_is_plain_python() -> None:
    i, v = _grow(tf.constant(3))
    np.testing.assert_array_equal(v.numpy(), [7, 0, 1, 4])


def test_while_loop_without_invariants_raises_value_error_pointing_at_them() -> None:
    @tf.function
    def f(n):
        v = tf.constant([7])
        return tf.while_loop(lambda v: tf.size(v) < n, lambda v: (tf.concat([v, v], 0),), [v])

    with pytest.raises(ValueError, match=r"loop variable 0 is int32\[1\] before the loop but int32\[2\] after one "
                                         r"iteration; .*shape_invariants"):  # TF 2.21: ValueError
        f(tf.constant(4))


def test_while_loop_invariant_that_does_not_fit_the_initial_value_raises() -> None:
    @tf.function
    def f(n):
        v = tf.constant([1.0, 2.0])
        return tf.while_loop(lambda v: tf.size(v) < n, lambda v: (tf.concat([v, v], 0),), [v],
                             shape_invariants=[tf.TensorShape([3])])

    with pytest.raises(ValueError, match=r"not compatible with its shape invariant \(3,\)"):  # TF 2.21: ValueError
        f(tf.constant(8))


def _doubling(x: Any, n: Any) -> Any:
    """Each trip appends x[1] times the first element: [x0, x1, x0*x1, x0*x1, ...]."""
    i = tf.constant(0)
    _, v = tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, tf.concat([v, v[:1] * x[1]], 0)), [i, x],
                         shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    return v


@pytest.mark.parametrize("n", [0, 3])
def test_gradients_through_a_loop_whose_value_grows(n: int) -> None:
    f = tf.function(lambda x: tf.reduce_sum(tf.sin(_doubling(x, tf.constant(n)))))
    check_grads(f, [np.array([1.5, -0.7])], order=2, modes=("fwd", "rev"))


def test_grown_value_and_its_gradient_match_tf() -> None:
    @tf.function
    def f(x, n):
        with tf.GradientTape() as t:
            t.watch(x)
            v = _doubling(x, n)
            s = tf.reduce_sum(v * v)
        return v, s, t.gradient(s, x)

    v, s, g = f(tf.constant([1.5, 2.0]), tf.constant(3))
    np.testing.assert_array_equal(v.numpy(), [1.5, 2.0, 3.0, 3.0, 3.0])
    assert float(s) == 33.25  # TF 2.21
    np.testing.assert_array_equal(g.numpy(), [39.0, 31.0])  # TF 2.21


# ---- AutoGraph loops ------------------------------------------------------------------------------------------------
def test_autograph_for_with_set_loop_options_grows_a_value() -> None:
    @tf.function
    def f(n):
        v = tf.constant([0])
        for i in tf.range(n):
            tf.autograph.experimental.set_loop_options(shape_invariants=[(v, tf.TensorShape([None]))])
            v = tf.concat([v, [i]], 0)
        return v

    np.testing.assert_array_equal(f(tf.constant(3)).numpy(), [0, 0, 1, 2])  # TF 2.21
    np.testing.assert_array_equal(f(tf.constant(0)).numpy(), [0])


def test_autograph_while_with_set_loop_options_and_its_gradient() -> None:
    @tf.function
    def f(x):
        i = tf.constant(0)
        v = x
        while i < 3:
            tf.autograph.experimental.set_loop_options(shape_invariants=[(v, tf.TensorShape([None]))])
            v = tf.concat([v, v[:1] * x[0]], 0)
            i += 1
        return tf.reduce_sum(v * v)

    x = np.array([1.5, 2.0])
    assert float(f(tf.constant(x))) == pytest.approx(1.5 ** 2 + 4.0 + 3 * (1.5 * 1.5) ** 2)
    check_grads(f, [x], order=1, modes=("rev",))


def test_autograph_loop_that_grows_without_options_names_the_variable() -> None:
    @tf.function
    def f(n):
        v = tf.constant([0])
        for i in tf.range(n):
            v = tf.concat([v, [i]], 0)
        return v

    with pytest.raises(ValueError, match=r"'v' has shape \(1,\) before the loop, but shape \(2,\) after one "
                                         r"iteration; use tf.autograph.experimental.set_loop_options"):
        f(tf.constant(3))


# ---- list.append in a tensor loop -----------------------------------------------------------------------------------
def test_list_appended_in_a_tensor_loop_keeps_one_trace_as_in_tf() -> None:
    @tf.function
    def f(n):
        out = []
        for i in tf.range(n):
            out.append(i * 2)
        return len(out)

    assert int(f(tf.constant(3))) == 1  # TF 2.21: 1 (the body is traced once)


def test_using_a_tensor_appended_in_a_tensor_loop_names_the_append_and_suggests_tensor_array() -> None:
    @tf.function
    def f(n):
        out = []
        i = tf.constant(0)
        while i < n:
            out.append(i * 2)
            i += 1
        return tf.stack(out)

    line = f.python_function.__code__.co_firstlineno + 5
    with pytest.raises(InaccessibleTensorError, match=rf"'out.append' at .*, line {line}, inside the tensor loop "
                                                      rf"at line {line - 1}.*tf.TensorArray"):
        f(tf.constant(3))  # TF 2.21: InaccessibleTensorError


def test_list_built_inside_the_loop_body_is_fine() -> None:
    @tf.function
    def f(x):
        total = tf.constant(0.0)
        for row in x:
            parts = []
            parts.append(row * 2.0)
            parts.append(row)
            total += tf.reduce_sum(tf.stack(parts))
        return total

    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert float(f(tf.constant(x))) == float(3 * x.sum())


# ---- unique ---------------------------------------------------------------------------------------------------------
def _unique_numpy(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-occurrence order, written plainly (NaNs distinct, as TF)."""
    y: list[Any] = []
    idx = []
    for v in a:
        k = next((j for j, w in enumerate(y) if w == v), None)
        if k is None:
            y.append(v)
            k = len(y) - 1
        idx.append(k)
    return np.array(y, a.dtype), np.array(idx, np.int32)


@pytest.mark.parametrize("how", ["eager", "static", "unknown"])
def test_unique_matches_first_occurrence_order(how: str) -> None:
    rng = np.random.default_rng(0)
    if how == "eager":
        u = tf.unique
    elif how == "static":
        u = tf.function(lambda x: tf.unique(x))
    else:
        u = tf.function(lambda x: tf.unique(x), input_signature=[tf.TensorSpec([None], tf.float32)])
    for a in [np.array([4, 2, 4, 7, 2], np.float32), np.array([1.0, np.nan, 2.0, np.nan, 1.0], np.float32),
              rng.integers(0, 12, 60).astype(np.float32), np.array([5.0], np.float32)]:
        y, idx = u(tf.constant(a))
        want_y, want_idx = _unique_numpy(a)
        np.testing.assert_array_equal(y.numpy(), want_y)
        np.testing.assert_array_equal(idx.numpy(), want_idx)
        assert idx.dtype == tf.int32


def test_unique_out_idx_and_empty_input() -> None:
    y, idx = tf.unique(tf.constant([3, 1, 3]), out_idx=tf.int64)
    np.testing.assert_array_equal(idx.numpy(), np.array([0, 1, 0], np.int64))
    assert idx.dtype == tf.int64
    f = tf.function(lambda x: tf.unique(x), input_signature=[tf.TensorSpec([None], tf.int32)])
    y, idx = f(tf.constant(np.zeros(0, np.int32)))
    assert y.shape == (0,) and idx.shape == (0,)


def test_unique_rejects_a_matrix() -> None:
    with pytest.raises(ValueError, match="must be a vector"):
        tf.unique(tf.constant([[1, 2]]))


# ---- the shape_cast row ---------------------------------------------------------------------------------------------
_RELAX = """func @f(%x: f32[2,3]) -> (f32[?,3]) {
  %0 = shape_cast %x {shape = [none, 3]} : f32[?,3]
  return %0
}
"""


def test_shape_cast_prints_parses_and_interprets() -> None:
    fn = parse(_RELAX)
    verify(fn)
    assert print_function(fn) == _RELAX
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(interpret(fn, [x])[0], x)


def test_shape_cast_verifier_rejects_a_static_dim_that_differs() -> None:
    with pytest.raises(VerifyError, match=r"dimension 0 of f32\[2,3\] cannot be cast to 4"):
        verify(parse(_RELAX.replace("[none, 3]} : f32[?,3]", "[4, 3]} : f32[4,3]").replace("-> (f32[?,3])",
                                                                                          "-> (f32[4,3])")))


def test_refining_an_unknown_dim_is_checked_when_the_function_runs() -> None:
    from codegen.runtime import compile_function
    fn = parse("""func @f(%x: f32[?]) -> (f32[3]) {
  %0 = shape_cast %x {shape = [3]} : f32[3]
  return %0
}""")
    compiled = compile_function(fn)
    np.testing.assert_array_equal(compiled([np.ones(3, np.float32)])[0], np.ones(3))
    with pytest.raises(ValueError, match="shape_cast"):
        compiled([np.ones(4, np.float32)])
    with pytest.raises(ValueError, match="shape_cast"):
        interpret(fn, [np.ones(4, np.float32)])


def test_unique_has_no_gradient() -> None:
    """TF 2.21 raises LookupError (no gradient registered for Unique); Kiln gives None (docs/tf-compat.md)."""
    x = tf.constant([3.0, 1.0, 3.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y, _ = tf.unique(x)
        s = tf.reduce_sum(y * y)
    assert t.gradient(s, x) is None

    @tf.function
    def f(x):
        with tf.GradientTape() as t:
            t.watch(x)
            y, _ = tf.unique(x)
            s = tf.reduce_sum(y * y)
        return t.gradient(s, x)
    assert f(x) is None


def test_cond_of_unknown_dims_survives_specialization_and_inlining() -> None:
    """Specialized to static operands, branches that give different sizes yield static types that refine the
    cond's `?` result (the verifier joins them); codegen copies them to run-time sized blocks."""
    from codegen.runtime import compile_function
    from ir.passes.specialize import specialize

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.bool)])
    def f(x, p):
        return tf.cond(p, lambda: x[:2], lambda: x)

    static = specialize(f.get_concrete_function().ir, [(3,), ()])
    verify(static)
    assert "f32[2]" in print_function(static) and static.block.ops[0].results[0].type.shape == (None,)
    compiled = compile_function(static)
    x = np.array([1.0, 2.0, 3.0], np.float32)
    for p, want in ((True, x[:2]), (False, x)):
        np.testing.assert_array_equal(compiled([x, np.bool_(p)])[0], want)
        np.testing.assert_array_equal(interpret(static, [x, np.bool_(p)])[0], want)

    @tf.function
    def outer(x, p):
        return f(x, p) * 2.0  # f's generic trace inlined with static operands

    np.testing.assert_array_equal(outer(tf.constant(x), tf.constant(True)).numpy(), x[:2] * 2.0)
    np.testing.assert_array_equal(outer(tf.constant(x), tf.constant(False)).numpy(), x * 2.0)


def test_growing_loop_survives_specialization() -> None:
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(x):
        _, v = tf.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, tf.concat([v, x], 0)), [tf.constant(0), x],
                             shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
        return v

    @tf.function
    def outer(x):
        return f(x) + 1.0

    x = np.array([1.0, 2.0], np.float32)
    np.testing.assert_array_equal(outer(tf.constant(x)).numpy(), np.tile(x, 3) + 1.0)

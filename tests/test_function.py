"""Tracing semantics of `engine.function`, as in TensorFlow (DESIGN §5): when a function retraces, what runs once per
trace and what on every call, concrete functions and their printed forms, input signatures, captured Variables,
nested structures, running eagerly, the retracing warning, `engine.make_ir`, and the errors that cond, while_loop
and leaked tensors raise while tracing.
"""
from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np
import pytest

import engine as tf
import ir
from engine.trace import TraceError


def values(x: Any) -> Any:
    """A nested structure of tensors as the same structure of numpy values (for exact comparisons)."""
    if isinstance(x, dict):
        return {k: values(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(values(v) for v in x)
    return x.numpy() if isinstance(x, tf.Tensor) else x


# ---- when tracing happens -------------------------------------------------------------------------------------------
def test_python_side_effects_run_once_per_trace(capsys: pytest.CaptureFixture) -> None:
    @tf.function
    def f(x, k):
        print("tracing", x.dtype.name, tuple(x.shape), k)
        return x * 2 + k

    def calls() -> list[str]:
        return [line for line in capsys.readouterr().out.splitlines() if line.startswith("tracing")]

    a = f(tf.constant([1.0, 2.0]), 1)
    f(tf.constant([3.0, 4.0]), 1)
    assert calls() == ["tracing float32 (2,) 1"], "same signature: one trace for two calls"
    assert f.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(a.numpy(), [3.0, 5.0])
    b = f(tf.constant([1.0, 2.0], dtype=tf.float64), 1)
    assert calls() == ["tracing float64 (2,) 1"], "new dtype: retrace"
    assert b.dtype is tf.float64
    f(tf.constant([1.0, 2.0, 3.0]), 1)
    assert calls() == ["tracing float32 (3,) 1"], "new shape: retrace"
    c = f(tf.constant([1.0, 2.0]), 5)
    assert calls() == ["tracing float32 (2,) 5"], "new Python value: retrace"
    np.testing.assert_array_equal(c.numpy(), [7.0, 9.0])
    for args in [(tf.constant([0.0, 0.0]), 1), (tf.constant([0.0, 0.0], tf.float64), 1),
                 (tf.constant([0.0, 0.0, 0.0]), 1), (tf.constant([0.0, 0.0]), 5)]:
        f(*args)
    assert calls() == [], "every signature seen before: no retrace"
    assert f.experimental_get_tracing_count() == 4


def test_numpy_arrays_key_like_tensors_of_their_dtype_and_shape() -> None:
    @tf.function
    def f(x):
        return x + 1

    f(np.zeros(3, np.float32))
    f(tf.constant([1.0, 2.0, 3.0]))
    assert f.experimental_get_tracing_count() == 1
    f(np.zeros(3, np.float64))
    assert f.experimental_get_tracing_count() == 2


def test_engine_print_runs_on_every_call(capsys: pytest.CaptureFixture) -> None:
    @tf.function
    def f(x):
        print("python print")
        tf.print("value:", x)
        return x + 1

    f(tf.constant(1))
    f(tf.constant(2))
    f(tf.constant(3))
    captured = capsys.readouterr()
    assert captured.err == "value: 1\nvalue: 2\nvalue: 3\n"
    assert captured.out == "python print\n"
    assert f.experimental_get_tracing_count() == 1


def test_engine_print_to_stdout(capsys: pytest.CaptureFixture) -> None:
    @tf.function
    def f(x):
        tf.print(x, "end", output_stream=sys.stdout)
        return x

    f(tf.constant([1, 2]))
    f(tf.constant([3, 4]))
    assert capsys.readouterr().out == "[1 2] end\n[3 4] end\n"


def test_print_default_stream_is_sys_stderr_at_call_time(capsys: pytest.CaptureFixture) -> None:
    """capsys replaces sys.stderr after engine was imported; the default stream must follow it."""
    tf.print(tf.constant(7))

    @tf.function
    def f(x):
        tf.print(x)
        return x

    f(tf.constant(8))
    assert capsys.readouterr().err == "7\n8\n"


def test_print_float32_scalar_shortest_digits(capsys: pytest.CaptureFixture) -> None:
    tf.print(tf.constant(0.1), tf.constant(0.1, dtype=tf.float64), tf.constant([0.1, 0.5]))
    assert capsys.readouterr().err == "0.1 0.1 [0.1 0.5]\n"


# ---- concrete functions ---------------------------------------------------------------------------------------------
def _model(x, y, scale):
    h = tf.matmul(x, y)
    return {"out": tf.tanh(h) * scale, "total": tf.reduce_sum(h)}


def test_get_concrete_function_from_tensors_and_specs() -> None:
    f = tf.function(_model)
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    y = tf.constant(np.ones((3, 4), np.float32))
    cf = f.get_concrete_function(x, y, 2.0)
    assert f.experimental_get_tracing_count() == 1
    cf2 = f.get_concrete_function(tf.TensorSpec([2, 3], tf.float32), tf.TensorSpec([3, 4], tf.float32), 2.0)
    assert cf2 is cf, "a TensorSpec of the same type finds the same trace"
    assert f.experimental_get_tracing_count() == 1

    out = cf(x, y, 2.0)
    want = np.arange(6, dtype=np.float32).reshape(2, 3) @ np.ones((3, 4), np.float32)
    np.testing.assert_allclose(out["out"].numpy(), np.tanh(want) * 2.0, rtol=1e-6)
    assert out["total"].numpy() == want.sum()
    with pytest.raises(TypeError, match="x"):
        cf(tf.constant(np.zeros((2, 3), np.float64)), y, 2.0)

    text = str(cf)
    for piece in ("_model(x, y, scale)", "x: float32 Tensor, shape=(2, 3)", "y: float32 Tensor, shape=(3, 4)",
                  "scale: 2.0", "'out': float32 Tensor, shape=(2, 4)", "'total': float32 Tensor, shape=()"):
        assert piece in text, f"{piece!r} not in\n{text}"

    ir_text = str(cf.ir)
    assert ir_text.startswith("func @_model(%x: f32[2,3], %y: f32[3,4])")
    for op in ("matmul", "tanh", "reduce_sum", "mul", "return"):
        assert f" {op} " in ir_text or f"= {op}" in ir_text, f"{op} not in\n{ir_text}"
    opt_text = str(cf.optimized_ir)
    assert "matmul %x, %y" in opt_text and "tanh" in opt_text
    assert isinstance(cf.ir, ir.core.Function) and isinstance(cf.optimized_ir, ir.core.Function)


def test_get_concrete_function_float64_spec_then_call() -> None:
    @tf.function
    def f(x):
        return tf.reduce_sum(x * x, axis=0)

    cf = f.get_concrete_function(tf.TensorSpec([3, 2], tf.float64))
    assert "x: float64 Tensor, shape=(3, 2)" in str(cf)
    assert "func @f(%x: f64[3,2]) -> (f64[2])" in str(cf.ir)
    a = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(f(tf.constant(a)).numpy(), (a * a).sum(axis=0))
    assert f.experimental_get_tracing_count() == 1, "the call reuses the trace made from the spec"


# ---- input_signature ------------------------------------------------------------------------------------------------
def _signed() -> Any:
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.int32)])
    def scaled(x, n):
        return x * tf.cast(n, tf.float32)
    return scaled


def test_input_signature_accepts_matching_calls() -> None:
    f = _signed()
    np.testing.assert_array_equal(f(tf.constant([1.0, 2.0]), tf.constant(3)).numpy(), [3.0, 6.0])
    np.testing.assert_array_equal(f(np.array([1.0, 2.0, 4.0], np.float32), tf.constant(2)).numpy(), [2.0, 4.0, 8.0])
    np.testing.assert_array_equal(f(tf.constant([1.0, 2.0]), tf.constant(-1)).numpy(), [-1.0, -2.0])
    assert f.experimental_get_tracing_count() == 1, "one trace for every size of the None dimension, as TF"
    (concrete,) = f._cache.values()
    assert not concrete._specializations and concrete.compiled is not None, "one kernel for every size"


def test_input_signature_rejects_wrong_dtype_and_rank() -> None:
    f = _signed()
    with pytest.raises(TypeError, match=r"argument 'n' .*int32"):
        f(tf.constant([1.0, 2.0]), tf.constant(3.0))
    with pytest.raises(TypeError, match=r"argument 'x' .*float32"):
        f(tf.constant([1, 2]), tf.constant(3))
    with pytest.raises(TypeError, match="argument 'x'"):
        f(tf.constant([[1.0]]), tf.constant(3))
    assert f.experimental_get_tracing_count() == 0


def test_input_signature_error_names_the_parameter() -> None:
    with pytest.raises(TypeError, match=r"scaled\(\): argument 'n' \(float32\[\]\) does not match .*int32"):
        _signed()(tf.constant([1.0, 2.0]), tf.constant(3.0))


# ---- Variables ------------------------------------------------------------------------------------------------------
def test_captured_variable_is_read_and_updated() -> None:
    v = tf.Variable([1.0, 2.0], name="v")
    steps = tf.Variable(0, name="steps")

    @tf.function
    def step(x):
        steps.assign_add(1)
        v.assign_add(x * 2.0)
        return v.read_value() * 10.0

    a = step(tf.constant([0.5, 0.5]))
    np.testing.assert_array_equal(a.numpy(), [20.0, 30.0])
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0])
    b = step(tf.constant([1.0, -1.0]))
    np.testing.assert_array_equal(b.numpy(), [40.0, 10.0])
    np.testing.assert_array_equal(v.numpy(), [4.0, 1.0])
    assert steps.numpy() == 2
    assert step.experimental_get_tracing_count() == 1
    v.assign([0.0, 0.0])
    np.testing.assert_array_equal(step(tf.constant([1.0, 1.0])).numpy(), [20.0, 20.0])  # sees the eager assign
    cf = step.get_concrete_function(tf.constant([1.0, 1.0]))
    assert set(map(id, cf.variables)) == {id(v), id(steps)}
    assert "assign" in str(cf.ir) and "read" in str(cf.ir)


def test_variable_argument_keys_by_identity() -> None:
    @tf.function
    def bump(var):
        var.assign_add(tf.ones_like(var))
        return var.read_value()

    a, b = tf.Variable([1.0]), tf.Variable([5.0])
    bump(a)
    bump(a)
    bump(b)
    assert a.numpy().tolist() == [3.0] and b.numpy().tolist() == [6.0]
    assert bump.experimental_get_tracing_count() == 2


# ---- nested structures ----------------------------------------------------------------------------------------------
def test_nested_inputs_and_outputs_keep_their_structure() -> None:
    @tf.function
    def f(inputs, pair):
        a, (b, k) = inputs["a"], pair
        return {"sum": [a + b, (a * k, None)], "n": tf.reduce_sum(inputs["list"][1])}

    args = ({"a": tf.constant([1.0, 2.0]), "list": [tf.constant(1), tf.constant([2, 3])]},
            (tf.constant([10.0, 20.0]), 3.0))
    out = f(*args)
    assert isinstance(out, dict) and set(out) == {"sum", "n"}
    assert isinstance(out["sum"], list) and isinstance(out["sum"][1], tuple) and out["sum"][1][1] is None
    got = values(out)
    np.testing.assert_array_equal(got["sum"][0], [11.0, 22.0])
    np.testing.assert_array_equal(got["sum"][1][0], [3.0, 6.0])
    assert got["n"] == 5 and got["n"].dtype == np.int32
    f({"a": tf.constant([0.0, 0.0]), "list": [tf.constant(4), tf.constant([0, 0])]}, (tf.constant([1.0, 1.0]), 3.0))
    assert f.experimental_get_tracing_count() == 1, "same structure and types: same trace"
    f({"a": tf.constant([0.0, 0.0]), "list": [tf.constant(4), tf.constant([0, 0]), 1]},
      (tf.constant([1.0, 1.0]), 3.0))
    assert f.experimental_get_tracing_count() == 2, "a new structure retraces"


def test_tuple_and_list_outputs_keep_their_type() -> None:
    @tf.function
    def f(x):
        return [x, (x + 1, [x * 2])]

    out = f(tf.constant(1))
    assert type(out) is list and type(out[1]) is tuple and type(out[1][1]) is list
    assert values(out) == [1, (2, [2])]


def test_while_loop_result_has_the_structure_of_loop_vars_eager_and_traced() -> None:
    def f(x):
        return tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * 2.0), [tf.constant(0), x])

    traced = tf.function(f)(tf.constant(1.0))
    assert type(traced) is list and values(traced) == [3, 8.0]
    eager = f(tf.constant(1.0))
    assert type(eager) is list and values(eager) == [3, 8.0]


# ---- running eagerly ------------------------------------------------------------------------------------------------
def test_run_functions_eagerly_runs_the_python_body_every_call() -> None:
    bodies = []

    @tf.function
    def f(x):
        bodies.append(tf.executing_eagerly())
        return x * 3

    try:
        tf.config.run_functions_eagerly(True)
        assert tf.config.functions_run_eagerly()
        assert f(tf.constant(2)).numpy() == 6
        assert f(tf.constant(2)).numpy() == 6
        assert bodies == [True, True]
        assert f.experimental_get_tracing_count() == 0
    finally:
        tf.config.run_functions_eagerly(False)
    assert not tf.config.functions_run_eagerly()
    f(tf.constant(2))
    f(tf.constant(2))
    assert bodies == [True, True, False], "traced once, then run from the trace"


# ---- the retracing warning ------------------------------------------------------------------------------------------
def test_retracing_warning_names_a_changing_python_argument() -> None:
    @tf.function
    def f(x, k):
        return x * k

    x = tf.constant(1.0)
    with pytest.warns(RuntimeWarning, match=r"retracing.*argument 'k' is a Python value"):
        for k in range(6):
            assert f(x, k).numpy() == k


def test_retracing_warning_mentions_changing_shapes() -> None:
    @tf.function
    def f(x):
        return x + 1.0

    with pytest.warns(RuntimeWarning, match=r"argument 'x' changes shape.*float32\[\d\] then float32\[\d\]"):
        for n in range(1, 7):
            f(tf.zeros([n]))


def test_no_retracing_warning_for_stable_or_few_signatures() -> None:
    @tf.function
    def f(x, k):
        return x * k

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(20):
            f(tf.constant(1.0), 2)
        for k in range(4):
            f(tf.constant(1.0), k)
    assert f.experimental_get_tracing_count() == 4


# ---- make_ir --------------------------------------------------------------------------------------------------------
def test_make_ir_returns_the_traced_function() -> None:
    def f(x, y):
        return tf.reduce_max(tf.exp(x) - y, axis=1)

    fn = tf.make_ir(f)(tf.constant(np.ones((2, 3), np.float32)), tf.constant(np.ones((2, 3), np.float32)))
    assert isinstance(fn, ir.core.Function)
    text = str(fn)
    assert text.startswith("func @f(%x: f32[2,3], %y: f32[2,3]) -> (f32[2]) {")
    for op in ("= exp %x", "= sub ", "= reduce_max ", "axes = [1]", "return "):
        assert op in text, f"{op!r} not in\n{text}"
    opt = tf.make_ir(f, optimize=True)(tf.constant(np.ones((2, 3), np.float32)), tf.constant(np.ones((2, 3), np.float32)))
    assert isinstance(opt, ir.core.Function)
    assert "= exp %x" in str(opt) and "= reduce_max " in str(opt)


def test_make_ir_of_control_flow() -> None:
    def f(x):
        return tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, tf.cond(y > 1.0, lambda: y, lambda: y * 2.0)),
                             (tf.constant(0), x))[1]

    text = str(tf.make_ir(f)(tf.constant(0.3)))
    for piece in ("while_loop", "cond", "yield", "^body(", "^then(", "^else("):
        assert piece in text, f"{piece!r} not in\n{text}"


# ---- errors while tracing -------------------------------------------------------------------------------------------
def test_cond_branches_disagreeing_in_dtype_or_shape() -> None:
    @tf.function
    def dtype_clash(x):
        return tf.cond(x > 0.0, lambda: (x, x), lambda: (x, tf.cast(x, tf.int32)))

    with pytest.raises(TypeError, match=r"cond: output 1 is float32\[\] in the true branch but int32\[\] in the "
                                        r"false branch"):
        dtype_clash(tf.constant(1.0))

    @tf.function
    def rank_clash(x):
        return tf.cond(tf.reduce_sum(x) > 0.0, lambda: x, lambda: tf.reshape(x, [1, 2]))

    with pytest.raises(TypeError, match=r"output 0 is float32\[2\] in the true branch but float32\[1, 2\] in the "
                                        r"false branch; both branches must agree in dtype and rank"):
        rank_clash(tf.constant([1.0, 2.0]))
    # Sizes that differ become unknown dims (tests/test_dynamic_control.py), as in TF.

    @tf.function
    def structure_clash(x):
        return tf.cond(x > 0.0, lambda: (x, x), lambda: x)

    with pytest.raises(TypeError, match="true branch returns .* false branch returns"):
        structure_clash(tf.constant(1.0))


def test_while_body_changing_a_shape_names_the_variable() -> None:
    @tf.function
    def f(x):
        return tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, tf.concat([y, y], 0)), (tf.constant(0), x))

    with pytest.raises(ValueError, match=r"loop variable 1 is float32\[2\] before the loop but float32\[4\]"):
        f(tf.constant([1.0, 2.0]))

    @tf.function
    def g(x):
        return tf.while_loop(lambda i: i < 3.0, lambda i: tf.cast(i, tf.int32), [x])

    with pytest.raises(TypeError, match=r"loop variable 0 is float32\[\] before the loop but int32\[\]"):
        g(tf.constant(0.0))


def test_tensor_leaked_from_another_trace() -> None:
    leaked = []

    @tf.function
    def first(x):
        leaked.append(x * 2.0)
        return x

    @tf.function
    def second(y):
        return y + leaked[0]

    first(tf.constant(1.0))
    with pytest.raises(TraceError, match="another traced function"):
        second(tf.constant(1.0))


def test_tensor_leaked_from_a_branch() -> None:
    inner = []

    @tf.function
    def f(x):
        def branch():
            inner.append(x * 3.0)
            return x
        y = tf.cond(x > 0.0, branch, lambda: x)
        return y + inner[0]

    with pytest.raises(TraceError):
        f(tf.constant(1.0))


def test_equal_python_numbers_share_a_trace() -> None:
    # TF 2.21: f(x, 3) then f(x, 3.0) trace once (6.0, 6.0, 1 trace); 1, True and 1.0 share one trace too.
    traces = []

    @tf.function
    def f(x, k):
        traces.append(k)
        return x * k if not isinstance(k, str) else x
    a = f(tf.constant(2.0), 3)
    b = f(tf.constant(2.0), 3.0)
    assert (float(a), float(b), traces) == (6.0, 6.0, [3])
    f(tf.constant(2.0), 1)
    f(tf.constant(2.0), True)
    f(tf.constant(2.0), 1.0)
    f(tf.constant(2.0), "1")
    assert traces == [3, 1, "1"]


def test_function_called_while_tracing_is_traced_once_per_signature() -> None:
    # TF 2.21: outer traces once, inner once per signature (["outer", "inner"], 14 and 18 for 3 and 4; with a
    # second signature [2] inner traces twice in all).
    traces = []

    @tf.function
    def inner(x):
        traces.append("inner")
        return x * 2

    @tf.function
    def outer(x):
        traces.append("outer")
        return inner(x) + inner(x + 1)
    assert (int(outer(tf.constant(3))), int(outer(tf.constant(4)))) == (14, 18)
    assert traces == ["outer", "inner"]
    assert inner.experimental_get_tracing_count() == 1
    # inner's concrete function serves eager calls too; another signature traces it again
    assert int(inner(tf.constant(5))) == 10 and inner.experimental_get_tracing_count() == 1

    @tf.function
    def other(x):
        return inner(tf.reshape(x, [2]))[1] + inner(x)
    np.testing.assert_array_equal(other(tf.constant([1, 2])).numpy(), [6, 8])
    assert inner.experimental_get_tracing_count() == 2


def test_function_called_while_tracing_reads_and_assigns_variables() -> None:
    v = tf.Variable(1.0)

    @tf.function
    def bump(x):
        v.assign_add(x)
        return v * 2.0

    @tf.function
    def outer(x):
        return bump(x) + bump(x)
    assert float(outer(tf.constant(1.0))) == 4.0 + 6.0 and float(v) == 3.0
    w = tf.Variable(3.0)

    @tf.function
    def scale(x):
        return w * x

    @tf.function
    def outer2(x):
        return scale(x) + scale(x * x)
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = outer2(x)
    assert float(y) == 18.0 and [float(g) for g in tape.gradient(y, [x, w])] == [3.0 + 3.0 * 4.0, 6.0]


def test_input_signature_converts_python_values() -> None:
    # TF 2.21: f([1.0, 2.0]) and f([1, 2]) with TensorSpec([2], float32) give float32 [2.0, 4.0]; 3.5 for an
    # int32 spec and a list of the wrong length are TypeErrors.
    f = tf.function(lambda x: x * 2.0, input_signature=[tf.TensorSpec(shape=[2], dtype=tf.float32)])
    for value in ([1.0, 2.0], [1, 2], (1.0, 2.0)):
        r = f(value)
        assert r.dtype is tf.float32
        np.testing.assert_array_equal(r.numpy(), [2.0, 4.0])
    with pytest.raises(TypeError):
        f([1.0, 2.0, 3.0])
    g = tf.function(lambda x: x * 2, input_signature=[tf.TensorSpec(shape=[], dtype=tf.int32)])
    assert int(g(3)) == 6
    with pytest.raises(TypeError):
        g(3.5)


def test_assign_with_read_value_false() -> None:
    # TF 2.21: None eagerly; inside a function the assign Operation (so `r is None` is False there), which is
    # not a tensor and cannot be returned (TypeError).
    v = tf.Variable(0)
    assert v.assign_add(1, read_value=False) is None

    @tf.function
    def f():
        r = v.assign_add(5, read_value=False)
        return r is None
    assert bool(f()) is False and int(v) == 6

    @tf.function
    def g():
        return v.assign(2, read_value=False)
    with pytest.raises(TypeError):
        g()

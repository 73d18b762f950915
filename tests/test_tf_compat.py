"""AutoGraph agrees with TensorFlow 2.21 where the oracle replay found it did not, and the rows of docs/tf-compat.md
that no other test pins are pinned here, its known failures as strict xfails.

Every expected value is TensorFlow 2.21's answer for the same function (run with /work/tfvenv and hard-coded), unless
the test says it pins a documented deviation.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import engine as tf
from engine.autograph.values import PythonLoopReturnError, PythonLoopTensorConditionError
from engine.errors import InvalidArgumentError
from engine.trace import InaccessibleTensorError


def value(t: tf.Tensor, dtype: str = "float32") -> float:
    assert t.dtype.name == dtype, t.dtype.name
    return float(t.numpy())


# ---- a variable that is None before a staged loop is typed by one iteration, as an undefined one -------------------
def none_then_for_range(x):
    y = None
    for i in tf.range(3):
        y = x * 2.0
    return y


def none_then_for_range_n(x, n):
    y = None
    for i in tf.range(n):
        y = x * 2.0
    return y


def none_then_while(x):
    y = None
    while x < 5.0:
        y = x * 2.0
        x = x + 1.0
    return y


def none_tested_in_body(x):
    y = None
    for i in tf.range(3):
        if y is None:
            y = x
        y = y * 2.0
    return y


def none_then_rows(x):
    y = None
    for v in x:
        y = v * 2.0
    return y


def none_then_python_int(x):
    y = None
    for i in tf.range(3):
        y = 5
    return y


def none_assigned_under_a_tensor_if(x):
    y = None
    for i in tf.range(3):
        if x > 0:
            y = x * 2.0
    return y


@pytest.mark.parametrize("fn,args,want,dtype", [
    (none_then_for_range, (1.0,), 2.0, "float32"),
    (none_then_while, (1.0,), 8.0, "float32"),
    # TF 2.21 gives 0.0: the loop starts from a zero of the type the first (speculative) iteration gives `y`.
    (none_tested_in_body, (1.0,), 0.0, "float32"),
    (none_then_rows, ([1.0, 3.0],), 6.0, "float32"),
    (none_then_python_int, (1.0,), 5.0, "int32"),
], ids=lambda p: getattr(p, "__name__", None))
def test_none_before_a_staged_loop_is_typed_by_one_iteration(fn, args, want, dtype) -> None:
    assert value(tf.function(fn)(*[tf.constant(a) for a in args]), dtype) == want


def test_none_before_a_staged_loop_needs_an_iteration_and_a_value_on_every_path() -> None:
    f = tf.function(none_then_for_range_n)
    assert value(f(tf.constant(1.0), tf.constant(2))) == 2.0
    with pytest.raises(InvalidArgumentError, match="the loop must iterate at least once to initialize 'y'"):
        f(tf.constant(1.0), tf.constant(0))  # TF 2.21: InvalidArgumentError from the loop's Assert
    with pytest.raises(ValueError, match="'y' is None at the end of the else branch"):
        tf.function(none_assigned_under_a_tensor_if)(tf.constant(1.0))  # TF 2.21: ValueError


# ---- every tensor made while tracing decides control flow, tf.constant included ------------------------------------
def while_not_done(x):
    done = tf.constant(False)
    n = tf.constant(0)
    while not done:
        x = x / 2.0
        n = n + 1
        done = x < 1.0
    return x, n


def if_on_a_constant_flag(x):
    flag = tf.constant(True)
    if flag:
        y = x + 1.0
    return y


def break_in_a_loop_over_a_constant(x):
    s = x * 0.0
    for v in tf.constant([1.0, 2.0, 3.0]):
        s = s + v
        if s > 2.0:
            break
    return s


def test_control_flow_on_a_tensor_made_while_tracing_is_staged() -> None:
    x, n = tf.function(while_not_done)(tf.constant(20.0))
    assert (value(x), value(n, "int32")) == (0.625, 5.0)
    assert value(tf.function(break_in_a_loop_over_a_constant)(tf.constant(1.0))) == 3.0
    # TF 2.21: ValueError "'y' must also be initialized in the else branch" (the if is a tf.cond).
    with pytest.raises(ValueError, match="'y' must also be initialized in the else branch"):
        tf.function(if_on_a_constant_flag)(tf.constant(1.0))
    assert value(if_on_a_constant_flag(tf.constant(1.0))) == 2.0, "eagerly it is plain Python"


# ---- TensorFlow's exception classes, Kiln's messages ---------------------------------------------------------------
def break_in_python_range(x):
    for i in range(5):
        x = x * 2.0
        if x > 10.0:
            break
    return x


def return_in_python_range(x):
    for i in range(5):
        x = x * 2.0
        if x > 10.0:
            return x
    return -x


def list_append_in_tensor_loop(n):
    out = []
    for i in tf.range(n):
        out.append(i)
    return tf.stack(out)  # <- the line the error names


def test_tensor_dependent_break_or_return_in_a_python_loop_raises_tensorflows_classes() -> None:
    # TF 2.21: NotImplementedError for the break, ValueError for the return.
    with pytest.raises(NotImplementedError) as info:
        tf.function(break_in_python_range)(tf.constant(1.0))
    assert isinstance(info.value, PythonLoopTensorConditionError)
    assert "the condition of this Python loop became a tensor" in str(info.value)
    with pytest.raises(ValueError) as info2:
        tf.function(return_in_python_range)(tf.constant(1.0))
    assert isinstance(info2.value, PythonLoopReturnError)
    assert str(info2.value).count("the condition of this Python loop") == 1


def test_list_append_in_a_tensor_loop_is_an_inaccessible_tensor_naming_the_line() -> None:
    with pytest.raises(ValueError) as info:  # TF 2.21: InaccessibleTensorError, a ValueError
        tf.function(list_append_in_tensor_loop)(tf.constant(3))
    assert type(info.value) is InaccessibleTensorError
    lines, start = inspect.getsourcelines(list_append_in_tensor_loop)
    line = start + next(k for k, text in enumerate(lines) if "# <-" in text)
    assert f"test_tf_compat.py, line {line}:" in str(info.value), str(info.value)
    assert "tf.TensorArray" in str(info.value)


# ---- pins of documented deviations (docs/tf-compat.md) --------------------------------------------------------------
def test_boolean_mask_negative_axis_counts_from_the_end() -> None:
    # Deviation: TF 2.21 raises ValueError ("Shapes () and (2,) are incompatible") for axis=-1.
    t = tf.constant([[1, 2], [3, 4], [5, 6]])
    got = tf.boolean_mask(t, [True, False], axis=-1)
    np.testing.assert_array_equal(got.numpy(), np.int32([[1], [3], [5]]))
    assert got.dtype.name == "int32"


def sum_of_batches(ds):
    s = tf.constant(0.0)
    for b in ds:
        s = s + tf.reduce_sum(b)
    return s


def test_dataset_loop_in_a_function_unrolls() -> None:
    # Deviation: TF 2.21 stages the loop over the dataset; Kiln unrolls it while tracing. Both give 10.0, one trace.
    ds = tf.data.Dataset.from_tensor_slices([1.0, 2.0, 3.0, 4.0]).batch(2)
    f = tf.function(sum_of_batches)
    assert value(f(ds)) == 10.0
    ops = [op.opdef.name for op in f.get_concrete_function(ds).ir.block.ops]
    assert "while_loop" not in ops and ops.count("reduce_sum") == 2, ops


# ---- slogdet of a determinant beyond the dtype's range (TF sums the logs of the LU pivots, and so does Kiln) --------
def test_slogdet_of_a_matrix_whose_determinant_overflows() -> None:
    # TF 2.21: sign 1.0 and log|det| 184.20682 (40 * log(100)), and -184.20682 for 0.01 * I (the determinant itself
    # overflows float32 to inf and underflows to 0): the logs of the pivots are summed.
    sign, logabs = tf.linalg.slogdet(tf.eye(40) * 100.0)
    assert (float(sign), float(logabs)) == (1.0, pytest.approx(184.20682, rel=1e-6))
    sign, logabs = tf.linalg.slogdet(tf.eye(40) * 0.01)
    assert (float(sign), float(logabs)) == (1.0, pytest.approx(-184.20682, rel=1e-6))


def test_softmax_of_a_row_with_nan_or_inf_is_all_nan() -> None:
    # TF 2.21: [[nan, 0, 0, 0], [nan, 0, 0, 0], [0, 0, 0, nan]] (its exp of the NaN shift zeroes the rest of the row;
    # an +inf entry gives inf - inf = NaN there). Kiln, eager and compiled: the whole row NaN, as numpy's formula.
    x = tf.constant([[np.nan, 1.0, 2.0, 3.0], [np.inf, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, np.nan]])
    with np.errstate(invalid="ignore"):
        for got in (tf.nn.softmax(x), tf.function(lambda x: tf.nn.softmax(x))(x)):
            assert np.isnan(got.numpy()).all()

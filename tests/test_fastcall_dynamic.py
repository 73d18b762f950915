"""The generated fast caller (engine.fastcall) of kernels compiled with unknown dims (`f32[?,n]`): one caller takes
every size, with values equal to numpy's at sizes 0, 1, 3, 32 and 257 and no call going to the general path;
results allocated from the arguments' shapes or by the kernel (adopted, freed with their array); arguments of
other shapes, ranks, dtypes or layouts go to the general path and get its errors; a train step's Variable assigns.
"""
from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pytest

import engine as tf
from codegen import owned
from engine.fastcall import MISS
from tests.test_entry_fuzz import array_variants, python_values, tensor_variants

SIZES = [0, 1, 3, 32, 257]


def _count_general(f: Any) -> list:
    """Calls that reach `f`'s general path from now on (the fast caller passes its misses there)."""
    calls: list = []
    general = f._call_general

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return general(*args, **kwargs)
    f._call_general = counted
    return calls


def _dense() -> tuple[Any, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((20, 7)).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    wv, bv = tf.Variable(w), tf.Variable(b)

    @tf.function(input_signature=[tf.TensorSpec([None, 20], tf.float32)])
    def f(x):
        y = tf.nn.relu(tf.matmul(x, wv) + bv)
        m = tf.reduce_max(x, axis=1)
        return y, tf.reduce_sum(y, axis=0), m, tf.reduce_sum(m)  # (the last: a sum over a run-time row length)
    return f, w, b


def test_one_fast_caller_takes_every_size_with_numpy_values() -> None:
    f, w, b = _dense()
    rng = np.random.default_rng(1)
    f(tf.constant(rng.standard_normal((5, 20)).astype(np.float32)))
    assert getattr(f._call, "__name__", "") == "fast"
    fast = f._call
    general = _count_general(f)
    for n in SIZES:
        x = rng.standard_normal((n, 20)).astype(np.float32)
        y, col, row, total = f(tf.constant(x))
        want = np.maximum(x @ w + b, 0)
        assert y.shape == (n, 7) and col.shape == (7,) and row.shape == (n,)
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(col.numpy(), want.sum(axis=0), rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(row.numpy(), x.max(axis=1))
        np.testing.assert_allclose(total.numpy(), x.max(axis=1).astype(np.float64).sum(), rtol=1e-5)
    assert general == [] and f._call is fast and f.experimental_get_tracing_count() == 1
    assert "v0.shape[0]" in fast.source  # the results' unknown dims come from the argument


def test_wrong_shapes_and_dtypes_get_the_general_paths_errors() -> None:
    f, _, _ = _dense()
    f(tf.zeros([4, 20]))
    general = _count_general(f)
    fresh, _, _ = _dense()  # no fast caller yet: what the general path says
    for bad in (tf.zeros([4, 21]), tf.zeros([20]), tf.zeros([2, 3, 20]), tf.zeros([4, 20], tf.float64),
                tf.zeros([], tf.float32), tf.constant(np.zeros((4, 20), np.int32))):
        with pytest.raises(TypeError) as fast_error:
            f(bad)
        with pytest.raises(TypeError) as general_error:
            fresh(bad)
        assert str(fast_error.value) == str(general_error.value)
        assert "does not match its input_signature" in str(fast_error.value)
    assert len(general) == 6
    # A view of the right shape: the entry refuses its layout, the general path copies it.
    x = np.arange(8 * 40, dtype=np.float32).reshape(8, 40)[:, ::2]
    np.testing.assert_array_equal(f(tf.constant(x))[2].numpy(), x.max(axis=1))


def test_a_concrete_functions_fast_caller_misses_without_an_owner() -> None:
    f, w, b = _dense()
    concrete = f.get_concrete_function()
    fast = concrete.fast_call([tf.zeros([3, 20]).type])
    assert fast is not None and fast is concrete.fast_call([tf.zeros([9, 20]).type])  # one caller for all sizes
    assert concrete.fast_call([tf.zeros([3, 21]).type]) is None
    x = np.ones((3, 20), np.float32)
    np.testing.assert_allclose(fast(tf.constant(x))[0].numpy(), np.maximum(x @ w + b, 0), rtol=1e-5)
    assert fast(tf.zeros([3, 21])) is MISS and fast(tf.zeros([20])) is MISS and fast(np.ones((3, 20))) is MISS


def test_no_argument_crashes_the_generic_fast_caller() -> None:
    """Every layout, dtype, rank and Python value, and forged tensors, as tests/test_entry_fuzz.py tries them on
    static functions: numpy's answer or a TypeError/ValueError (anything but a crash for a forged tensor)."""
    f = tf.function(lambda x, y: x * 2.0 + y, input_signature=[tf.TensorSpec([None, 3], tf.float32),
                                                                tf.TensorSpec([3], tf.float32)])
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.float32([1, 2, 3])
    f(tf.constant(x), tf.constant(y))
    concrete = f.get_concrete_function()
    fast = concrete.fast_call([tf.constant(x).type, tf.constant(y).type])
    seen = 0
    for pos, good in ((0, x), (1, y)):
        weird = [(n, v, False) for n, v in array_variants(good) + python_values()] + \
            [(n, v, n.startswith("forged")) for n, v in tensor_variants(good)]
        for name, v, forged in weird:
            args = [tf.constant(x), tf.constant(y)]
            args[pos] = v
            for call in (lambda: f(*args), lambda: fast(*args)):
                try:
                    out = call()
                except (TypeError, ValueError):
                    continue
                except Exception:  # noqa: BLE001
                    assert forged, name
                    continue
                if out is MISS or forged:
                    continue
                a, c = (np.asarray(getattr(t, "_value", t)) for t in args)
                np.testing.assert_allclose(out.numpy(), a.astype(np.float32) * 2 + c.astype(np.float32), err_msg=name)
                seen += 1
    assert seen > 10


def test_kernel_allocated_results_are_adopted_and_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    freed: list = []
    free = owned._free
    monkeypatch.setattr(owned, "_free", lambda ptr: (freed.append(ptr), free(ptr)))

    @tf.function
    def positive(x):
        return tf.boolean_mask(x, x > 0.0)
    x = np.float32([1.5, -2.0, 3.0, 0.0, 5.0])
    positive(tf.constant(x))
    assert getattr(positive._call, "__name__", "") == "fast" and "adopt(o0" in positive._call.source
    general = _count_general(positive)
    for values in (x, -np.abs(x) - 1, np.abs(x) + 1):
        got = positive(tf.constant(values.astype(np.float32)))
        np.testing.assert_array_equal(got.numpy(), values[values > 0])
        block = got._value.base
        assert isinstance(block, owned._Block)
        ptr = block.ptr
        del got, block
        gc.collect()
        assert freed[-1:] == [ptr] or ptr == 0
    assert general == []


def test_a_train_step_with_unknown_batch_assigns_through_the_fast_caller() -> None:
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal((6, 2)).astype(np.float32)
    w = tf.Variable(w0)

    @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32), tf.TensorSpec([None, 2], tf.float32)])
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
        w.assign_sub(0.1 * tape.gradient(loss, w))
        return loss
    ref = w0.astype(np.float64)
    step(tf.zeros([2, 6]), tf.zeros([2, 2]))
    general = _count_general(step)
    for n in SIZES[1:]:
        x = rng.standard_normal((n, 6)).astype(np.float32)
        y = rng.standard_normal((n, 2)).astype(np.float32)
        r = x @ ref - y
        loss = step(tf.constant(x), tf.constant(y))
        np.testing.assert_allclose(loss.numpy(), (r ** 2).mean(), rtol=1e-4)
        ref = ref - 0.1 * 2 * x.T.astype(np.float64) @ r / r.size
        np.testing.assert_allclose(w.numpy(), ref, rtol=1e-4, atol=1e-5)
    assert general == [] and step.experimental_get_tracing_count() == 1

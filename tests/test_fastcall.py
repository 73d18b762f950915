"""The generated fast caller that an `engine.function` installs as its call (engine.fastcall): every call it
cannot take (keyword arguments, other types or shapes, a tape, run-eagerly, tracing, a profile)
goes to the general path and gives the same answers as numpy; it does not keep its function alive.
"""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import engine as tf


def _compiled_affine():
    @tf.function
    def affine(x, y, scale=2.0):
        return x * scale + y
    return affine


def test_the_second_call_runs_the_generated_caller_and_misses_take_the_general_path() -> None:
    f = _compiled_affine()
    x = np.linspace(-1, 1, 6, dtype=np.float32)
    y = np.arange(6, dtype=np.float32)
    tx, ty = tf.constant(x), tf.constant(y)
    np.testing.assert_array_equal(f(tx, ty).numpy(), x * 2 + y)
    assert f._call.source.startswith("def fast(a0=MISS, a1=MISS, /, *rest, **kwargs):")
    out = f(tx, ty)
    assert type(out) is tf.Tensor and out.dtype == tf.float32 and out.shape == (6,)
    np.testing.assert_array_equal(out.numpy(), x * 2 + y)
    np.testing.assert_array_equal(f(tx, ty, scale=3.0).numpy(), x * 3 + y)        # keyword: retraces
    np.testing.assert_array_equal(f(x, y).numpy(), x * 2 + y)                       # numpy arguments
    np.testing.assert_array_equal(f(tx, ty, 0.5).numpy(), x * 0.5 + y)              # a third positional
    x2 = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(f(tf.constant(x2), tf.constant(x2)).numpy(), x2 * 3)  # another shape
    np.testing.assert_array_equal(f(tx, ty).numpy(), x * 2 + y)
    with pytest.raises(TypeError):
        f(tx)  # too few arguments: the general path's error
    with pytest.raises(TypeError):
        f(tx, tf.constant(np.arange(6, dtype=np.int32)))  # mixed dtypes: TF's error, not a crash


def test_tapes_run_eagerly_and_tracing_still_see_the_call() -> None:
    f = _compiled_affine()
    x = tf.constant(np.linspace(-1, 1, 4, dtype=np.float32))
    y = tf.constant(np.ones(4, np.float32))
    f(x, y)
    f(x, y)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(f(x, y))
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), np.full(4, 2.0, np.float32))
    tf.config.run_functions_eagerly(True)
    try:
        np.testing.assert_array_equal(f(x, y).numpy(), x.numpy() * 2 + 1)
    finally:
        tf.config.run_functions_eagerly(False)

    @tf.function
    def outer(a, b):
        return f(a, b) * 10.0
    np.testing.assert_array_equal(outer(x, y).numpy(), (x.numpy() * 2 + 1) * 10)


def test_the_generated_caller_does_not_keep_its_function_alive() -> None:
    f = _compiled_affine()
    x = tf.constant(np.ones(3, np.float32))
    f(x, x)
    f(x, x)
    fast = f._call
    ref = weakref.ref(f)
    del f
    gc.collect()
    assert ref() is None
    del fast


def test_numpy_arguments_take_the_generated_caller_and_anything_else_the_general_path() -> None:
    """A numpy array is passed to the kernel as it is (the native entry checks its dtype, shape and layout, and writes only
    its outputs, so a read-only one is fine); one of another dtype or a strided view gives numpy's answer through the
    general path."""
    @tf.function
    def f(x, y):
        return x * 2.0 + y
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    y = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(f(x, y).numpy(), x * 2 + y)
    assert f._call.source.startswith("def fast(")                   # installed from a numpy call
    out = f(x, y)
    x[0, 0] = 100.0                                                   # the result does not alias the argument
    assert out.numpy()[0, 0] == np.float32(-1.0) * 2 + 0
    np.testing.assert_array_equal(f(x, y).numpy(), x * 2 + y)
    np.testing.assert_array_equal(f(tf.constant(x), y).numpy(), x * 2 + y)   # a tensor and an array mixed
    wide = np.ones((3, 8), np.float32)
    np.testing.assert_array_equal(f(wide[:, ::2], y).numpy(), 2 + y)          # strided: copied by the general path
    locked = x.copy()
    locked.flags.writeable = False
    np.testing.assert_array_equal(f(locked, y).numpy(), x * 2 + y)
    x64 = x.astype(np.float64)
    got = f(x64, y.astype(np.float64))                                # another dtype: its own trace
    assert got.dtype == tf.float64
    np.testing.assert_array_equal(got.numpy(), x64 * 2 + y)
    assert f.experimental_get_tracing_count() == 2

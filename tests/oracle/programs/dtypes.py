"""Dtype rules and their errors: Python scalars and numpy operands next to tensors, constants' inferred dtypes.

Printing is observed only after the prefix (Kiln's `tf.Tensor(` prefix differs on purpose): programs here compare
dtypes, shapes and values, and the exception types TF raises.
"""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    dt_constant_int_is_int32="""
        x = tf.constant(1)
        result = (x, x.dtype)
    """,
    dt_constant_float_is_float32="""
        x = tf.constant(1.5)
        result = (x, x.dtype)
    """,
    dt_constant_bool="""
        x = tf.constant([True, False])
        result = (x, x.dtype)
    """,
    dt_constant_large_int="""
        x = tf.constant(2 ** 40)
        result = (x, x.dtype)
    """,
    dt_constant_int_just_above_int32="""
        x = tf.constant([1, 2 ** 31])
        result = (x, x.dtype)
    """,
    dt_constant_mixed_list_int_float="""
        x = tf.constant([1, 2.5])
        result = (x, x.dtype)
    """,
    dt_constant_explicit_dtype_float_to_int_raises="""
        result = tf.constant([2.0, 3], tf.int32)
    """,
    dt_constant_explicit_dtype_int_to_float="""
        x = tf.constant([1, 2], tf.float32)
        result = (x, x.dtype)
    """,
    dt_constant_explicit_float64="""
        x = tf.constant(0.1, tf.float64)
        result = (x, x.dtype)
    """,
    dt_constant_int_to_int64="""
        x = tf.constant([3, -4], dtype=tf.int64)
        result = (x, x.dtype)
    """,
    dt_constant_numpy_float64_keeps="""
        x = tf.constant(np.array([0.1, 0.2]))
        result = (x, x.dtype)
    """,
    dt_constant_numpy_int64_keeps="""
        x = tf.constant(np.array([1, 2], dtype=np.int64))
        result = (x, x.dtype)
    """,
    dt_constant_numpy_float32_keeps="""
        x = tf.constant(np.array([1.5], dtype=np.float32))
        result = (x, x.dtype)
    """,
    dt_convert_to_tensor_numpy_float64="""
        x = tf.convert_to_tensor(np.ones([2, 2]))
        result = (x.dtype, x.shape)
    """,
    dt_convert_to_tensor_python_list="""
        x = tf.convert_to_tensor([[1, 2], [3, 4]])
        result = (x, x.dtype, x.shape)
    """,
    dt_convert_to_tensor_dtype_conflict="""
        result = tf.convert_to_tensor(tf.constant([1, 2]), dtype=tf.float32)
    """,
    dt_python_int_adopts_float_tensor="""
        x = tf.constant([1.5, 2.5]) + 1
        result = (x, x.dtype)
    """,
    dt_python_float_with_int_tensor_raises="""
        result = tf.constant([1, 2]) + 1.5
    """,
    dt_python_float_adopts_float64="""
        x = tf.constant([1.0], tf.float64) * 0.1
        result = (x, x.dtype)
    """,
    dt_python_int_adopts_int64="""
        x = tf.constant([1], tf.int64) + 2
        result = (x, x.dtype)
    """,
    dt_python_int_radd="""
        x = 10 - tf.constant([1, 2])
        result = (x, x.dtype)
    """,
    dt_int_plus_float_tensor_raises="""
        result = tf.constant([1, 2]) + tf.constant([1.0, 2.0])
    """,
    dt_float32_plus_float64_raises="""
        result = tf.constant(1.0) * tf.constant(1.0, tf.float64)
    """,
    dt_int32_plus_int64_raises="""
        result = tf.constant(1) + tf.constant(1, tf.int64)
    """,
    dt_tf_add_mixed_raises="""
        result = tf.add(tf.constant([1]), tf.constant([1.0]))
    """,
    dt_numpy_float64_array_with_float32_tensor="""
        x = tf.constant([1.0, 2.0]) + np.array([0.5, 0.5])
        result = (x, x.dtype)
    """,
    dt_numpy_array_radd="""
        x = np.array([1.0, 2.0], dtype=np.float32) + tf.constant([1.0, 1.0])
        result = (type(x).__name__ == "ndarray", x.dtype if hasattr(x, "dtype") else None)
    """,
    dt_numpy_int_array_with_float_tensor="""
        result = tf.constant([1.0, 2.0]) + np.array([1, 2])
    """,
    dt_numpy_scalar_float64_with_float32_tensor="""
        x = tf.constant([1.0, 2.0]) * np.float64(2.0)
        result = (x, x.dtype)
    """,
    dt_bool_add_raises="""
        result = tf.constant([True]) + tf.constant([False])
    """,
    dt_bool_times_python_int="""
        result = tf.constant([True, False]) * 2
    """,
    dt_bool_logical_and="""
        x = tf.constant([True, False]) & tf.constant([True, True])
        result = (x, x.dtype)
    """,
    dt_int_bitwise_ops="""
        a = tf.constant([12, 10])
        b = tf.constant([10, 6])
        result = (a & b, a | b, a ^ b, ~a)
    """,
    dt_int_truediv_gives_float64="""
        x = tf.constant([7, -7]) / tf.constant([2, 2])
        result = (x, x.dtype)
    """,
    dt_int_truediv_python_int="""
        x = tf.constant([3]) / 2
        result = (x, x.dtype)
    """,
    dt_int_floordiv_keeps_int="""
        x = tf.constant([7, -7]) // 2
        result = (x, x.dtype)
    """,
    dt_comparison_gives_bool="""
        x = tf.constant([1, 5]) > 2
        result = (x, x.dtype)
    """,
    dt_zeros_float_shape_raises="""
        result = tf.zeros([2.0, 3])
    """,
    dt_zeros_int_dtype="""
        x = tf.zeros([2], tf.int32)
        result = (x, x.dtype)
    """,
    dt_ones_like_keeps_dtype="""
        x = tf.ones_like(tf.constant([1, 2], tf.int64))
        result = (x, x.dtype)
    """,
    dt_fill_dtype_from_value="""
        a = tf.fill([2], 3)
        b = tf.fill([2], 3.0)
        result = (a.dtype, b.dtype)
    """,
    dt_range_dtypes="""
        a = tf.range(3)
        b = tf.range(3.0)
        c = tf.range(0, 1, 0.25)
        d = tf.range(3, dtype=tf.int64)
        result = (a, a.dtype, b.dtype, c, d.dtype)
    """,
    dt_range_mixed_int_float_args="""
        x = tf.range(1, 2.5)
        result = (x, x.dtype)
    """,
    dt_cast_float_to_int_truncates="""
        result = tf.cast(tf.constant([1.7, -1.7, 2.5]), tf.int32)
    """,
    dt_cast_bool_to_float="""
        result = tf.cast(tf.constant([True, False]), tf.float32)
    """,
    dt_variable_dtype_from_value="""
        v = tf.Variable(3)
        w = tf.Variable(np.array([1.0]))
        result = (v.dtype, w.dtype)
    """,
    dt_variable_assign_wrong_dtype_raises="""
        v = tf.Variable(1.0)
        result = v.assign(tf.constant(2))
    """,
    dt_variable_assign_python_int_to_float="""
        v = tf.Variable(1.0)
        v.assign(2)
        result = (v, v.dtype)
    """,
    dt_variable_plus_python_float="""
        v = tf.Variable([1.0, 2.0])
        x = v + 0.5
        result = (x, x.dtype)
    """,
    dt_numpy_of_tensor_dtype="""
        a = tf.constant([1, 2]).numpy()
        b = tf.constant(1.5).numpy()
        result = (a.dtype.name, type(b).__name__, b)
    """,
    dt_dtype_properties="""
        result = (tf.float32.is_floating, tf.int32.is_integer, tf.float64.size, tf.int32.max, tf.float32 == tf.float32,
                  tf.as_dtype(np.float64), tf.as_dtype("int64"))
    """,
    dt_shape_object="""
        x = tf.zeros([2, 3, 4])
        result = (x.shape, x.shape.rank, x.shape.as_list(), x.shape[1], len(x.shape), x.ndim)
    """,
    dt_str_value_suffix="""
        s = str(tf.constant([1, 2]))
        result = s[s.index("["):]
    """,
    dt_int_tensor_python_int_conversion="""
        x = tf.constant(7)
        result = (int(x), float(x), bool(x), x + 0 == 7)
    """,
    dt_len_of_tensor="""
        result = len(tf.zeros([5, 2]))
    """,
    dt_negative_int_pow="""
        result = tf.constant([2, 3]) ** 2
    """,
    dt_float_pow_python_int="""
        x = tf.constant([2.0, 3.0]) ** 2
        result = (x, x.dtype)
    """,
    dt_in_function_python_scalar_adopts="""
        @tf.function
        def f(x):
            return x * 2 + 1
        a = f(tf.constant(1.5))
        b = f(tf.constant(3))
        result = (a, a.dtype, b, b.dtype)
    """,
    dt_in_function_mixed_raises="""
        @tf.function
        def f(x, y):
            return x + y
        result = f(tf.constant(1), tf.constant(1.0))
    """,
)

"""tf.cast and tf.saturate_cast between Kiln's dtypes: truncation, NaN/inf/out-of-range floats to ints, wrapping of
integers, float rounding, bool casts, rounding functions, casts in functions and their gradients."""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    cast_f32_to_i32_truncates_toward_zero="""
        x = tf.constant([1.7, -1.7, 2.5, -2.5, 0.5, -0.5, 0.0])
        y = tf.cast(x, tf.int32)
        result = (y, y.dtype)
    """,
    cast_f32_to_i64_truncates="""
        result = tf.cast(tf.constant([3.99, -3.99, 1e9, -1e9]), tf.int64)
    """,
    cast_f64_to_i32="""
        result = tf.cast(tf.constant([2147483647.0, -2147483648.0, 123.999, -0.999], tf.float64), tf.int32)
    """,
    cast_nan_to_int32="""
        result = tf.cast(tf.constant([float("nan"), 1.0]), tf.int32)
    """,
    cast_nan_to_int64="""
        result = tf.cast(tf.constant([float("nan")], tf.float64), tf.int64)
    """,
    cast_inf_to_int32="""
        result = tf.cast(tf.constant([float("inf"), float("-inf")]), tf.int32)
    """,
    cast_out_of_range_f32_to_int32="""
        result = tf.cast(tf.constant([3e9, -3e9, 1e20]), tf.int32)
    """,
    cast_out_of_range_f64_to_int64="""
        result = tf.cast(tf.constant([1e19, -1e19], tf.float64), tf.int64)
    """,
    cast_int32_to_f32_rounds_to_nearest_even="""
        result = tf.cast(tf.constant([16777217, 16777219, -16777217]), tf.float32)
    """,
    cast_int64_to_f64_rounds="""
        result = tf.cast(tf.constant([2**53 + 1, 2**53 + 3], tf.int64), tf.float64)
    """,
    cast_int64_to_int32_wraps="""
        result = tf.cast(tf.constant([2**31 + 5, -2**31 - 1, 2**32], tf.int64), tf.int32)
    """,
    cast_int32_to_int64_keeps_sign="""
        y = tf.cast(tf.constant([-5, 2147483647, -2147483648]), tf.int64)
        result = (y, y.dtype)
    """,
    cast_f64_to_f32_rounds_overflows_underflows="""
        result = tf.cast(tf.constant([0.1, 1e40, -1e40, 1e-50, 3.4028235677973366e38], tf.float64), tf.float32)
    """,
    cast_f32_to_f64_widens_exactly="""
        result = tf.cast(tf.constant([0.1, 1.0 / 3.0, 1e-45]), tf.float64)
    """,
    cast_negative_zero_keeps_sign="""
        z = tf.cast(tf.negative(tf.zeros([])), tf.float64)
        result = 1.0 / z
    """,
    cast_bool_to_numbers="""
        b = tf.constant([True, False, True])
        result = (tf.cast(b, tf.int32), tf.cast(b, tf.int64), tf.cast(b, tf.float32), tf.cast(b, tf.float64))
    """,
    cast_int_to_bool="""
        result = tf.cast(tf.constant([0, 1, -3, 7]), tf.bool)
    """,
    cast_float_to_bool_nan_is_true="""
        result = tf.cast(tf.constant([0.0, -0.0, 0.5, float("nan"), float("-inf")]), tf.bool)
    """,
    cast_same_dtype_is_identity="""
        x = tf.constant([1.5, 2.5])
        y = tf.cast(x, tf.float32)
        result = (y, y.dtype)
    """,
    cast_python_list_and_scalar="""
        result = (tf.cast([1, 2, 3], tf.float32), tf.cast(2.7, tf.int32), tf.cast(-2.7, tf.int64))
    """,
    cast_dtype_given_as_string="""
        y = tf.cast(tf.constant([1, 2]), "float64")
        result = (y, y.dtype)
    """,
    cast_int_true_division_back_to_int="""
        result = tf.cast(tf.constant([7, -7]) / 2, tf.int32)
    """,
    saturate_cast_large_f32_to_int32="""
        result = tf.saturate_cast(tf.constant([1e10, -1e10, 5.7, -5.7]), tf.int32)
    """,
    saturate_cast_f64_to_int32_clamps="""
        result = tf.saturate_cast(tf.constant([3e9, -3e9, 2147483647.0], tf.float64), tf.int32)
    """,
    saturate_cast_inf_to_int32="""
        result = tf.saturate_cast(tf.constant([float("inf"), float("-inf")]), tf.int32)
    """,
    saturate_cast_int64_to_int32_clamps="""
        result = tf.saturate_cast(tf.constant([2**40, -2**40, 17], tf.int64), tf.int32)
    """,
    saturate_cast_f64_to_f32_clamps="""
        result = tf.saturate_cast(tf.constant([1e40, -1e40, 1.5], tf.float64), tf.float32)
    """,
    saturate_cast_int_to_float_is_a_cast="""
        y = tf.saturate_cast(tf.constant([3, -4]), tf.float32)
        result = (y, y.dtype)
    """,
    saturate_cast_f32_to_int64_large="""
        result = tf.saturate_cast(tf.constant([1e30, -1e30]), tf.int64)
    """,
    round_half_to_even="""
        result = tf.round(tf.constant([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998]))
    """,
    floor_ceil_negative_halves="""
        x = tf.constant([-1.5, -0.5, 0.5, 1.5])
        result = (tf.floor(x), tf.math.ceil(x))
    """,
    cast_after_round_gives_nearest_int="""
        result = tf.cast(tf.round(tf.constant([2.5, 3.5, -2.5, 2.6])), tf.int32)
    """,
    cast_in_function_truncates_like_eager="""
        f = tf.function(lambda x: tf.cast(x, tf.int32))
        result = f(tf.constant([1.7, -1.7, 2.5, -2.5, 1e9]))
    """,
    cast_out_of_range_to_narrow_ints_at_every_length="""
        x = tf.constant([300.0, -1.0, 70000.0, float("nan")])
        f = tf.function(lambda x: tf.cast(tf.tile(x, [8]), tf.uint8)[:4])
        result = (tf.cast(x, tf.uint8), tf.cast(tf.tile(x, [8]), tf.uint8)[:4], f(x),
                  tf.cast(x, tf.int16), tf.cast(tf.tile(x, [8]), tf.int16)[:4])
    """,
    cast_in_function_nan_and_out_of_range="""
        f = tf.function(lambda x: tf.cast(x, tf.int32))
        result = f(tf.constant([float("nan"), 3e9, -3e9, float("inf")]))
    """,
    saturate_cast_in_function="""
        f = tf.function(lambda x: tf.saturate_cast(x, tf.int32))
        result = f(tf.constant([1e10, -1e10, 2.5]))
    """,
    cast_bool_in_function="""
        @tf.function
        def f(x):
            return tf.cast(x > 0.0, tf.float32) * x, tf.cast(tf.cast(x, tf.bool), tf.int32)
        result = f(tf.constant([-1.0, 0.0, 2.0]))
    """,
    cast_eager_scalar_arg_cast_result_to_function="""
        @tf.function
        def f(n):
            return n * 3, tf.cast(n, tf.float64) / 4.0
        result = f(tf.cast(tf.constant(2.7) + tf.constant(1.0), tf.int32))
    """,
    cast_unsupported_string_dtype_raises="""
        result = tf.cast(tf.constant([1.0]), "not_a_dtype")
    """,
) + programs("grad",
    cast_gradient_float_to_float="""
        x = tf.constant([1.5, -2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.cast(x, tf.float64) * tf.constant([2.0, 3.0], tf.float64)
        g = t.gradient(y, x)
        result = (g, g.dtype)
    """,
    cast_gradient_to_int_is_none="""
        x = tf.constant([1.5, -2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.cast(tf.cast(x, tf.int32), tf.float32) * 2.0
        result = t.gradient(y, x)
    """,
    cast_gradient_round_is_none="""
        x = tf.constant([1.2, 2.7])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.round(x) + tf.floor(x) + tf.math.ceil(x)
        result = t.gradient(y, x)
    """,
    cast_gradient_mixed_paths="""
        x = tf.constant([1.25, -0.5])
        with tf.GradientTape() as t:
            t.watch(x)
            y = x * x + tf.cast(tf.cast(x, tf.int64), tf.float32)
        result = t.gradient(y, x)
    """,
    saturate_cast_gradient="""
        x = tf.constant([0.5, 2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.saturate_cast(x, tf.float64) * 3.0
        result = t.gradient(y, x)
    """,
)

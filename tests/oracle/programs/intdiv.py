"""Integer and float division: //, %, tf.math.floordiv/floormod/truncatediv/truncatemod with negative operands,
division by zero for ints and floats, `/` on integers (float64 in TF), reflected operators, in functions, gradients."""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    intdiv_floordiv_operator_negatives="""
        a = tf.constant([7, -7, 7, -7, 0, 1, -1])
        b = tf.constant([2, 2, -2, -2, 3, -3, 3])
        result = (a // b, (a // b).dtype)
    """,
    intdiv_mod_operator_negatives="""
        a = tf.constant([7, -7, 7, -7, 0, 1, -1])
        b = tf.constant([2, 2, -2, -2, 3, -3, 3])
        result = a % b
    """,
    intdiv_floordiv_int64="""
        a = tf.constant([2**40 + 1, -(2**40) - 1, 9], tf.int64)
        result = tf.math.floordiv(a, tf.constant([-3, 7, -4], tf.int64))
    """,
    intdiv_floormod_int64="""
        a = tf.constant([2**40 + 1, -(2**40) - 1, 9], tf.int64)
        result = tf.math.floormod(a, tf.constant([-3, 7, -4], tf.int64))
    """,
    intdiv_truncatediv="""
        result = tf.truncatediv(tf.constant([7, -7, 7, -7]), tf.constant([2, 2, -2, -2]))
    """,
    intdiv_truncatemod="""
        result = tf.truncatemod(tf.constant([7, -7, 7, -7]), tf.constant([2, 2, -2, -2]))
    """,
    intdiv_math_mod_is_floormod="""
        result = tf.math.mod(tf.constant([-7, 7]), tf.constant([3, -3]))
    """,
    intdiv_python_int_divisor="""
        x = tf.constant([-7, -6, -1, 0, 5])
        result = (x // 2, x % 2, x // -2, x % -2)
    """,
    intdiv_reflected_operators="""
        x = tf.constant([2, -3, 4])
        result = (7 // x, -7 % x, (7 // x).dtype)
    """,
    intdiv_broadcast_matrix_by_row="""
        a = tf.constant([[10, -10], [7, -7]])
        b = tf.constant([3, -4])
        result = (a // b, a % b)
    """,
    intdiv_float_floordiv="""
        x = tf.constant([7.5, -7.5, 7.5, -7.5])
        y = tf.constant([2.0, 2.0, -2.0, -2.0])
        result = (x // y, tf.math.floordiv(x, y))
    """,
    intdiv_float_floormod="""
        x = tf.constant([7.5, -7.5, 7.5, -7.5, 6.0])
        y = tf.constant([2.0, 2.0, -2.0, -2.0, 3.0])
        result = (x % y, tf.math.floormod(x, y))
    """,
    intdiv_float64_floormod_tiny_negative="""
        result = tf.math.floormod(tf.constant([-1e-20, 1e-20], tf.float64), tf.constant(1.0, tf.float64))
    """,
    intdiv_float_truncatemod="""
        result = tf.truncatemod(tf.constant([7.5, -7.5]), tf.constant([-2.0, 2.0]))
    """,
    intdiv_int_floordiv_by_zero_raises="""
        result = tf.constant([5, 3]) // tf.constant([1, 0])
    """,
    intdiv_int_floormod_by_zero_raises="""
        result = tf.constant([5, 3]) % tf.constant([1, 0])
    """,
    intdiv_int_truncatediv_by_zero_raises="""
        result = tf.truncatediv(tf.constant([5]), tf.constant([0]))
    """,
    intdiv_float_division_by_zero="""
        x = tf.constant([1.0, -1.0, 0.0])
        result = x / tf.constant(0.0)
    """,
    intdiv_float_floordiv_by_zero="""
        x = tf.constant([1.0, -1.0, 0.0])
        result = x // tf.constant(0.0)
    """,
    intdiv_float_floormod_by_zero="""
        x = tf.constant([1.0, -1.0, 0.0])
        result = x % tf.constant(0.0)
    """,
    intdiv_float_division_by_negative_zero="""
        result = tf.constant([1.0, -1.0]) / tf.negative(tf.zeros([2]))
    """,
    intdiv_truediv_int32_gives_float64="""
        y = tf.constant([7, -7, 1]) / tf.constant([2, 2, 3])
        result = (y, y.dtype)
    """,
    intdiv_truediv_int64_gives_float64="""
        y = tf.constant([7, -9], tf.int64) / tf.constant([2, 4], tf.int64)
        result = (y, y.dtype)
    """,
    intdiv_truediv_int_by_python_int="""
        y = tf.constant([7, 8]) / 2
        result = (y, y.dtype)
    """,
    intdiv_truediv_int_by_zero="""
        result = tf.constant([1, -1, 0]) / tf.constant([0, 0, 0])
    """,
    intdiv_divide_on_ints="""
        y = tf.divide(tf.constant([9, -9]), tf.constant([4, 4]))
        result = (y, y.dtype, tf.math.truediv(tf.constant([1]), tf.constant([3])))
    """,
    intdiv_divide_no_nan="""
        result = tf.math.divide_no_nan(tf.constant([1.0, 0.0, -2.0]), tf.constant([0.0, 0.0, 4.0]))
    """,
    intdiv_mixed_int_float_raises="""
        result = tf.constant(7) // tf.constant(2.0)
    """,
    intdiv_mixed_int32_int64_raises="""
        result = tf.constant([7], tf.int32) % tf.constant([2], tf.int64)
    """,
    intdiv_floordiv_in_function="""
        @tf.function
        def f(a, b):
            return a // b, a % b, tf.truncatediv(a, b), tf.truncatemod(a, b)
        result = f(tf.constant([7, -7, 7, -7, -1]), tf.constant([2, 2, -2, -2, 5]))
    """,
    intdiv_float_floordiv_in_function="""
        @tf.function
        def f(a, b):
            return a // b, a % b
        result = f(tf.constant([7.5, -7.5, -0.5]), tf.constant([-2.0, 2.0, 4.0]))
    """,
    intdiv_truediv_in_function="""
        @tf.function
        def f(a, b):
            return a / b
        q = f(tf.constant([7, -3]), tf.constant([2, 4]))
        result = (q, q.dtype)
    """,
    intdiv_int_division_by_zero_in_function_raises="""
        f = tf.function(lambda a, b: a // b)
        result = f(tf.constant([4, 5]), tf.constant([2, 0]))
    """,
    intdiv_eager_scalar_arg_floordiv_result_to_function="""
        @tf.function
        def f(q):
            return q % 3, q // -4
        result = f(tf.constant(17) // tf.constant(2))
    """,
    intdiv_floordiv_identity="""
        a = tf.constant([-9, -4, 0, 4, 9])
        b = tf.constant([4, -3, 5, -2, 7])
        result = tf.reduce_all(tf.equal((a // b) * b + a % b, a))
    """,
) + programs("grad",
    intdiv_floordiv_gradient_is_none="""
        x = tf.constant([7.5, -2.5])
        with tf.GradientTape() as t:
            t.watch(x)
            y = x // 2.0
        result = t.gradient(y, x)
    """,
    intdiv_floormod_gradient="""
        x = tf.constant([7.5, -2.5])
        y = tf.constant([2.0, 3.0])
        with tf.GradientTape() as t:
            t.watch([x, y])
            z = tf.math.floormod(x, y)
        result = t.gradient(z, [x, y])
    """,
    intdiv_truediv_gradient="""
        x = tf.constant([3.0, -1.5])
        y = tf.constant([2.0, 0.5])
        with tf.GradientTape() as t:
            t.watch([x, y])
            z = x / y
        result = t.gradient(z, [x, y])
    """,
    intdiv_divide_no_nan_gradient="""
        x = tf.constant([3.0, 1.0])
        y = tf.constant([2.0, 0.0])
        with tf.GradientTape() as t:
            t.watch([x, y])
            z = tf.math.divide_no_nan(x, y)
        result = t.gradient(z, [x, y])
    """,
)

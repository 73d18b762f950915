"""Reductions: reduce_sum/mean/max/min/prod/any/all/logsumexp/std/variance and argmax/argmin, with axes (negative,
lists), keepdims, empty tensors, NaN, ties, integer dtypes, in functions, and their gradients (ties included)."""
from tests.oracle.program import programs

PROGRAMS = programs("arith",
    reduce_sum_axes_and_keepdims="""
        x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]])
        result = (tf.reduce_sum(x), tf.reduce_sum(x, axis=0), tf.reduce_sum(x, axis=-1),
                  tf.reduce_sum(x, axis=1, keepdims=True), tf.reduce_sum(x, axis=[0, 1], keepdims=True))
    """,
    reduce_sum_negative_axis_list_3d="""
        x = tf.reshape(tf.range(24, dtype=tf.float32), [2, 3, 4])
        y = tf.reduce_sum(x, axis=[-1, -3])
        result = (y, y.shape, tf.reduce_sum(x, axis=(0, 2), keepdims=True).shape)
    """,
    reduce_mean_float_axes="""
        x = tf.constant([[1.0, 2.0], [4.0, 8.0], [-3.0, 0.5]])
        result = (tf.reduce_mean(x), tf.reduce_mean(x, axis=0), tf.reduce_mean(x, 1, keepdims=True))
    """,
    reduce_max_min_axes="""
        x = tf.constant([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
        result = (tf.reduce_max(x), tf.reduce_min(x, axis=0), tf.reduce_max(x, axis=-1, keepdims=True))
    """,
    reduce_prod_axes="""
        x = tf.constant([[1.5, -2.0], [3.0, 0.5]])
        result = (tf.reduce_prod(x), tf.reduce_prod(x, axis=0), tf.reduce_prod(x, axis=1, keepdims=True))
    """,
    reduce_std_and_variance="""
        x = tf.constant([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]])
        result = (tf.math.reduce_std(x), tf.math.reduce_variance(x, axis=1), tf.math.reduce_std(x, axis=0))
    """,
    reduce_in_function="""
        @tf.function
        def f(x):
            return tf.reduce_sum(x, axis=1), tf.reduce_max(x, axis=0), tf.reduce_mean(x), tf.reduce_min(x, -1)
        result = f(tf.constant([[1.0, 7.0, -3.0], [2.0, 2.0, 0.25]]))
    """,
    reduce_eager_scalar_arg_sum_to_function="""
        @tf.function
        def f(s, m):
            return s / m
        x = tf.constant([[1.0, 2.0], [3.5, -1.0]])
        result = f(tf.reduce_sum(x), tf.reduce_max(x) - tf.reduce_min(x))
    """,
    reduce_float64_sum="""
        x = tf.constant([1e16, 1.0, -1e16, 1.0], tf.float64)
        result = tf.reduce_sum(tf.reshape(x, [2, 2]), axis=0)
    """,
    reduce_max_with_nan="""
        x = tf.constant([[1.0, float("nan"), 3.0], [4.0, 5.0, 6.0]])
        result = (tf.reduce_max(x, axis=1), tf.reduce_min(x, axis=1), tf.reduce_sum(x, axis=1))
    """,
    reduce_max_with_inf="""
        x = tf.constant([float("-inf"), -1.0, float("inf")])
        result = (tf.reduce_max(x), tf.reduce_min(x), tf.reduce_sum(x), tf.reduce_mean(x[:2]))
    """,
    reduce_logsumexp_axes="""
        x = tf.constant([[0.5, 1.0, -2.0], [3.0, 3.0, 3.0]])
        result = (tf.reduce_logsumexp(x), tf.reduce_logsumexp(x, axis=1),
                  tf.reduce_logsumexp(x, axis=0, keepdims=True))
    """,
    reduce_logsumexp_large_values="""
        result = tf.reduce_logsumexp(tf.constant([[1000.0, 1000.0], [-1000.0, 0.0]]), axis=1)
    """,
    reduce_logsumexp_all_neg_inf="""
        result = tf.reduce_logsumexp(tf.constant([float("-inf"), float("-inf")]))
    """,
    reduce_logsumexp_with_inf="""
        result = tf.reduce_logsumexp(tf.constant([float("inf"), 1.0]))
    """,
    reduce_empty_float="""
        e = tf.zeros([0, 3])
        result = (tf.reduce_sum(e, axis=0), tf.reduce_prod(e, axis=0), tf.reduce_max(e, axis=0),
                  tf.reduce_min(e, axis=0), tf.reduce_sum(e), tf.reduce_sum(e, axis=1).shape)
    """,
    reduce_mean_of_empty_is_nan="""
        result = tf.reduce_mean(tf.zeros([0]))
    """,
    reduce_logsumexp_of_empty="""
        result = tf.reduce_logsumexp(tf.zeros([0]))
    """,
) + programs("exact",
    reduce_any_all="""
        b = tf.constant([[True, False, False], [True, True, True]])
        result = (tf.reduce_any(b), tf.reduce_all(b), tf.reduce_any(b, axis=0), tf.reduce_all(b, axis=1),
                  tf.reduce_all(b, axis=-1, keepdims=True))
    """,
    reduce_any_all_of_empty="""
        e = tf.zeros([0], tf.bool)
        result = (tf.reduce_any(e), tf.reduce_all(e), tf.reduce_any(tf.zeros([2, 0], tf.bool), axis=1))
    """,
    reduce_int_sum_prod_max_min="""
        x = tf.constant([[3, -1, 4], [1, -5, 9]])
        result = (tf.reduce_sum(x), tf.reduce_prod(x, axis=1), tf.reduce_max(x, axis=0), tf.reduce_min(x),
                  tf.reduce_sum(x).dtype)
    """,
    reduce_int64="""
        x = tf.constant([2**40, 3, -7], tf.int64)
        result = (tf.reduce_sum(x), tf.reduce_max(x), tf.reduce_min(x), tf.reduce_sum(x).dtype)
    """,
    reduce_mean_int_truncates="""
        result = (tf.reduce_mean(tf.constant([1, 2])), tf.reduce_mean(tf.constant([-1, -2])),
                  tf.reduce_mean(tf.constant([[7, 8, 8], [-7, -8, -8]]), axis=1))
    """,
    reduce_empty_int="""
        e = tf.zeros([0], tf.int32)
        result = (tf.reduce_sum(e), tf.reduce_prod(e), tf.reduce_max(e), tf.reduce_min(e))
    """,
    reduce_int_in_function="""
        @tf.function
        def f(x):
            return tf.reduce_sum(x, 0), tf.reduce_prod(x, 1), tf.reduce_mean(x, 1), tf.argmax(x, 1)
        result = f(tf.constant([[3, -1, 4], [1, -5, 9]]))
    """,
    reduce_sum_bool_raises="""
        result = tf.reduce_sum(tf.constant([True, False]))
    """,
    reduce_any_of_ints_raises="""
        result = tf.reduce_any(tf.constant([1, 0]))
    """,
    reduce_axis_out_of_range_raises="""
        result = tf.reduce_sum(tf.constant([[1.0, 2.0]]), axis=2)
    """,
    argmax_argmin_ties_first_index="""
        x = tf.constant([1.0, 3.0, 3.0, -2.0, -2.0])
        result = (tf.argmax(x), tf.argmin(x), tf.argmax(x).dtype)
    """,
    argmax_axes_2d="""
        x = tf.constant([[1, 9, 9], [9, 2, 9]])
        result = (tf.argmax(x, axis=0), tf.argmax(x, axis=1), tf.argmin(x, axis=-1), tf.argmax(x, axis=-2))
    """,
    argmax_output_type_int32="""
        y = tf.argmax(tf.constant([[0.5, 2.0], [3.0, -1.0]]), axis=1, output_type=tf.int32)
        result = (y, y.dtype)
    """,
    argmax_with_nan="""
        x = tf.constant([1.0, float("nan"), 3.0])
        result = (tf.argmax(x), tf.argmin(x))
    """,
    argmax_with_inf="""
        x = tf.constant([float("-inf"), 1.0, float("inf"), float("inf")])
        result = (tf.argmax(x), tf.argmin(x))
    """,
    argmax_in_function_ties="""
        f = tf.function(lambda x: (tf.argmax(x, axis=1), tf.argmin(x, axis=1)))
        result = f(tf.constant([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]]))
    """,
    argmax_of_bool="""
        result = tf.argmax(tf.constant([False, True, True]))
    """,
) + programs("grad",
    reduce_max_gradient_splits_ties="""
        x = tf.constant([1.0, 3.0, 3.0, 2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_max(x)
        result = t.gradient(y, x)
    """,
    reduce_min_gradient_axis_ties="""
        x = tf.constant([[1.0, 1.0, 2.0], [0.0, 4.0, -1.0]])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_min(x, axis=1)
        result = t.gradient(y, x)
    """,
    reduce_sum_mean_gradient="""
        x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            s = tf.reduce_sum(x * x, axis=0)
            m = tf.reduce_mean(x, axis=1, keepdims=True)
        result = (t.gradient(s, x), t.gradient(m, x))
    """,
    reduce_prod_gradient_with_zero="""
        x = tf.constant([2.0, 0.0, 3.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_prod(x)
        result = t.gradient(y, x)
    """,
    reduce_logsumexp_gradient="""
        x = tf.constant([[0.5, 1.0, -2.0], [1000.0, 1000.0, 0.0]])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_logsumexp(x, axis=1)
        result = t.gradient(y, x)
    """,
    reduce_std_gradient="""
        x = tf.constant([1.0, 2.0, 4.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.math.reduce_std(x)
        result = t.gradient(y, x)
    """,
    argmax_gradient_is_none="""
        x = tf.constant([1.0, 3.0, 2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.cast(tf.argmax(x), tf.float32)
        result = t.gradient(y, x)
    """,
    reduce_max_gradient_in_function="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                y = tf.reduce_max(x, axis=0)
            return t.gradient(y, x)
        result = f(tf.constant([[1.0, 5.0], [1.0, 2.0]]))
    """,
)

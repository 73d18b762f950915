"""tf.sort, tf.argsort, tf.math.top_k / tf.nn.top_k (ties, directions, axes, dtypes, errors, in functions,
gradients) and tf.math.cumsum / cumprod (exclusive, reverse, axes, run-time sizes, gradients with zeros)."""
from tests.oracle.program import programs

PROGRAMS = programs("arith",
    apis_sort_directions_and_axes="""
        x = tf.constant([[3.0, 1.0, 2.0, 1.0], [0.5, -1.0, 5.0, 5.0]])
        result = (tf.sort(x), tf.sort(x, direction="DESCENDING"), tf.sort(x, axis=0),
                  tf.sort(tf.constant([3, -2, 7, 0]), direction="DESCENDING"))
    """,
    apis_argsort_ties_keep_index_order="""
        x = tf.constant([2, 1, 2, 1, 3, 2])
        result = (tf.argsort(x), tf.argsort(x, direction="DESCENDING"), tf.argsort(x, stable=True),
                  tf.argsort(tf.constant([[1.5, -0.5], [0.0, 0.0]]), axis=0, direction="DESCENDING"))
    """,
    apis_sort_3d_middle_axis_and_dtypes="""
        x = tf.reshape(tf.constant([5, 3, 9, 1, 7, 2, 8, 6, 4, 0, 11, 10], tf.int64), [2, 3, 2])
        result = (tf.sort(x, axis=1), tf.argsort(x, axis=1), tf.sort(tf.cast(x, tf.float64), axis=-1,
                                                                     direction="DESCENDING"))
    """,
    apis_sort_bad_direction="""
        result = tf.sort(tf.constant([1, 2]), direction="UP")
    """,
    apis_top_k_ties_and_k="""
        x = tf.constant([[1.0, 5.0, 3.0, 5.0], [2.0, 2.0, 2.0, 0.0]])
        v, i = tf.math.top_k(x, k=3)
        r = tf.nn.top_k(tf.constant([4, 8, 8, 1]), 2)
        result = (v, i, r.values, r.indices, tf.math.top_k(x).values, tf.math.top_k(x, k=0).values.shape)
    """,
    apis_top_k_too_few_columns="""
        result = tf.math.top_k(tf.constant([1, 2]), 3)
    """,
    apis_sort_top_k_in_function="""
        @tf.function
        def f(x):
            return tf.sort(x, direction="DESCENDING"), tf.argsort(x, axis=0), tf.math.top_k(x, 2)
        result = f(tf.constant([[0.25, 4.0, -1.0], [3.0, 3.0, 9.0]]))
    """,
    apis_sort_top_k_gradients="""
        x = tf.constant([[3.0, 1.0, 2.0], [0.0, 5.0, -4.0]])
        w = tf.constant([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]])
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            a = tf.reduce_sum(tf.sort(x, direction="DESCENDING") * w)
            b = tf.reduce_sum(tf.math.top_k(x, 2).values * w[:, :2])
            c = tf.reduce_sum(tf.sort(x, axis=0) * w)
        result = (t.gradient(a, x), t.gradient(b, x), t.gradient(c, x))
    """,
    apis_sort_unknown_dims="""
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
        def f(x):
            return tf.sort(x), tf.math.top_k(x, 1).indices
        result = (f(tf.constant([[2.0, 1.0, 3.0]])), f(tf.constant([[1.0], [0.0]])))
    """,
    apis_cumsum_options="""
        x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        result = [tf.math.cumsum(x, axis=a, exclusive=e, reverse=r)
                  for a in (0, 1, -1) for e in (False, True) for r in (False, True)]
    """,
    apis_cumprod_options_int="""
        x = tf.constant([[1, 2, 3], [4, -5, 6]])
        result = [tf.math.cumprod(x, axis=1, exclusive=e, reverse=r) for e in (False, True) for r in (False, True)]
    """,
    apis_cumsum_cumprod_in_function_unknown_dims="""
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def f(x):
            return tf.cumsum(x, axis=0, reverse=True), tf.math.cumprod(x, axis=1, exclusive=True)
        result = (f(tf.ones([4, 3]) * 0.5), f(tf.constant([[1.0, 2.0, 3.0]])))
    """,
    apis_cumsum_cumprod_gradients="""
        x = tf.constant([1.5, -2.0, 0.5, 3.0])
        w = tf.constant([1.0, 2.0, 3.0, 4.0])
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            a = tf.reduce_sum(tf.cumsum(x, exclusive=True) * w)
            b = tf.reduce_sum(tf.math.cumprod(x, reverse=True) * w)
            c = tf.reduce_sum(tf.math.cumprod(x, exclusive=True) * w)
        result = (t.gradient(a, x), t.gradient(b, x), t.gradient(c, x))
    """,
    apis_sort_descending_nan_order="""
        @tf.function
        def f(x):
            return tf.sort(x, direction="DESCENDING"), tf.argsort(x, direction="DESCENDING")
        x = tf.constant([3.0, float("nan"), 1.0, float("nan"), -2.0])
        result = (tf.sort(x, direction="DESCENDING"), tf.argsort(x, direction="DESCENDING"),
                  tf.math.top_k(x, 3).indices, tf.sort(x), tf.argsort(x), f(x))
    """,
    apis_cumprod_gradient_at_a_zero="""
        x = tf.constant([2.0, 0.0, 3.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.math.cumprod(x) * tf.constant([1.0, 2.0, 3.0]))
        result = t.gradient(y, x)
    """,
)

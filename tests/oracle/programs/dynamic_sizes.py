"""Sizes known only when a traced function runs: tf.range with tensor bounds, slices with tensor bounds (Python's
rules for negative and out-of-range bounds), their gradients, and trace counts (one trace for every value)."""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    dyn_range_tensor_limit="""
        @tf.function
        def r(n):
            return tf.range(n) * 2
        result = (r(tf.constant(5)), r(tf.constant(0)), r(tf.constant(1)), r.experimental_get_tracing_count())
    """,
    dyn_range_start_limit_delta="""
        @tf.function
        def r(a, b, d):
            return tf.range(a, b, d)
        result = (r(tf.constant(1), tf.constant(10), tf.constant(3)), r(tf.constant(10), tf.constant(1),
                  tf.constant(-4)), r(tf.constant(3), tf.constant(3), tf.constant(1)))
    """,
    dyn_range_float_bounds="""
        @tf.function
        def r(a):
            return tf.range(a, 2.5, 0.5)
        result = (r(tf.constant(1.0)), r(tf.constant(0.2)))
    """,
    dyn_range_bad_delta_raises="""
        @tf.function
        def r(a, b, d):
            return tf.range(a, b, d)
        result = r(tf.constant(1), tf.constant(10), tf.constant(-3))
    """,
    dyn_slice_tensor_bounds_python_rules="""
        @tf.function
        def s(x, i, j):
            return x[i:j], x[:i], x[j:], x[i::2], x[j:i:-1], x[-i:]
        x = tf.constant([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        result = [s(x, tf.constant(i), tf.constant(j)) for i, j in [(2, 5), (0, 7), (-3, 6), (5, 2), (9, -1), (-9, 3)]]
        result.append(s.experimental_get_tracing_count())
    """,
    dyn_slice_matrix_axes="""
        @tf.function
        def s(m, i):
            return m[1:, :i], m[..., i:], m[:i][-1]
        m = tf.reshape(tf.range(12.0), [3, 4])
        result = (s(m, tf.constant(3)), s(m, tf.constant(1)))
    """,
    dyn_slice_gradient="""
        x = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0])
        f = tf.function(lambda x, i: tf.reduce_sum(x[i:] * x[i:]) + tf.reduce_sum(x[:i]))
        with tf.GradientTape() as t:
            t.watch(x)
            y = f(x, tf.constant(3))
        result = (y, t.gradient(y, x))
    """,
    dyn_slice_shape_seen_while_tracing="""
        shapes = []
        @tf.function
        def s(x, i):
            y = x[:i]
            shapes.append(y.shape)
            return tf.shape(y)
        result = (s(tf.constant([1, 2, 3]), tf.constant(2)), s(tf.constant([1, 2, 3]), tf.constant(0)), shapes)
    """,
)

PROGRAMS += programs("exact",
    dyn_boolean_mask_traced="""
        @tf.function
        def f(x):
            return tf.boolean_mask(x, x > 0), x[x < 0], tf.boolean_mask(tf.reshape(x, [2, 3]), [True, False])
        result = (f(tf.constant([1.0, -2.0, 3.0, 4.0, -5.0, 0.0])), f(tf.constant([-1.0] * 6)),
                  f.experimental_get_tracing_count())
    """,
    dyn_boolean_mask_axis_traced_mask="""
        @tf.function
        def f(x, m):
            return tf.boolean_mask(x, m, axis=1), tf.boolean_mask(x, tf.reduce_sum(x, axis=1) > 3.0)
        x = tf.reshape(tf.range(6.0), [2, 3])
        result = (f(x, tf.constant([True, False, True])), f(x, tf.constant([False, False, False])))
    """,
    dyn_where_one_argument="""
        @tf.function
        def f(x):
            return tf.where(x > 0), tf.where(tf.reshape(x, [3, 2]) < 0), tf.where(x)
        result = f(tf.constant([1.0, -2.0, 3.0, 4.0, -5.0, 0.0]))
    """,
    dyn_boolean_mask_gradient="""
        x = tf.constant([1.0, -2.0, 3.0, 4.0, -5.0, 0.0])
        f = tf.function(lambda x: tf.reduce_sum(tf.boolean_mask(x, x > 0) ** 2))
        with tf.GradientTape() as t:
            t.watch(x)
            y = f(x)
        result = (y, t.gradient(y, x))
    """,
    dyn_masked_values_feed_reductions="""
        shapes = []
        @tf.function
        def f(x, threshold):
            kept = tf.boolean_mask(x, x > threshold)
            shapes.append(kept.shape)
            return tf.reduce_mean(kept), tf.size(kept), tf.shape(kept)
        result = (f(tf.constant([1.0, 5.0, 3.0, 7.0]), tf.constant(2.0)), f(tf.constant([1.0, 5.0, 3.0, 7.0]),
                  tf.constant(6.0)), shapes)
    """,
)

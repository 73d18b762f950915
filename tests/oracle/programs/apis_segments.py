"""tf.math.segment_* and unsorted_segment_* (sum, mean, max, min, prod: empty segments, negative ids, errors,
in functions, gradients with ties) and tf.tensor_scatter_nd_update/add/sub/min/max."""
from tests.oracle.program import programs

PROGRAMS = programs("arith",
    apis_unsorted_segment_all_kinds="""
        d = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
        ids = tf.constant([0, 2, 0, -1])
        result = (tf.math.unsorted_segment_sum(d, ids, 4), tf.math.unsorted_segment_mean(d, ids, 4),
                  tf.math.unsorted_segment_max(d, ids, 4), tf.math.unsorted_segment_min(d, ids, 4),
                  tf.math.unsorted_segment_prod(d, ids, 4))
    """,
    apis_unsorted_segment_int_and_2d_ids="""
        d = tf.reshape(tf.range(12), [2, 3, 2])
        ids = tf.constant([[0, 1, 0], [2, 2, 1]])
        result = (tf.math.unsorted_segment_sum(d, ids, 3), tf.math.unsorted_segment_max(d, ids, 4),
                  tf.math.unsorted_segment_min(tf.constant([1, 2, 3]), [0, 0, 2], 3))
    """,
    apis_unsorted_segment_out_of_range="""
        result = tf.math.unsorted_segment_sum(tf.constant([1.0, 2.0]), [0, 5], 3)
    """,
    apis_segment_sorted_all_kinds="""
        d = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, -6.0], [7.0, 8.0]])
        ids = tf.constant([0, 0, 2, 2])
        result = (tf.math.segment_sum(d, ids), tf.math.segment_mean(d, ids), tf.math.segment_max(d, ids),
                  tf.math.segment_min(d, ids), tf.math.segment_prod(d, ids))
    """,
    apis_segment_not_increasing="""
        result = tf.math.segment_sum(tf.constant([1.0, 2.0, 3.0]), [1, 0, 0])
    """,
    apis_segment_in_function="""
        @tf.function
        def f(d, ids):
            return (tf.math.segment_sum(d, ids), tf.math.segment_max(d, ids),
                    tf.math.unsorted_segment_mean(d, ids, 3))
        result = f(tf.constant([1.0, 5.0, 2.0, 4.0]), tf.constant([0, 0, 1, 1]))
    """,
    apis_segment_gradients_with_ties="""
        x = tf.constant([1.0, 5.0, 5.0, 2.0, -3.0])
        ids = tf.constant([0, 0, 0, 1, 1])
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            a = tf.reduce_sum(tf.math.unsorted_segment_max(x, ids, 2) * tf.constant([1.0, 10.0]))
            b = tf.reduce_sum(tf.math.segment_mean(x, ids) * tf.constant([1.0, 10.0]))
            c = tf.reduce_sum(tf.math.unsorted_segment_prod(x, ids, 3) * tf.constant([1.0, 10.0, 100.0]))
            d = tf.reduce_sum(tf.math.segment_min(x, ids) * tf.constant([1.0, 10.0]))
        result = (t.gradient(a, x), t.gradient(b, x), t.gradient(c, x), t.gradient(d, x))
    """,
    apis_tensor_scatter_nd_kinds="""
        t = tf.reshape(tf.range(12), [3, 4])
        idx = tf.constant([[0, 1], [2, 3], [0, 1]])
        u = tf.constant([100, 200, 300])
        result = (tf.tensor_scatter_nd_add(t, idx, u), tf.tensor_scatter_nd_sub(t, idx, u),
                  tf.tensor_scatter_nd_max(t, idx, u), tf.tensor_scatter_nd_min(t, [[1, 2]], [-5]),
                  tf.tensor_scatter_nd_update(t, [[1]], [[-1, -2, -3, -4]]))
    """,
    apis_tensor_scatter_nd_update_float_and_function="""
        @tf.function
        def f(t, i, u):
            return tf.tensor_scatter_nd_update(t, i, u)
        result = (tf.tensor_scatter_nd_update(tf.zeros([5]), [[4], [0]], [1.5, 2.5]),
                  f(tf.ones([2, 3]), tf.constant([[1, 0], [0, 2]]), tf.constant([7.0, 8.0])))
    """,
    apis_tensor_scatter_nd_bad_index="""
        result = tf.tensor_scatter_nd_update(tf.zeros([3, 4]), [[3, 0]], [1.0])
    """,
    apis_tensor_scatter_nd_gradients="""
        x = tf.constant([1.0, 2.0, 3.0, 4.0])
        u = tf.constant([10.0, 20.0])
        w = tf.constant([1.0, 2.0, 3.0, 4.0])
        with tf.GradientTape(persistent=True) as t:
            t.watch([x, u])
            a = tf.reduce_sum(tf.tensor_scatter_nd_update(x, [[0], [2]], u) * w)
            b = tf.reduce_sum(tf.tensor_scatter_nd_add(x, [[1], [1]], u) * w)
        result = (t.gradient(a, [x, u]), t.gradient(b, [x, u]))
    """,
    apis_tensor_scatter_nd_update_duplicate_indices="""
        x = tf.zeros([4])
        u = tf.constant([10.0, 20.0, 30.0])
        with tf.GradientTape() as t:
            t.watch(u)
            y = tf.tensor_scatter_nd_update(x, [[1], [1], [3]], u)
            loss = tf.reduce_sum(y * tf.constant([1.0, 2.0, 3.0, 4.0]))
        result = (y, t.gradient(loss, u))
    """,
    apis_unsorted_segment_sqrt_n="""
        d = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
        x = tf.constant([1.0, 4.0, 2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.math.unsorted_segment_sqrt_n(x, [0, 0, 2], 3) * tf.constant([1.0, 2.0, 3.0]))
        result = (tf.math.unsorted_segment_sqrt_n(d, [0, 2, 0, -1], 4), t.gradient(y, x))
    """,
)

"""Shape ops on an axis of unknown size (issue 12): negative ints, bounds and steps in `x[...]` on a `None` axis,
tf.strided_slice, reverse, split, unstack, tile, roll, gather with a negative axis, pad and concat along `?`, the
run-time errors of an index or a split that does not fit (class, and whether TF's text is in the message), gradients
through them, and tf.unique / tf.unique_with_counts on a vector of unknown length.
"""
from tests.oracle.program import programs


PROGRAMS = programs("exact",
    uds_negative_keys_every_size="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.int32)])
        def f(x):
            return x[:-1], x[::-1], x[1::2], x[-2::-3], x[-5:-1], x[-100:100], x[100:-100:-1], x[:, ::-1], x[..., -1]
        result = [f(tf.reshape(tf.range(2 * n), [n, 2])) for n in (6, 3, 1, 0)]
        result.append(f.experimental_get_tracing_count())
    """,
    uds_negative_int_keys="""
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
        def f(x):
            return x[-1], x[-2, -1], x[0, ::-1], x[None, -1, 1:]
        result = (f(tf.reshape(tf.range(12.0), [3, 4])), f(tf.reshape(tf.range(4.0), [2, 2])))
    """,
    uds_int_below_range_raises="""
        f = tf.function(lambda x: x[-4], input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        try:
            f(tf.zeros([3, 2]))
            result = "no error"
        except tf.errors.InvalidArgumentError as e:
            result = ("InvalidArgumentError", "slice index -1 of dimension 0 out of bounds" in str(e))
    """,
    uds_int_above_range_raises="""
        f = tf.function(lambda x: x[3], input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        try:
            f(tf.zeros([3, 2]))
            result = "no error"
        except tf.errors.InvalidArgumentError as e:
            result = ("InvalidArgumentError", "slice index 3 of dimension 0 out of bounds" in str(e))
    """,
    uds_gradient_through_negative_keys="""
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float64)])
        def g(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.reduce_sum(x[::-1] * tf.range(1.0, 4.0, dtype=tf.float64)) + tf.reduce_sum(x[-2::-2] ** 2)
                y += tf.reduce_sum(x[-1] * 3.0) + tf.reduce_sum(x[:-1, ::-2])
            return y, tape.gradient(y, x)
        result = [g(tf.reshape(tf.range(3.0 * n, dtype=tf.float64), [n, 3])) for n in (1, 4, 5)]
    """,
    uds_strided_slice="""
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.int32)])
        def f(x):
            return (tf.strided_slice(x, [-2, 0], [0, 3], [-1, 2]),
                    tf.strided_slice(x, [1, 2], [0, 0], [1, 1], end_mask=1, shrink_axis_mask=2),
                    tf.strided_slice(x, [0, -1], [0, 0], [1, -1], begin_mask=1, end_mask=3),
                    tf.strided_slice(x, [0, 0], [1, 1], [1, 1], new_axis_mask=1, end_mask=2))
        result = [f(tf.reshape(tf.range(3 * n), [n, 3])) for n in (5, 2)]
    """,
    uds_reverse_roll_tile="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.int32)])
        def f(x):
            return (tf.reverse(x, [0]), tf.reverse(x, [-1, 0]), tf.roll(x, 7, axis=0),
                    tf.roll(x, [-1, 1], axis=[0, 1]), tf.tile(x, [2, 3]), tf.tile(x, [0, 1]))
        result = [f(tf.reshape(tf.range(2 * n), [n, 2])) for n in (5, 1, 0)]
        result.append(f.experimental_get_tracing_count())
    """,
    uds_split_unstack="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.int32)])
        def f(x):
            return (tf.split(x, 2, axis=0), tf.split(x, [1, -1, 2], axis=0), tf.split(x, [-1, 2], axis=0),
                    tf.split(x, [2, -1]), tf.split(x, 2, axis=1), tf.unstack(x, num=6))
        result = f(tf.reshape(tf.range(12), [6, 2]))
    """,
    uds_split_uneven_raises="""
        f = tf.function(lambda x: tf.split(x, 2, axis=0), input_signature=[tf.TensorSpec([None, 2], tf.int32)])
        try:
            f(tf.zeros([5, 2], tf.int32))
            result = "no error"
        except tf.errors.InvalidArgumentError as e:
            result = ("InvalidArgumentError", "Number of ways to split should evenly divide the split dimension, "
                      "but got split_dim 0 (size = 5) and num_split 2" in str(e))
    """,
    uds_split_sizes_too_big_raises="""
        f = tf.function(lambda x: tf.split(x, [4, -1, 2], axis=0),
                        input_signature=[tf.TensorSpec([None, 2], tf.int32)])
        try:
            f(tf.zeros([5, 2], tf.int32))
            result = "no error"
        except tf.errors.InvalidArgumentError as e:
            result = ("InvalidArgumentError", "Determined shape must either match input shape along split_dim "
                      "exactly if fully specified, or be less than the size of the input along split_dim if not "
                      "fully specified.  Got: 6" in str(e))
    """,
    uds_unstack_wrong_num_raises="""
        f = tf.function(lambda x: tf.unstack(x, num=4), input_signature=[tf.TensorSpec([None, 2], tf.int32)])
        try:
            f(tf.zeros([5, 2], tf.int32))
            result = "no error"
        except tf.errors.InvalidArgumentError as e:
            result = ("InvalidArgumentError", "Input shape axis 0 must equal 4" in str(e))
    """,
    uds_gather_pad_concat="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def f(x):
            return (tf.gather(x, [1, 0], axis=-1), tf.gather(x, [1, 0], axis=-2), tf.pad(x, [[1, 2], [0, 1]]),
                    tf.concat([x, x[:1], x[::-1]], axis=0), tf.concat([x, x], axis=-1))
        result = [f(tf.reshape(tf.range(2.0 * n), [n, 2])) for n in (3, 2)]
    """,
    uds_gradient_of_layout_ops="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float64)])
        def g(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                a, b = tf.split(x, [1, -1])
                y = (tf.reduce_sum(tf.tile(x, [2, 1]) * tf.roll(tf.tile(x, [2, 1]), 1, axis=0))
                     + tf.reduce_sum(tf.reverse(x, [0])[0] * 5.0) + tf.reduce_sum(a * 2.0) + tf.reduce_sum(b ** 2))
            return y, tape.gradient(y, x)
        result = [g(tf.reshape(tf.range(2.0 * n, dtype=tf.float64), [n, 2])) for n in (1, 3)]
    """,
    uds_unique_unknown_length="""
        f = tf.function(lambda x: tf.unique(x), input_signature=[tf.TensorSpec([None], tf.int32)])
        g = tf.function(lambda x: tf.unique_with_counts(x, out_idx=tf.int64),
                        input_signature=[tf.TensorSpec([None], tf.float64)])
        result = (f(tf.constant([4, 2, 4, 7, 2, 9, 9, 4])), f(tf.constant([5])), f(tf.zeros([0], tf.int32)),
                  g(tf.constant([3.5, -1.0, 3.5, 0.0, -0.0, 2.0, -1.0, 8.0], tf.float64)),
                  tf.unique_with_counts(tf.constant([1, 1, 1, 2])), f.experimental_get_tracing_count())
    """,
    uds_shapes_from_tensors="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def f(x):
            n = tf.shape(x)[0]
            return (tf.zeros(tf.shape(x)), tf.ones([n], tf.int32), tf.fill([n, 3], 7.0), tf.zeros([n, 1], tf.int64),
                    tf.broadcast_to(x[:1], tf.shape(x)), tf.broadcast_to(tf.constant([1.0, 2.0]), [n + 1, 2]))
        result = [f(tf.reshape(tf.range(2.0 * n), [n, 2])) for n in (3, 1, 0)]
    """,
    uds_broadcast_gradient_from_a_run_time_one="""
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float64)])
        def g(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.reduce_sum(tf.broadcast_to(x[:1], tf.shape(x)) * x)
            return y, tape.gradient(y, x)
        result = [g(tf.reshape(tf.range(3.0 * n, dtype=tf.float64), [n, 3]) * 0.5) for n in (1, 4)]
    """,
    uds_slice_repeat_pad_cumsum="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def f(x):
            return (tf.slice(x, [1, 0], [-1, 2]), tf.slice(x, [0, 1], [2, -1]), tf.repeat(x, 2, axis=0),
                    tf.pad(x, [[2, 1], [1, 1]], mode="REFLECT"), tf.pad(x, [[1, 3], [0, 2]], mode="SYMMETRIC"),
                    tf.math.cumsum(x, axis=0), tf.math.cumsum(x, axis=0, exclusive=True, reverse=True),
                    tf.math.cumprod(x + 1.0, axis=0, exclusive=True))
        result = [f(tf.reshape(tf.range(2.0 * n), [n, 2])) for n in (3, 5)]
    """,
    uds_slice_size_too_big_raises="""
        f = tf.function(lambda x: tf.slice(x, [3, 0], [4, 2]), input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        try:
            f(tf.zeros([5, 2]))
            result = "no error"
        except tf.errors.InvalidArgumentError as e:
            result = ("InvalidArgumentError", "Expected size[0] in [0, 2], but got 4" in str(e))
    """,
    uds_mirror_pad_too_big_raises="""
        result = []
        for mode, pads, text in (("REFLECT", [[5, 0], [0, 0]], "paddings must be less than the dimension size: 5, 0 "
                                                                "not less than 5"),
                                 ("SYMMETRIC", [[0, 6], [0, 0]], "paddings must be no greater than the dimension "
                                                                 "size: 0, 6 greater than 5")):
            f = tf.function(lambda x: tf.pad(x, pads, mode=mode),
                            input_signature=[tf.TensorSpec([None, 2], tf.float32)])
            try:
                f(tf.zeros([5, 2]))
                result.append("no error")
            except tf.errors.InvalidArgumentError as e:
                result.append(("InvalidArgumentError", text in str(e)))
    """,
    uds_negative_run_time_size_raises="""
        f = tf.function(lambda x: tf.zeros([tf.shape(x)[0] - 7, 2]),
                        input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        try:
            f(tf.zeros([5, 2]))
            result = "no error"
        except tf.errors.InvalidArgumentError as e:
            result = ("InvalidArgumentError", "Dimension -2 must be >= 0" in str(e))
    """,
    uds_masks_and_gathers="""
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None, 2], tf.int32)])
        def f(x, i):
            return (tf.boolean_mask(x, x > 4.0), x[x[:, 0] > 2.0], tf.gather_nd(x, i), tf.gather_nd(x, i[:, :1]),
                    tf.gather(x[:, :2], i % 2, batch_dims=1))
        result = [f(tf.reshape(tf.range(12.0), [4, 3]), tf.constant([[1, 2], [3, 0], [0, 0], [2, 1]])),
                  f(tf.reshape(tf.range(2.0), [1, 2]), tf.constant([[0, 1]]))]
    """,
    uds_sequence_mask_run_time="""
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)])
        def f(lens, m):
            return tf.sequence_mask(lens), tf.sequence_mask(lens, 4), tf.sequence_mask(lens, m, dtype=tf.float32)
        result = [f(tf.constant(v, tf.int32), tf.constant(2)) for v in ([1, 3, 0], [2], [])]
    """,
    uds_linspace_eye_meshgrid_run_time="""
        @tf.function(input_signature=[tf.TensorSpec([], tf.int32), tf.TensorSpec([None], tf.float32)])
        def f(n, v):
            return (tf.linspace(0.0, 1.0, n), tf.linspace(2.0, -1.0, n), tf.eye(n), tf.eye(2, n),
                    tf.eye(n, batch_shape=[2], dtype=tf.int32), tf.meshgrid(v, v[:2]),
                    tf.meshgrid(v, v[1:], indexing="ij"))
        result = [f(tf.constant(n), tf.range(3.0 + n)) for n in (5, 1, 0)]
    """,
    uds_tile_traced_multiples="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32), tf.TensorSpec([None], tf.float32)])
        def f(x, y):
            return (tf.tile(x, [tf.shape(y)[0], 1]), tf.tile(x[None], tf.stack([tf.shape(y)[0], 1, 2])),
                    tf.tile(y, [tf.shape(x)[0]]))
        result = [f(tf.reshape(tf.range(2.0 * n), [n, 2]), tf.range(float(m))) for n, m in ((2, 3), (1, 0))]
        g = tf.function(lambda x: tf.tile(x, [tf.shape(x)[0] - 3, 1]), input_signature=[tf.TensorSpec([None, 2])])
        try:
            g(tf.zeros([2, 2]))
            result.append("no error")
        except tf.errors.InvalidArgumentError as e:
            result.append(("InvalidArgumentError", "Expected multiples[0] >= 0, but got -1" in str(e)))
    """,
)

"""Indexing: basic slices, negative indices, steps, ellipsis, newaxis, tensor indices, out-of-range errors,
tf.gather, tf.gather_nd, tf.boolean_mask and tf.where, eager and in functions, with their gradients.
"""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    ix_scalar_index="""
        x = tf.constant([[1, 2, 3], [4, 5, 6]])
        result = (x[1], x[1, 2], x[0][1], x[1, 2].shape)
    """,
    ix_negative_index="""
        x = tf.constant([[1, 2, 3], [4, 5, 6]])
        result = (x[-1], x[-1, -3], x[:, -1])
    """,
    ix_basic_slices="""
        x = tf.reshape(tf.range(12), [3, 4])
        result = (x[1:], x[:, 1:3], x[:2, :-1], x[1:1])
    """,
    ix_slices_with_steps="""
        x = tf.range(10)
        result = (x[::2], x[1::3], x[::-1], x[8:2:-2], x[-1:-4:-1])
    """,
    ix_slice_out_of_bounds_clamps="""
        x = tf.range(5)
        result = (x[3:100], x[-100:2], x[10:])
    """,
    ix_ellipsis="""
        x = tf.reshape(tf.range(24), [2, 3, 4])
        result = (x[..., 0], x[1, ...], x[..., 1:3].shape, x[0, ..., -1])
    """,
    ix_newaxis="""
        x = tf.constant([1, 2, 3])
        result = (x[tf.newaxis].shape, x[:, tf.newaxis].shape, x[None, :, None].shape, x[tf.newaxis, 1:])
    """,
    ix_newaxis_with_ellipsis="""
        x = tf.zeros([2, 3])
        result = (x[..., tf.newaxis].shape, x[tf.newaxis, ..., tf.newaxis].shape)
    """,
    ix_tensor_scalar_index="""
        x = tf.constant([10, 20, 30])
        i = tf.constant(2)
        result = (x[i], x[i - 1])
    """,
    ix_tensor_slice_bounds="""
        x = tf.range(10)
        a = tf.constant(2)
        b = tf.constant(7)
        result = x[a:b]
    """,
    ix_int64_tensor_index="""
        x = tf.constant([10, 20, 30])
        result = x[tf.constant(1, tf.int64)]
    """,
    ix_index_out_of_range_raises="""
        x = tf.constant([1, 2, 3])
        result = x[3]
    """,
    ix_negative_out_of_range_raises="""
        x = tf.constant([1, 2, 3])
        result = x[-4]
    """,
    ix_too_many_indices_raises="""
        x = tf.constant([1, 2, 3])
        result = x[0, 0]
    """,
    ix_float_index_raises="""
        x = tf.constant([1, 2, 3])
        result = x[1.0]
    """,
    ix_list_index_raises="""
        x = tf.constant([1, 2, 3])
        result = x[[0, 2]]
    """,
    ix_list_index_2d_is_multi_index="""
        x = tf.constant([[1, 2], [3, 4]])
        result = x[[0, 1]]
    """,
    ix_numpy_integer_index="""
        x = tf.constant([10, 20, 30])
        result = (x[np.int64(2)], x[np.int32(-1)], x[1:np.int64(3)])
    """,
    ix_bool_scalar_tensor_index_raises="""
        x = tf.constant([10, 20, 30])
        result = x[tf.constant(True)]
    """,
    ix_index_in_function="""
        @tf.function
        def f(x, i):
            return x[i], x[i:], x[::-1][i]
        result = f(tf.constant([5, 6, 7, 8]), tf.constant(1))
    """,
    ix_index_out_of_range_in_function="""
        @tf.function
        def f(x):
            return x[5]
        result = f(tf.constant([1, 2, 3]))
    """,
    ix_slice_of_variable="""
        v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
        result = (v[0], v[:, 1], v[1, 1])
    """,
    ix_gather_1d="""
        x = tf.constant([10, 20, 30, 40])
        result = tf.gather(x, [3, 0, 0, 2])
    """,
    ix_gather_axis1="""
        x = tf.reshape(tf.range(12), [3, 4])
        result = tf.gather(x, [2, 0], axis=1)
    """,
    ix_gather_2d_indices="""
        x = tf.constant([1.5, 2.5, 3.5])
        result = tf.gather(x, [[0, 1], [2, 2]])
    """,
    ix_gather_negative_axis="""
        x = tf.reshape(tf.range(6), [2, 3])
        result = tf.gather(x, tf.constant([1]), axis=-1)
    """,
    ix_gather_out_of_range_raises="""
        result = tf.gather(tf.constant([1, 2, 3]), [3])
    """,
    ix_gather_batch_dims="""
        x = tf.constant([[1, 2, 3], [4, 5, 6]])
        idx = tf.constant([[2, 0], [1, 1]])
        result = tf.gather(x, idx, batch_dims=1)
    """,
    ix_gather_nd_points="""
        x = tf.constant([[1, 2], [3, 4]])
        result = tf.gather_nd(x, [[0, 1], [1, 0]])
    """,
    ix_gather_nd_rows="""
        x = tf.reshape(tf.range(8), [2, 2, 2])
        result = tf.gather_nd(x, [[1], [0]])
    """,
    ix_boolean_mask_1d="""
        x = tf.constant([1, 2, 3, 4])
        result = tf.boolean_mask(x, [True, False, True, False])
    """,
    ix_boolean_mask_2d_rows="""
        x = tf.constant([[1, 2], [3, 4], [5, 6]])
        m = tf.constant([False, True, True])
        result = tf.boolean_mask(x, m)
    """,
    ix_boolean_mask_full_2d="""
        x = tf.constant([[1, 2], [3, 4]])
        result = tf.boolean_mask(x, x > 1)
    """,
    ix_boolean_mask_none_selected="""
        x = tf.constant([1.0, 2.0])
        r = tf.boolean_mask(x, [False, False])
        result = (r, r.shape)
    """,
    ix_where_three_args="""
        c = tf.constant([True, False, True])
        result = tf.where(c, tf.constant([1, 2, 3]), tf.constant([10, 20, 30]))
    """,
    ix_where_broadcast="""
        x = tf.constant([[1, -2], [-3, 4]])
        result = tf.where(x > 0, x, 0)
    """,
    ix_where_one_arg_coordinates="""
        x = tf.constant([[True, False], [False, True]])
        r = tf.where(x)
        result = (r, r.dtype)
    """,
    ix_where_one_arg_numeric="""
        result = tf.where(tf.constant([0, 3, 0, 5]))
    """,
    ix_where_mixed_dtype_raises="""
        result = tf.where(tf.constant([True]), tf.constant([1]), tf.constant([1.0]))
    """,
    ix_unstack_iterate_eager="""
        x = tf.constant([[1, 2], [3, 4]])
        rows = [r for r in x]
        result = rows
    """,
    ix_integer_tensor_indices_are_numpys_advanced_indexing="""
        x = tf.reshape(tf.range(12), [3, 4])
        result = (x[tf.constant([2, 0])], x[tf.constant([0, 2]), tf.constant([1, 3])])
    """,
)

PROGRAMS += programs("grad",
    ix_slice_gradient="""
        x = tf.constant([1.0, 2.0, 3.0, 4.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(x[1:3] * x[::-2])
        result = t.gradient(y, x)
    """,
    ix_gather_gradient_repeated="""
        x = tf.constant([1.0, 2.0, 3.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.gather(x, [0, 0, 2]) * tf.constant([1.0, 2.0, 3.0]))
        result = tf.convert_to_tensor(t.gradient(y, x))
    """,
    ix_gather_variable_gradient="""
        v = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        with tf.GradientTape() as t:
            y = tf.reduce_sum(tf.gather(v, [2, 2, 0]))
        result = tf.convert_to_tensor(t.gradient(y, v))
    """,
    ix_boolean_mask_gradient="""
        x = tf.constant([1.0, 2.0, 3.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.boolean_mask(x, [True, False, True]) ** 2)
        result = tf.convert_to_tensor(t.gradient(y, x))
    """,
    ix_where_gradient="""
        x = tf.constant([-1.0, 2.0, -3.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.where(x > 0.0, x * x, -x))
        result = t.gradient(y, x)
    """,
    ix_where_sqrt_gradient_masked="""
        x = tf.constant([-1.0, 4.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.where(x > 0.0, tf.sqrt(x), 0.0))
        result = t.gradient(y, x)
    """,
    ix_tensor_index_gradient_in_function="""
        @tf.function
        def f(x, i):
            with tf.GradientTape() as t:
                t.watch(x)
                y = x[i] * x[i] + x[-1]
            return t.gradient(y, x)
        result = f(tf.constant([1.0, 2.0, 3.0]), tf.constant(1))
    """,
    ix_gather_nd_gradient="""
        x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.gather_nd(x, [[0, 1], [1, 1], [0, 1]]))
        result = tf.convert_to_tensor(t.gradient(y, x))
    """,
)

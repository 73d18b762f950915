"""tf.einsum, tf.linalg basics (matrix_transpose, trace, diag_part, diag, set_diag, band_part, matvec, cross,
global_norm, normalize), tf.image flips / rot90 / transpose / resize and tf.reverse_sequence, eager, in functions,
and gradients."""
from tests.oracle.program import programs

PROGRAMS = programs("arith",
    apis_einsum_equations="""
        a = tf.reshape(tf.range(6.0), [2, 3])
        b = tf.reshape(tf.range(12.0), [3, 4])
        q = tf.reshape(tf.range(24.0), [1, 2, 3, 4]) / 10.0
        result = (tf.einsum("ij,jk->ik", a, b), tf.einsum("ij->ji", a), tf.einsum("ij->", a),
                  tf.einsum("i,j->ij", a[0], b[0]), tf.einsum("ii->i", b[:, :3]), tf.einsum("ii", b[:, :3]),
                  tf.einsum("bhqd,bhkd->bhqk", q, q), tf.einsum("...ij,...jk->...ik", q, tf.ones([4, 2])),
                  tf.einsum("ij,jk,kl->il", a, b, tf.ones([4, 1])), tf.einsum("ij,ij->i", a, a))
    """,
    apis_einsum_in_function_and_gradient="""
        a = tf.constant([[1.0, 2.0], [3.0, -1.0]])
        b = tf.constant([[0.5, 1.0, 2.0], [1.5, -2.0, 0.0]])
        @tf.function
        def f(a, b):
            return tf.einsum("ij,jk->ik", a, b)
        with tf.GradientTape() as t:
            t.watch([a, b])
            y = tf.reduce_sum(tf.einsum("ij,jk->ik", a, b) ** 2)
        result = (f(a, b), t.gradient(y, [a, b]))
    """,
    apis_linalg_diagonals_and_bands="""
        a = tf.reshape(tf.range(12.0), [3, 4])
        s = tf.reshape(tf.range(18.0), [2, 3, 3])
        result = (tf.linalg.diag_part(a), tf.linalg.diag_part(tf.transpose(a)), tf.linalg.trace(s),
                  tf.linalg.diag(tf.constant([1, 2, 3])), tf.linalg.set_diag(a, [7.0, 8.0, 9.0]),
                  tf.linalg.set_diag(tf.transpose(a), [7.0, 8.0, 9.0]), tf.linalg.band_part(a, 1, 0),
                  tf.linalg.band_part(s, 0, -1), tf.linalg.band_part(a, -1, 1), tf.linalg.matrix_transpose(s))
    """,
    apis_linalg_products_and_norms="""
        a = tf.reshape(tf.range(12.0), [3, 4])
        result = (tf.linalg.matvec(a, [1.0, 0.0, -1.0, 2.0]), tf.linalg.cross([1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]),
                  tf.linalg.global_norm([tf.constant([3.0]), tf.constant([[4.0, 12.0]])]),
                  tf.linalg.normalize(tf.constant([3.0, 4.0])), tf.linalg.matmul(a, a, transpose_b=True),
                  tf.linalg.trace(tf.linalg.eye(3)), tf.linalg.norm(a))
    """,
    apis_linalg_gradients="""
        x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.5]])
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            a = tf.linalg.trace(x * x)
            b = tf.reduce_sum(tf.linalg.band_part(x, 1, 0) * x)
            c = tf.reduce_sum(tf.linalg.set_diag(x, [1.0, 2.0, 3.0]) * x)
        result = (t.gradient(a, x), t.gradient(b, x), t.gradient(c, x))
    """,
    apis_image_flips_rot90_transpose="""
        img = tf.reshape(tf.range(2 * 3 * 4 * 2, dtype=tf.float32), [2, 3, 4, 2])
        result = (tf.image.flip_left_right(img), tf.image.flip_up_down(img[0]),
                  [tf.image.rot90(img, k) for k in range(4)], tf.image.rot90(img[1], 3), tf.image.transpose(img))
    """,
    apis_image_resize_bilinear_nearest="""
        img = tf.reshape(tf.range(2 * 3 * 4 * 2, dtype=tf.float32), [2, 3, 4, 2])
        u8 = tf.cast(tf.reshape(tf.range(12), [3, 4, 1]), tf.uint8)
        result = (tf.image.resize(img, [5, 3]), tf.image.resize(img, [2, 7], method="nearest"),
                  tf.image.resize(u8, [6, 2]), tf.image.resize(u8, [6, 2], method="nearest"),
                  tf.image.resize(img[0], [6, 8]))
    """,
    apis_image_resize_gradient="""
        img = tf.reshape(tf.range(12.0), [1, 3, 4, 1])
        with tf.GradientTape() as t:
            t.watch(img)
            y = tf.reduce_sum(tf.image.resize(img, [5, 3]) * tf.reshape(tf.range(15.0), [1, 5, 3, 1]))
        result = t.gradient(y, img)
    """,
    apis_reverse_sequence="""
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None], tf.int32)])
        def f(x, lengths):
            return tf.reverse_sequence(x, lengths, seq_axis=1)
        result = (tf.reverse_sequence(tf.reshape(tf.range(8), [2, 4]), [3, 1], seq_axis=1, batch_axis=0),
                  tf.reverse_sequence(tf.reshape(tf.range(12), [3, 2, 2]), [1, 2], seq_axis=0, batch_axis=1),
                  f(tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), tf.constant([2, 3])))
    """,
    apis_linalg_det_inv_solve="""
        a = tf.constant([[[2.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.0, 1.0, 4.0]], [[0.0, 2.0, 1.0], [1.0, 1.0, 0.0],
                                                                              [3.0, 0.5, 2.0]]])
        b = tf.constant([[[1.0], [2.0], [3.0]], [[0.0], [-1.0], [0.5]]])
        @tf.function
        def f(a, b):
            return tf.linalg.det(a), tf.linalg.inv(a), tf.linalg.solve(a, b, adjoint=True)
        result = (tf.linalg.det(a), tf.linalg.inv(a), tf.linalg.solve(a, b), f(a, b),
                  tf.linalg.det(tf.constant([[1.0, 2.0], [2.0, 4.0]])))
    """,
    apis_linalg_inv_singular="""
        result = tf.linalg.inv(tf.constant([[1.0, 2.0], [2.0, 4.0]]))
    """,
    apis_linalg_det_inv_solve_gradients="""
        a = tf.constant([[2.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.0, 1.0, 4.0]])
        b = tf.constant([[1.0, 0.0], [2.0, 1.0], [3.0, -1.0]])
        with tf.GradientTape(persistent=True) as t:
            t.watch([a, b])
            d = tf.linalg.det(a)
            i = tf.reduce_sum(tf.linalg.inv(a) * tf.reshape(tf.range(9.0), [3, 3]))
            s = tf.reduce_sum(tf.linalg.solve(a, b) ** 2)
        result = (t.gradient(d, a), t.gradient(i, a), t.gradient(s, [a, b]))
    """,
    apis_linalg_slogdet_logdet="""
        a = tf.constant([[[0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [3.0, 0.5, 2.0]],
                         [[2.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.0, 1.0, 4.0]]])
        spd = tf.constant([[4.0, 1.0], [1.0, 3.0]])
        @tf.function
        def f(a):
            return tf.linalg.slogdet(a)
        with tf.GradientTape() as t:
            t.watch(a)
            _, logabs = tf.linalg.slogdet(a)
            y = tf.reduce_sum(logabs)
        result = (tf.linalg.slogdet(a), f(a), tf.linalg.logdet(spd), t.gradient(y, a),
                  tf.linalg.slogdet(tf.eye(40) * 100.0), tf.linalg.slogdet(tf.eye(40) * 0.01),
                  tf.linalg.slogdet(tf.constant([[1.0, 2.0], [2.0, 4.0]])))
    """,
)

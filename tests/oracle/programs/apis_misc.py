"""More tf.nn / tf.math / tf.linalg composites: batch_normalization, embedding_lookup, in_top_k,
weighted_cross_entropy_with_logits, compute_average_loss, normalize_moments, crelu, log_poisson_loss, bincount,
confusion_matrix, invert_permutation, multiply_no_nan, xdivy, xlog1py, is_non_decreasing, polyval, searchsorted,
scatter_nd, ensure_shape, slogdet, logdet, triangular_solve, cholesky_solve."""
from tests.oracle.program import programs

PROGRAMS = programs("arith",
    apis_nn_batch_norm_embedding_crelu="""
        x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, -6.0]])
        mean, var = tf.nn.moments(x, axes=[0])
        result = (tf.nn.batch_normalization(x, mean, var, tf.constant([0.5, 0.0, -1.0]), tf.constant(2.0), 1e-3),
                  tf.nn.batch_normalization(x, mean, var, None, None, 1e-3),
                  tf.nn.embedding_lookup(tf.reshape(tf.range(12.0), [4, 3]), [[3, 0], [1, 1]]),
                  tf.nn.embedding_lookup(tf.reshape(tf.range(12.0), [4, 3]), [3, 0], max_norm=5.0),
                  tf.nn.crelu(x), tf.nn.normalize_moments(4.0, tf.constant([2.0, 8.0]), tf.constant([4.0, 20.0]),
                                                          None))
    """,
    apis_nn_in_top_k_ties="""
        p = tf.constant([[0.1, 0.9, 0.5], [0.2, 0.2, 0.6], [0.3, float("nan"), 0.1]])
        result = (tf.math.in_top_k([1, 0, 0], p, 1), tf.math.in_top_k([1, 0, 2], p, 2), tf.nn.in_top_k([2, 1, 0], p, 3))
    """,
    apis_nn_losses="""
        z = tf.constant([0.0, 1.0, 1.0, 0.5])
        x = tf.constant([-2.0, 0.5, 3.0, 0.0])
        result = (tf.nn.weighted_cross_entropy_with_logits(z, x, 2.5), tf.nn.compute_average_loss(x),
                  tf.nn.compute_average_loss(x, sample_weight=z, global_batch_size=8),
                  tf.nn.log_poisson_loss(tf.constant([0.0, 1.0, 3.0, 5.0]), x),
                  tf.nn.log_poisson_loss(tf.constant([0.0, 1.0, 3.0, 5.0]), x, compute_full_loss=True))
    """,
    apis_math_counts_and_permutations="""
        result = (tf.math.bincount(tf.constant([1, 1, 3, 0, 5])), tf.math.bincount(tf.constant([1, 1, 3]), minlength=6),
                  tf.math.bincount(tf.constant([1, 4, 3]), weights=tf.constant([0.5, 1.0, 2.0]), maxlength=4),
                  tf.math.confusion_matrix([0, 1, 2, 1], [0, 2, 2, 1]),
                  tf.math.confusion_matrix([0, 1], [1, 1], num_classes=3, weights=[2.0, 0.5], dtype=tf.float32),
                  tf.math.invert_permutation(tf.constant([2, 0, 3, 1])))
    """,
    apis_math_no_nan_and_predicates="""
        x = tf.constant([0.0, 2.0, float("inf"), 3.0])
        y = tf.constant([0.0, 0.0, 0.0, 2.0])
        result = (tf.math.multiply_no_nan(x, y), tf.math.xdivy(tf.constant([0.0, 1.0]), tf.constant([0.0, 4.0])),
                  tf.math.xlog1py(tf.constant([0.0, 2.0]), tf.constant([-1.0, 1.0])),
                  tf.math.is_non_decreasing([1, 2, 2, 3]), tf.math.is_strictly_increasing([1, 2, 2, 3]),
                  tf.math.is_strictly_increasing([[1, 2], [3, 4]]),
                  tf.math.polyval([1.0, -2.0, 3.0], tf.constant([0.0, 1.0, 2.0])))
    """,
    apis_searchsorted_scatter_nd_ensure_shape="""
        seq = tf.constant([[0.0, 1.0, 1.0, 3.0], [2.0, 4.0, 6.0, 8.0]])
        v = tf.constant([[1.0, 2.5, -1.0], [8.0, 9.0, 2.0]])
        result = (tf.searchsorted(seq, v), tf.searchsorted(seq, v, side="right"),
                  tf.scatter_nd([[1], [3], [1]], [5.0, 6.0, 7.0], [5]),
                  tf.scatter_nd([[0, 1]], [[1, 2]], tf.constant([2, 2, 2])),
                  tf.ensure_shape(tf.ones([2, 3]), [None, 3]).shape)
    """,
    apis_ensure_shape_mismatch="""
        result = tf.ensure_shape(tf.ones([2, 3]), [2, 4])
    """,
    apis_linalg_slogdet_triangular_cholesky_solve="""
        a = tf.constant([[4.0, 2.0, 0.4], [2.0, 5.0, 1.0], [0.4, 1.0, 3.0]])
        l = tf.constant([[2.0, 0.0, 0.0], [1.0, 2.0, 0.0], [0.2, 0.4, 1.6]])
        b = tf.constant([[1.0], [2.0], [3.0]])
        result = (tf.linalg.slogdet(tf.constant([[0.0, 2.0], [3.0, 1.0]])), tf.linalg.logdet(a),
                  tf.linalg.triangular_solve(l + tf.ones([3, 3]) * 9.0 * tf.linalg.band_part(tf.ones([3, 3]), 0, -1)
                                             - 9.0 * tf.linalg.diag(tf.ones([3])), b),
                  tf.linalg.triangular_solve(tf.transpose(l), b, lower=False),
                  tf.linalg.triangular_solve(l, b, adjoint=True), tf.linalg.cholesky_solve(l, b))
    """,
)

"""tf.nn activations, softmax family, losses, l2 ops, moments and one_hot: values (large, zero, NaN and infinite
inputs included) and gradients, at 0 and at ties."""
from tests.oracle.program import programs

_X = "tf.constant([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 7.0])"


def _grad(fn: str, x: str = _X) -> str:
    return f"""
        x = {x}
        with tf.GradientTape() as t:
            t.watch(x)
            y = {fn}(x)
        result = (y, t.gradient(y, x))
    """


PROGRAMS = programs("transc",
    nn_relu_values_nan_inf="""
        result = tf.nn.relu(tf.constant([-1.0, 0.0, 2.5, float("nan"), float("inf"), float("-inf")]))
    """,
    nn_relu6_values="""
        result = tf.nn.relu6(tf.constant([-1.0, 0.0, 3.0, 6.0, 7.5]))
    """,
    nn_elu_selu_values="""
        x = tf.constant([-5.0, -1.0, 0.0, 1.0, 2.0])
        result = (tf.nn.elu(x), tf.nn.selu(x))
    """,
    nn_gelu_exact_and_approximate="""
        x = tf.constant([-3.0, -1.0, 0.0, 0.5, 2.0])
        result = (tf.nn.gelu(x), tf.nn.gelu(x, approximate=True))
    """,
    nn_leaky_relu_alphas="""
        x = tf.constant([-2.0, -0.5, 0.0, 1.0])
        result = (tf.nn.leaky_relu(x), tf.nn.leaky_relu(x, alpha=0.3))
    """,
    nn_sigmoid_extremes="""
        result = tf.sigmoid(tf.constant([-100.0, -20.0, 0.0, 20.0, 100.0]))
    """,
    nn_softplus_extremes="""
        result = tf.math.softplus(tf.constant([-100.0, -20.0, 0.0, 20.0, 100.0]))
    """,
    nn_softsign_values="""
        result = tf.nn.softsign(tf.constant([-4.0, 0.0, 1.0, 100.0]))
    """,
    nn_tanh_and_log_sigmoid="""
        x = tf.constant([-50.0, -1.0, 0.0, 1.0, 50.0])
        result = (tf.tanh(x), tf.math.log_sigmoid(x))
    """,
    nn_silu_swish="""
        x = tf.constant([-2.0, 0.0, 1.5])
        result = (tf.nn.silu(x), tf.nn.swish(x))
    """,
    nn_softmax_rows_and_axis0="""
        x = tf.constant([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
        result = (tf.nn.softmax(x), tf.nn.softmax(x, axis=0))
    """,
    nn_softmax_large_values="""
        result = tf.nn.softmax(tf.constant([1000.0, 1000.0, 0.0]))
    """,
    nn_log_softmax_large_values="""
        result = tf.nn.log_softmax(tf.constant([1000.0, 1000.0, 0.0]))
    """,
    nn_log_softmax_rows="""
        result = tf.nn.log_softmax(tf.constant([[0.5, -1.0, 2.0], [10.0, -10.0, 0.0]]))
    """,
    nn_softmax_with_neg_inf="""
        result = tf.nn.softmax(tf.constant([0.0, float("-inf"), 1.0]))
    """,
    nn_sigmoid_cross_entropy_values="""
        labels = tf.constant([0.0, 1.0, 0.5, 1.0])
        logits = tf.constant([0.0, -2.0, 3.0, 100.0])
        result = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    """,
    nn_softmax_cross_entropy_values="""
        labels = tf.constant([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
        logits = tf.constant([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
        result = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    """,
    nn_sparse_softmax_cross_entropy_values="""
        labels = tf.constant([2, 0])
        logits = tf.constant([[1.0, 2.0, 3.0], [5.0, 1.0, -1.0]])
        result = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    """,
    nn_l2_loss="""
        result = (tf.nn.l2_loss(tf.constant([[1.0, 2.0], [3.0, -4.0]])), tf.nn.l2_loss(tf.constant(3.0)))
    """,
    nn_l2_normalize="""
        x = tf.constant([[3.0, 4.0], [0.0, 0.0]])
        result = (tf.math.l2_normalize(x, axis=1), tf.nn.l2_normalize(x, axis=0))
    """,
    nn_moments="""
        x = tf.constant([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]])
        m, v = tf.nn.moments(x, axes=[0])
        m2, v2 = tf.nn.moments(x, axes=[0, 1], keepdims=True)
        result = (m, v, m2, v2)
    """,
    nn_activations_in_function="""
        @tf.function
        def f(x):
            return tf.nn.relu(x), tf.nn.relu6(x), tf.nn.elu(x), tf.nn.leaky_relu(x), tf.nn.softmax(x)
        result = f(tf.constant([-2.0, 0.0, 3.0, 8.0]))
    """,
    nn_eager_scalar_arg_relu_result_to_function="""
        @tf.function
        def f(x):
            return tf.sigmoid(x) * 2.0
        result = (f(tf.nn.relu(tf.constant(-2.0))), f(tf.nn.relu(tf.constant(1.5))))
    """,
    nn_losses_in_function="""
        @tf.function
        def f(labels, logits):
            return (tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits),
                    tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        result = f(tf.constant([[0.0, 1.0], [0.5, 0.5]]), tf.constant([[2.0, -1.0], [0.0, 0.0]]))
    """,
) + programs("exact",
    nn_one_hot_basic="""
        y = tf.one_hot(tf.constant([0, 2, 1]), 3)
        result = (y, y.dtype)
    """,
    nn_one_hot_on_off_axis_dtype="""
        result = (tf.one_hot(tf.constant([1, 0]), 3, on_value=5.0, off_value=-1.0),
                  tf.one_hot(tf.constant([1, 0]), 3, axis=0),
                  tf.one_hot(tf.constant([2]), 3, dtype=tf.int32))
    """,
    nn_one_hot_out_of_range_is_zero_row="""
        result = tf.one_hot(tf.constant([-1, 3, 1]), 3)
    """,
    nn_one_hot_2d_indices="""
        y = tf.one_hot(tf.constant([[0, 1], [1, 1]]), 2)
        result = (y, y.shape)
    """,
    nn_sparse_softmax_label_out_of_range_raises="""
        result = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([3]),
                                                                logits=tf.constant([[1.0, 2.0, 3.0]]))
    """,
) + programs("grad",
    nn_relu_gradient_at_zero=_grad("tf.nn.relu"),
    nn_relu6_gradient_at_edges=_grad("tf.nn.relu6", "tf.constant([-1.0, 0.0, 3.0, 6.0, 7.0])"),
    nn_elu_gradient=_grad("tf.nn.elu"),
    nn_selu_gradient=_grad("tf.nn.selu"),
    nn_gelu_gradient=_grad("tf.nn.gelu"),
    nn_leaky_relu_gradient_at_zero=_grad("tf.nn.leaky_relu"),
    nn_sigmoid_gradient=_grad("tf.sigmoid"),
    nn_softplus_gradient_at_zero=_grad("tf.math.softplus"),
    nn_log_sigmoid_gradient_at_zero=_grad("tf.math.log_sigmoid"),
    nn_softsign_gradient=_grad("tf.nn.softsign"),
    nn_tanh_gradient=_grad("tf.tanh"),
    nn_silu_gradient=_grad("tf.nn.silu"),
    nn_relu_gradient_passes_nan_from_upstream="""
        x = tf.constant([1.0, -1.0, 2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.nn.relu(x) * tf.constant([float("nan"), float("inf"), 1.0])
        result = t.gradient(y, x)
    """,
    nn_softmax_gradient="""
        x = tf.constant([[1.0, 2.0, 3.0]])
        w = tf.constant([[1.0, -1.0, 0.5]])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.nn.softmax(x) * w)
        result = t.gradient(y, x)
    """,
    nn_log_softmax_gradient_large="""
        x = tf.constant([1000.0, 1000.0, 0.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.nn.log_softmax(x)[0]
        result = t.gradient(y, x)
    """,
    nn_sigmoid_cross_entropy_gradient_at_zero="""
        labels = tf.constant([0.0, 1.0, 0.5])
        logits = tf.constant([0.0, 0.0, 2.0])
        with tf.GradientTape() as t:
            t.watch(logits)
            y = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        result = t.gradient(y, logits)
    """,
    nn_softmax_cross_entropy_gradient="""
        labels = tf.constant([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
        logits = tf.constant([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        with tf.GradientTape() as t:
            t.watch([labels, logits])
            y = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        result = t.gradient(y, [logits, labels])
    """,
    nn_sparse_softmax_cross_entropy_gradient="""
        logits = tf.constant([[1.0, 2.0, 3.0], [5.0, 1.0, -1.0]])
        with tf.GradientTape() as t:
            t.watch(logits)
            y = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([2, 0]), logits=logits)
        result = t.gradient(y, logits)
    """,
    nn_l2_loss_gradient="""
        x = tf.constant([[1.0, 2.0], [3.0, -4.0]])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.nn.l2_loss(x)
        result = t.gradient(y, x)
    """,
    nn_l2_normalize_gradient="""
        x = tf.constant([3.0, 4.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.math.l2_normalize(x)[0]
        result = t.gradient(y, x)
    """,
    nn_moments_gradient="""
        x = tf.constant([1.0, 2.0, 4.0])
        with tf.GradientTape() as t:
            t.watch(x)
            m, v = tf.nn.moments(x, axes=[0])
            y = m + v
        result = t.gradient(y, x)
    """,
    nn_activation_gradients_in_function="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                y = tf.nn.relu(x) + tf.math.softplus(x) + tf.nn.elu(x)
            return t.gradient(y, x)
        result = f(tf.constant([-1.0, 0.0, 2.0]))
    """,
    nn_one_hot_gradient_is_none="""
        x = tf.constant([1.0, 2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.one_hot(tf.cast(x, tf.int32), 3) * 2.0
        result = t.gradient(y, x)
    """,
)

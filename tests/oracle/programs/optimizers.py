"""Keras optimizers (`tf.keras.optimizers`, Keras 3 in TF 2.21): a few steps on small quadratics, the Variables'
values after each step, iterations, clipping, weight decay, learning-rate schedules, and a train step in a function."""
from tests.oracle.program import programs


def _steps(make: str, steps: int = 3, extra: str = "") -> str:
    """Minimize (w - [3, -1])^2 + 0.5 * b^2 with the optimizer `make`, recording the Variables after each step."""
    return f"""
        w = tf.Variable([1.0, 2.0])
        b = tf.Variable(0.5)
        opt = {make}
        seen = []
        for _ in range({steps}):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(w - tf.constant([3.0, -1.0]))) + 0.5 * b * b
            grads = tape.gradient(loss, [w, b])
            opt.apply_gradients(zip(grads, [w, b]))
            seen.append((w.numpy(), b.numpy()))
        {extra}
        result = (seen, int(opt.iterations.numpy()))
    """


PROGRAMS = programs("loose",
    opt_sgd_plain=_steps("tf.keras.optimizers.SGD(learning_rate=0.1)"),
    opt_sgd_default_learning_rate=_steps("tf.keras.optimizers.SGD()"),
    opt_sgd_momentum=_steps("tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)", 4),
    opt_sgd_nesterov=_steps("tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)", 4),
    opt_adam_default=_steps("tf.keras.optimizers.Adam(learning_rate=0.1)", 4),
    opt_adam_betas_epsilon=_steps("tf.keras.optimizers.Adam(learning_rate=0.05, beta_1=0.5, beta_2=0.9, "
                                  "epsilon=1e-3)", 4),
    opt_adam_amsgrad=_steps("tf.keras.optimizers.Adam(learning_rate=0.1, amsgrad=True)", 4),
    opt_sgd_clipnorm=_steps("tf.keras.optimizers.SGD(learning_rate=0.1, clipnorm=1.0)"),
    opt_sgd_clipvalue=_steps("tf.keras.optimizers.SGD(learning_rate=0.1, clipvalue=0.5)"),
    opt_sgd_global_clipnorm=_steps("tf.keras.optimizers.SGD(learning_rate=0.1, global_clipnorm=1.0)"),
    opt_sgd_weight_decay=_steps("tf.keras.optimizers.SGD(learning_rate=0.1, weight_decay=0.1)"),
    opt_adam_weight_decay=_steps("tf.keras.optimizers.Adam(learning_rate=0.1, weight_decay=0.05)"),
    opt_sgd_exponential_decay=_steps(
        "tf.keras.optimizers.SGD(tf.keras.optimizers.schedules.ExponentialDecay(0.2, decay_steps=1, "
        "decay_rate=0.5))", 4),
    opt_sgd_exponential_decay_staircase=_steps(
        "tf.keras.optimizers.SGD(tf.keras.optimizers.schedules.ExponentialDecay(0.2, decay_steps=2, "
        "decay_rate=0.5, staircase=True))", 4),
    opt_sgd_piecewise_constant=_steps(
        "tf.keras.optimizers.SGD(tf.keras.optimizers.schedules.PiecewiseConstantDecay([1, 2], [0.3, 0.1, 0.01]))",
        4),
    opt_adam_inverse_time_decay=_steps(
        "tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1, "
        "decay_rate=1.0))", 4),
    opt_learning_rate_reassigned=_steps("tf.keras.optimizers.SGD(learning_rate=0.1)", 2,
                                        "opt.learning_rate = 0.5; opt.apply_gradients(zip(grads, [w, b])); "
                                        "seen.append((w.numpy(), b.numpy()))"),
    opt_schedule_values="""
        s1 = tf.keras.optimizers.schedules.ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5)
        s2 = tf.keras.optimizers.schedules.ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
        s3 = tf.keras.optimizers.schedules.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
        s4 = tf.keras.optimizers.schedules.InverseTimeDecay(1.0, decay_steps=1, decay_rate=0.5)
        result = [[float(s(step)) for step in range(6)] for s in (s1, s2, s3, s4)]
    """,
    opt_minimize_is_not_in_keras3="""
        w = tf.Variable([1.0, -2.0])
        opt = tf.keras.optimizers.SGD(learning_rate=0.25)
        seen = []
        for _ in range(3):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(w * w)
            opt.minimize(loss, [w], tape=tape)
            seen.append(w.numpy())
        result = seen
    """,
    opt_adam_train_step_in_function="""
        w = tf.Variable([[0.5, -0.5], [1.0, 0.0]])
        x = tf.constant([[1.0, 2.0], [3.0, -1.0]])
        y = tf.constant([[1.0], [0.0]])
        opt = tf.keras.optimizers.Adam(learning_rate=0.1)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                pred = tf.reduce_sum(tf.matmul(x, w), axis=1, keepdims=True)
                loss = tf.reduce_mean(tf.square(pred - y))
            opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
            return loss

        losses = [step() for _ in range(4)]
        result = (losses, w, int(opt.iterations.numpy()))
    """,
    opt_sgd_momentum_train_step_in_function="""
        w = tf.Variable([1.0, 2.0])
        opt = tf.keras.optimizers.SGD(learning_rate=0.05, momentum=0.5)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(w - 3.0))
            grads = tape.gradient(loss, [w])
            opt.apply_gradients(zip(grads, [w]))
            return loss

        result = ([step() for _ in range(3)], w)
    """,
    opt_two_variables_one_unused_gradient_none="""
        w = tf.Variable(2.0)
        u = tf.Variable(5.0)
        opt = tf.keras.optimizers.SGD(learning_rate=0.1)
        with tf.GradientTape() as tape:
            loss = w * w
        grads = tape.gradient(loss, [w, u])
        opt.apply_gradients(zip(grads, [w, u]))
        result = (grads[1], w, u, int(opt.iterations.numpy()))
    """,
    opt_float64_variable="""
        w = tf.Variable(tf.constant([1.0, 2.0], tf.float64))
        opt = tf.keras.optimizers.Adam(learning_rate=0.1)
        for _ in range(3):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(w * w)
            opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
        result = (w, w.dtype)
    """,
    opt_learning_rate_is_readable="""
        opt = tf.keras.optimizers.SGD(learning_rate=0.125)
        result = float(opt.learning_rate)
    """,
    opt_get_by_name="""
        opt = tf.keras.optimizers.get("sgd")
        w = tf.Variable(1.0)
        opt.apply_gradients([(tf.constant(2.0), w)])
        result = (type(opt).__name__, w)
    """,
    opt_unknown_argument_raises="""
        result = tf.keras.optimizers.SGD(learning_rate=0.1, not_an_argument=3)
    """,
)

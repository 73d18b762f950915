"""engine.optimizers: SGD and Adam step by step against a numpy transcription of Keras 3's update formulas, TF 2
training loops converging to numpy's least-squares solution, and the Optimizer API (iterations, learning rates and
schedules, slots, None gradients, clipping, weight decay, minimize, errors)."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf

F32 = lambda x: float(np.float32(x))  # noqa: E731  (the learning rate lives in a float32 Variable, as in Keras)


# ---- numpy references, float64 ------------------------------------------------------------------------------------
def sgd_ref(w, grads, lr, momentum=0.0, nesterov=False):
    w, m = w.copy(), np.zeros_like(w)
    for g in grads:
        if momentum == 0:
            w = w - g * lr
        else:
            m = m * momentum - g * lr
            w = w + (m * momentum - g * lr if nesterov else m)
    return w


def adam_ref(w, grads, lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, first_step=1):
    w, m, v, vhat = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=first_step):
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vhat = np.maximum(vhat, v)
        w = w - m * alpha / (np.sqrt(vhat if amsgrad else v) + eps)
    return w


def _run(opt, inits, grad_seqs, dtype=np.float64):
    variables = [tf.Variable(x.astype(dtype)) for x in inits]
    for step in zip(*grad_seqs):
        opt.apply_gradients(zip([g.astype(dtype) for g in step], variables))
    return [v.numpy() for v in variables]


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    inits = [rng.normal(size=(3, 4)), rng.normal(size=(4,)), rng.normal(size=())]
    grads = [[rng.normal(size=x.shape) for _ in range(6)] for x in inits]
    return inits, grads


# ---- update rules -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True), (0.5, True)])
def test_sgd_matches_the_reference(problem, momentum, nesterov):
    inits, grads = problem
    opt = tf.optimizers.SGD(learning_rate=0.05, momentum=momentum, nesterov=nesterov)
    got = _run(opt, inits, grads)
    for g, x, gs in zip(got, inits, grads):
        np.testing.assert_allclose(g, sgd_ref(x, gs, F32(0.05), momentum, nesterov), rtol=1e-12, atol=1e-14)
    assert int(opt.iterations) == 6


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_the_reference(problem, amsgrad):
    inits, grads = problem
    opt = tf.optimizers.Adam(learning_rate=0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-6, amsgrad=amsgrad)
    got = _run(opt, inits, grads)
    for g, x, gs in zip(got, inits, grads):
        ref = adam_ref(x, gs, F32(0.01), 0.8, 0.95, 1e-6, amsgrad)
        np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-14)
    assert not np.allclose(adam_ref(inits[0], grads[0], 0.01, amsgrad=True),
                           adam_ref(inits[0], grads[0], 0.01, amsgrad=False))  # the two variants do differ here


def test_float32_variables_follow_the_reference_closely(problem):
    inits, grads = problem
    got = _run(tf.keras.optimizers.Adam(learning_rate=0.01), inits, grads, dtype=np.float32)
    for g, x, gs in zip(got, inits, grads):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, adam_ref(x, gs, F32(0.01)), rtol=2e-5, atol=2e-6)


def test_adam_slots_created_later_use_the_optimizer_step():
    rng = np.random.default_rng(1)
    w0, b0 = rng.normal(size=(2,)), rng.normal(size=(2,))
    gw, gb = [rng.normal(size=(2,)) for _ in range(3)], [rng.normal(size=(2,)) for _ in range(2)]
    w, b = tf.Variable(w0), tf.Variable(b0)
    opt = tf.optimizers.Adam(learning_rate=0.1)
    opt.apply_gradients([(gw[0], w)])
    opt.apply_gradients([(gw[1], w), (gb[0], b)])
    opt.apply_gradients([(gw[2], w), (gb[1], b)])
    np.testing.assert_allclose(w.numpy(), adam_ref(w0, gw, F32(0.1)), rtol=1e-12)
    np.testing.assert_allclose(b.numpy(), adam_ref(b0, gb, F32(0.1), first_step=2), rtol=1e-12)


# ---- TF 2 training loops ------------------------------------------------------------------------------------------
def test_linear_regression_with_gradient_tape_and_sgd_converges():
    rng = np.random.default_rng(2)
    x = rng.normal(size=200).astype(np.float32)
    y = (3.0 * x + 2.0 + 0.1 * rng.normal(size=200)).astype(np.float32)
    w = tf.Variable(0.0)
    b = tf.Variable(0.0)
    opt = tf.keras.optimizers.SGD(learning_rate=0.1)
    for _ in range(200):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(w * x + b - y))
        grads = tape.gradient(loss, [w, b])
        opt.apply_gradients(zip(grads, [w, b]))
    slope, intercept = np.polyfit(x.astype(np.float64), y.astype(np.float64), 1)
    assert float(w) == pytest.approx(slope, abs=1e-4)
    assert float(b) == pytest.approx(intercept, abs=1e-4)
    assert int(opt.iterations) == 200


@pytest.mark.parametrize("make_opt,steps", [(lambda: tf.optimizers.SGD(learning_rate=0.1), 300),
                                            (lambda: tf.optimizers.SGD(learning_rate=0.05, momentum=0.9), 300),
                                            (lambda: tf.optimizers.Adam(learning_rate=0.05), 600)])
def test_matmul_least_squares_reaches_lstsq(make_opt, steps):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * rng.normal(size=(64, 1))).astype(np.float32)
    w = tf.Variable(tf.zeros([4, 1]))
    opt = make_opt()
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(X, w) - y))
        g = tape.gradient(loss, w)
        opt.apply_gradients([(g, w)])
    expected = np.linalg.lstsq(X.astype(np.float64), y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(w.numpy(), expected, atol=2e-3)


def test_minimize_with_a_callable_loss_and_with_a_tape():
    w = tf.Variable([4.0, -2.0])
    opt = tf.optimizers.SGD(learning_rate=0.25)
    opt.minimize(lambda: tf.reduce_sum(tf.square(w)), [w])         # grad 2w: w -> w - 0.5 w
    np.testing.assert_allclose(w.numpy(), [2.0, -1.0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(w))
    opt.minimize(loss, lambda: [w], tape=tape)
    np.testing.assert_allclose(w.numpy(), [1.0, -0.5])
    assert int(opt.iterations) == 2
    with pytest.raises(ValueError, match="`tape` is required"):
        opt.minimize(tf.reduce_sum(w), [w])


# ---- the Optimizer API --------------------------------------------------------------------------------------------
def test_iterations_and_variables_follow_keras():
    w, b = tf.Variable(np.ones((2, 3), np.float32), name="w"), tf.Variable(np.zeros(3, np.float32), name="b")
    opt = tf.keras.optimizers.Adam()
    assert opt.iterations.dtype is tf.int64 and int(opt.iterations) == 0 and not opt.iterations.trainable
    assert [v.name for v in opt.variables] == ["iteration:0", "learning_rate:0"]
    it = opt.apply_gradients([(tf.ones((2, 3)), w), (tf.ones(3), b)])
    assert it is opt.iterations and int(it) == 1
    names = [v.name for v in opt.variables]
    assert names == ["iteration:0", "learning_rate:0", "w_momentum:0", "b_momentum:0", "w_velocity:0",
                     "b_velocity:0"]
    assert [tuple(v.shape) for v in opt.variables[2:]] == [(2, 3), (3,), (2, 3), (3,)]
    assert opt.name == "adam" and tf.optimizers.SGD().name == "SGD"
    assert tf.keras.optimizers.SGD is tf.optimizers.SGD and tf.keras.optimizers.Optimizer is tf.optimizers.Optimizer


def test_plain_sgd_has_no_slots():
    w = tf.Variable([1.0])
    opt = tf.optimizers.SGD(learning_rate=0.5)
    opt.apply_gradients([(tf.constant([1.0]), w)])
    assert len(opt.variables) == 2


def test_none_gradients_are_skipped_and_all_none_is_an_error():
    w, b = tf.Variable([1.0, 1.0]), tf.Variable([5.0])
    opt = tf.optimizers.SGD(learning_rate=0.5)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients([(tf.constant([1.0, 2.0]), w), (None, b)])
    np.testing.assert_allclose(w.numpy(), [0.5, 0.0])
    np.testing.assert_allclose(b.numpy(), [5.0])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, w), (None, b)])
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply_gradients([])
    assert int(opt.iterations) == 1


def test_learning_rate_is_a_settable_variable():
    w = tf.Variable([1.0], dtype=tf.float64)
    opt = tf.optimizers.SGD(learning_rate=0.5)
    assert isinstance(opt.learning_rate, tf.Variable) and opt.learning_rate.dtype is tf.float32
    opt.learning_rate = 0.25
    assert float(opt.learning_rate) == 0.25
    opt.apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [0.75])
    opt.learning_rate = lambda: 0.125
    opt.apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [0.625])
    opt.learning_rate = 2          # back to a Variable: ints are accepted
    opt.apply_gradients([(np.array([0.25]), w)])
    np.testing.assert_allclose(w.numpy(), [0.125])


def test_schedules_drive_the_learning_rate():
    sched = tf.keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    w = tf.Variable(np.zeros(1))
    opt = tf.optimizers.SGD(learning_rate=sched)
    expected = 0.0
    for t in range(5):
        lr = np.float32(0.1) * np.power(np.float32(0.5), np.float32(t) / np.float32(2))
        assert float(opt.learning_rate) == pytest.approx(float(lr), rel=1e-6)
        opt.apply_gradients([(np.ones(1), w)])
        expected -= float(lr)
    np.testing.assert_allclose(w.numpy(), [expected], rtol=1e-6)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    assert [v.name for v in opt.variables] == ["iteration:0"]


def test_schedule_values():
    s = tf.optimizers.schedules
    stair = s.ExponentialDecay(1.0, decay_steps=3, decay_rate=0.1, staircase=True)
    assert [round(float(stair(k)), 6) for k in (0, 2, 3, 7)] == [1.0, 1.0, 0.1, 0.01]
    inv = s.InverseTimeDecay(0.5, decay_steps=1.0, decay_rate=0.5)
    assert [float(inv(k)) for k in (0, 2, 6)] == [0.5, 0.25, 0.125]
    pw = s.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.25])
    assert [float(pw(k)) for k in (0, 10, 11, 20, 21, 1000)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert float(pw(tf.Variable(15, dtype=tf.int64))) == 0.5
    with pytest.raises(ValueError, match="1 less than"):
        s.PiecewiseConstantDecay([1, 2], [1.0])
    with pytest.raises(ValueError, match="decay_steps"):
        s.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5)


def test_clipping_and_weight_decay_match_keras_formulas():
    g = np.array([3.0, 4.0])          # norm 5
    h = np.array([0.0, 12.0])         # global norm with g: 13

    def step(**kwargs):
        w, v = tf.Variable(np.array([1.0, -1.0])), tf.Variable(np.array([2.0, 2.0]))
        tf.optimizers.SGD(learning_rate=1.0, **kwargs).apply_gradients([(g, w), (h, v)])
        return w.numpy(), v.numpy()

    w, v = step(clipnorm=2.0)
    np.testing.assert_allclose(w, [1.0, -1.0] - g * 2.0 / 5.0)
    np.testing.assert_allclose(v, [2.0, 2.0] - h * 2.0 / 12.0)
    w, v = step(global_clipnorm=6.5)
    np.testing.assert_allclose(w, [1.0, -1.0] - g * 0.5)
    np.testing.assert_allclose(v, [2.0, 2.0] - h * 0.5)
    w, v = step(clipvalue=3.5)
    np.testing.assert_allclose(w, [1.0 - 3.0, -1.0 - 3.5])
    w, v = step(weight_decay=0.25)
    np.testing.assert_allclose(w, np.array([1.0, -1.0]) * 0.75 - g)
    w, v = step(clipnorm=100.0)   # no clipping below the threshold
    np.testing.assert_allclose(w, [1.0, -1.0] - g)


def test_loss_scale_factor_unscales_gradients():
    w = tf.Variable(np.array([1.0]))
    tf.optimizers.SGD(learning_rate=0.5, loss_scale_factor=4.0).apply_gradients([(np.array([8.0]), w)])
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.5 * 8.0 / 4.0])


def test_gradients_are_cast_to_the_variable_dtype_and_apply_without_variables():
    w = tf.Variable(np.array([1.0, 2.0], np.float32))
    opt = tf.optimizers.SGD(learning_rate=0.5)
    opt.apply_gradients([(np.array([1.0, 1.0]), w)])          # a float64 gradient, as Keras casts
    assert w.dtype is tf.float32
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])
    opt.apply([tf.constant([1.0, 1.0])])                       # the variables it was built with
    np.testing.assert_allclose(w.numpy(), [0.0, 1.0])


def test_get_and_config_round_trip():
    assert isinstance(tf.keras.optimizers.get("sgd"), tf.optimizers.SGD)
    assert isinstance(tf.keras.optimizers.get("Adam"), tf.optimizers.Adam)
    sched = tf.optimizers.schedules.ExponentialDecay(0.1, 5, 0.9)
    opt = tf.optimizers.Adam(learning_rate=sched, beta_1=0.7, amsgrad=True)
    clone = tf.optimizers.Adam.from_config(opt.get_config())
    assert clone.beta_1 == 0.7 and clone.amsgrad
    assert float(clone.learning_rate) == pytest.approx(0.1)
    same = tf.keras.optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5, "momentum": 0.9}})
    assert same.momentum == 0.9 and float(same.learning_rate) == 0.5
    assert tf.keras.optimizers.get(opt) is opt
    with pytest.raises(ValueError, match="Could not interpret"):
        tf.keras.optimizers.get("rmsprop_typo")


def test_bad_input_gives_clear_errors():
    w = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match="momentum"):
        tf.optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="learning_rate"):
        tf.optimizers.SGD(learning_rate="fast")
    with pytest.raises(ValueError, match="not recognized"):
        tf.optimizers.Adam(bogus=1)
    with pytest.raises(ValueError, match="Only one of"):
        tf.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(NotImplementedError):
        tf.optimizers.SGD(use_ema=True)
    opt = tf.optimizers.SGD()
    with pytest.raises(ValueError, match="shape"):
        opt.apply_gradients([(tf.constant([1.0, 2.0, 3.0]), w)])
    with pytest.raises(TypeError, match="Variables"):
        opt.apply_gradients([(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0]))])
    with pytest.raises(TypeError, match="int32"):
        opt.apply_gradients([(tf.constant([1, 2]), tf.Variable([1, 2]))])
    with pytest.raises(ValueError, match="pairs"):
        opt.apply_gradients([tf.constant([1.0, 2.0])])
    with pytest.raises(ValueError, match="already be built"):
        tf.optimizers.SGD().apply([tf.constant([1.0, 2.0])])
    np.testing.assert_allclose(w.numpy(), [1.0, 2.0])   # nothing above touched the variable
    assert int(opt.iterations) == 0


@pytest.mark.parametrize("make_opt", [
    lambda: tf.optimizers.Adam(learning_rate=0.05, amsgrad=True),
    lambda: tf.optimizers.SGD(tf.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5), momentum=0.9, nesterov=True),
])
def test_a_traced_update_step_matches_eager(make_opt):
    rng = np.random.default_rng(4)
    grads = [rng.normal(size=(2, 3)).astype(np.float32) for _ in range(4)]
    init = rng.normal(size=(2, 3)).astype(np.float32)
    w_eager, opt_eager = tf.Variable(init), make_opt()
    w_traced, opt_traced = tf.Variable(init), make_opt()

    @tf.function
    def step(g):
        opt_traced.apply_gradients([(g, w_traced)])

    for g in grads:
        opt_eager.apply_gradients([(tf.constant(g), w_eager)])
        step(tf.constant(g))
    assert step.experimental_get_tracing_count() == 1
    assert int(opt_traced.iterations) == len(grads)
    np.testing.assert_allclose(w_traced.numpy(), w_eager.numpy(), rtol=1e-6, atol=1e-7)
    assert not np.allclose(w_traced.numpy(), init)

"""A GradientTape around a call of an `engine.function` (issue 9 item 3): the call is one tape step whose backward
is the traced function's reverse transform, compiled and cached with it. Expected values are TensorFlow 2.21's
answers for the same programs (run with /work/tfvenv and hard-coded here), and float64 central differences.
"""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.call_gradient import reverse_of
from oracles import directional_fd


def test_tape_around_function_call() -> None:
    f = tf.function(lambda x: x * x)
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    assert len(t._tape.records) == 1  # one step for the whole call
    assert float(t.gradient(y, x)) == 6.0  # TF 2.21: 6.0


V = tf.Variable([1.0, 2.0])


@tf.function
def sin_xv(x):  # type: ignore[no-untyped-def]
    return tf.reduce_sum(tf.sin(x * V))


def test_watched_input_and_variable_read_by_the_function() -> None:
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = sin_xv(x)
    gx, gv = t.gradient(y, [x, V])
    # TF 2.21: 0.9303480386734009, [-2.969977378845215, 2.8805108070373535]
    assert float(gx) == pytest.approx(0.9303480386734009, rel=1e-6)
    np.testing.assert_allclose(gv.numpy(), [-2.969977378845215, 2.8805108070373535], rtol=1e-6)


def test_nested_tapes_give_the_second_derivative() -> None:
    x = tf.constant(3.0)
    with tf.GradientTape() as t2:
        t2.watch(x)
        with tf.GradientTape() as t1:
            t1.watch(x)
            y = sin_xv(x)
        d = t1.gradient(y, x)
    # TF 2.21: 0.93034804, 0.97654194
    assert float(d) == pytest.approx(0.93034804, rel=1e-6)
    assert float(t2.gradient(d, x)) == pytest.approx(0.97654194, rel=1e-5)


@tf.function
def loop(x):  # type: ignore[no-untyped-def]
    y = x
    for i in tf.range(4):
        y = tf.sin(y) * 1.5 + x
    return y


def loop_np(x: np.ndarray) -> np.ndarray:
    y = x
    for _ in range(4):
        y = np.sin(y) * 1.5 + x
    return y


def test_persistent_tape_through_a_function_with_a_loop() -> None:
    xs = tf.constant([0.3, -1.2])
    with tf.GradientTape(persistent=True) as t:
        t.watch(xs)
        y = loop(xs)
        z = y * y
    # TF 2.21: [0.3542852997779846, -1.0044598579406738], [1.2581756114959717, 4.0187907218933105]
    np.testing.assert_allclose(t.gradient(y, xs).numpy(), [0.3542852997779846, -1.0044598579406738], rtol=1e-5)
    np.testing.assert_allclose(t.gradient(z, xs).numpy(), [1.2581756114959717, 4.0187907218933105], rtol=1e-5)


@pytest.mark.parametrize("jit_compile", [True, False], ids=["compiled", "interpreted"])
def test_float64_gradient_matches_central_differences(jit_compile: bool) -> None:
    f = tf.function(lambda x: loop.python_function(x), jit_compile=jit_compile)
    x0 = np.array([0.3, -1.2, 0.8])
    c = np.array([0.5, -1.0, 2.0])
    x = tf.constant(x0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    g = t.gradient(y, x, output_gradients=tf.constant(c)).numpy()
    d = np.array([1.0, 0.3, -0.7])
    fd = directional_fd(lambda x: float(loop_np(x) @ c), [x0], [d])
    assert float(g @ d) == pytest.approx(fd, rel=1e-7)


@tf.function
def two(a, b):  # type: ignore[no-untyped-def]
    return a * b, tf.cast(a > b, tf.int32), a - b


def test_several_outputs_one_of_them_integer() -> None:
    a, b = tf.constant([1.0, 4.0]), tf.constant([2.0, 3.0])
    with tf.GradientTape() as t:
        t.watch([a, b])
        p, c, q = two(a, b)
        s = tf.reduce_sum(p * q)
    ga, gb = t.gradient(s, [a, b])
    np.testing.assert_allclose(ga.numpy(), [0.0, 15.0])   # TF 2.21: [0.0, 15.0]
    np.testing.assert_allclose(gb.numpy(), [-3.0, -8.0])  # TF 2.21: [-3.0, -8.0]


W = tf.Variable(2.0)


@tf.function
def uses_w(x):  # type: ignore[no-untyped-def]
    return x * W * W


def test_trainable_variable_is_watched_unless_told_not_to() -> None:
    with tf.GradientTape() as t:
        y = uses_w(tf.constant(1.5))
    assert float(t.gradient(y, W)) == 6.0  # TF 2.21: 6.0
    with tf.GradientTape(watch_accessed_variables=False) as t:
        y = uses_w(tf.constant(1.5))
    assert t.gradient(y, W) is None  # TF 2.21: None


def test_tape_inside_an_outer_function_around_a_call() -> None:
    @tf.function
    def outer(x):  # type: ignore[no-untyped-def]
        with tf.GradientTape() as t:
            t.watch(x)
            y = sin_xv(x) * 2.0
        return t.gradient(y, x)
    assert float(outer(tf.constant(0.5))) == pytest.approx(3.9163742, rel=1e-6)  # TF 2.21: 3.9163742


def test_unconnected_source_is_none() -> None:
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = sin_xv(x)
    assert t.gradient(y, tf.constant(1.0)) is None  # TF 2.21: None


def test_the_reverse_transform_is_derived_once_per_traced_function() -> None:
    f = tf.function(lambda x: tf.exp(x) * x)
    x = tf.constant([1.0, 2.0])
    grads = []
    for _ in range(2):
        with tf.GradientTape() as t:
            t.watch(x)
            y = f(x)
        grads.append(t.gradient(y, x).numpy())
    cf = f.get_concrete_function(x)
    assert reverse_of(cf.ir) is reverse_of(cf.ir)
    np.testing.assert_allclose(grads[0], np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])), rtol=1e-6)
    np.testing.assert_array_equal(grads[0], grads[1])


def test_effects_run_once_per_call() -> None:
    """The backward does not replay the function's effects: its assign happened once."""
    counter = tf.Variable(0.0)

    @tf.function
    def bump(x):  # type: ignore[no-untyped-def]
        counter.assign_add(1.0)
        return x * 3.0

    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = bump(x)
    assert float(t.gradient(y, x)) == 3.0
    assert float(counter.numpy()) == 1.0


def test_tape_around_a_concrete_function_call() -> None:
    cf = sin_xv.get_concrete_function(tf.constant(3.0))
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = cf(x)
    assert float(t.gradient(y, x)) == pytest.approx(0.9303480386734009, rel=1e-6)  # TF 2.21 (as tf.function)


def test_training_steps_with_a_compiled_loss_match_tf() -> None:
    """The usual TF 2 training loop: the loss is an engine.function, the tape and the update are eager."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    w = tf.Variable(np.full((3, 1), 0.5, np.float32))
    b = tf.Variable(np.zeros((1,), np.float32))

    @tf.function
    def loss_fn(x, y):  # type: ignore[no-untyped-def]
        return tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))

    # TF 2.21's (loss, dw, db) at each of three SGD steps with learning rate 0.1
    tf_steps = [(1.1373990774154663, [1.9182542562484741, 0.9266067743301392, 0.16646365821361542],
                 [0.18860125541687012]),
                (0.7444922924041748, [1.314417839050293, 0.7394850850105286, 0.05041108280420303],
                 [0.220380499958992]),
                (0.5442966818809509, [0.9010478258132935, 0.6024543046951294, -0.01999233104288578],
                 [0.22424310445785522])]
    for want_loss, want_gw, want_gb in tf_steps:
        with tf.GradientTape() as t:
            loss = loss_fn(tf.constant(x), tf.constant(y))
        gw, gb = t.gradient(loss, [w, b])
        w.assign_sub(0.1 * gw)
        b.assign_sub(0.1 * gb)
        assert float(loss) == pytest.approx(want_loss, rel=1e-6)
        np.testing.assert_allclose(gw.numpy().ravel(), want_gw, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(gb.numpy(), want_gb, rtol=1e-5)


def test_variable_passed_as_an_argument() -> None:
    @tf.function
    def with_var_arg(v, x):  # type: ignore[no-untyped-def]
        return tf.reduce_sum(v * x * x)
    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as t:
        y = with_var_arg(v, tf.constant([3.0, 4.0]))
    np.testing.assert_array_equal(t.gradient(y, v).numpy(), [9.0, 16.0])  # TF 2.21


@tf.custom_gradient
def clip_grad(x):  # type: ignore[no-untyped-def]
    return tf.identity(x), lambda dy: tf.clip_by_value(dy, -1.0, 1.0)


@tf.custom_gradient
def half_grad_square(x):  # type: ignore[no-untyped-def]
    return x * x, lambda dy: dy * 0.5


def test_custom_gradient_inside_a_function_called_under_a_tape() -> None:
    """The IR of a function holds a custom_gradient function's own ops, not its rule: under a tape the function
    runs as Python so the rule is honoured (TF honours it in tf.function)."""
    f = tf.function(lambda x: clip_grad(x * 3.0) * 10.0)
    g = tf.function(lambda x: half_grad_square(x) + x)
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y, z = f(x), g(x)
    assert float(y) == 60.0
    assert float(t.gradient(y, x)) == 3.0  # TF 2.21: 3.0
    assert float(t.gradient(z, x)) == 1.5  # TF 2.21: 1.5 (0.5 from the rule, 1 from + x)
    assert float(f(x)) == 60.0             # without a tape: the compiled function


def test_custom_gradient_returning_its_input_through_identity() -> None:
    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = clip_grad(x * 3.0) * 10.0
    assert float(t.gradient(y, x)) == 3.0  # TF 2.21: 3.0 (the rule clips 10 to 1)

    @tf.function
    def inner_tape(x):  # type: ignore[no-untyped-def]
        with tf.GradientTape() as t:
            t.watch(x)
            y = clip_grad(x * 3.0) * 10.0
        return t.gradient(y, x)
    assert float(inner_tape(tf.constant(2.0))) == 3.0  # TF 2.21: 3.0


def test_gradient_of_an_input_the_function_does_not_use_is_none() -> None:
    # TF 2.21: [2.0, None] for f(a, b) = a * 2 (not [2.0, 0.0]); an input reached only through integers is None
    # too; one that another output of the function depends on gets zeros.
    @tf.function
    def f(a, b):
        return a * 2.0

    @tf.function
    def g(a, b):
        return a * 3.0, tf.cast(tf.cast(b, tf.int32), tf.float32) + a, b * b

    @tf.function
    def h(a, b):
        return a + tf.cast(tf.argmax(tf.stack([b, a])), tf.float32)

    a, b = tf.constant(1.0), tf.constant(1.5)
    with tf.GradientTape(persistent=True) as t:
        t.watch([a, b])
        y = f(a, b)
        p, q, r = g(a, b)
        z = h(a, b)
    ga, gb = t.gradient(y, [a, b])
    assert float(ga) == 2.0 and gb is None
    ga, gb = t.gradient(z, [a, b])
    assert float(ga) == 1.0 and gb is None
    ga, gb = t.gradient(q, [a, b])
    assert float(ga) == 1.0 and float(gb) == 0.0
    ga, gb = t.gradient(p, [a, b])
    assert float(ga) == 3.0 and float(gb) == 0.0
    ga, gb = t.gradient([p, r], [a, b])
    assert float(ga) == 3.0 and float(gb) == 3.0

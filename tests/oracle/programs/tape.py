"""GradientTape: eager tapes, tapes around calls of tf.function, tapes inside functions through loops and conds.

What a TF user observes: gradient values, which gradients are None, `unconnected_gradients='zero'`, persistent and
nested tapes, `stop_recording`, jacobians, Variables (trainable or not) and the errors TF raises.
"""
from tests.oracle.program import programs

PROGRAMS = programs("grad",
    tape_watch_constant="""
        x = tf.constant(3.0)
        with tf.GradientTape() as t:
            t.watch(x)
            y = x * x + 2.0 * x
        result = t.gradient(y, x)
    """,
    tape_unwatched_constant_is_none="""
        x = tf.constant(3.0)
        with tf.GradientTape() as t:
            y = x * x
        result = t.gradient(y, x)
    """,
    tape_variable_auto_watched="""
        v = tf.Variable([1.0, 2.0])
        with tf.GradientTape() as t:
            y = tf.reduce_sum(v * v * v)
        result = t.gradient(y, v)
    """,
    tape_variable_not_trainable="""
        v = tf.Variable(2.0, trainable=False)
        w = tf.Variable(3.0)
        with tf.GradientTape() as t:
            y = v * w
        result = t.gradient(y, [v, w])
    """,
    tape_variable_not_trainable_watched="""
        v = tf.Variable(2.0, trainable=False)
        with tf.GradientTape() as t:
            t.watch(v)
            y = v * v * v
        result = t.gradient(y, v)
    """,
    tape_watch_accessed_variables_false="""
        v = tf.Variable(2.0)
        w = tf.Variable(5.0)
        with tf.GradientTape(watch_accessed_variables=False) as t:
            t.watch(w)
            y = v * w * w
        result = t.gradient(y, [v, w])
    """,
    tape_persistent_two_gradients="""
        x = tf.constant(2.0)
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            y = x * x
            z = y * y
        result = (t.gradient(y, x), t.gradient(z, x))
    """,
    tape_non_persistent_second_call_raises="""
        x = tf.constant(2.0)
        with tf.GradientTape() as t:
            t.watch(x)
            y = x * x
        g = t.gradient(y, x)
        result = t.gradient(y, x)
    """,
    tape_nested_second_order="""
        x = tf.constant(1.5)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = x * x * x
            dy = t1.gradient(y, x)
        result = (dy, t2.gradient(dy, x))
    """,
    tape_nested_second_order_variable="""
        v = tf.Variable(2.0)
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                y = v * v * v * v
            g = inner.gradient(y, v)
        result = (g, outer.gradient(g, v))
    """,
    tape_stop_recording="""
        x = tf.constant(2.0)
        with tf.GradientTape() as t:
            t.watch(x)
            y = x * x
            with t.stop_recording():
                z = x * x * x
            w = y + z
        result = t.gradient(w, x)
    """,
    tape_stop_gradient="""
        x = tf.constant(3.0)
        with tf.GradientTape() as t:
            t.watch(x)
            y = x * tf.stop_gradient(x * x)
        result = t.gradient(y, x)
    """,
    tape_sources_list="""
        a = tf.constant(2.0)
        b = tf.constant(5.0)
        with tf.GradientTape() as t:
            t.watch([a, b])
            y = a * b + b * b
        result = t.gradient(y, [a, b])
    """,
    tape_sources_dict="""
        a = tf.constant([1.0, 2.0])
        b = tf.constant(3.0)
        with tf.GradientTape() as t:
            t.watch(a)
            t.watch(b)
            y = tf.reduce_sum(a * b)
        result = t.gradient(y, {"a": a, "b": b})
    """,
    tape_target_list_summed="""
        x = tf.constant(2.0)
        with tf.GradientTape() as t:
            t.watch(x)
            y1 = x * x
            y2 = 3.0 * x
        result = t.gradient([y1, y2], x)
    """,
    tape_unconnected_none="""
        x = tf.constant(1.0)
        z = tf.constant(2.0)
        with tf.GradientTape() as t:
            t.watch([x, z])
            y = x * 4.0
        result = t.gradient(y, [x, z])
    """,
    tape_unconnected_zero="""
        x = tf.constant(1.0)
        z = tf.constant([2.0, 3.0])
        with tf.GradientTape() as t:
            t.watch([x, z])
            y = x * 4.0
        result = t.gradient(y, [x, z], unconnected_gradients=tf.UnconnectedGradients.ZERO)
    """,
    tape_unconnected_zero_string="""
        x = tf.constant(1.0)
        z = tf.constant(2.0)
        with tf.GradientTape() as t:
            t.watch([x, z])
            y = x * 4.0
        result = t.gradient(y, z, unconnected_gradients="zero")
    """,
    tape_integer_source_none="""
        x = tf.constant(3)
        with tf.GradientTape() as t:
            t.watch(x)
            y = x * x
        result = t.gradient(y, x)
    """,
    tape_cast_to_int_cuts_gradient="""
        x = tf.constant(2.7)
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.cast(tf.cast(x, tf.int32), tf.float32) * x
        result = t.gradient(y, x)
    """,
    tape_output_gradients="""
        x = tf.constant([1.0, 2.0, 3.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = x * x
        result = t.gradient(y, x, output_gradients=tf.constant([1.0, 10.0, 100.0]))
    """,
    tape_jacobian_vector="""
        x = tf.constant([1.0, 2.0, 3.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = x * x * tf.reduce_sum(x)
        result = t.jacobian(y, x)
    """,
    tape_jacobian_matrix_variable="""
        w = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
        x = tf.constant([[1.0, -1.0]])
        with tf.GradientTape() as t:
            y = tf.matmul(x, w)
        j = t.jacobian(y, w)
        result = (j.shape, j)
    """,
    tape_gradient_of_nonscalar_sums="""
        x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.exp(x) * 0.5
        result = t.gradient(y, x)
    """,
    tape_variable_assign_inside="""
        v = tf.Variable(3.0)
        with tf.GradientTape() as t:
            y = v * v
            v.assign(10.0)
            z = y * v
        result = (t.gradient(z, v), v)
    """,
    tape_float64_source="""
        x = tf.constant([0.5, 1.5], tf.float64)
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.tanh(x) * x)
        g = t.gradient(y, x)
        result = (g, g.dtype)
    """,
    tape_watched_reused_python_float="""
        x = tf.Variable(1.0)
        with tf.GradientTape() as t:
            y = x
            for _ in range(3):
                y = y * x
        result = t.gradient(y, x)
    """,
    tape_gradient_inside_context="""
        x = tf.constant(2.0)
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            y = x * x
            g = t.gradient(y, x)
        result = g
    """,
)

PROGRAMS += programs("grad",
    tape_around_function_watched="""
        @tf.function
        def f(x):
            return x * x * x
        x = tf.constant(2.0)
        with tf.GradientTape() as t:
            t.watch(x)
            y = f(x)
        result = (y, t.gradient(y, x))
    """,
    tape_around_function_variable_read="""
        w = tf.Variable([1.0, 2.0])
        @tf.function
        def f(x):
            return tf.reduce_sum(w * x)
        x = tf.constant([3.0, 4.0])
        with tf.GradientTape() as t:
            y = f(x)
        result = t.gradient(y, w)
    """,
    tape_around_function_variable_argument="""
        @tf.function
        def f(v):
            return v * v
        v = tf.Variable(3.0)
        with tf.GradientTape() as t:
            y = f(v)
        result = t.gradient(y, v)
    """,
    tape_around_function_two_inputs="""
        @tf.function
        def f(a, b):
            return tf.reduce_sum(a * b) + tf.reduce_sum(b)
        a = tf.constant([1.0, 2.0])
        b = tf.constant([3.0, 5.0])
        with tf.GradientTape() as t:
            t.watch([a, b])
            y = f(a, b)
        result = t.gradient(y, [a, b])
    """,
    tape_around_function_called_twice="""
        @tf.function
        def f(x):
            return x * 3.0
        x = tf.constant(2.0)
        with tf.GradientTape() as t:
            t.watch(x)
            y = f(f(x)) + f(x)
        result = t.gradient(y, x)
    """,
    tape_around_function_unconnected_input="""
        @tf.function
        def f(a, b):
            return a * 2.0
        a = tf.constant(1.0)
        b = tf.constant(1.0)
        with tf.GradientTape() as t:
            t.watch([a, b])
            y = f(a, b)
        result = t.gradient(y, [a, b])
    """,
    tape_around_function_with_loop="""
        @tf.function
        def f(x):
            for i in tf.range(3):
                x = x * x
            return x
        x = tf.constant(1.1)
        with tf.GradientTape() as t:
            t.watch(x)
            y = f(x)
        result = t.gradient(y, x)
    """,
    tape_around_function_with_cond="""
        @tf.function
        def f(x):
            if x > 0.0:
                return x * x
            return -3.0 * x
        xs = [tf.constant(2.0), tf.constant(-2.0)]
        out = []
        for x in xs:
            with tf.GradientTape() as t:
                t.watch(x)
                y = f(x)
            out.append(t.gradient(y, x))
        result = out
    """,
    tape_around_function_second_order="""
        @tf.function
        def f(x):
            return x * x * x
        x = tf.constant(2.0)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = f(x)
            g = t1.gradient(y, x)
        result = (g, t2.gradient(g, x))
    """,
    tape_around_function_multiple_outputs="""
        @tf.function
        def f(x):
            return x * 2.0, x * x
        x = tf.constant(3.0)
        with tf.GradientTape() as t:
            t.watch(x)
            a, b = f(x)
            y = a + b
        result = t.gradient(y, x)
    """,
    tape_around_function_training_step="""
        w = tf.Variable([[0.5], [-0.5]])
        b = tf.Variable([0.1])
        @tf.function
        def model(x):
            return tf.matmul(x, w) + b
        x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        y = tf.constant([[1.0], [0.0]])
        with tf.GradientTape() as t:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        gw, gb = t.gradient(loss, [w, b])
        result = (loss, gw, gb)
    """,
    tape_inside_function="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                y = x * x * x
            return t.gradient(y, x)
        result = f(tf.constant(2.0))
    """,
    tape_inside_function_variable="""
        v = tf.Variable([1.0, 2.0, 3.0])
        @tf.function
        def f():
            with tf.GradientTape() as t:
                y = tf.reduce_sum(tf.square(v))
            return t.gradient(y, v)
        result = f()
    """,
    tape_inside_function_tf_range="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                y = x
                for i in tf.range(3):
                    y = y * 2.0
            return t.gradient(y, x)
        result = f(tf.constant(1.0))
    """,
    tape_inside_function_tf_range_pow="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                y = tf.constant(1.0)
                for i in tf.range(4):
                    y = y * x
            return t.gradient(y, x)
        result = f(tf.constant(1.5))
    """,
    tape_inside_function_while="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                y = x
                while y < 10.0:
                    y = y * 3.0
            return y, t.gradient(y, x)
        result = f(tf.constant(2.0))
    """,
    tape_inside_function_while_loop_direct="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x), (tf.constant(0), x))
            return t.gradient(y, x)
        result = f(tf.constant(2.0))
    """,
    tape_inside_function_cond="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                y = tf.cond(x > 0.0, lambda: x * x, lambda: x * 5.0)
            return t.gradient(y, x)
        result = (f(tf.constant(3.0)), f(tf.constant(-1.0)))
    """,
    tape_inside_function_autograph_if="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                if x > 1.0:
                    y = tf.exp(x)
                else:
                    y = x * x * x
            return t.gradient(y, x)
        result = (f(tf.constant(2.0)), f(tf.constant(0.5)))
    """,
    tape_inside_function_loop_with_variable="""
        w = tf.Variable(0.5)
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                y = x
                for i in tf.range(3):
                    y = y * w + 1.0
            return t.gradient(y, w)
        result = f(tf.constant(2.0))
    """,
    tape_inside_function_loop_break="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                y = x
                for i in tf.range(10):
                    y = y * x
                    if i >= 2:
                        break
            return y, t.gradient(y, x)
        result = f(tf.constant(1.5))
    """,
    tape_inside_function_python_range="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                y = x
                for i in range(3):
                    y = tf.sin(y)
            return t.gradient(y, x)
        result = f(tf.constant(0.7))
    """,
    tape_inside_function_persistent="""
        @tf.function
        def f(x):
            with tf.GradientTape(persistent=True) as t:
                t.watch(x)
                y = x * x
                z = tf.sqrt(x)
            return t.gradient(y, x), t.gradient(z, x)
        result = f(tf.constant(4.0))
    """,
    tape_inside_function_unconnected="""
        @tf.function
        def f(x, z):
            with tf.GradientTape() as t:
                t.watch([x, z])
                y = x * 2.0
            return t.gradient(y, z, unconnected_gradients="zero")
        result = f(tf.constant(1.0), tf.constant([1.0, 2.0]))
    """,
    tape_inside_function_loop_accumulates_vector="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x)
                s = tf.zeros([])
                for i in tf.range(3):
                    s = s + tf.reduce_sum(x * tf.cast(i + 1, tf.float32))
            return t.gradient(s, x)
        result = f(tf.constant([1.0, 2.0]))
    """,
)

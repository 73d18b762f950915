"""Second-order gradients through tensor loops: nested GradientTapes and persistent tapes inside tf.function around
AutoGraph `for`/`while` loops and tf.while_loop (fixed and data-dependent trip counts, nested loops, a cond in the
body, captured values, TensorArray), and eager nested tapes around a call of a tf.function whose body loops.
"""
from tests.oracle.program import programs

PROGRAMS = programs("grad",
    grad2_fn_nested_tapes_for_range="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t2:
                t2.watch(x)
                with tf.GradientTape() as t1:
                    t1.watch(x)
                    y = x
                    for i in tf.range(3):
                        y = tf.sin(y) * x + y
                d = t1.gradient(y, x)
            return d, t2.gradient(d, x)
        result = f(tf.constant(0.7))
    """,
    grad2_fn_nested_tapes_data_dependent_while="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t2:
                t2.watch(x)
                with tf.GradientTape() as t1:
                    t1.watch(x)
                    y = x
                    while y < 10.0:
                        y = y * y + x
                d = t1.gradient(y, x)
            return d, t2.gradient(d, x)
        result = [f(tf.constant(1.1)), f(tf.constant(2.5)), f(tf.constant(20.0))]
    """,
    grad2_fn_nested_tapes_while_loop_captured="""
        @tf.function
        def f(x, a):
            with tf.GradientTape(persistent=True) as t2:
                t2.watch([x, a])
                with tf.GradientTape() as t1:
                    t1.watch([x, a])
                    _, y = tf.while_loop(lambda i, y: i < 4, lambda i, y: (i + 1, y * a + tf.exp(-y)),
                                         (tf.constant(0), x))
                    z = y * y
                dx, da = t1.gradient(z, [x, a])
            return dx, da, t2.gradient(dx, [x, a]), t2.gradient(da, [x, a])
        result = f(tf.constant(0.3), tf.constant(1.2))
    """,
    grad2_fn_persistent_gradient_of_gradient="""
        @tf.function
        def f(x):
            with tf.GradientTape(persistent=True) as t:
                t.watch(x)
                y = x
                i = tf.constant(0)
                while i < 3:
                    y = tf.tanh(y) * 2.0 + 0.1 * y * y
                    i += 1
                d = t.gradient(y, x)
            return d, t.gradient(d, x)
        result = f(tf.constant(0.4))
    """,
    grad2_fn_vector_nested_loops_with_cond="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t2:
                t2.watch(x)
                with tf.GradientTape() as t1:
                    t1.watch(x)
                    y = x
                    for i in tf.range(2):
                        for j in tf.range(2):
                            if tf.reduce_sum(y) > 2.0:
                                y = y * 0.5 + tf.sin(y)
                            else:
                                y = y * y + x
                    s = tf.reduce_sum(y * y)
                d = t1.gradient(s, x)
                e = tf.reduce_sum(d * tf.constant([1.0, -2.0]))
            return d, t2.gradient(e, x)
        result = [f(tf.constant([0.3, 0.4])), f(tf.constant([1.3, 0.9]))]
    """,
    grad2_fn_tensor_array_loop="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t2:
                t2.watch(x)
                with tf.GradientTape() as t1:
                    t1.watch(x)
                    ta = tf.TensorArray(tf.float32, size=3)
                    y = x
                    for i in tf.range(3):
                        y = tf.sin(y) + x * y
                        ta = ta.write(i, y)
                    s = tf.reduce_sum(ta.stack())
                d = t1.gradient(s, x)
            return d, t2.gradient(d, x)
        result = f(tf.constant(0.6))
    """,
    grad2_fn_linear_loop_second_is_none="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t2:
                t2.watch(x)
                with tf.GradientTape() as t1:
                    t1.watch(x)
                    y = x
                    for i in tf.range(3):
                        y = y * 2.0
                d = t1.gradient(y, x)
            return d, t2.gradient(d, x)
        result = f(tf.constant(1.0))
    """,
    grad2_eager_tapes_around_function_with_loop="""
        @tf.function
        def g(x):
            y = x
            for i in tf.range(3):
                y = tf.sin(y) * x + y
            return y
        x = tf.constant(0.7)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = g(x)
            d = t1.gradient(y, x)
        result = (y, d, t2.gradient(d, x))
    """,
    grad2_eager_tapes_around_function_data_dependent="""
        @tf.function
        def g(x, a):
            y = x
            while tf.reduce_sum(y) < 10.0:
                y = y * a + x
            return tf.reduce_sum(y * y)
        x = tf.constant([0.5, 1.5])
        a = tf.constant(1.7)
        with tf.GradientTape(persistent=True) as t2:
            t2.watch([x, a])
            with tf.GradientTape() as t1:
                t1.watch([x, a])
                y = g(x, a)
            dx, da = t1.gradient(y, [x, a])
        result = (dx, da, t2.jacobian(dx, x), t2.gradient(da, [x, a]))
    """,
    grad2_fn_third_order_three_tapes="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t3:
                t3.watch(x)
                with tf.GradientTape() as t2:
                    t2.watch(x)
                    with tf.GradientTape() as t1:
                        t1.watch(x)
                        y = x
                        i = tf.constant(0)
                        while i < 3:
                            y = tf.sin(y) * x + y * 0.5
                            i += 1
                    d = t1.gradient(y, x)
                dd = t2.gradient(d, x)
            return d, dd, t3.gradient(dd, x)
        result = f(tf.constant(0.8))
    """,
    grad2_eager_third_order_around_function="""
        @tf.function
        def g(x):
            y = x
            while y < 5.0:
                y = y * y + x
            return y
        x = tf.constant(1.2)
        with tf.GradientTape() as t3:
            t3.watch(x)
            with tf.GradientTape() as t2:
                t2.watch(x)
                with tf.GradientTape() as t1:
                    t1.watch(x)
                    y = g(x)
                d = t1.gradient(y, x)
            dd = t2.gradient(d, x)
        result = (y, d, dd, t3.gradient(dd, x))
    """,
    grad2_fn_variable_in_loop_mixed="""
        v = tf.Variable(1.5)
        @tf.function
        def f(x):
            with tf.GradientTape(persistent=True) as t2:
                t2.watch(x)
                with tf.GradientTape() as t1:
                    t1.watch(x)
                    y = x
                    for i in tf.range(3):
                        y = tf.sin(y) * v + x
                dx, dv = t1.gradient(y, [x, v])
            return dx, dv, t2.gradient(dx, [x, v]), t2.gradient(dv, [x, v])
        result = f(tf.constant(0.4))
    """,
    grad2_fn_loop_inside_cond="""
        @tf.function
        def f(x):
            with tf.GradientTape() as t2:
                t2.watch(x)
                with tf.GradientTape() as t1:
                    t1.watch(x)
                    if tf.reduce_sum(x) > 0:
                        y = x
                        for i in tf.range(3):
                            y = tf.sin(y) * x + y
                    else:
                        y = x * x
                    s = tf.reduce_sum(y)
                d = t1.gradient(s, x)
                e = tf.reduce_sum(d)
            return d, t2.gradient(e, x)
        result = [f(tf.constant([0.7, 0.2])), f(tf.constant([-0.7, 0.2]))]
    """,
)

"""Control flow whose values change size: cond branches of different sizes (a result with unknown dims), while_loop
with shape_invariants and AutoGraph loops with set_loop_options (a value that grows each trip), their gradients,
the errors without invariants, a Python list appended to in a tensor loop, and tf.unique inside functions."""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    dyncf_cond_branch_sizes_differ="""
        shapes = []
        @tf.function
        def f(x, p):
            y = tf.cond(p, lambda: x[:2], lambda: x)
            shapes.append(y.shape.as_list())
            return y, tf.shape(y)
        x = tf.constant([1.0, 2.0, 3.0, 4.0])
        result = (f(x, tf.constant(True)), f(x, tf.constant(False)), shapes, f.experimental_get_tracing_count())
    """,
    dyncf_autograph_if_sizes_differ="""
        shapes = []
        @tf.function
        def f(x):
            if tf.reduce_sum(x) > 5.0:
                y = x[1:] * 2.0
            else:
                y = tf.concat([x, x], 0)
            shapes.append(y.shape.as_list())
            return y
        result = (f(tf.constant([1.0, 2.0, 3.0])), f(tf.constant([1.0, 0.5, 1.0])), shapes)
    """,
    dyncf_while_shape_invariants_grows="""
        @tf.function
        def w(n):
            i = tf.constant(0)
            v = tf.constant([7])
            return tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, tf.concat([v, [i * i]], 0)), [i, v],
                                 shape_invariants=[i.shape, tf.TensorShape([None])])
        result = (w(tf.constant(4)), w(tf.constant(0)), w.experimental_get_tracing_count())
    """,
    dyncf_while_without_invariants_raises="""
        @tf.function
        def w(n):
            i = tf.constant(0)
            v = tf.constant([7])
            return tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, tf.concat([v, [i]], 0)), [i, v])
        result = w(tf.constant(3))
    """,
    dyncf_while_invariant_incompatible_raises="""
        @tf.function
        def w(n):
            v = tf.constant([1.0, 2.0])
            return tf.while_loop(lambda v: tf.size(v) < n, lambda v: (tf.concat([v, v], 0),), [v],
                                 shape_invariants=[tf.TensorShape([3])])
        result = w(tf.constant(8))
    """,
    dyncf_while_grows_gradient="""
        @tf.function
        def f(x, n):
            with tf.GradientTape() as t:
                t.watch(x)
                i = tf.constant(0)
                _, v = tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, tf.concat([v, v[:1] * x[1]], 0)),
                                     [i, x], shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
                s = tf.reduce_sum(v * v)
            return v, s, t.gradient(s, x)
        result = (f(tf.constant([1.5, 2.0]), tf.constant(3)), f(tf.constant([0.5, -1.0]), tf.constant(0)))
    """,
    dyncf_autograph_for_set_loop_options="""
        @tf.function
        def f(n):
            v = tf.constant([0])
            for i in tf.range(n):
                tf.autograph.experimental.set_loop_options(shape_invariants=[(v, tf.TensorShape([None]))])
                v = tf.concat([v, [i]], 0)
            return v
        result = (f(tf.constant(3)), f(tf.constant(0)))
    """,
    dyncf_autograph_while_set_loop_options="""
        @tf.function
        def f(x, n):
            i = tf.constant(0)
            v = x
            while i < n:
                tf.autograph.experimental.set_loop_options(shape_invariants=[(v, tf.TensorShape([None]))])
                v = tf.concat([v, v[:1] * x[0]], 0)
                i += 1
            return v, tf.reduce_sum(v)
        result = f(tf.constant([1.5, 2.0]), tf.constant(3))
    """,
    dyncf_autograph_loop_grows_without_options_raises="""
        @tf.function
        def f(n):
            v = tf.constant([0])
            for i in tf.range(n):
                v = tf.concat([v, [i]], 0)
            return v
        result = f(tf.constant(3))
    """,
    dyncf_list_append_in_tensor_loop_used_raises="""
        @tf.function
        def f(n):
            out = []
            for i in tf.range(n):
                out.append(i * 2)
            return tf.stack(out)
        result = f(tf.constant(3))
    """,
    dyncf_list_append_in_tensor_loop_length="""
        @tf.function
        def f(n):
            out = []
            for i in tf.range(n):
                out.append(i * 2)
            return len(out)
        result = f(tf.constant(3))
    """,
    dyncf_unique_in_function="""
        @tf.function
        def u(x):
            y, idx = tf.unique(x)
            return y, idx, tf.shape(y)
        result = (u(tf.constant([4, 2, 4, 7, 2])), u(tf.constant([1.0, float("nan"), 2.0, float("nan"), 1.0])),
                  u(tf.constant([5, 5, 5])))
    """,
    dyncf_unique_eager_out_idx="""
        result = (tf.unique(tf.constant([3, 1, 3, 2, 1, 5]), out_idx=tf.int64), tf.unique(tf.constant([], tf.int32)),
                  tf.unique(tf.constant([2.5, -1.0, 2.5])))
    """,
    dyncf_unique_unknown_length="""
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
        def u(x):
            return tf.unique(x)
        result = (u(tf.constant([9, 8, 9, 9, 1])), u(tf.constant([6])), u.experimental_get_tracing_count())
    """,
) + programs("transc",
    dyncf_cond_sizes_differ_gradient="""
        x = tf.constant([1.0, 2.0, 3.0, 4.0])
        @tf.function
        def f(x, p):
            with tf.GradientTape() as t:
                t.watch(x)
                y = tf.cond(p, lambda: x[:2] * x[1], lambda: tf.sin(x))
                s = tf.reduce_sum(y * y)
            return s, t.gradient(s, x)
        result = (f(x, tf.constant(True)), f(x, tf.constant(False)))
    """,
)

"""tf.TensorArray: eager writes, reads and their errors; static-size arrays written in function loops (AutoGraph
and tf.while_loop), inside cond branches, and gradients through them."""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    ta_eager_write_stack_read_size="""
        ta = tf.TensorArray(tf.float32, size=3)
        ta = ta.write(0, [1.0, 2.0]).write(2, [5.0, 6.0])
        result = (ta.stack(), ta.read(1), ta.size(), ta.element_shape, ta.dtype)
    """,
    ta_eager_write_past_fixed_size_raises="""
        result = tf.TensorArray(tf.float32, size=3).write(3, 1.0)
    """,
    ta_eager_incompatible_element_shape_raises="""
        result = tf.TensorArray(tf.float32, size=3).write(0, [1.0, 2.0]).write(1, [3.0])
    """,
    ta_eager_dynamic_size_grows="""
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True).write(4, 1.0)
        result = (ta.stack(), ta.size())
    """,
    ta_eager_empty_and_element_shape="""
        result = (tf.TensorArray(tf.float32, size=0).stack(),
                  tf.TensorArray(tf.float32, size=2, element_shape=[3]).stack())
    """,
    ta_eager_unstack_gather_scatter_concat="""
        a = tf.TensorArray(tf.int32, size=3).unstack([[1, 2], [3, 4], [5, 6]])
        b = tf.TensorArray(tf.int32, size=3).scatter([2, 0], [[1, 2], [3, 4]])
        result = (a.gather([2, 0]), b.stack(), b.concat())
    """,
    ta_eager_unstack_too_many_raises="""
        result = tf.TensorArray(tf.int32, size=2).unstack([[1, 2], [3, 4], [5, 6]])
    """,
    ta_eager_clear_after_read_second_read_raises="""
        ta = tf.TensorArray(tf.float32, size=2).unstack([1.0, 2.0])
        first = ta.read(0)
        result = ta.read(0)
    """,
    ta_eager_no_clear_after_read="""
        ta = tf.TensorArray(tf.float32, size=2, clear_after_read=False).unstack([1.0, 2.0])
        result = (ta.read(0), ta.read(0))
    """,
    ta_eager_read_out_of_range_raises="""
        result = tf.TensorArray(tf.float32, size=2).read(5)
    """,
    ta_function_autograph_loop_static_size="""
        @tf.function
        def f(x):
            ta = tf.TensorArray(tf.float32, size=x.shape[0])
            for i in tf.range(x.shape[0]):
                ta = ta.write(i, x[i] * x[i])
            return ta.stack(), ta.size()
        result = f(tf.constant([1.0, 2.0, 3.0]))
    """,
    ta_function_gradient_through_loop="""
        @tf.function
        def g(x):
            ta = tf.TensorArray(tf.float32, size=x.shape[0])
            for i in tf.range(x.shape[0]):
                ta = ta.write(i, x[i] * x[i])
            return tf.reduce_sum(ta.stack())
        x = tf.constant([1.0, 2.0, 3.0])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = g(x)
        result = (y, tape.gradient(y, x))
    """,
    ta_function_rows_of_matrix_and_read_back="""
        @tf.function
        def f(m):
            ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False)
            for i in tf.range(3):
                ta = ta.write(i, tf.reduce_sum(m[i]) * m[i])
            total = tf.zeros([2])
            for i in tf.range(3):
                total += ta.read(i)
            return ta.stack(), total
        result = f(tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    """,
    ta_function_while_loop_explicit="""
        @tf.function
        def f(x):
            ta = tf.TensorArray(tf.float32, size=3)
            i, ta = tf.while_loop(lambda i, ta: i < 3,
                                  lambda i, ta: (i + 1, ta.write(i, x * tf.cast(i, tf.float32))), [0, ta])
            return ta.stack()
        result = f(tf.constant([1.0, 2.0]))
    """,
    ta_function_cond_branches_write="""
        @tf.function
        def g(x):
            ta = tf.TensorArray(tf.float32, size=2, element_shape=[2])
            if tf.reduce_sum(x) > 0:
                ta = ta.write(0, x)
            else:
                ta = ta.write(1, -x)
            return ta.stack()
        result = (g(tf.constant([1.0, 2.0])), g(tf.constant([-1.0, -2.0])))
    """,
    ta_function_unwritten_rows_are_zeros="""
        @tf.function
        def h():
            ta = tf.TensorArray(tf.float32, size=2)
            ta = ta.write(0, 1.0)
            return ta.stack(), ta.size()
        result = h()
    """,
    ta_function_unstack_then_loop_reads="""
        @tf.function
        def f(x):
            ta = tf.TensorArray(tf.float32, size=4).unstack(x)
            acc = tf.constant(0.0)
            for i in tf.range(4):
                acc = acc * 2.0 + ta.read(i)
            return acc
        result = f(tf.constant([1.0, 0.0, 1.0, 1.0]))
    """,
)

PROGRAMS += programs("exact",
    ta_function_dynamic_size_grows_in_loop="""
        @tf.function
        def f(n):
            ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
            for i in tf.range(n):
                ta = ta.write(i, tf.cast(i, tf.float32) * 2.0)
            return ta.stack(), ta.size()
        result = (f(tf.constant(4)), f(tf.constant(0)), f(tf.constant(1)))
    """,
    ta_function_dynamic_size_vectors_gradient="""
        @tf.function
        def g(x, n):
            ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[2])
            for i in tf.range(n):
                ta = ta.write(i, x * tf.cast(i + 1, tf.float32))
            return tf.reduce_sum(ta.stack() ** 2)
        x = tf.constant([1.0, 2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = g(x, tf.constant(3))
        result = (y, t.gradient(y, x))
    """,
    ta_function_write_past_fixed_size_at_run_time_raises="""
        @tf.function
        def f(n):
            ta = tf.TensorArray(tf.float32, size=2)
            for i in tf.range(n):
                ta = ta.write(i, 1.0)
            return ta.stack()
        ok = f(tf.constant(2))
        result = f(tf.constant(3))
    """,
)

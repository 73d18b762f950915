"""tf.Variable as a user sees it: assign's return values, read_value=False, shapes and dtypes of assignments,
arithmetic on Variables giving tensors, trainable, and Variables read and written inside functions.
"""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    var_assign_add_read_value_false="""
        v = tf.Variable(1.0)
        r = v.assign_add(2.0, read_value=False)
        result = (r, v)
    """,
    var_assign_returns_value="""
        v = tf.Variable([1, 2])
        r = v.assign([5, 6])
        result = (r.numpy(), v)
    """,
    var_assign_sub_chain="""
        v = tf.Variable(10)
        v.assign_sub(3)
        v.assign_add(1)
        result = v
    """,
    var_assign_wrong_shape_raises="""
        v = tf.Variable([1.0, 2.0])
        result = v.assign([1.0, 2.0, 3.0])
    """,
    var_arithmetic_gives_tensor="""
        v = tf.Variable([1.0, 2.0])
        x = v * 2.0
        result = (isinstance(x, tf.Variable), tf.is_tensor(x), x)
    """,
    var_trainable_flag="""
        a = tf.Variable(1.0)
        b = tf.Variable(1.0, trainable=False)
        result = (a.trainable, b.trainable)
    """,
    var_shape_and_dtype="""
        v = tf.Variable(tf.zeros([2, 3], tf.int64))
        result = (v.shape, v.dtype, v.numpy().dtype.name)
    """,
    var_read_value_is_snapshot="""
        v = tf.Variable(1)
        r = v.read_value()
        v.assign(7)
        result = (r, v)
    """,
    var_in_function_assign_add_read_value_false="""
        v = tf.Variable(0)
        @tf.function
        def f():
            r = v.assign_add(5, read_value=False)
            return r is None
        first = f()
        result = (first, v)
    """,
    var_in_function_read_after_write="""
        v = tf.Variable(1.0)
        @tf.function
        def f(x):
            a = v * 1.0
            v.assign(x)
            b = v * 1.0
            return a, b
        result = (f(tf.constant(4.0)), v)
    """,
    var_in_function_loop_updates="""
        v = tf.Variable(0)
        @tf.function
        def f(n):
            for i in tf.range(n):
                v.assign_add(i)
            return v.read_value()
        result = (f(tf.constant(5)), f(tf.constant(3)), v)
    """,
    var_in_function_cond_update="""
        v = tf.Variable(1.0)
        @tf.function
        def f(x):
            if x > 0.0:
                v.assign(v * 10.0)
            else:
                v.assign(-1.0)
            return v.read_value()
        result = (f(tf.constant(1.0)), f(tf.constant(1.0)), f(tf.constant(-1.0)))
    """,
    var_compare_with_tensor="""
        v = tf.Variable([1, 5])
        result = (v > 2, v == tf.constant([1, 4]))
    """,
    var_index_and_slice_assign="""
        v = tf.Variable([1, 2, 3, 4])
        v[1:3].assign([20, 30])
        result = v
    """,
)

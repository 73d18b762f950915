"""Elementwise broadcasting of a dim of unknown size that is 1 when the function runs: `x - x[:1]` under a `None`
batch, two `None` dims of which either, both or neither is 1, the static shapes TF infers, the error of two
different sizes neither of which is 1 (class, and whether TF's text is in the message), and gradients.
"""
from tests.oracle.program import programs


PROGRAMS = programs("exact",
    udb_row_minus_first_row="""
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def f(x):
            return x - x[:1], x[:1] * x, tf.shape(x[:1] + x)
        result = [f(tf.reshape(tf.range(3.0 * n), [n, 3])) for n in (4, 1, 2)]
        result.append(f.experimental_get_tracing_count())
    """,
    udb_either_both_or_neither_is_one="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.int32)] * 2)
        def f(x, y):
            return x + y, tf.maximum(x, y), tf.where(x > y, x, y)
        result = []
        for n, m in ((3, 1), (1, 3), (1, 1), (2, 2), (0, 1), (1, 0)):
            result.append(f(tf.reshape(tf.range(2 * n), [n, 2]), tf.reshape(tf.range(10, 10 + 2 * m), [m, 2])))
        result.append(f.experimental_get_tracing_count())
    """,
    udb_static_shapes="""
        seen = []
        for a, b in (([None], [None]), ([None], [1]), ([None], [5]), ([1], [None]), ([None, 1], [None])):
            @tf.function(input_signature=[tf.TensorSpec(a), tf.TensorSpec(b)])
            def f(x, y):
                seen.append((a, b, (x * y).shape.as_list()))
                return x * y
            f.get_concrete_function()
        result = seen
    """,
    udb_mismatch_raises="""
        f = tf.function(lambda x, y: x * y, input_signature=[tf.TensorSpec([None, 3], tf.float32)] * 2)
        try:
            f(tf.ones([3, 3]), tf.ones([2, 3]))
            result = "no error"
        except tf.errors.InvalidArgumentError as e:
            result = ("InvalidArgumentError", "Incompatible shapes: [3,3] vs. [2,3]" in str(e))
    """,
    udb_mismatch_raises_1d="""
        f = tf.function(lambda x, y: x - y, input_signature=[tf.TensorSpec([None], tf.float32)] * 2)
        try:
            f(tf.ones([3]), tf.ones([2]))
            result = "no error"
        except tf.errors.InvalidArgumentError as e:
            result = ("InvalidArgumentError", "Incompatible shapes: [3] vs. [2]" in str(e))
    """,
)

PROGRAMS += programs("grad",
    udb_gradients_sum_over_broadcast_rows="""
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float64)] * 2)
        def f(x, y):
            with tf.GradientTape() as tape:
                tape.watch([x, y])
                loss = tf.reduce_sum(tf.sin(x * y - x[:1]) * tf.constant([1.0, 2.0], tf.float64))
            return loss, tape.gradient(loss, [x, y])
        a = tf.constant([[0.5, -1.0], [2.0, 0.25], [1.5, 3.0]], tf.float64)
        b = tf.constant([[0.3, -0.7]], tf.float64)
        result = [f(a, b), f(b, a), f(b, b), f(a, a)]
    """,
)

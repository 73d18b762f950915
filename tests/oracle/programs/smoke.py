"""A few programs across the classes, the first recorded: the recorder and the replay checked end to end."""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    smoke_int_add="""
        x = tf.constant([1, 2, 3])
        result = (x + 1, (x + 1).dtype, x.shape)
    """,
    smoke_dtype_mix_error="""
        result = tf.constant(1.0) + tf.constant(1)
    """,
    smoke_scalar_function_call="""
        f = tf.function(lambda x: x * 2.0)
        result = f(tf.constant(1.0) + tf.constant(2.0))
    """,
) + programs("grad",
    smoke_tape_around_function="""
        f = tf.function(lambda x: x * x)
        x = tf.constant(3.0)
        with tf.GradientTape() as t:
            t.watch(x)
            y = f(x)
        result = t.gradient(y, x)
    """,
    smoke_floor_gradient_is_none="""
        x = tf.constant([1.5, 2.5])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.floor(x) * x
            z = tf.floor(x)
        result = t.gradient(z, x)
    """,
)

"""Padding SAME with a stride on a spatial dimension of unknown size (`TensorSpec([None, None, None, C])`): the
padding depends on the size of each call. conv2d and its two gradients, max and average pooling and theirs, at
several input sizes through one traced function.
"""
from tests.oracle.program import programs


PROGRAMS = programs("exact",
    csu_max_pool_stride_2="""
        f = tf.function(lambda x: tf.nn.max_pool2d(x, 2, 2, "SAME"),
                        input_signature=[tf.TensorSpec([None, None, 8, 1], tf.float32)])
        result = [f(tf.reshape(tf.range(float(n * 8)), [1, n, 8, 1])) for n in (5, 3, 4, 1)]
    """,
)

PROGRAMS += programs("grad",
    csu_conv_and_pools_with_gradients="""
        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 2], tf.float64),
                                      tf.TensorSpec([3, 2, 2, 3], tf.float64)])
        def f(x, w):
            with tf.GradientTape() as tape:
                tape.watch([x, w])
                y = tf.nn.conv2d(x, w, [2, 3], "SAME")
                m = tf.nn.max_pool2d(y, 3, 2, "SAME")
                a = tf.nn.avg_pool2d(y, 2, [3, 2], "SAME")
                loss = tf.reduce_sum(tf.sin(y)) + tf.reduce_sum(m * m) + tf.reduce_sum(a * a * a)
            return y, m, a, loss, tape.gradient(loss, [x, w])
        w = tf.reshape(tf.cos(tf.range(36, dtype=tf.float64)), [3, 2, 2, 3])
        result = []
        for n, h, wd in ((2, 5, 7), (1, 4, 6), (1, 7, 3), (3, 1, 2)):
            x = tf.reshape(tf.sin(tf.range(float(n * h * wd * 2), dtype=tf.float64) * 0.7), [n, h, wd, 2])
            result.append(f(x, w))
    """,
)

"""Unknown dimensions: `None` in input signatures and concrete functions, trace counts with and without
`reduce_retracing`, shapes seen while tracing, `tf.shape` at run time, gradients, and tf.data's partial batches.

A Python list appended to inside a function counts its traces; shapes seen while tracing are recorded from inside.
"""
from tests.oracle.program import programs


PROGRAMS = programs("exact",
    ud_signature_traces_once_for_every_batch="""
        traces = []
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def f(x):
            traces.append(1)
            return tf.reduce_sum(x, axis=1), tf.reduce_max(x)
        outs = [f(tf.reshape(tf.range(3 * n, dtype=tf.float32), [n, 3])) for n in (2, 5, 1, 2)]
        result = (outs, len(traces))
    """,
    ud_traced_shape_is_none="""
        seen = []
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
        def f(x):
            seen.append((x.shape, x.shape[0], x.shape[1], x.shape.as_list(), x.shape.rank,
                         x.shape.is_fully_defined(), x.shape.num_elements()))
            return x + 1.0
        y = f(tf.zeros([3, 4]))
        result = (seen, y.shape)
    """,
    ud_tf_shape_is_a_run_time_value="""
        @tf.function(input_signature=[tf.TensorSpec([None, None, 2], tf.float32)])
        def f(x):
            s = tf.shape(x)
            return s, s[0] * s[1], tf.size(x), tf.rank(x), tf.shape(x, out_type=tf.int64)
        result = (f(tf.zeros([3, 4, 2])), f(tf.zeros([1, 5, 2])))
    """,
    ud_reduce_retracing_counts="""
        result = []
        for shapes in ([(2, 3), (4, 3), (5, 3), (2, 3)], [(2, 3), (2, 4), (4, 5), (6, 7)],
                       [(3,), (3,), (4,), (5,), (3,)], [(2, 3), (4, 6), (5, 3)], [(2, 3), (2, 3), (4, 3), (4, 6)]):
            traces = []
            @tf.function(reduce_retracing=True)
            def f(x):
                traces.append(x.shape.as_list())
                return tf.reduce_sum(x)
            after = []
            for s in shapes:
                f(tf.ones(s))
                after.append(len(traces))
            result.append((after, traces))
    """,
    ud_without_reduce_retracing_counts="""
        result = []
        for shapes in ([(2, 3), (4, 3), (5, 3), (2, 3)], [(3,), (3,), (4,), (5,), (3,)]):
            traces = []
            @tf.function
            def f(x):
                traces.append(x.shape.as_list())
                return tf.reduce_sum(x)
            after = []
            for s in shapes:
                f(tf.ones(s))
                after.append(len(traces))
            result.append((after, traces))
    """,
    ud_reduce_retracing_relaxes_the_first_dim="""
        traces = []
        @tf.function(reduce_retracing=True)
        def f(x, w):
            traces.append(x.shape.as_list())
            return tf.reduce_mean(x * w, axis=0)
        w = tf.constant([1.0, 2.0])
        outs = [f(tf.ones([n, 2]) * float(n), w) for n in (1, 2, 3, 4)]
        result = (outs, traces)
    """,
    ud_concrete_function_of_none_spec="""
        traces = []
        @tf.function
        def f(x):
            traces.append(x.shape.as_list())
            return x * 2.0, tf.shape(x)
        cf = f.get_concrete_function(tf.TensorSpec([None, 3], tf.float32))
        a = cf(tf.ones([2, 3]))
        b = cf(tf.ones([4, 3]))
        c = f(tf.ones([5, 3]))
        result = (a, b, c, traces)
    """,
    ud_signature_rejects_another_shape="""
        f = tf.function(lambda x: x + 1.0, input_signature=[tf.TensorSpec([None, 784], tf.float32)])
        result = f(tf.zeros([3, 5]))
    """,
    ud_signature_rejects_another_rank="""
        f = tf.function(lambda x: x + 1.0, input_signature=[tf.TensorSpec([None, 784], tf.float32)])
        result = f(tf.zeros([3]))
    """,
    ud_reshape_and_mean_with_unknown_batch="""
        seen = []
        @tf.function(input_signature=[tf.TensorSpec([None, 2, 3], tf.float32)])
        def f(x):
            flat = tf.reshape(x, [-1, 6])
            centered = flat - tf.reduce_mean(flat, axis=0, keepdims=True)
            seen.append((flat.shape, tf.expand_dims(x, 1).shape, tf.reshape(x, [tf.shape(x)[0], 3, 2]).shape))
            return tf.reshape(x, [-1]), centered, tf.reduce_mean(x), tf.reduce_sum(tf.squeeze(x[:, :1], 1), 1)
        x = tf.reshape(tf.range(12, dtype=tf.float32), [2, 2, 3])
        result = (f(x), f(x[:1]), seen)
    """,
    ud_slices_of_the_unknown_axis="""
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.int32)])
        def f(x):
            return x[:, 0], x[1:], x[:2], x[0], x[:, 1:]
        x = tf.reshape(tf.range(12), [4, 3])
        result = (f(x), f(x[:2]))
    """,
    ud_partial_batches_of_a_dataset="""
        traces = []
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
        def f(x):
            traces.append(1)
            return tf.reduce_sum(x * 2)
        ds = tf.data.Dataset.range(10).batch(4)
        outs = [f(b) for b in ds]
        plain = []
        @tf.function
        def g(x):
            plain.append(1)
            return tf.reduce_sum(x)
        for b in ds:
            g(b)
        result = (outs, len(traces), len(plain), ds.element_spec.shape,
                  tf.data.Dataset.range(10).batch(4, drop_remainder=True).element_spec.shape)
    """,
    ud_batches_with_reduce_retracing="""
        traces = []
        @tf.function(reduce_retracing=True)
        def f(x):
            traces.append(x.shape.as_list())
            return tf.reduce_sum(x)
        ds = tf.data.Dataset.from_tensor_slices(tf.reshape(tf.range(20.0), [10, 2])).batch(3)
        result = ([f(b) for b in ds] + [f(b) for b in ds], traces)
    """,
)

PROGRAMS += programs("grad",
    ud_gradient_inside_a_function_with_unknown_batch="""
        w = tf.Variable([[0.5, -1.0], [0.25, 2.0], [-0.5, 0.75]])
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def step(x):
            with tf.GradientTape() as tape:
                h = tf.tanh(x @ w)
                loss = tf.reduce_mean(tf.reduce_sum(h * h, axis=1))
            return loss, tape.gradient(loss, w)
        x = tf.reshape(tf.range(-6.0, 6.0), [4, 3]) / 4.0
        result = (step(x), step(x[:3]), step(x[1:2]))
    """,
    ud_gradient_of_a_call_with_unknown_batch="""
        f = tf.function(lambda x: tf.reduce_sum(tf.exp(x[:, :2] - tf.reduce_max(x, axis=1, keepdims=True))),
                        input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        grads = []
        for n in (2, 3):
            x = tf.reshape(tf.range(3.0 * n), [n, 3]) / 5.0
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = f(x)
            grads.append((y, tape.gradient(y, x)))
        result = grads
    """,
)

PROGRAMS += programs("loose",
    ud_keras_fit_with_a_partial_last_batch="""
        model = tf.keras.Sequential([tf.keras.Input((3,)),
                                     tf.keras.layers.Dense(4, activation="tanh",
                                                           kernel_initializer=tf.keras.initializers.Constant(0.1)),
                                     tf.keras.layers.Dense(1, kernel_initializer=tf.keras.initializers.Constant(-0.2))])
        model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
        x = np.linspace(-1.0, 1.0, 30, dtype=np.float32).reshape(10, 3)
        y = np.sin(x.sum(axis=1, keepdims=True))
        history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
        result = (history.history["loss"], [w.numpy() for w in model.weights],
                  model.predict(x, batch_size=4, verbose=0))
    """,
)

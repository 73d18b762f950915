"""Keras programs: layers with set weights, losses and metrics against TF's formulas, model construction, shapes
and parameter counts, a few compiled training steps."""
from tests.oracle.program import programs

PROGRAMS = programs("arith",
    keras_dense_with_set_weights="""
        layer = tf.keras.layers.Dense(2, activation="relu")
        layer.build((None, 3))
        layer.set_weights([np.array([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.25]], np.float32), np.array([0.1, -0.2], np.float32)])
        y = layer(tf.constant([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]))
        result = (y, y.dtype, [w.shape for w in layer.weights], layer.count_params())
    """,
    keras_flatten_reshape_shapes="""
        x = tf.zeros([4, 3, 2, 5])
        result = (tf.keras.layers.Flatten()(x).shape, tf.keras.layers.Reshape((6, 5))(x).shape,
                  tf.keras.layers.Reshape((-1, 2))(x).shape)
    """,
    keras_sequential_param_counts="""
        model = tf.keras.Sequential([tf.keras.Input(shape=(28, 28)), tf.keras.layers.Flatten(),
                                     tf.keras.layers.Dense(128, activation="relu"), tf.keras.layers.Dense(10)])
        result = (model.count_params(), len(model.trainable_variables), model(tf.zeros([2, 28, 28])).shape)
    """,
    keras_sparse_cce_probabilities="""
        loss = tf.keras.losses.SparseCategoricalCrossentropy()
        result = loss(tf.constant([0, 2]), tf.constant([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]))
    """,
    keras_sparse_cce_logits_weighted="""
        loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        result = loss(tf.constant([1, 0, 2]), tf.constant([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0], [2.0, 1.0, 0.0]]),
                      sample_weight=tf.constant([1.0, 0.5, 2.0]))
    """,
    keras_categorical_cce_label_smoothing="""
        loss = tf.keras.losses.CategoricalCrossentropy(label_smoothing=0.1)
        result = loss(tf.constant([[0.0, 1.0, 0.0]]), tf.constant([[0.2, 0.7, 0.1]]))
    """,
    keras_binary_crossentropy="""
        result = (tf.keras.losses.BinaryCrossentropy()(tf.constant([[0.0], [1.0], [1.0]]),
                                                       tf.constant([[0.1], [0.8], [0.4]])),
                  tf.keras.losses.BinaryCrossentropy(from_logits=True)(tf.constant([[0.0, 1.0]]),
                                                                       tf.constant([[-1.0, 2.0]])))
    """,
    keras_regression_losses="""
        yt = tf.constant([[1.0, 2.0], [3.0, -1.0]])
        yp = tf.constant([[1.5, 1.0], [0.0, -1.2]])
        result = [tf.keras.losses.MeanSquaredError()(yt, yp), tf.keras.losses.MeanAbsoluteError()(yt, yp),
                  tf.keras.losses.Huber(delta=1.0)(yt, yp),
                  tf.keras.losses.MeanSquaredError(reduction="sum")(yt, yp),
                  tf.keras.losses.MeanSquaredError(reduction=None)(yt, yp)]
    """,
    keras_accuracy_metrics="""
        m1 = tf.keras.metrics.SparseCategoricalAccuracy()
        m1.update_state([1, 2, 0], [[0.1, 0.8, 0.1], [0.5, 0.4, 0.1], [0.9, 0.05, 0.05]])
        m2 = tf.keras.metrics.BinaryAccuracy()
        m2.update_state([[1], [0], [1], [0]], [[0.7], [0.6], [0.2], [0.1]])
        m3 = tf.keras.metrics.CategoricalAccuracy()
        m3.update_state([[0, 1], [1, 0]], [[0.3, 0.7], [0.4, 0.6]])
        result = [m1.result(), m2.result(), m3.result()]
    """,
    keras_mean_metric_and_reset="""
        m = tf.keras.metrics.Mean()
        m.update_state([1.0, 2.0, 3.0])
        m.update_state(10.0, sample_weight=2.0)
        first = m.result()
        m.reset_state()
        result = (first, m.result())
    """,
    keras_precision_recall_auc="""
        y = [0, 1, 1, 0, 1, 1]
        p = [0.1, 0.9, 0.4, 0.6, 0.7, 0.3]
        ms = [tf.keras.metrics.Precision(), tf.keras.metrics.Recall(), tf.keras.metrics.AUC()]
        for m in ms:
            m.update_state(y, p)
        result = [m.result() for m in ms]
    """,
    keras_layer_normalization="""
        layer = tf.keras.layers.LayerNormalization()
        result = layer(tf.constant([[1.0, 2.0, 4.0], [-1.0, 0.0, 1.0]]))
    """,
    keras_batch_normalization_training="""
        layer = tf.keras.layers.BatchNormalization(momentum=0.5)
        x = tf.constant([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]])
        y = layer(x, training=True)
        result = (y, layer.moving_mean.numpy(), layer.moving_variance.numpy(), layer(x, training=False))
    """,
    keras_embedding_and_concatenate="""
        emb = tf.keras.layers.Embedding(5, 2, embeddings_initializer="ones")
        e = emb(tf.constant([[0, 4], [1, 1]]))
        result = (e.shape, tf.keras.layers.Concatenate()([tf.ones([2, 3]), tf.zeros([2, 1])]),
                  tf.keras.layers.Add()([tf.ones([2]), tf.ones([2])]))
    """,
    keras_conv_pool_shapes="""
        x = tf.zeros([2, 9, 9, 3])
        c = tf.keras.layers.Conv2D(4, 3, strides=2, padding="same")
        result = (c(x).shape, tf.keras.layers.MaxPooling2D()(x).shape,
                  tf.keras.layers.AveragePooling2D(pool_size=3, strides=1, padding="same")(x).shape,
                  tf.keras.layers.GlobalAveragePooling2D()(x).shape, c.count_params())
    """,
    keras_activation_names="""
        x = tf.constant([-2.0, -0.5, 0.0, 0.5, 2.0])
        result = [tf.keras.activations.get(n)(x) for n in ("relu", "sigmoid", "tanh", "softplus", "elu", "selu",
                                                           "swish", "linear")]
    """,
) + programs("loose",
    keras_sgd_steps_in_function="""
        layer = tf.keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
        opt = tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
        x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        y = tf.constant([[1.0], [2.0]])
        layer(x)
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(layer(x) - y))
            grads = tape.gradient(loss, layer.trainable_variables)
            opt.apply_gradients(zip(grads, layer.trainable_variables))
            return loss
        losses = [step() for _ in range(4)]
        result = (losses, layer.kernel.numpy(), layer.bias.numpy())
    """,
    keras_adam_steps_custom_layer="""
        class Scale(tf.keras.layers.Layer):
            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
            def call(self, x):
                return x * self.w
        layer = Scale()
        opt = tf.keras.optimizers.Adam(0.05)
        x = tf.constant([[1.0, -2.0, 0.5]])
        for _ in range(3):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum((layer(x) - 1.0) ** 2)
            opt.apply_gradients(zip(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables))
        result = (layer.w.numpy(), int(opt.iterations.numpy()))
    """,
)

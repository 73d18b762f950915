"""Keras layers, losses, metrics, regularizers, constraints and optimizers beyond issue 11's list, written as TF 2
users write them: values, shapes, dtypes, configs, training-vs-inference, inside `tf.function`, and small `fit`s."""
from tests.oracle.program import programs

PROGRAMS = programs("arith",
    kl_activation_layers="""
        x = tf.constant([[-3.0, -0.5, 0.0, 0.5, 0.75, 2.5]])
        L = tf.keras.layers
        result = [L.ReLU()(x), L.ReLU(max_value=1.0)(x), L.ReLU(negative_slope=0.1, threshold=0.5)(x),
                  L.ReLU(max_value=2.0, negative_slope=0.2, threshold=0.5)(x), L.LeakyReLU()(x),
                  L.LeakyReLU(negative_slope=0.5)(x), L.ELU()(x), L.ELU(alpha=0.5)(x), L.Softmax()(x),
                  L.Softmax(axis=0)(x), L.Softmax()(x, mask=tf.constant([[True, True, False, True, False, True]]))]
    """,
    kl_prelu_weights_and_grad="""
        layer = tf.keras.layers.PReLU(alpha_initializer=tf.keras.initializers.Constant(0.25), shared_axes=[1])
        x = tf.constant([[[-1.0, 2.0], [3.0, -4.0], [-0.5, -0.5]]])
        with tf.GradientTape() as tape:
            y = layer(x)
            s = tf.reduce_sum(y * tf.constant([1.0, 2.0]))
        result = (y, [w.shape for w in layer.weights], tape.gradient(s, layer.alpha), layer.count_params())
    """,
    kl_reshaping_layers="""
        x3 = tf.reshape(tf.range(24.0), [2, 4, 3])
        x4 = tf.reshape(tf.range(48.0), [2, 4, 3, 2])
        L = tf.keras.layers
        result = [L.ZeroPadding1D(padding=(1, 2))(x3), L.ZeroPadding2D(padding=((1, 0), (0, 2)))(x4).shape,
                  L.ZeroPadding2D(1)(x4)[0, :, :, 1], L.Cropping1D((1, 2))(x3), L.Cropping2D(((1, 1), (0, 1)))(x4),
                  L.Cropping2D(1)(x4).shape, L.UpSampling1D(2)(x3), L.UpSampling2D((2, 1))(x4)[1, :, :, 0],
                  L.Permute((2, 1))(x3), L.Permute((3, 1, 2))(x4).shape, L.RepeatVector(3)(x3[:, 0, :])]
    """,
    kl_upsampling2d_bilinear="""
        x = tf.reshape(tf.range(24.0), [2, 2, 3, 2])
        layer = tf.keras.layers.UpSampling2D(size=(2, 3), interpolation="bilinear")
        f = tf.function(lambda t: layer(t), input_signature=[tf.TensorSpec([None, 2, 3, 2], tf.float32)])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            s = tf.reduce_sum(y * tf.reshape(tf.range(144.0), [2, 4, 9, 2]) / 100.0)
        result = (y, f(x), layer.get_config()["interpolation"], tape.gradient(s, x))
    """,
    kl_layer_configs="""
        L = tf.keras.layers
        made = [L.ReLU(max_value=6.0), L.LeakyReLU(0.2), L.ELU(0.5), L.Softmax(axis=1), L.ZeroPadding1D(2),
                L.ZeroPadding2D(((1, 0), (2, 3))), L.ZeroPadding2D(1), L.Cropping1D(1), L.Cropping2D(2),
                L.UpSampling1D(3), L.UpSampling2D(2), L.Permute((2, 1)), L.RepeatVector(4), L.MaxPooling1D(3),
                L.AveragePooling1D(2, strides=1, padding="same"), L.GlobalAveragePooling1D(),
                L.GlobalMaxPooling1D(keepdims=True), L.GaussianNoise(0.2, seed=3), L.GaussianDropout(0.1),
                L.SpatialDropout1D(0.3), L.SpatialDropout2D(0.3), L.ActivityRegularization(l1=0.1),
                L.Rescaling(0.5, offset=1.0), L.Normalization(axis=-1, mean=[1.0, 2.0], variance=[1.0, 4.0]),
                L.CategoryEncoding(num_tokens=5, output_mode="count"), L.UnitNormalization(axis=[1, 2])]
        result = []
        for layer in made:
            cfg = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype", "trainable")}
            again = type(layer).from_config(layer.get_config()).get_config()
            result.append((type(layer).__name__, cfg, {k: v for k, v in again.items() if k in cfg} == cfg))
    """,
    kl_loss_metric_optimizer_configs="""
        K, M, O = tf.keras.losses, tf.keras.metrics, tf.keras.optimizers
        objs = [K.KLDivergence(), K.Poisson(reduction="sum"), K.CosineSimilarity(axis=0), K.Hinge(), K.SquaredHinge(),
                K.CategoricalHinge(), K.MeanSquaredLogarithmicError(), K.MeanAbsolutePercentageError(), K.LogCosh(),
                M.SparseTopKCategoricalAccuracy(k=3), M.TopKCategoricalAccuracy(), M.RootMeanSquaredError(),
                M.CosineSimilarity(), M.MeanIoU(num_classes=4), M.MeanSquaredError(), M.MeanAbsoluteError(),
                O.Adadelta(), O.Ftrl(learning_rate=0.05, l1_regularization_strength=0.1)]
        result = []
        for o in objs:
            # Keras 3 leaves CosineSimilarity's `axis` out of its configs (lost on reload); Kiln keeps it.
            cfg = {k: v for k, v in o.get_config().items() if k not in ("dtype", "axis")}
            result.append((type(o).__name__, getattr(o, "name", None), cfg))
    """,
    kl_activation_layer_gradients_at_large_inputs="""
        x = tf.constant([[100.0, -100.0, -1.0, 0.5, 3.0]])
        L = tf.keras.layers
        grads = []
        for layer in (L.ELU(), L.ELU(alpha=0.5), L.LeakyReLU(0.2), L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5),
                      L.Softmax(), L.PReLU(alpha_initializer=tf.keras.initializers.Constant(0.25))):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                s = tf.reduce_sum(y * tf.constant([[1.0, 2.0, 3.0, 4.0, 5.0]]))
            grads.append(tape.gradient(s, x))
        result = grads + [tf.keras.activations.elu(x, alpha=0.5)]
    """,
    kl_zero_vector_gradients="""
        x = tf.constant([[0.0, 0.0], [3.0, 4.0]])
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            a = tf.reduce_sum(tf.keras.layers.UnitNormalization()(x) * tf.constant([1.0, 2.0]))
            b = tf.keras.losses.CosineSimilarity()(tf.constant([[1.0, 0.0], [0.0, 1.0]]), x)
            c = tf.keras.regularizers.L1L2(l1=0.1, l2=0.1)(x)
        result = (tape.gradient(a, x), tape.gradient(b, x), tape.gradient(c, x))
    """,
    kl_pooling_1d="""
        x = tf.reshape(tf.range(30.0) % 7.0, [2, 5, 3])
        L = tf.keras.layers
        result = [L.MaxPooling1D()(x), L.MaxPooling1D(pool_size=3, strides=1, padding="same")(x),
                  L.AveragePooling1D(pool_size=2, strides=2, padding="same")(x), L.AveragePooling1D(3)(x),
                  L.GlobalAveragePooling1D()(x), L.GlobalMaxPooling1D()(x),
                  L.GlobalAveragePooling1D(keepdims=True)(x).shape, L.MaxPool1D(2).get_config()["pool_size"]]
    """,
    kl_noise_layers_inference_identity="""
        x = tf.reshape(tf.range(12.0), [2, 3, 2])
        x4 = tf.reshape(tf.range(16.0), [1, 2, 2, 4])
        L = tf.keras.layers
        result = [L.GaussianNoise(0.3)(x), L.GaussianDropout(0.4)(x), L.SpatialDropout1D(0.5)(x),
                  L.SpatialDropout2D(0.5)(x4), L.GaussianNoise(0.3)(x, training=True).shape,
                  L.Dropout(0.5)(x, training=False)]
    """,
    kl_spatial_dropout_drops_whole_channels="""
        tf.keras.utils.set_random_seed(1)
        x = tf.ones([8, 5, 16])
        y = tf.keras.layers.SpatialDropout1D(0.5)(x, training=True).numpy()
        per_channel = [sorted(set(y[i, :, c].tolist())) for i in range(8) for c in range(16)]
        result = (all(len(v) == 1 and v[0] in (0.0, 2.0) for v in per_channel), y.shape)
    """,
    kl_activity_regularization_losses="""
        layer = tf.keras.layers.ActivityRegularization(l1=0.1, l2=0.01)
        y = layer(tf.constant([[1.0, -2.0], [3.0, 0.5]]))
        dense = tf.keras.layers.Dense(2, kernel_initializer="ones", kernel_regularizer=tf.keras.regularizers.L1(0.01),
                                      bias_regularizer="l2", activity_regularizer=tf.keras.regularizers.L2(0.01))
        z = dense(tf.ones([5, 3]) * 2.0)
        result = (y, layer.losses, dense.losses, sorted(layer.get_config().keys()))
    """,
    kl_rescaling_unit_norm_category="""
        L = tf.keras.layers
        x = tf.constant([[0.0, 127.5, 255.0], [3.0, 4.0, 0.0]])
        result = [L.Rescaling(1.0 / 255)(x), L.Rescaling(scale=2.0, offset=-1.0)(x), L.UnitNormalization()(x),
                  L.UnitNormalization(axis=0)(x),
                  L.CategoryEncoding(num_tokens=4, output_mode="one_hot")(tf.constant([3, 0, 2])),
                  L.CategoryEncoding(num_tokens=4, output_mode="multi_hot")(tf.constant([[0, 1], [2, 2]])),
                  L.CategoryEncoding(num_tokens=4, output_mode="count")(tf.constant([[0, 1, 1], [3, 3, 3]])),
                  L.CategoryEncoding(num_tokens=4, output_mode="count")(tf.constant([[0, 1], [3, 3]]),
                                                                        count_weights=tf.constant([[0.5, 1.0], [2.0, 0.25]]))]
    """,
    kl_normalization_adapt="""
        data = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0], [6.0, 40.0]], np.float32)
        norm = tf.keras.layers.Normalization()
        norm.adapt(data)
        inv = tf.keras.layers.Normalization(mean=[3.0, 25.0], variance=[5.0, 125.0], invert=True)
        whole = tf.keras.layers.Normalization(axis=None)
        whole.adapt(data)
        batched = tf.keras.layers.Normalization()
        batched.adapt(tf.data.Dataset.from_tensor_slices(data).batch(3))
        result = (norm(data), norm.count_params(), [w.shape for w in norm.weights], inv(tf.constant([[1.0, -1.0]])),
                  whole(data[:1]), batched(data))
    """,
    kl_conv2d_transpose="""
        L = tf.keras.layers
        x = tf.reshape(tf.range(18.0) / 10.0, [1, 3, 3, 2])
        a = L.Conv2DTranspose(2, 3, strides=2, padding="same", kernel_initializer="ones")
        b = L.Conv2DTranspose(1, (2, 3), strides=(2, 1), padding="valid", output_padding=(1, 0),
                              kernel_initializer="ones", bias_initializer="ones")
        c = L.Conv2DTranspose(3, 2, kernel_initializer="ones", activation="relu")
        result = (a(x), a.kernel.shape, b(x), c(x).shape, c.compute_output_shape((None, 5, 4, 2)),
                  L.Conv2DTranspose(4, 3, strides=3, padding="same").compute_output_shape((None, 5, 4, 2)))
    """,
    kl_conv2d_transpose_dilated_and_in_fit_step="""
        x = tf.reshape(tf.range(32.0) / 32.0, [2, 4, 2, 2])
        layer = tf.keras.layers.Conv2DTranspose(1, 2, dilation_rate=2, kernel_initializer="ones", padding="same")
        same = tf.keras.layers.Conv2DTranspose(2, (3, 2), strides=(1, 2), padding="same", kernel_initializer="ones")
        f = tf.function(lambda t: same(t), input_signature=[tf.TensorSpec([None, 4, 2, 2], tf.float32)])
        result = (tf.keras.layers.Conv2DTranspose(1, 2, dilation_rate=2, kernel_initializer="ones")(x), layer(x),
                  f(x))
    """,
    kl_conv2d_transpose_gradient="""
        layer = tf.keras.layers.Conv2DTranspose(2, 2, strides=2, kernel_initializer="ones")
        x = tf.reshape(tf.range(8.0), [1, 2, 2, 2])
        w = tf.reshape(tf.range(32.0) / 32.0, [1, 4, 4, 2])
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            s = tf.reduce_sum(layer(x) * w)
        result = (tape.gradient(s, x), tape.gradient(s, layer.kernel), tape.gradient(s, layer.bias))
    """,
    kl_new_losses="""
        yt = tf.constant([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
        yp = tf.constant([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
        K = tf.keras.losses
        result = [K.KLDivergence()(yt, yp), K.Poisson()(yt, yp), K.CosineSimilarity()(yt, yp),
                  K.CosineSimilarity(axis=0)(yt, yp), K.Hinge()(yt, yp), K.SquaredHinge()(yt, yp),
                  K.Hinge()(tf.constant([[-1.0, 1.0, 2.0]]), tf.constant([[0.3, 0.8, -0.2]])),
                  K.CategoricalHinge()(yt, yp), K.MeanSquaredLogarithmicError()(yt, yp),
                  K.MeanAbsolutePercentageError()(tf.constant([[1.0, 2.0], [4.0, -1.0]]), tf.constant([[1.5, 1.0], [4.0, 0.0]])),
                  K.LogCosh()(yt, yp), K.KLDivergence(reduction="sum")(yt, yp),
                  K.Poisson(reduction=None)(yt, yp), K.Hinge()(yt, yp, sample_weight=tf.constant([1.0, 0.0])),
                  K.kld(yt, yp), K.kullback_leibler_divergence(yt, yp), K.cosine_similarity(yt, yp), K.msle(yt, yp),
                  K.mape(yt + 1.0, yp), K.logcosh(yt, yp), K.categorical_hinge(yt, yp), K.squared_hinge(yt, yp),
                  K.poisson(yt, yp), K.hinge(yt, yp), K.get("kld")(yt, yp), K.get("KLDivergence")(yt, yp)]
    """,
    kl_new_losses_in_function="""
        loss = tf.keras.losses.Hinge()
        cos = tf.keras.losses.CosineSimilarity()
        @tf.function
        def f(a, b):
            return loss(a, b), cos(a, b), tf.keras.losses.KLDivergence()(a, b)
        result = f(tf.constant([[0.0, 1.0], [1.0, 1.0]]), tf.constant([[0.4, 0.6], [0.9, 0.2]]))
    """,
    kl_new_metrics="""
        yp = tf.constant([[0.1, 0.5, 0.3, 0.1], [0.4, 0.1, 0.2, 0.3], [0.25, 0.25, 0.25, 0.25]])
        M = tf.keras.metrics
        tk = M.TopKCategoricalAccuracy(k=2)
        tk.update_state(tf.constant([[0, 0, 1.0, 0], [0, 1.0, 0, 0], [0, 0, 0, 1.0]]), yp)
        stk = M.SparseTopKCategoricalAccuracy(k=2)
        stk.update_state(tf.constant([2, 1, 3]), yp)
        stk1 = M.SparseTopKCategoricalAccuracy(k=1)
        stk1.update_state(tf.constant([[1], [0], [3]]), yp, sample_weight=tf.constant([1.0, 2.0, 0.5]))
        rmse = M.RootMeanSquaredError()
        rmse.update_state(tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([[1.5, 2.0], [2.0, 5.0]]))
        rmse.update_state(tf.constant([[0.0, 0.0]]), tf.constant([[3.0, 0.0]]))
        cs = M.CosineSimilarity()
        cs.update_state(tf.constant([[0.0, 1.0], [1.0, 1.0]]), tf.constant([[1.0, 0.0], [1.0, 1.0]]))
        mse, mae = M.MeanSquaredError(), M.MeanAbsoluteError()
        mse.update_state(tf.constant([[1.0, 2.0]]), tf.constant([[0.0, 4.0]]))
        mae.update_state(tf.constant([[1.0, 2.0]]), tf.constant([[0.0, 4.0]]))
        result = [m.result() for m in (tk, stk, stk1, rmse, cs, mse, mae)] + [m.name for m in (tk, stk, rmse, cs)]
    """,
    kl_mean_iou="""
        m = tf.keras.metrics.MeanIoU(num_classes=3)
        m.update_state(tf.constant([0, 0, 1, 1, 2]), tf.constant([0, 1, 1, 1, 0]))
        first = m.result()
        m.update_state(tf.constant([2, 2]), tf.constant([2, 2]), sample_weight=tf.constant([0.5, 1.0]))
        ign = tf.keras.metrics.MeanIoU(num_classes=3, ignore_class=0)
        ign.update_state(tf.constant([0, 1, 2, 2]), tf.constant([1, 1, 2, 0]))
        dense = tf.keras.metrics.MeanIoU(num_classes=2, sparse_y_pred=False)
        dense.update_state(tf.constant([0, 1, 1]), tf.constant([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]]))
        result = (first, m.result(), m.total_cm.numpy() if hasattr(m, "total_cm") else None, ign.result(), dense.result())
    """,
    kl_regularizers_values_and_configs="""
        R = tf.keras.regularizers
        w = tf.constant([[1.0, -2.0], [0.5, 3.0]])
        result = [R.L1(0.1)(w), R.L2(0.2)(w), R.L1L2(l1=0.1, l2=0.2)(w), R.l1_l2(l1=0.01, l2=0.01)(w),
                  R.get("l2")(w), R.get("l1")(w), R.get("L1L2")(w), R.L2(0.2).get_config(),
                  R.L1L2(l1=0.5).get_config(), R.OrthogonalRegularizer(0.1)(w),
                  R.OrthogonalRegularizer(0.1, mode="columns")(w)]
    """,
    kl_regularizer_l1_l2_name_raises="""
        result = tf.keras.regularizers.get("l1_l2")
    """,
    kl_constraints_values_and_configs="""
        C = tf.keras.constraints
        w = tf.constant([[3.0, 0.1], [4.0, -0.2]])
        result = [C.MaxNorm(2.0)(w), C.MaxNorm(1.0, axis=1)(w), C.NonNeg()(w), C.UnitNorm()(w), C.UnitNorm(axis=1)(w),
                  C.MinMaxNorm(0.5, 1.0)(w), C.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)(w),
                  C.MaxNorm(3).get_config(), C.MinMaxNorm().get_config(), C.get("non_neg")(w)]
    """,
) + programs("loose",
    kl_adadelta_ftrl_steps="""
        results = []
        for opt in (tf.keras.optimizers.Adadelta(learning_rate=1.0),
                    tf.keras.optimizers.Adadelta(learning_rate=0.5, rho=0.9, epsilon=1e-6),
                    tf.keras.optimizers.Ftrl(learning_rate=0.1),
                    tf.keras.optimizers.Ftrl(learning_rate=0.1, l1_regularization_strength=0.01,
                                             l2_regularization_strength=0.1, beta=0.5,
                                             l2_shrinkage_regularization_strength=0.05),
                    tf.keras.optimizers.Ftrl(learning_rate=0.2, learning_rate_power=-1.0, initial_accumulator_value=0.5,
                                             l1_regularization_strength=0.5)):
            w = tf.Variable([1.0, -2.0, 0.5])
            @tf.function
            def step():
                with tf.GradientTape() as tape:
                    loss = tf.reduce_sum((w - tf.constant([0.0, 1.0, 2.0])) ** 2)
                opt.apply_gradients([(tape.gradient(loss, w), w)])
            for _ in range(4):
                step()
            results.append(w.numpy())
        result = results
    """,
    kl_constraint_applied_after_step="""
        layer = tf.keras.layers.Dense(2, kernel_initializer="ones", kernel_constraint=tf.keras.constraints.MaxNorm(1.0),
                                      bias_constraint=tf.keras.constraints.NonNeg())
        x = tf.constant([[1.0, 2.0, 3.0]])
        layer(x)
        opt = tf.keras.optimizers.SGD(0.1)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        opt.apply_gradients(zip(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables))
        result = (layer.kernel.numpy(), layer.bias.numpy())
    """,
    kl_fit_with_regularizers_and_constraints="""
        tf.keras.utils.set_random_seed(0)
        x = np.linspace(-1.0, 1.0, 32, dtype=np.float32).reshape(16, 2)
        y = (x @ np.array([[1.0], [-2.0]], np.float32) + 0.5).astype(np.float32)
        model = tf.keras.Sequential([
            tf.keras.Input(shape=(2,)),
            tf.keras.layers.Dense(3, kernel_initializer=tf.keras.initializers.Constant(0.3),
                                  kernel_regularizer=tf.keras.regularizers.L2(0.01),
                                  activity_regularizer=tf.keras.regularizers.L1(0.001),
                                  kernel_constraint=tf.keras.constraints.MaxNorm(1.5)),
            tf.keras.layers.LeakyReLU(0.1),
            tf.keras.layers.Dense(1, kernel_initializer="ones", bias_constraint=tf.keras.constraints.NonNeg())])
        model.compile(optimizer=tf.keras.optimizers.SGD(0.05), loss="mse")
        hist = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        result = (hist.history["loss"], [w.numpy() for w in model.weights], len(model.losses),
                  model.evaluate(x, y, verbose=0, batch_size=16))
    """,
    kl_fit_layers_in_model="""
        x = np.linspace(0.0, 1.0, 64, dtype=np.float32).reshape(4, 4, 4, 1)
        y = np.array([0, 1, 1, 0])
        L = tf.keras.layers
        model = tf.keras.Sequential([tf.keras.Input(shape=(4, 4, 1)), L.Rescaling(2.0, offset=-1.0),
                                     L.ZeroPadding2D(1), L.Conv2DTranspose(2, 2, strides=1, kernel_initializer="ones"),
                                     L.PReLU(alpha_initializer=tf.keras.initializers.Constant(0.1)),
                                     L.Cropping2D(1), L.UpSampling2D(), L.Permute((2, 1, 3)),
                                     L.GlobalAveragePooling2D(), L.Softmax()])
        model.compile(optimizer=tf.keras.optimizers.Adadelta(1.0), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        hist = model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
        result = (hist.history["loss"], model.predict(x, verbose=0), model.count_params())
    """,
)

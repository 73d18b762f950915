"""Keras recurrent, attention and wrapper layers with weights set deterministically (sines of the element index),
eagerly and inside tf.function: outputs, states, masks (Embedding(mask_zero=True), Masking, explicit), go_backwards,
Bidirectional merges, TimeDistributed, Attention/AdditiveAttention/MultiHeadAttention with masks, gradients."""
import textwrap

from tests.oracle.program import programs

# Every program starts with these helpers (each program runs in a fresh namespace).
_W = """
def fill(layer, scale=0.5):
    layer.set_weights([(np.sin(np.arange(w.size) * 0.7 + k) * scale).reshape(w.shape).astype(np.float32)
                       for k, w in enumerate(layer.get_weights())])
x = (np.cos(np.arange(2 * 5 * 3) * 0.37) * 0.8).reshape(2, 5, 3).astype(np.float32)
"""


def _with_helpers(**sources: str) -> dict:
    return {name: _W + textwrap.dedent(src) for name, src in sources.items()}


PROGRAMS = programs("transc", **_with_helpers(
    keras_simple_rnn_sequences_and_state="""
        layer = tf.keras.layers.SimpleRNN(4, return_sequences=True, return_state=True)
        layer.build((None, 5, 3))
        fill(layer)
        seq, h = layer(x)
        result = (seq, h, [w.shape for w in layer.weights])
    """,
    keras_lstm_last_output_and_states="""
        layer = tf.keras.layers.LSTM(3, return_state=True)
        layer.build((None, 5, 3))
        fill(layer)
        out, h, c = layer(x)
        result = (out, h, c, [w.shape for w in layer.weights])
    """,
    keras_lstm_in_function_initial_state="""
        layer = tf.keras.layers.LSTM(3, return_sequences=True, return_state=True)
        layer.build((None, 5, 3))
        fill(layer)
        h0 = tf.constant(np.full((2, 3), 0.3, np.float32))
        c0 = tf.constant(np.full((2, 3), -0.2, np.float32))
        @tf.function
        def f(x):
            return layer(x, initial_state=[h0, c0])
        result = f(x)
    """,
    keras_lstm_default_bias_unit_forget="""
        layer = tf.keras.layers.LSTM(2)
        layer.build((None, 5, 3))
        result = layer.weights[2].numpy()
    """,
    keras_gru_reset_after_and_before="""
        a = tf.keras.layers.GRU(4, return_sequences=True)
        b = tf.keras.layers.GRU(4, reset_after=False, go_backwards=True)
        a.build((None, 5, 3)); b.build((None, 5, 3))
        fill(a); fill(b, 0.4)
        result = (a(x), b(x), [w.shape for w in a.weights], [w.shape for w in b.weights])
    """,
    keras_gru_in_function="""
        layer = tf.keras.layers.GRU(4, return_state=True, go_backwards=True)
        layer.build((None, 5, 3))
        fill(layer)
        result = tf.function(lambda x: layer(x))(x)
    """,
    keras_rnn_explicit_mask_carries_state="""
        mask = tf.constant([[True, True, False, True, False], [True, False, False, False, False]])
        outs = []
        for cls in (tf.keras.layers.SimpleRNN, tf.keras.layers.LSTM, tf.keras.layers.GRU):
            layer = cls(3, return_sequences=True, return_state=True)
            layer.build((None, 5, 3))
            fill(layer)
            outs.append(layer(x, mask=mask))
            outs.append(tf.function(lambda x, m: layer(x, mask=m))(x, mask))
        result = outs
    """,
    keras_embedding_mask_zero_into_lstm="""
        tokens = np.array([[3, 1, 4, 0, 0], [2, 0, 0, 0, 0], [5, 9, 2, 6, 5]], np.int32)
        model = tf.keras.Sequential([tf.keras.layers.Embedding(10, 3, mask_zero=True),
                                     tf.keras.layers.LSTM(4, return_sequences=True), tf.keras.layers.LSTM(2)])
        model(tokens)
        for layer in model.layers:
            fill(layer)
        result = (model(tokens), tf.function(lambda t: model(t))(tokens))
    """,
    keras_functional_masked_gru="""
        inputs = tf.keras.Input(shape=(5,), dtype="int32")
        e = tf.keras.layers.Embedding(10, 3, mask_zero=True)(inputs)
        h = tf.keras.layers.GRU(4)(e)
        out = tf.keras.layers.Dense(1)(h)
        model = tf.keras.Model(inputs, out)
        for layer in model.layers:
            if layer.weights:
                fill(layer)
        tokens = np.array([[3, 1, 4, 0, 0], [2, 7, 0, 0, 0]], np.int32)
        result = (model(tokens), model.count_params())
    """,
    keras_masking_layer_simple_rnn="""
        xm = x.copy()
        xm[0, 3:] = 0.0
        xm[1, 1] = 0.0
        masking = tf.keras.layers.Masking()
        rnn = tf.keras.layers.SimpleRNN(3, return_sequences=True)
        rnn.build((None, 5, 3))
        fill(rnn)
        y = masking(xm)
        result = (masking.compute_mask(xm), rnn(y))
    """,
    keras_rnn_custom_cell="""
        class MinimalCell(tf.keras.layers.Layer):
            def __init__(self, units, **kwargs):
                super().__init__(**kwargs)
                self.units = units
                self.state_size = units
            def build(self, input_shape):
                self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
                self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")
            def call(self, inputs, states):
                prev = states[0]
                h = tf.matmul(inputs, self.kernel) + tf.matmul(prev, self.recurrent_kernel)
                return h, [h]
        layer = tf.keras.layers.RNN(MinimalCell(2), return_sequences=True)
        layer.build((None, 5, 3))
        fill(layer)
        result = (layer(x), tf.function(lambda x: layer(x))(x))
    """,
    keras_lstm_cell_in_rnn_unrolled="""
        layer = tf.keras.layers.RNN(tf.keras.layers.LSTMCell(3), return_sequences=True, unroll=True)
        layer.build((None, 5, 3))
        fill(layer)
        result = (layer(x), tf.function(lambda x: layer(x))(x))
    """,
    keras_bidirectional_merge_modes="""
        outs = []
        for mode in ("concat", "sum", "ave", "mul"):
            bi = tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(3, return_sequences=True), merge_mode=mode)
            bi.build((None, 5, 3))
            fill(bi)
            outs.append(bi(x))
        result = outs
    """,
    keras_bidirectional_gru_states_in_function="""
        bi = tf.keras.layers.Bidirectional(tf.keras.layers.GRU(3, return_state=True))
        bi.build((None, 5, 3))
        fill(bi)
        mask = tf.constant([[True, True, True, False, False], [True, True, True, True, True]])
        result = (bi(x), tf.function(lambda x, m: bi(x, mask=m))(x, mask), [w.shape for w in bi.weights])
    """,
    keras_time_distributed_dense="""
        td = tf.keras.layers.TimeDistributed(tf.keras.layers.Dense(2, activation="tanh"))
        td.build((None, 5, 3))
        fill(td)
        result = (td(x), td.compute_output_shape((None, 5, 3)))
    """,
    keras_attention_dot_scale_masks="""
        q = x[:, :3]
        att = tf.keras.layers.Attention(use_scale=True)
        att.build([(None, 3, 3), (None, 5, 3)])
        att.set_weights([np.array(1.5, np.float32)])
        v_mask = tf.constant([[True, True, True, False, False], [True, True, True, True, True]])
        q_mask = tf.constant([[True, False, True], [True, True, True]])
        out, scores = att([q, x], mask=[q_mask, v_mask], return_attention_scores=True)
        causal = att([x, x], use_causal_mask=True)
        result = (out, scores, causal)
    """,
    keras_attention_concat_and_additive="""
        q = x[:, :2]
        a = tf.keras.layers.Attention(score_mode="concat")
        b = tf.keras.layers.AdditiveAttention()
        b.build([(None, 2, 3), (None, 5, 3)])
        b.set_weights([np.array([0.5, -1.0, 2.0], np.float32)])
        result = (a([q, x, x * 0.5]), b([q, x]), b([q, x, x * 2.0]))
    """,
    keras_multi_head_attention_masks="""
        mha = tf.keras.layers.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=3)
        q = x[:, :4]
        mha(q, x)
        fill(mha, 0.4)
        amask = np.ones((2, 4, 5), bool)
        amask[0, :, 3:] = False
        out, scores = mha(q, x, attention_mask=tf.constant(amask), return_attention_scores=True)
        causal = tf.function(lambda a, b: mha(a, b, use_causal_mask=True))(x, x)
        result = (out, scores, causal, [w.shape for w in mha.weights])
    """,
    keras_multi_head_attention_self_key_output_shape="""
        mha = tf.keras.layers.MultiHeadAttention(num_heads=3, key_dim=2, output_shape=4, use_bias=False)
        mha(x, x, x * 0.5)
        fill(mha, 0.3)
        result = (mha(x, x, x * 0.5), [w.shape for w in mha.weights])
    """,
)) + programs("grad", **_with_helpers(
    keras_lstm_gradients_in_function="""
        layer = tf.keras.layers.LSTM(3, return_sequences=True)
        layer.build((None, 5, 3))
        fill(layer)
        xt = tf.constant(x)
        @tf.function
        def grads(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_sum(tf.square(layer(x)))
            return tape.gradient(loss, layer.trainable_variables + [x])
        result = grads(xt)
    """,
    keras_gru_masked_gradients_eager="""
        layer = tf.keras.layers.GRU(3)
        layer.build((None, 5, 3))
        fill(layer)
        mask = tf.constant([[True, True, True, False, False], [True, True, True, True, True]])
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x, mask=mask) * tf.constant([1.0, -2.0, 0.5]))
        result = tape.gradient(loss, layer.trainable_variables)
    """,
    keras_bidirectional_simple_rnn_gradients="""
        bi = tf.keras.layers.Bidirectional(tf.keras.layers.SimpleRNN(2, return_sequences=True))
        bi.build((None, 5, 3))
        fill(bi)
        @tf.function
        def grads(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(bi(x) ** 2)
            return tape.gradient(loss, bi.trainable_variables)
        result = grads(tf.constant(x))
    """,
))

PROGRAMS += programs("arith",
    keras_rank_one_labels_against_unit_axis_predictions="""
        y = tf.constant([1.0, 0.0, 1.0, 0.0])
        logits = tf.constant([[0.5], [-1.0], [2.0], [0.3]])
        probs = tf.constant([[0.7], [0.6], [0.2], [0.1]])
        acc = tf.keras.metrics.BinaryAccuracy()
        acc.update_state(y, probs)
        acc.update_state(y[:2], probs[:2], sample_weight=tf.constant([1.0, 3.0]))
        result = [tf.keras.losses.BinaryCrossentropy(from_logits=True)(y, logits),
                  tf.keras.losses.BinaryCrossentropy()(y, probs), tf.keras.losses.MeanSquaredError()(y, logits),
                  tf.keras.losses.MeanAbsoluteError()(y, logits), tf.keras.losses.Huber()(y, logits),
                  tf.keras.losses.MeanSquaredError()(tf.reshape(y, [4, 1]), tf.reshape(logits, [4])),
                  acc.result()]
    """,
)

PROGRAMS += programs("exact",
    keras_masks_through_merge_and_normalization_layers="""
        a = tf.keras.layers.Embedding(5, 2, mask_zero=True)(tf.constant([[1, 0, 2, 0]]))
        b = tf.keras.layers.Embedding(5, 2, mask_zero=True)(tf.constant([[1, 3, 0, 0]]))
        c = tf.ones([1, 4, 2])
        masks = [tf.keras.layers.Add()([a, b]), tf.keras.layers.Concatenate()([a, b]),
                 tf.keras.layers.Concatenate(axis=1)([a, c]), tf.keras.layers.LayerNormalization()(a),
                 tf.keras.layers.Dense(3)(b), tf.keras.layers.Dropout(0.5)(a)]
        result = [getattr(m, "_keras_mask", None) for m in masks]
    """,
)

PROGRAMS += programs("transc", **_with_helpers(
    keras_rnn_stacked_cells_nested_states="""
        layer = tf.keras.layers.RNN([tf.keras.layers.LSTMCell(3), tf.keras.layers.GRUCell(2)], return_state=True,
                                    return_sequences=True)
        layer.build((None, 5, 3))
        fill(layer)
        stacked = tf.keras.layers.StackedRNNCells([tf.keras.layers.SimpleRNNCell(2), tf.keras.layers.SimpleRNNCell(4)])
        result = (layer(x), tf.function(lambda x: layer(x))(x), [w.shape for w in layer.weights],
                  stacked.state_size, stacked.output_size)
    """,
))

PROGRAMS += programs("arith",
    keras_losses_weigh_a_masked_sequence_output="""
        emb = tf.keras.layers.Embedding(5, 2, mask_zero=True, embeddings_initializer="ones")
        y_pred = tf.keras.layers.Dense(1, kernel_initializer="ones")(emb(tf.constant([[1, 2, 0, 0], [3, 0, 0, 0]])))
        yt = tf.constant(np.arange(8, dtype=np.float32).reshape(2, 4, 1))
        sw = tf.constant([[1.0, 1, 2, 1], [3.0, 1, 1, 1]])
        result = [tf.keras.losses.MeanSquaredError(reduction=r)(yt, y_pred) for r in ("sum_over_batch_size", "sum", None)]
        result += [tf.keras.losses.MeanSquaredError()(yt, y_pred, sample_weight=sw),
                   tf.keras.losses.MeanAbsoluteError(reduction="sum")(yt, y_pred, sample_weight=sw)]
    """,
)

PROGRAMS += programs("transc", **_with_helpers(
    keras_long_masked_sequences_in_function="""
        xl = (np.sin(np.arange(3 * 35 * 3) * 0.29) * 0.9).reshape(3, 35, 3).astype(np.float32)
        mask = np.ones((3, 35), bool)
        mask[0, 21:] = False
        mask[1, ::4] = False
        outs = []
        for layer in (tf.keras.layers.LSTM(4, return_sequences=True, return_state=True),
                      tf.keras.layers.GRU(3, return_sequences=True, go_backwards=True),
                      tf.keras.layers.Bidirectional(tf.keras.layers.SimpleRNN(2, return_sequences=True))):
            layer.build((None, 35, 3))
            fill(layer, 0.4)
            outs.append(tf.function(lambda a, m: layer(a, mask=m))(xl, mask))
        result = outs
    """,
))

PROGRAMS += programs("arith",
    keras_metrics_skip_masked_steps="""
        emb = tf.keras.layers.Embedding(5, 2, mask_zero=True, embeddings_initializer="ones")
        y_pred = tf.keras.layers.Dense(3, kernel_initializer="ones")(emb(tf.constant([[1, 2, 0, 0], [3, 0, 0, 0]])))
        yt = tf.constant([[0, 1, 1, 1], [0, 0, 1, 1]])
        m = tf.keras.metrics.SparseCategoricalAccuracy()
        m.update_state(yt, y_pred)
        m2 = tf.keras.metrics.MeanSquaredError()
        m2.update_state(tf.ones([2, 4, 3]), y_pred)
        m3 = tf.keras.metrics.SparseCategoricalAccuracy()
        m3.update_state(yt, y_pred, sample_weight=tf.constant([[1.0, 2, 3, 4], [5, 6, 7, 8]]))
        result = [m.result(), m2.result(), m3.result()]
    """,
)

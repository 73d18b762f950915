"""RMSprop, Adagrad, AdamW, Adamax and Nadam against TensorFlow 2.21 (Keras 3): four steps on
sum(w * w * c) + sum(w) from w = [1, -2, 3], values recorded with TensorFlow, eager and compiled."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf

# TF 2.21's weights after four apply_gradients calls (recorded with tensorflow-cpu 2.21.0).
TF_RESULTS = {
    "RMSprop": ({"learning_rate": 0.1}, [0.20148514211177826, -1.1830525398254395, 2.1277241706848145]),
    "RMSprop_centered": ({"learning_rate": 0.1, "centered": True, "momentum": 0.5},
                         [-0.32491061091423035, -0.6225768327713013, 1.4706592559814453]),
    "Adagrad": ({"learning_rate": 0.1}, [0.7319372296333313, -1.7297778129577637, 2.725491523742676]),
    "AdamW": ({"learning_rate": 0.1, "weight_decay": 0.1}, [0.5690292119979858, -1.5294069051742554,
                                                            2.4886252880096436]),
    "Adamax": ({"learning_rate": 0.1}, [0.6206240653991699, -1.6176350116729736, 2.6074411869049072]),
    "Nadam": ({"learning_rate": 0.1}, [0.6857411861419678, -1.6841133832931519, 2.6788721084594727]),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", sorted(TF_RESULTS))
def test_four_steps_match_tensorflow(name: str, compiled: bool) -> None:
    kwargs, expected = TF_RESULTS[name]
    opt = getattr(tf.keras.optimizers, name.split("_")[0])(**kwargs)
    w = tf.Variable([1.0, -2.0, 3.0])
    c = tf.constant([1.0, 2.0, 0.5])

    def step():
        with tf.GradientTape() as t:
            loss = tf.reduce_sum(w * w * c) + tf.reduce_sum(w)
        opt.apply_gradients([(t.gradient(loss, w), w)])
    if compiled:
        opt.build([w])
        step = tf.function(step)
    for _ in range(4):
        step()
    np.testing.assert_allclose(w.numpy(), expected, rtol=2e-6)


def test_by_name_and_config_round_trip() -> None:
    for name in ("rmsprop", "adagrad", "adamw", "adamax", "nadam"):
        opt = tf.keras.optimizers.get(name)
        clone = type(opt).from_config(opt.get_config())
        assert type(clone) is type(opt) and clone.get_config() == opt.get_config()

"""tf.Module, tf.train.Checkpoint / CheckpointManager and tf.saved_model: what they find, what they write (no
pickle), what they restore, and that a saved function runs after loading without the class that defined it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import engine as tf


class Affine(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable([[2.0, 0.5]])
        self.b = tf.Variable([1.0, -1.0])
        self.frozen = [tf.Variable(3.0, trainable=False)]

    @tf.function(input_signature=[tf.TensorSpec([3, 1], tf.float32)])
    def __call__(self, x):
        return tf.matmul(x, self.w) + self.b

    @tf.function
    def step(self, x, scale=2.0):
        self.b.assign_add(tf.reduce_sum(x, axis=0) * scale)
        return {"b": self.b.value(), "n": tf.shape(x)[0]}


def test_module_finds_variables_and_submodules() -> None:
    outer = tf.Module(name="outer")
    outer.inner = Affine()
    outer.extra = {"v": tf.Variable(1.0)}
    assert len(outer.variables) == 4 and len(outer.trainable_variables) == 3
    assert outer.submodules == (outer.inner,)
    with pytest.raises(ValueError, match="valid module name"):
        tf.Module(name="not valid!")


def test_checkpoint_round_trip_with_manager(tmp_path) -> None:
    model = tf.keras.Sequential([tf.keras.layers.Dense(3, input_shape=(2,))])
    opt = tf.keras.optimizers.Adam(0.1)
    x = np.ones((4, 2), np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x) ** 2)
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    paths = [manager.save() for _ in range(3)]
    assert paths[-1].endswith("ckpt-3") and manager.checkpoints == [os.path.join(str(tmp_path), p)
                                                                    for p in ("ckpt-2", "ckpt-3")]
    assert not os.path.exists(paths[0] + ".index")
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]
    state = (tmp_path / "checkpoint").read_text()
    assert 'model_checkpoint_path: "ckpt-3"' in state

    fresh = tf.keras.Sequential([tf.keras.layers.Dense(3, input_shape=(2,))])
    fresh_opt = tf.keras.optimizers.Adam(0.1)
    status = tf.train.Checkpoint(model=fresh, optimizer=fresh_opt).restore(manager.latest_checkpoint)
    status.assert_consumed()
    for a, b in zip(fresh.weights, model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(fresh_opt.iterations.numpy()) == 1
    for a, b in zip(fresh_opt.variables, opt.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(AssertionError, match="no object"):
        tf.train.Checkpoint(model=fresh).restore(paths[-1]).assert_consumed()
    with open(paths[-1] + ".index") as fh:
        assert "model/layer-0/kernel" in json.load(fh)["keys"]


def test_checkpoint_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(str(tmp_path / "nothing-1"))
    (tmp_path / "bad-1.index").write_text("not json")
    with pytest.raises(ValueError, match="not a Kiln checkpoint"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(str(tmp_path / "bad-1"))
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_saved_model_runs_without_the_python_class(tmp_path) -> None:
    m = Affine()
    m.step(tf.ones([2, 2]))
    export = str(tmp_path / "export")
    tf.saved_model.save(m, export)
    assert sorted(os.listdir(os.path.join(export, "functions"))) == ["__call__.0.kir", "step.0.kir"]
    script = textwrap.dedent(f"""
        import numpy as np, engine as tf
        loaded = tf.saved_model.load({export!r})
        y = loaded(tf.ones([3, 1]))
        out = loaded.step(tf.ones([2, 2]))
        print(y.numpy().tolist(), out["b"].numpy().tolist(), int(out["n"]), len(loaded.trainable_variables))
    """)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    # b was [1, -1] + 2 * [2, 2] = [5, 3] when saved; y = x @ w + b; step adds 2 * [2, 2] again.
    assert result.stdout.split("\n")[0] == "[[7.0, 3.5], [7.0, 3.5], [7.0, 3.5]] [9.0, 7.0] 2 2"


def test_saved_model_rejects_unsaved_signatures_and_foreign_dirs(tmp_path) -> None:
    m = Affine()
    tf.saved_model.save(m, str(tmp_path / "e"))
    loaded = tf.saved_model.load(str(tmp_path / "e"))
    assert not hasattr(loaded, "step")            # never traced: not saved, as in TensorFlow
    with pytest.raises(ValueError, match="fit none of the saved signatures"):
        loaded(tf.ones([2, 1]))
    with pytest.raises(OSError, match="does not exist"):
        tf.saved_model.load(str(tmp_path / "missing"))
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "saved_model.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not written by Kiln"):
        tf.saved_model.load(str(tmp_path / "foreign"))

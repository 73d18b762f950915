"""Saving and loading without pickle: round trips (predictions equal) for Sequential, functional and subclassed
models, `.keras` archives and extensionless directories, weights files, and clear errors for corrupt or foreign
files."""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import engine as tf
from engine.keras import layers


def _x():
    return np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)


def _sequential():
    m = tf.keras.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)), layers.Dropout(0.1),
                             layers.BatchNormalization(), layers.Dense(2, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(_x(), np.array([0, 1, 0, 1, 1, 0]), epochs=2, verbose=0)
    return m


def _functional():
    inputs = tf.keras.Input(shape=(4,))
    a = layers.Dense(3, activation="tanh")(inputs)
    b = layers.Dense(3)(inputs)
    out = layers.Dense(1)(layers.Concatenate()([a, layers.Add()([a, b])]))
    return tf.keras.Model(inputs, out)


@tf.keras.saving.register_keras_serializable(package="tests")
class TwoLayer(tf.keras.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.d1, self.d2 = layers.Dense(units, activation="relu"), layers.Dense(1)

    def call(self, x, training=None):
        return self.d2(self.d1(x))

    def get_config(self):
        return {"units": self.units, "name": self.name}


def _subclassed():
    m = TwoLayer(units=4)
    m(_x())
    return m


@pytest.mark.parametrize("build", [_sequential, _functional, _subclassed], ids=["sequential", "functional",
                                                                             "subclassed"])
@pytest.mark.parametrize("suffix", [".keras", ""], ids=["archive", "directory"])
def test_round_trip_predictions_equal(tmp_path, build, suffix) -> None:
    model = build()
    path = str(tmp_path / f"model{suffix}")
    model.save(path)
    assert os.path.isdir(path) == (suffix == "")
    loaded = tf.keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded(_x()).numpy(), model(_x()).numpy())
    assert [w.name for w in loaded.weights] != [] and len(loaded.weights) == len(model.weights)


def test_compiled_model_resumes_with_its_optimizer_state(tmp_path) -> None:
    model = _sequential()
    model.save(str(tmp_path / "m.keras"))
    loaded = tf.keras.models.load_model(str(tmp_path / "m.keras"))
    assert loaded.compiled and type(loaded.optimizer).__name__ == "Adam"
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_save_and_load_weights(tmp_path) -> None:
    model, other = _functional(), _functional()
    model.save_weights(str(tmp_path / "w.weights.npz"))
    other.load_weights(str(tmp_path / "w.weights.npz"))
    np.testing.assert_array_equal(other(_x()).numpy(), model(_x()).numpy())
    with pytest.raises(ValueError, match=r"\.weights\.npz"):
        model.save_weights(str(tmp_path / "w.h5"))
    with pytest.raises(ValueError, match="holds"):
        tf.keras.Sequential([layers.Dense(1, input_shape=(4,))]).load_weights(str(tmp_path / "w.weights.npz"))


def test_files_hold_no_pickles(tmp_path) -> None:
    path = str(tmp_path / "m.keras")
    _sequential().save(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.npz"]
        config = json.loads(zf.read("config.json"))
        assert config["model"]["class_name"] == "Sequential"
        with zf.open("model.weights.npz") as fh:
            arrays = np.load(fh, allow_pickle=False)
            assert all(arrays[k].dtype != object for k in arrays.files)


def test_corrupt_and_foreign_files_give_clear_errors(tmp_path) -> None:
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a Kiln `.keras` archive"):
        tf.keras.models.load_model(str(garbage))
    foreign = tmp_path / "foreign.keras"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("config.json", "{}")
        zf.writestr("model.weights.h5", b"\x89HDF")
    with pytest.raises(ValueError, match="missing"):
        tf.keras.models.load_model(str(foreign))
    path = str(tmp_path / "m.keras")
    _functional().save(path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["model.weights.npz"] = members["model.weights.npz"][:40]
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(broken, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(ValueError, match="not a valid weights archive"):
        tf.keras.models.load_model(str(broken))
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(ValueError, match="config.json is missing"):
        tf.keras.models.load_model(str(empty_dir))
    with pytest.raises(FileNotFoundError):
        tf.keras.models.load_model(str(tmp_path / "nothing_here"))


def test_unregistered_class_is_refused(tmp_path) -> None:
    class Unknown(tf.keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = layers.Dense(1)

        def call(self, x):
            return self.d(x)
    m = Unknown()
    m(_x())
    m.save(str(tmp_path / "u.keras"))
    with pytest.raises(ValueError, match="register_keras_serializable"):
        tf.keras.models.load_model(str(tmp_path / "u.keras"))
    loaded = tf.keras.models.load_model(str(tmp_path / "u.keras"), custom_objects={"Unknown": Unknown})
    np.testing.assert_array_equal(loaded(_x()).numpy(), m(_x()).numpy())

"""Saving and loading Keras models and weights, never with pickle.

`model.save(path)`: a `.keras` path is a zip archive; any other path (TF 2's SavedModel habit: no extension) is a
directory. Both hold the same three members:
- `config.json`: the model's class name and configuration (and its compile configuration, if compiled);
- `model.weights.npz`: the weights, in `model.weights` order, as numpy arrays (and the optimizer's variables);
- `metadata.json`: format version and the Kiln version that wrote it.
Loading reads JSON and `.npz` with `allow_pickle=False`, and instantiates only built-in or registered classes
(`engine.keras.registry`). `save_weights`/`load_weights` use a `.weights.npz` file alone.
This format is Kiln's own: Keras writes HDF5 weights inside its `.keras` archives, Kiln writes `.npz`.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any, Optional

import numpy as np

from engine.version import __version__

__all__ = ["save_model", "load_model", "save_weights", "load_weights"]

FORMAT = "kiln-keras-v1"
_MEMBERS = ("config.json", "model.weights.npz", "metadata.json")


class _Bad(ValueError):
    pass


def _weights_blob(model: Any) -> bytes:
    arrays = {f"w{i:05d}": np.asarray(w.numpy()) for i, w in enumerate(model.weights)}
    opt = getattr(model, "optimizer", None)
    if opt is not None and getattr(opt, "variables", None):
        arrays.update({f"o{i:05d}": np.asarray(v.numpy()) for i, v in enumerate(opt.variables)})
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _config(model: Any) -> dict:
    from engine.keras.layers import serialize
    config: dict = {"format": FORMAT, "model": serialize(model)}
    build_shapes = getattr(model, "_build_shapes", None)
    if build_shapes is not None:
        config["build_input_shape"] = build_shapes
    if getattr(model, "compiled", False):
        from engine.keras import losses as _losses
        compile_config: dict = {}
        if model.optimizer is not None:
            compile_config["optimizer"] = {"class_name": type(model.optimizer).__name__,
                                           "config": model.optimizer.get_config()}
        if model.loss is not None:
            compile_config["loss"] = model.loss if isinstance(model.loss, str) else _losses.serialize(model.loss)
        specs = [m if isinstance(m, str) else {"class_name": type(m).__name__, "config": m.get_config()}
                 if hasattr(m, "get_config") else type(m).__name__ for m in model._metric_specs]
        compile_config["metrics"] = specs
        config["compile_config"] = compile_config
    return config


def _metadata() -> dict:
    return {"format": FORMAT, "kiln_version": __version__}


def save_model(model: Any, filepath: Any, overwrite: bool = True) -> None:
    path = os.fspath(filepath)
    if path.endswith((".h5", ".hdf5")):
        raise ValueError(f"save: {path!r}: the HDF5 format is not supported; save to a `.keras` file or to a "
                         f"directory (a path without extension)")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save: {path!r} exists and overwrite=False")
    members = {"config.json": json.dumps(_config(model), indent=1).encode(),
               "model.weights.npz": _weights_blob(model),
               "metadata.json": json.dumps(_metadata()).encode()}
    if path.endswith(".keras"):
        tmp = path + ".tmp"
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        os.replace(tmp, path)
        return
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"save: {path!r} exists and is not a directory (use a `.keras` path to save one file)")
    os.makedirs(path, exist_ok=True)
    for name, data in members.items():
        with open(os.path.join(path, name + ".tmp"), "wb") as fh:
            fh.write(data)
        os.replace(os.path.join(path, name + ".tmp"), os.path.join(path, name))


def _read_members(path: str) -> dict[str, bytes]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model: no file or directory {path!r}")
    out: dict[str, bytes] = {}
    if os.path.isdir(path):
        for name in _MEMBERS:
            member = os.path.join(path, name)
            if not os.path.isfile(member):
                raise _Bad(f"load_model: {path!r} is not a Kiln model directory: {name} is missing")
            with open(member, "rb") as fh:
                out[name] = fh.read()
        return out
    if not zipfile.is_zipfile(path):
        raise _Bad(f"load_model: {path!r} is not a Kiln `.keras` archive (not a zip file)")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            missing = [n for n in _MEMBERS if n not in names]
            if missing:
                raise _Bad(f"load_model: {path!r} is not a Kiln `.keras` archive: {', '.join(missing)} missing "
                           f"(an archive written by Keras holds HDF5 weights, which Kiln does not read)")
            for name in _MEMBERS:
                out[name] = zf.read(name)
    except zipfile.BadZipFile as exc:
        raise _Bad(f"load_model: {path!r} is a corrupt archive: {exc}") from None
    return out


def _json(data: bytes, what: str, path: str) -> dict:
    try:
        value = json.loads(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Bad(f"load_model: {path!r}: {what} is not valid JSON ({exc})") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise _Bad(f"load_model: {path!r}: {what} is not in format {FORMAT!r}")
    return value


def _arrays(data: bytes, path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise _Bad(f"load weights from {path!r}: not a valid weights archive ({exc})") from None


def _assign(model: Any, arrays: dict[str, np.ndarray], path: str) -> None:
    weights = model.weights
    saved = sorted(k for k in arrays if k.startswith("w"))
    if len(saved) != len(weights):
        raise ValueError(f"load weights from {path!r}: the file holds {len(saved)} weights but the model has "
                         f"{len(weights)}")
    for key, var in zip(saved, weights):
        value = arrays[key]
        if tuple(value.shape) != tuple(var.shape) or value.dtype != var.dtype.np:
            raise ValueError(f"load weights from {path!r}: weight {var.name} has shape {tuple(var.shape)} and dtype "
                             f"{var.dtype.name}, the file's has shape {value.shape} and dtype {value.dtype}")
        var.assign(value)


def load_model(filepath: Any, custom_objects: Optional[dict] = None, compile: bool = True) -> Any:
    from engine.keras.layers import deserialize
    path = os.fspath(filepath)
    members = _read_members(path)
    config = _json(members["config.json"], "config.json", path)
    _json(members["metadata.json"], "metadata.json", path)
    model = deserialize(config["model"], custom_objects)
    if not model.built and config.get("build_input_shape") is not None:
        _build_by_calling(model, config["build_input_shape"])
    if not model.built:
        raise ValueError(f"load_model: {path!r}: the saved model was never built, so it has no weights to load")
    arrays = _arrays(members["model.weights.npz"], path)
    _assign(model, arrays, path)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        from engine import optimizers
        model.compile(optimizer=optimizers.get(compile_config["optimizer"]) if "optimizer" in compile_config
                      else "rmsprop", loss=compile_config.get("loss"), metrics=compile_config.get("metrics"))
        opt_saved = sorted(k for k in arrays if k.startswith("o"))
        if opt_saved and model.trainable_variables:
            model.optimizer.build(model.trainable_variables)
            if len(model.optimizer.variables) == len(opt_saved):
                for key, var in zip(opt_saved, model.optimizer.variables):
                    var.assign(arrays[key])
    return model


def _build_by_calling(model: Any, shapes: Any) -> None:
    """A subclassed model creates its weights in its first call: call it once on zeros of the saved shape."""
    def zeros(shape: Any) -> np.ndarray:
        return np.zeros([1 if d is None else d for d in shape], np.float32)
    if shapes and isinstance(shapes[0], list):
        model([zeros(s) for s in shapes])
    else:
        model(zeros(shapes))


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    path = os.fspath(filepath)
    if not path.endswith(".weights.npz"):
        raise ValueError(f"save_weights: the filename must end in `.weights.npz` (Kiln's weights format), got "
                         f"{path!r}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path!r} exists and overwrite=False")
    arrays = {f"w{i:05d}": np.asarray(w.numpy()) for i, w in enumerate(model.weights)}
    with open(path + ".tmp", "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(path + ".tmp", path)


def load_weights(model: Any, filepath: Any) -> None:
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_weights: no file {path!r}")
    with open(path, "rb") as fh:
        _assign(model, _arrays(fh.read(), path), path)

"""`tf.train`: Checkpoint, CheckpointManager and latest_checkpoint, without pickle.

A checkpoint `prefix-N` is two files, named as TensorFlow names them: `prefix-N.index` (JSON: the path of every
Variable in the object graph, e.g. `model/layer-0/kernel`) and `prefix-N.data-00000-of-00001` (the values, an
`.npz` archive read with `allow_pickle=False`). The directory's `checkpoint` file lists the checkpoints in TF's
text format, so `latest_checkpoint` finds them. Restoring assigns every saved value whose path exists in the
object graph (building an optimizer's slots first when the checkpoint has them); `assert_consumed` says what did
not match.
"""
from __future__ import annotations

import io
import json
import os
import re
from typing import Any, Optional

import numpy as np

from engine.module import walk
from engine.variables import Variable

__all__ = ["Checkpoint", "CheckpointManager", "latest_checkpoint"]

FORMAT = "kiln-checkpoint-v1"
_DATA = ".data-00000-of-00001"


class CheckpointStatus:
    def __init__(self, unmatched_saved: list[str], unmatched_objects: list[str]) -> None:
        self.unmatched_saved, self.unmatched_objects = unmatched_saved, unmatched_objects

    def assert_consumed(self) -> "CheckpointStatus":
        if self.unmatched_saved or self.unmatched_objects:
            raise AssertionError(f"Unresolved objects in the checkpoint: saved values with no object "
                                 f"{self.unmatched_saved[:10]}, objects with no saved value "
                                 f"{self.unmatched_objects[:10]}")
        return self

    def assert_existing_objects_matched(self) -> "CheckpointStatus":
        if self.unmatched_objects:
            raise AssertionError(f"objects with no saved value: {self.unmatched_objects[:10]}")
        return self

    def expect_partial(self) -> "CheckpointStatus":
        return self


def _read_state(directory: str) -> list[str]:
    path = os.path.join(directory, "checkpoint")
    if not os.path.isfile(path):
        return []
    with open(path) as fh:
        return re.findall(r'^all_model_checkpoint_paths: "(.*)"$', fh.read(), re.M)


def _write_state(directory: str, paths: list[str]) -> None:
    lines = [f'model_checkpoint_path: "{os.path.basename(paths[-1])}"'] if paths else []
    lines += [f'all_model_checkpoint_paths: "{os.path.basename(p)}"' for p in paths]
    tmp = os.path.join(directory, "checkpoint.tmp")
    with open(tmp, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, os.path.join(directory, "checkpoint"))


def latest_checkpoint(checkpoint_dir: str) -> Optional[str]:
    paths = _read_state(checkpoint_dir)
    if not paths:
        return None
    path = os.path.join(checkpoint_dir, paths[-1])
    return path if os.path.isfile(path + ".index") else None


class Checkpoint:
    """Saves and restores the Variables reachable from its keyword arguments (models, layers, modules,
    optimizers, Variables, lists and dicts of them)."""

    def __init__(self, root: Any = None, **kwargs: Any) -> None:
        self._objects = dict(kwargs)
        if root is not None:
            self._objects["root"] = root
        self.save_counter = Variable(np.int64(0), trainable=False, name="save_counter")

    def _graph(self) -> dict[str, Variable]:
        return dict(walk({**self._objects, "save_counter": self.save_counter}))

    def write(self, file_prefix: str) -> str:
        graph = self._graph()
        keys = list(graph)
        buf = io.BytesIO()
        np.savez(buf, **{f"v{i:05d}": np.asarray(graph[k].numpy()) for i, k in enumerate(keys)})
        folder = os.path.dirname(os.path.abspath(file_prefix))
        os.makedirs(folder, exist_ok=True)
        for suffix, data in ((_DATA, buf.getvalue()), (".index", json.dumps({"format": FORMAT, "keys": keys},
                                                                             indent=0).encode())):
            with open(file_prefix + suffix + ".tmp", "wb") as fh:
                fh.write(data)
            os.replace(file_prefix + suffix + ".tmp", file_prefix + suffix)
        return file_prefix

    def save(self, file_prefix: str) -> str:
        self.save_counter.assign_add(np.int64(1))
        path = self.write(f"{file_prefix}-{int(self.save_counter.numpy())}")
        directory = os.path.dirname(os.path.abspath(path))
        paths = [p for p in _read_state(directory) if p != os.path.basename(path)] + [os.path.basename(path)]
        _write_state(directory, paths)
        return path

    def read(self, save_path: str) -> CheckpointStatus:
        return self.restore(save_path)

    def restore(self, save_path: Optional[str]) -> CheckpointStatus:
        if save_path is None:
            return CheckpointStatus([], [])
        saved = _load(save_path)
        self._build_optimizers(saved)
        graph = self._graph()
        for key, value in saved.items():
            if key in graph:
                var = graph[key]
                if tuple(value.shape) != tuple(var.shape):
                    raise ValueError(f"restore {save_path!r}: {key} has shape {tuple(var.shape)} but the checkpoint "
                                     f"holds shape {value.shape}")
                var.assign(value.astype(var.dtype.np))
        return CheckpointStatus(sorted(set(saved) - set(graph)), sorted(set(graph) - set(saved)))

    def _build_optimizers(self, saved: dict[str, np.ndarray]) -> None:
        """An optimizer creates its slots on its first step; a checkpoint that holds them builds them first, for
        the trainable Variables of the other objects (as TF restores slot variables when they appear)."""
        from engine.keras.base_optimizer import Optimizer
        trainable = [v for _, v in walk({k: o for k, o in self._objects.items() if not isinstance(o, Optimizer)})
                     if v.trainable]
        for name, obj in self._objects.items():
            if isinstance(obj, Optimizer) and any(k.startswith(f"{name}/") for k in saved) and trainable:
                obj.build(trainable)


def _load(save_path: str) -> dict[str, np.ndarray]:
    try:
        with open(save_path + ".index") as fh:
            index = json.load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"restore: no checkpoint at {save_path!r} ({save_path}.index is missing)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"restore: {save_path}.index is not a Kiln checkpoint index ({exc})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise ValueError(f"restore: {save_path}.index is not a Kiln checkpoint index")
    try:
        with np.load(save_path + _DATA, allow_pickle=False) as npz:
            return {k: npz[f"v{i:05d}"] for i, k in enumerate(index["keys"])}
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise ValueError(f"restore: {save_path}{_DATA} is not a valid checkpoint data file ({exc})") from None


class CheckpointManager:
    """Numbered checkpoints in a directory, keeping the newest `max_to_keep`."""

    def __init__(self, checkpoint: Checkpoint, directory: str, max_to_keep: Optional[int] = 5,
                 checkpoint_name: str = "ckpt", **kwargs: Any) -> None:
        self._checkpoint, self.directory, self.max_to_keep = checkpoint, directory, max_to_keep
        self._prefix = os.path.join(directory, checkpoint_name)
        os.makedirs(directory, exist_ok=True)

    @property
    def checkpoints(self) -> list[str]:
        return [os.path.join(self.directory, p) for p in _read_state(self.directory)]

    @property
    def latest_checkpoint(self) -> Optional[str]:
        return latest_checkpoint(self.directory)

    def save(self, checkpoint_number: Optional[int] = None) -> str:
        if checkpoint_number is not None:
            self._checkpoint.save_counter.assign(np.int64(checkpoint_number - 1))
        path = self._checkpoint.save(self._prefix)
        kept = self.checkpoints
        if self.max_to_keep is not None and len(kept) > self.max_to_keep:
            for old in kept[:-self.max_to_keep]:
                for suffix in (".index", _DATA):
                    if os.path.exists(old + suffix):
                        os.remove(old + suffix)
            _write_state(self.directory, kept[-self.max_to_keep:])
        return path

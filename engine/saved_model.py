"""`tf.saved_model.save` / `load`: a module's Variables and the traced functions it holds, as IR text, so that a
loaded function runs without the Python code that defined it.

An export directory holds `saved_model.json` (for each function attribute, each traced signature: its IR file, its
arguments and outputs, and which saved Variables it reads), `functions/*.kir` (the IR text, parsed back on load and
compiled like any traced function) and `variables/variables.npz` (read with `allow_pickle=False`). A function is
saved with the signatures it was traced for (and its `input_signature`, traced at save time), as in TensorFlow.
"""
from __future__ import annotations

import inspect
import json
import os
from typing import Any

import numpy as np

from engine import nest
from engine.concrete import ConcreteFunction, TensorSpec
from engine.function import Function
from engine.module import walk
from engine.tensor import Tensor
from engine.variables import Variable
from ir.types import as_dtype

__all__ = ["save", "load"]

FORMAT = "kiln-saved-model-v1"


# ---- structures of arguments and outputs as JSON
def _encode(x: Any) -> Any:
    if isinstance(x, (Tensor, Variable, np.ndarray, TensorSpec)):
        return {"spec": [as_dtype(x.dtype).name if not isinstance(x, np.ndarray) else str(x.dtype),
                         list(x.shape)]}
    if x is None or isinstance(x, (bool, int, float, str)):
        return {"py": x}
    if isinstance(x, tuple):
        return {"tuple": [_encode(v) for v in x]}
    if isinstance(x, list):
        return {"list": [_encode(v) for v in x]}
    if isinstance(x, dict):
        return {"dict": {str(k): _encode(v) for k, v in x.items()}}
    raise ValueError(f"saved_model.save: cannot save a function whose arguments or outputs hold {type(x).__name__}")


def _decode(x: dict) -> Any:
    (kind, v), = x.items()
    if kind == "spec":
        return TensorSpec(tuple(v[1]), as_dtype(v[0]))
    if kind == "py":
        return v
    if kind == "tuple":
        return tuple(_decode(e) for e in v)
    if kind == "list":
        return [_decode(e) for e in v]
    return {k: _decode(e) for k, e in v.items()}


def _function_attributes(obj: Any) -> dict[str, Function]:
    out = {}
    for name in sorted(set(dir(type(obj))) | set(vars(obj) if hasattr(obj, "__dict__") else ())):
        if name.startswith("_") and name != "__call__":
            continue
        try:
            value = getattr(obj, name)
        except Exception:  # noqa: BLE001 - a property that cannot be read now is not a function to save
            continue
        if isinstance(value, Function):
            out[name] = value
    return out


def save(obj: Any, export_dir: str, signatures: Any = None, options: Any = None) -> None:
    variables = [v for _, v in walk(obj)]
    index = {id(v): i for i, v in enumerate(variables)}
    functions: dict[str, list] = {}
    fdir = os.path.join(export_dir, "functions")
    os.makedirs(fdir, exist_ok=True)
    os.makedirs(os.path.join(export_dir, "variables"), exist_ok=True)
    targets = _function_attributes(obj)
    if signatures is not None:
        sig = signatures if isinstance(signatures, dict) else {"serving_default": signatures}
        targets.update({f"signatures/{k}": v for k, v in sig.items()})
    for name, fn in targets.items():
        concretes = [fn] if isinstance(fn, ConcreteFunction) else list(fn._cache.values())
        if isinstance(fn, Function) and not concretes and fn.input_signature is not None:
            concretes = [fn.get_concrete_function()]
        entries = []
        for k, cf in enumerate(concretes):
            for v in cf.variables:
                if id(v) not in index:
                    index[id(v)] = len(variables)
                    variables.append(v)
            filename = f"{name.replace('/', '.')}.{k}.kir"
            with open(os.path.join(fdir, filename), "w") as fh:
                fh.write(str(cf.ir))
            entries.append({"ir": filename, "arguments": {a: _encode(v) for a, v in cf._arguments.items()},
                            "param_slots": cf._param_slots, "outputs": _encode(cf.structured_outputs),
                            "variables": [index[id(v)] for v in cf.variables]})
        if entries:
            functions[name] = entries
    np.savez(os.path.join(export_dir, "variables", "variables.npz"),
             **{f"v{i:05d}": np.asarray(v.numpy()) for i, v in enumerate(variables)})
    meta = {"format": FORMAT, "functions": functions,
            "variables": [{"name": v.name, "trainable": v.trainable} for v in variables]}
    with open(os.path.join(export_dir, "saved_model.json"), "w") as fh:
        json.dump(meta, fh, indent=1)


class LoadedFunction:
    """A saved function: calls pick the saved signature that the arguments fit."""

    def __init__(self, name: str, concretes: list[ConcreteFunction]) -> None:
        self.name, self.concretes = name, concretes

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        problems = []
        for cf in self.concretes:
            try:
                bound = cf._signature.bind(*args, **kwargs)
            except TypeError as e:
                problems.append(str(e))
                continue
            bound.apply_defaults()
            if _fits(cf._arguments, bound.arguments):
                return cf(*args, **kwargs)
            problems.append(cf.pretty_printed_signature())
        raise ValueError(f"{self.name}: the arguments fit none of the saved signatures:\n" + "\n".join(problems))

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        return self.concretes[0] if not args and not kwargs else next(
            cf for cf in self.concretes if _fits(cf._arguments, cf._signature.bind(*args, **kwargs).arguments))


def _fits(saved: dict, given: dict) -> bool:
    if set(saved) != set(given):
        return False
    for name, spec in saved.items():
        s, g = nest.flatten(spec), nest.flatten(given[name])
        if len(s) != len(g):
            return False
        for a, b in zip(s, g):
            if isinstance(a, TensorSpec):
                if not a.is_compatible_with(b):
                    return False
            elif a != b:
                return False
    return True


class _Loaded:
    """What `load` returns: the saved functions as attributes, and the restored Variables; callable when the saved
    object was (its `__call__` was a traced function)."""

    def __init__(self, variables: list[Variable]) -> None:
        self.variables = variables
        self.trainable_variables = [v for v in variables if v.trainable]
        self.signatures: dict[str, LoadedFunction] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self.__dict__.get("__call__")
        if fn is None:
            raise TypeError("the saved object had no traced __call__")
        return fn(*args, **kwargs)


def load(export_dir: str, tags: Any = None, options: Any = None) -> Any:
    from ir.parser import ParseError, parse
    path = os.path.join(export_dir, "saved_model.json")
    try:
        with open(path) as fh:
            meta = json.load(fh)
    except FileNotFoundError:
        raise OSError(f"SavedModel file does not exist at: {export_dir} (no saved_model.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} was not written by Kiln's saved_model.save")
    with np.load(os.path.join(export_dir, "variables", "variables.npz"), allow_pickle=False) as npz:
        variables = [Variable(npz[f"v{i:05d}"], trainable=v["trainable"], name=v["name"].split(":")[0])
                     for i, v in enumerate(meta["variables"])]
    loaded = _Loaded(variables)
    for name, entries in meta["functions"].items():
        concretes = []
        for e in entries:
            with open(os.path.join(export_dir, "functions", os.path.basename(e["ir"]))) as fh:
                text = fh.read()
            try:
                fn = parse(text)
            except ParseError as exc:
                raise ValueError(f"{export_dir}: function {name} has invalid IR: {exc}") from None
            arguments = {a: _decode(v) for a, v in e["arguments"].items()}
            # Python values were baked into the trace: they become the parameters' defaults.
            signature = inspect.Signature([inspect.Parameter(
                a, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=v if not any(isinstance(x, TensorSpec) for x in nest.flatten(v)) else inspect.Parameter.empty)
                for a, v in arguments.items()])
            outputs = nest.map_structure(lambda s: Tensor(np.zeros(s.shape, s.dtype.np)) if isinstance(
                s, TensorSpec) else s, _decode(e["outputs"]))
            concretes.append(ConcreteFunction(name, fn, signature, arguments, [tuple(p) for p in e["param_slots"]],
                                              outputs, [variables[i] for i in e["variables"]], True))
        target = LoadedFunction(name, concretes)
        if name.startswith("signatures/"):
            loaded.signatures[name.split("/", 1)[1]] = target
        else:
            setattr(loaded, name, target)
    return loaded

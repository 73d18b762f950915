"""`tf.Module`: a named container whose Variables and submodules are found through its attributes.

>>> import engine as tf
>>> class Affine(tf.Module):
...     def __init__(self):
...         super().__init__(name="affine")
...         self.w = tf.Variable([[2.0]])
...         self.b = tf.Variable([1.0], trainable=False)
>>> m = Affine()
>>> [v.name for v in m.trainable_variables], len(m.variables)
(['Variable:0'], 2)
"""
from __future__ import annotations

import contextlib
import re
from typing import Any, Callable, Iterator, Optional

from engine.variables import Variable

__all__ = ["Module", "walk"]


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) of what an object holds that may hold state, in a stable order: public attributes of modules
    and layers (sorted), items of lists, tuples and dicts."""
    if isinstance(obj, dict):
        for k in sorted(obj, key=str):
            yield str(k), obj[k]
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield str(i), v
    else:
        sub = getattr(obj, "_sublayers", None)
        if callable(sub):  # a keras Layer or Model: its layers may sit in private attributes
            for i, layer in enumerate(sub()):
                yield f"layer-{i}", layer
        own = getattr(obj, "_own_weights", None)
        if own:
            for w in own:
                yield w.name.split("/")[-1].split(":")[0], w
        for k in sorted(vars(obj)):
            if not k.startswith("_"):
                yield k, vars(obj)[k]


def _holds_state(value: Any) -> bool:
    from engine.keras.base_optimizer import Optimizer
    from engine.keras.layers.base import Layer
    return isinstance(value, (Variable, Module, Layer, Optimizer, list, tuple, dict))


def walk(root: Any, prefix: str = "") -> Iterator[tuple[str, Variable]]:
    """Every Variable reachable from `root`, once each, with the first path that reaches it."""
    from engine.keras.base_optimizer import Optimizer
    seen: set[int] = set()

    def visit(obj: Any, path: str) -> Iterator[tuple[str, Variable]]:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, Variable):
            yield path, obj
            return
        if isinstance(obj, Optimizer):
            for i, v in enumerate(obj.variables):
                yield from visit(v, f"{path}/var-{i}")
            return
        for key, value in _children(obj):
            if _holds_state(value):
                yield from visit(value, f"{path}/{key}" if path else key)
    yield from visit(root, prefix)


class Module:
    """Base class of stateful containers: `variables`, `trainable_variables` and `submodules` are found by
    walking the attributes."""

    def __init__(self, name: Optional[str] = None) -> None:
        if name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid Python identifiers "
                             f"(e.g. a valid class name).")
        self._name = name or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    @property
    def name(self) -> str:
        return self._name

    @property
    def name_scope(self) -> Any:
        return contextlib.nullcontext()

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(v for _, v in walk(self))

    @property
    def trainable_variables(self) -> tuple[Variable, ...]:
        return tuple(v for v in self.variables if v.trainable)

    @property
    def non_trainable_variables(self) -> tuple[Variable, ...]:
        return tuple(v for v in self.variables if not v.trainable)

    @property
    def submodules(self) -> tuple["Module", ...]:
        out: list[Module] = []
        seen: set[int] = {id(self)}

        def visit(obj: Any) -> None:
            for _, value in _children(obj):
                if isinstance(value, Module) and id(value) not in seen:
                    seen.add(id(value))
                    out.append(value)
                    visit(value)
                elif isinstance(value, (list, tuple, dict)):
                    visit(value)
        visit(self)
        return tuple(out)

    @classmethod
    def with_name_scope(cls, method: Callable[..., Any]) -> Callable[..., Any]:
        return method

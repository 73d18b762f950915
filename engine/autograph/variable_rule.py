"""TensorFlow's rule for Variables created inside a function: only its first call may create them, once.

TensorFlow traces a function whose first trace created Variables a second time, in which creating one is an
error: a function that makes a new `tf.Variable` on every call fails on its first call ("tf.function only supports
singleton tf.Variables created on the first call"); `if self.v is None: self.v = tf.Variable(...)` is fine. A later
trace (a new input signature) may not create Variables at all. `guarded(key, fn)` wraps the converted function that
`engine.function` traces: the first trace records what it creates and, if anything, runs `fn` once more into a
region that is thrown away, with creation forbidden (its Python side effects run twice, as TensorFlow's do); later
traces forbid creation. `key` is the Python function of one `engine.function` (a bound method per instance).
"""
from __future__ import annotations

import functools
import weakref
from typing import Any, Callable, Optional

from engine.trace import current
from engine.variables import Variable, set_creation_hook

from engine.autograph.values import user_location

_traced: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()   # key -> first trace done
_traced_ids: set[int] = set()   # keys that cannot be weakly referenced


def _forbid(message: str) -> Callable[[Variable], None]:
    def hook(v: Variable) -> None:
        raise ValueError(f"{user_location()}: {message}")
    return hook


SINGLETON = ("engine.function only supports singleton Variables created on the first call (as tf.function): this "
             "one is created again when the function is traced again. Create it once, e.g. `if self.v is None: "
             "self.v = engine.Variable(...)`, or outside the function")
NON_FIRST = ("creating a Variable on a non-first call to a function decorated with engine.function (this call traces "
             "the function anew, for new argument types); create Variables on the first call or outside the function")


def _first_trace_done(key: Any) -> bool:
    try:
        return _traced.get(key, False)
    except TypeError:
        return id(key) in _traced_ids


def _mark_traced(key: Any) -> None:
    try:
        _traced[key] = True
    except TypeError:
        _traced_ids.add(id(key))


def _run(fn: Callable[..., Any], hook: Optional[Callable[[Variable], None]], args: tuple, kwargs: dict) -> Any:
    old = set_creation_hook(hook)
    try:
        return fn(*args, **kwargs)
    finally:
        set_creation_hook(old)


def guarded(key: Any, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` (the converted `key`) enforcing the rule while it is traced; as it is otherwise."""
    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        trace = current()
        if trace is None:
            return fn(*args, **kwargs)
        if _first_trace_done(key):
            return _run(fn, _forbid(NON_FIRST), args, kwargs)
        created: list[Variable] = []
        out = _run(fn, created.append, args, kwargs)
        if created:
            trace.trace_region("variables", [], [], lambda _: _run(fn, _forbid(SINGLETON), args, kwargs))
        _mark_traced(key)  # only now: after a failed first trace, the next call is a first call again (as in TF)
        return out
    return traced

"""`engine.function` (tf.function): trace a Python function per input signature into IR, cache, and run it.

Cache keys follow TensorFlow (DESIGN §5): tensors and numpy arrays by (dtype, shape), Variables by identity,
Python scalars and strings by value (equal numbers such as 1, 1.0 and True are one key), lists/tuples/dicts by
structure; globals are not part of the key. A `TensorSpec` with `None` dimensions (an `input_signature`, a
`get_concrete_function` argument, or a dimension `reduce_retracing=True` relaxed) traces once with unknown dims,
and a call runs the most specific traced signature that accepts it (engine.trace_types).
"""
from __future__ import annotations

import collections
import functools
import inspect
import operator
import threading
import warnings
import weakref
from typing import Any, Callable, Optional, Sequence

import numpy as np

from autodiff import tape as _tape
from engine import dispatch, nest
from engine.call_gradient import record_call
from engine.convert import convert_to_tensor
from engine.concrete import ConcreteFunction, TensorSpec, is_numpy_scalar, trace_function
from engine.fastcall import RUN_EAGERLY as _RUN_EAGERLY
from engine.tensor import Tensor
from engine.trace import TraceError, current as current_trace
from engine.trace_types import most_specific_supertype, relax, respec
from engine.variables import Variable
from ir import timing
from ir.types import TensorType, from_numpy

_RETRACE_WINDOW = 10
_RETRACE_LIMIT = 5
_traced_codes: collections.Counter = collections.Counter()   # code object -> number of Function objects tracing it


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Run every `engine.function` as plain Python (for debugging), as tf.config.run_functions_eagerly."""
    _RUN_EAGERLY[0] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    return _RUN_EAGERLY[0]


def _leaf_key(x: Any) -> Any:
    if isinstance(x, Tensor):
        if x._node is not None:
            return ("T", x.dtype.name, tuple(x.shape))
        return ("T", x.dtype.name, tuple(x._value.shape))
    if isinstance(x, Variable):
        return ("V", x._uid)
    if isinstance(x, np.ndarray) or is_numpy_scalar(x):
        return ("T", from_numpy(x.dtype).name, x.shape)
    if isinstance(x, TensorSpec):
        return ("T", x.dtype.name, tuple(x.shape))
    if isinstance(x, (bool, int, float)):
        # Equal numbers are one key, as in TensorFlow (3, 3.0 and True... share a trace, made with the first).
        return ("P", "number", x)
    if x is None or isinstance(x, (str, bytes, np.generic)):
        return ("P", type(x).__name__, x.item() if isinstance(x, np.generic) else x)
    try:
        return ("O", weakref.ref(x))
    except TypeError:
        return ("O", id(x))


def _key(structure: Any) -> Any:
    if isinstance(structure, dict):
        return ("dict",) + tuple((k, _key(structure[k])) for k in sorted(structure, key=str))
    if isinstance(structure, (list, tuple)):
        return (type(structure).__name__,) + tuple(_key(v) for v in structure)
    return _leaf_key(structure)


class Function:
    """A Python function that runs as traced IR; see `engine.function`."""

    def __init__(self, python_function: Callable[..., Any], input_signature: Optional[Sequence[Any]] = None,
                 autograph: bool = True, jit_compile: Optional[bool] = True, reduce_retracing: bool = False,
                 name: Optional[str] = None) -> None:
        for check, what in ((inspect.isgeneratorfunction, "a generator function"),
                            (inspect.iscoroutinefunction, "an async function"),
                            (inspect.isasyncgenfunction, "an async generator function")):
            if check(python_function):  # TensorFlow fails later, on the generator it got back from tracing
                raise TypeError(f"engine.function: {getattr(python_function, '__qualname__', python_function)!s} is "
                                f"{what}; a traced function must return zero or more Tensors (build a list in a "
                                f"loop, or use tf.data.Dataset.from_generator for a generator)")
        self.python_function = python_function
        self.input_signature = None if input_signature is None else tuple(input_signature)
        self.autograph = autograph
        self.jit_compile = jit_compile
        self.reduce_retracing = reduce_retracing
        self.name = name or getattr(python_function, "__name__", "function")
        self._signature = inspect.signature(python_function)
        self._cache: dict[Any, ConcreteFunction] = {}
        self._trace_lock = threading.RLock()
        self._tracing_count = 0
        self._recent: collections.deque = collections.deque(maxlen=_RETRACE_WINDOW)
        self._warned = False
        self._last_key: Any = None
        # Name and docs only: copying __dict__ would copy another engine.function's trace cache into this one.
        functools.update_wrapper(self, python_function, updated=())  # type: ignore[arg-type]

    # ---- binding arguments
    def _bind(self, args: tuple, kwargs: dict) -> inspect.BoundArguments:
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{self.name}(): {e}") from None
        bound.apply_defaults()
        return bound

    def _check_signature(self, bound: inspect.BoundArguments) -> None:
        sig = self.input_signature
        assert sig is not None
        values = list(bound.arguments.values())
        if len(values) < len(sig):
            raise TypeError(f"{self.name}(): expected {len(sig)} arguments for its input_signature, got {len(values)}")
        names = list(bound.arguments)
        for name, spec_part, value_part in zip(names, sig, values):
            for spec, value in zip(nest.flatten(spec_part), nest.flatten(value_part)):
                if not isinstance(spec, TensorSpec) or spec.is_compatible_with(value):
                    continue
                got = value.dtype.name + str(list(np.shape(value))) if \
                    isinstance(value, (Tensor, Variable, np.ndarray, np.generic)) else repr(value)
                raise TypeError(f"{self.name}(): argument '{name}' ({got}) does not match its input_signature "
                                f"entry {spec!r}")

    def _convert_to_signature(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """Python numbers and lists passed where the input_signature has a TensorSpec become tensors of its dtype,
        as TensorFlow converts them (`f([1.0, 2.0])` for `TensorSpec([2], float32)`)."""
        bound = self._bind(args, kwargs)
        converted = False
        for (name, value), spec in zip(list(bound.arguments.items()), self.input_signature or ()):
            if not isinstance(spec, TensorSpec) or not isinstance(value, (bool, int, float, list, tuple)):
                continue
            try:
                bound.arguments[name] = convert_to_tensor(value, dtype=spec.dtype)
            except (TypeError, ValueError) as e:
                raise TypeError(f"{self.name}(): argument '{name}' ({value!r}) cannot be converted to its "
                                f"input_signature entry {spec!r}: {e}") from None
            converted = True
        return (bound.args, bound.kwargs) if converted else (args, kwargs)

    # ---- calling
    # A call runs `self._call`: the generated caller of the last compiled signature once there is one
    # (engine.fastcall; it passes what it cannot take to `_call_general`), else `_call_general` itself. A property
    # over attrgetter runs no Python frame of its own: the call costs one Python frame instead of two (0.1-0.15 µs
    # of a 0.6 µs call).
    __call__ = property(operator.attrgetter("_call"))

    def _call_general(self, *args: Any, **kwargs: Any) -> Any:
        if self.input_signature is not None:
            args, kwargs = self._convert_to_signature(args, kwargs)
        if dispatch.tracing() and not _RUN_EAGERLY[0]:
            return self._call_while_tracing(args, kwargs)
        if _RUN_EAGERLY[0]:  # run as Python, for debugging
            return self._python_callable()(*args, **kwargs)
        with timing.compiling(self.name):  # a first call's trace and compile are one compile (KILN_DUMP=time)
            concrete = self._concrete_for(args, kwargs)
            if _tape.active and _tape.mine():  # one step on this thread's tapes: backward = the reverse transform
                return record_call(concrete, self._bind(args, kwargs))
            result = concrete._call_bound(self._bind(args, kwargs))
        if not kwargs and all((type(a) is Tensor and a._node is None) or type(a) is np.ndarray for a in args):
            types = [a.type if type(a) is Tensor else TensorType(from_numpy(a.dtype), a.shape) for a in args]
            fast = concrete.fast_call(types, owner=self)
            if fast is not None:
                self._call = fast
        return result

    _call = _call_general

    def _call_while_tracing(self, args: tuple, kwargs: dict) -> Any:
        """Called while another function is traced: as in TensorFlow, this function is traced once per signature
        (its Python side effects run once) and its concrete function's IR is inlined into the caller's trace.

        Its Python runs inside the caller's trace instead where the IR alone would not do: under a GradientTape
        recording the caller's ops, for a function with a custom gradient, or one that uses the caller's tensors
        through its closure (its own trace cannot see them)."""
        trace = current_trace()
        if trace is not None and not _tape.active:
            try:
                concrete = self._concrete_for(args, kwargs)
            except TraceError:
                concrete = None
            if concrete is not None and concrete.custom_gradient_python is None:
                return concrete.inline_into(trace, self._bind(args, kwargs))
        return self._python_callable()(*args, **kwargs)

    def _python_callable(self) -> Callable[..., Any]:
        if self.autograph:
            from engine import autograph
            with timing.phase("autograph"):
                return autograph.convert_if_possible(self.python_function)
        return self.python_function

    def _concrete_for(self, args: tuple, kwargs: dict) -> ConcreteFunction:
        bound = self._bind(args, kwargs)
        if self.input_signature is not None:
            self._check_signature(bound)
            for name, spec in zip(list(bound.arguments), self.input_signature):  # traced as the signature says
                bound.arguments[name] = spec
        key = _key(list(bound.arguments.values()))
        concrete = self._cache.get(key)
        if concrete is None:
            # One thread at a time traces this function (each signature once); calls of traced signatures never wait.
            with self._trace_lock:
                concrete = self._cache.get(key)
                general = most_specific_supertype(key, list(self._cache)) if concrete is None else None
                if general is not None:
                    concrete = self._cache[general]
                self._recent.append(concrete is None)
                if concrete is None:
                    if self.reduce_retracing:
                        relaxed = relax(key, list(self._cache))
                        if relaxed != key:
                            key = relaxed
                            for name, value in zip(list(bound.arguments), key[1:]):
                                bound.arguments[name] = respec(bound.arguments[name], value, _spec)
                    concrete = self._trace(bound)
                    self._cache[key] = concrete
                    self._maybe_warn(key)
        else:
            self._recent.append(False)
        self._last_key = key
        return concrete

    def _trace(self, bound: inspect.BoundArguments) -> ConcreteFunction:
        self._tracing_count += 1
        code = getattr(self.python_function, "__code__", None)
        if self._tracing_count == 1 and code is not None:
            _traced_codes[code] += 1
        return trace_function(self.name, self._python_callable(), self._signature, bound,
                              jit_compile=self.jit_compile)

    def _maybe_warn(self, key: Any) -> None:
        if self._warned or sum(self._recent) < _RETRACE_LIMIT:
            return
        self._warned = True
        code = getattr(self.python_function, "__code__", None)
        causes = []
        if code is not None and _traced_codes[code] > _RETRACE_LIMIT:
            causes.append("the decorated function is created anew in a loop (decorate it once, outside the loop)")
        prev = self._last_key
        names = list(self._signature.parameters)
        if prev is not None:
            for i, (a, b) in enumerate(zip(prev[1:], key[1:])):
                if a != b:
                    arg = names[i] if i < len(names) else f"#{i}"
                    if isinstance(a, tuple) and a[:1] == ("P",):
                        causes.append(f"argument '{arg}' is a Python value that changes between calls ({a[2]!r} "
                                      f"then {b[2]!r}); pass it as a tensor")
                    elif isinstance(a, tuple) and a[:1] == ("T",) and isinstance(b, tuple) and b[:1] == ("T",):
                        causes.append(f"argument '{arg}' changes shape or dtype between calls ({a[1]}{list(a[2])} "
                                      f"then {b[1]}{list(b[2])})")
                    else:
                        causes.append(f"argument '{arg}' changes structure or identity between calls")
        if not causes:
            causes.append("arguments change shape, dtype or Python value between calls")
        warnings.warn(f"{sum(self._recent)} out of the last {len(self._recent)} calls to {self.name} triggered "
                      f"retracing. Tracing is expensive; the likely cause: " + "; ".join(causes) + ".",
                      RuntimeWarning, stacklevel=4)

    # ---- TensorFlow's introspection
    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """The ConcreteFunction for these arguments (tensors, arrays or TensorSpecs), tracing if needed."""
        if not args and not kwargs and self.input_signature is not None:
            args = tuple(self.input_signature)
        specs = nest.map_structure(_spec_to_placeholder, list(args))
        kw = {k: nest.map_structure(_spec_to_placeholder, v) for k, v in kwargs.items()}
        return self._concrete_for(tuple(specs), kw)

    def experimental_get_tracing_count(self) -> int:
        return self._tracing_count

    def pretty_printed_concrete_signatures(self) -> str:
        return "\n\n".join(c.pretty_printed_signature() for c in self._cache.values())

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        # One Function per instance, as TensorFlow binds methods.
        cache = self.__dict__.setdefault("_bound", weakref.WeakKeyDictionary())
        try:
            return cache[instance]
        except KeyError:
            bound = Function(self.python_function.__get__(instance, owner), self.input_signature, self.autograph,
                             self.jit_compile, self.reduce_retracing, self.name)
            cache[instance] = bound
            return bound
        except TypeError:
            return Function(self.python_function.__get__(instance, owner), self.input_signature, self.autograph,
                            self.jit_compile, self.reduce_retracing, self.name)

    def __repr__(self) -> str:
        return f"<engine.function {self.name}, traced {self._tracing_count} time(s)>"


def _spec_to_placeholder(x: Any) -> Any:
    """A TensorSpec stands for a tensor of that type (None dims unknown) when tracing without values."""
    if isinstance(x, TensorSpec) and x.shape is None:
        raise ValueError(f"get_concrete_function: {x!r} has an unknown rank; Kiln's IR knows every tensor's rank, "
                         f"so give the shape (None for each dimension of unknown size)")
    return x


def _spec(shape: tuple, dtype: str) -> TensorSpec:
    return TensorSpec(shape, dtype)


def function(func: Optional[Callable[..., Any]] = None, input_signature: Optional[Sequence[Any]] = None,
             autograph: bool = True, jit_compile: Optional[bool] = True, reduce_retracing: bool = False,
             experimental_relax_shapes: Optional[bool] = None, name: Optional[str] = None, **unused: Any) -> Any:
    """Compile a Python function: `@engine.function` or `engine.function(f, input_signature=[...])`.

    >>> import engine as tf
    >>> @tf.function
    ... def f(x):
    ...     return x * 2 + 1
    >>> f(tf.constant([1.0, 2.0])).numpy()
    array([3., 5.], dtype=float32)
    """
    def wrap(f: Callable[..., Any]) -> Function:
        return Function(f, input_signature, autograph, jit_compile,
                        reduce_retracing or bool(experimental_relax_shapes), name)
    return wrap if func is None else wrap(func)


def make_ir(fun: Callable[..., Any], optimize: bool = False) -> Callable[..., Any]:
    """`engine.make_ir(f)(*args)` returns the ir.Function that tracing `f` on these arguments gives (like
    jax.make_jaxpr); `optimize=True` returns it after the passes."""
    def traced(*args: Any, **kwargs: Any) -> Any:
        f = fun if isinstance(fun, Function) else Function(fun)
        concrete = f.get_concrete_function(*args, **kwargs)
        return concrete.optimized_ir if optimize else concrete.ir
    return traced


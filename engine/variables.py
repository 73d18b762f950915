"""`engine.Variable`: a mutable tensor with identity, as `tf.Variable`.

Its array lives in an `ir.types.Cell`; assigning replaces the array (never writes into it), so every tensor read
earlier keeps its value. While a function is traced, reads and assigns become `read`/`assign` ops on a reference.
"""
from __future__ import annotations

import itertools
import threading
from typing import Any, Callable, Optional

import numpy as np

from autodiff import tape as _tape
from engine import dispatch
from engine.convert import convert_to_tensor
from engine.errors import DTypeConversionError
from engine.ops.constant_op import constant
from engine.tensor import Tensor, TensorLike, TensorShape, numpy_repr
from ir.types import Cell, DType, as_dtype

_uid = itertools.count()
# Per thread: called with each new Variable before it is made (engine.autograph.variable_rule enforces TensorFlow's
# rule on Variables created while a function is traced; the hook may raise).
_creation = threading.local()


def set_creation_hook(hook: Optional[Callable[["Variable"], None]]) -> Optional[Callable[["Variable"], None]]:
    """Installs `hook` for this thread; returns the one it replaces."""
    old = getattr(_creation, "hook", None)
    _creation.hook = hook
    return old


class AssignOperation:
    """`assign*(..., read_value=False)` while tracing: TensorFlow returns the graph's assign `Operation` there (None
    eagerly). It is not a tensor: returning it from a function is a TypeError, as in TensorFlow."""

    def __init__(self, variable: "Variable") -> None:
        self.name = f"{variable.name.split(':')[0]}/Assign"

    def __repr__(self) -> str:
        return f"<engine.AssignOperation {self.name!r}>"


class Variable(TensorLike):
    """A mutable tensor.

    >>> import engine as tf
    >>> v = tf.Variable([1.0, 2.0])
    >>> _ = v.assign_add([0.5, 0.5])
    >>> v.numpy()
    array([1.5, 2.5], dtype=float32)
    """

    __slots__ = ("_cell", "_dtype", "_shape", "_trainable", "_name", "_uid", "_constraint", "__weakref__")

    def __init__(self, initial_value: Any = None, trainable: Optional[bool] = None, validate_shape: bool = True,
                 name: Optional[str] = None, dtype: Any = None, shape: Any = None, constraint: Any = None,
                 **unused: Any) -> None:
        if initial_value is None:
            raise ValueError("Variable needs an initial_value")
        hook = getattr(_creation, "hook", None)
        if hook is not None:
            hook(self)
        if callable(initial_value):
            initial_value = initial_value()
        t = constant(initial_value, dtype=dtype) if not isinstance(initial_value, Tensor) else initial_value
        if dtype is not None and t.dtype is not as_dtype(dtype):
            from engine.ops import cast
            t = cast(t, dtype)
        self._cell = Cell(np.array(t.numpy(), copy=True))
        self._dtype: DType = t.dtype
        self._shape = TensorShape(self._cell.array.shape)
        self._trainable = True if trainable is None else bool(trainable)
        self._uid = next(_uid)
        self._name = (name or "Variable") + ":0"
        if constraint is not None and not callable(constraint):
            raise ValueError(f"The `constraint` argument must be a callable. Got: {constraint!r}")
        self._constraint = constraint  # applied by optimizers after each update, as TF's are

    # ---- what it is
    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def name(self) -> str:
        return self._name

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def constraint(self) -> Any:
        """A callable projecting the value after each optimizer update (Keras's weight constraints), or None."""
        return self._constraint

    @constraint.setter
    def constraint(self, value: Any) -> None:
        self._constraint = value

    @property
    def cell(self) -> Cell:
        return self._cell

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def get_shape(self) -> TensorShape:
        return self._shape

    # ---- reading
    def value(self) -> Tensor:
        """The current value as a tensor (a read op while tracing); tapes watching this Variable see the read."""
        tracer = dispatch.current_tracer()
        if tracer is not None:
            t = tracer.read_variable(self)
        else:
            t = Tensor(self._cell.array)
        if _tape.active:
            _tape.record_read(self, t, self._trainable)
        return t

    read_value = value

    def numpy(self) -> Any:
        a = np.array(self._cell.array, copy=True)
        return a[()] if a.ndim == 0 else a

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = np.array(self._cell.array, copy=True)
        return a if dtype is None else a.astype(dtype)

    # ---- writing
    def _coerce(self, value: Any, what: str) -> Tensor:
        if isinstance(value, (Tensor, Variable)):
            t = value if isinstance(value, Tensor) else value.value()
            if t.dtype is not self._dtype:
                raise DTypeConversionError(f"{what}: cannot assign a value of dtype {t.dtype.name} to the "
                                           f"{self._dtype.name} Variable {self._name!r}")
        else:
            t = convert_to_tensor(value, dtype_hint=self._dtype)
            if t.dtype is not self._dtype:
                raise DTypeConversionError(f"{what}: cannot assign a value of dtype {t.dtype.name} to the "
                                           f"{self._dtype.name} Variable {self._name!r}")
        if tuple(t.shape) != tuple(self._shape):
            raise ValueError(f"{what}: cannot assign a value of shape {tuple(t.shape)} to the Variable "
                             f"{self._name!r} of shape {tuple(self._shape)}")
        return t

    def _store(self, t: Tensor, read_value: bool) -> Any:
        """Writes `t`; returns the Variable, or when `read_value` is False what TensorFlow returns: None eagerly,
        the assign operation while tracing."""
        tracer = dispatch.current_tracer()
        if tracer is not None:
            tracer.assign_variable(self, t)
        else:
            a = t._value
            # Compiled code takes the cell's array as it is: keep it C-contiguous and aligned (a transposed or
            # strided eager value is copied once here rather than on every call).
            self._cell.array = a if a.flags.c_contiguous and a.flags.aligned else a.copy()
        if read_value:
            return self
        return None if tracer is None else AssignOperation(self)

    def assign(self, value: Any, use_locking: Any = None, name: Any = None,
               read_value: bool = True) -> Any:
        return self._store(self._coerce(value, "assign"), read_value)

    def assign_add(self, delta: Any, use_locking: Any = None, name: Any = None,
                   read_value: bool = True) -> Any:
        from engine.ops import add
        return self._store(self._coerce(add(self.value(), self._coerce_delta(delta)), "assign_add"), read_value)

    def assign_sub(self, delta: Any, use_locking: Any = None, name: Any = None,
                   read_value: bool = True) -> Any:
        from engine.ops import subtract
        return self._store(self._coerce(subtract(self.value(), self._coerce_delta(delta)), "assign_sub"), read_value)

    def __getitem__(self, key: Any) -> Tensor:
        """`v[key]`: the slice's value, which can also be assigned (`v[1:3].assign([20, 30])`), as in TensorFlow."""
        from engine.indexing import getitem
        from engine.slice_assign import VariableSlice
        return VariableSlice(getitem(self, key), self, key)

    def _coerce_delta(self, delta: Any) -> Tensor:
        t = delta.value() if isinstance(delta, Variable) else delta
        return t if isinstance(t, Tensor) else convert_to_tensor(t, dtype_hint=self._dtype)

    # ---- Python conversions go through the current value
    def __bool__(self) -> bool:
        return bool(self.value())

    def __int__(self) -> int:
        return int(self.value())

    def __float__(self) -> float:
        return float(self.value())

    def __index__(self) -> int:
        return self.value().__index__()

    def __format__(self, spec: str) -> str:
        return format(self.value(), spec)

    def __len__(self) -> int:
        return len(self.value())

    def __iter__(self) -> Any:
        return iter(self.value())

    def __repr__(self) -> str:
        return (f"<engine.Variable '{self._name}' shape={self._shape} dtype={self._dtype.name}, "
                f"numpy={numpy_repr(self._cell.array)}>")

    def __str__(self) -> str:
        return repr(self)

    def __deepcopy__(self, memo: Any) -> "Variable":
        return Variable(np.array(self._cell.array), trainable=self._trainable, name=self._name.split(":")[0],
                        constraint=self._constraint)

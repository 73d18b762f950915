"""Building IR with unknown dims by hand for the codegen tests: explicit result types (no shape inference), a
stand-in for the `dim` row where the IR layer's is not in the table yet, and compiling without re-verification."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from codegen import runtime
from codegen.rules.shape import lower_dim
from ir.core import Block, Builder, Function, Value
from ir.opdef import NONDIFF, OPS, OpDef
from ir.types import TensorType, float32, int64

SIZES = (0, 1, 3, 17, 1000)
# The `dim` row as the IR layer defines it (dim %x {axis = k} : i64[]); a local stand-in until it is in the table.
DIM = OPS.get("dim") or OpDef("dim", lambda types, *, axis: (TensorType(int64, ()),),
                              lambda x, *, axis: np.asarray(x.shape[axis], np.int64), NONDIFF, "shape",
                              attrs=("axis",), lower=lower_dim)


def T(*shape: Any, dtype: Any = float32) -> TensorType:
    return TensorType(dtype, shape)


def build(params: Sequence[TensorType], body: Callable[..., Sequence[Value]]) -> Function:
    """A function built with explicit result types (no shape inference, no verification)."""
    args = [Value(t, f"p{i}") for i, t in enumerate(params)]
    b = Builder(Block(args))
    b.op(OPS["return"], list(body(b, *args)), result_types=[])
    return Function("f", b.block)


def op(b: Builder, name: Any, operands: Sequence[Value], result: TensorType, **attrs: Any) -> Value:
    opdef = OPS[name] if isinstance(name, str) else name
    return b.op(opdef, list(operands), attrs, result_types=[result])[0]


def compile_unverified(fn: Function) -> Any:
    lowered, mod, obj = runtime.build(fn, True, None)
    compiled = runtime._link(fn, lowered, obj, True, None)
    compiled._llvm_ir = str(mod)
    return compiled


def ints(rng: np.random.Generator, *shape: int, dtype: Any = np.int32) -> np.ndarray:
    return rng.integers(-1000, 1000, size=shape).astype(dtype)

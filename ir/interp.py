"""The reference interpreter: runs an `ir.core.Function` on numpy arrays with the rows' `eager` kernels (DESIGN §4).

Owns `run(fn, args)`, the `Interpreter` that does the work, and `InterpError`. It is the oracle that compiled code
is compared with, so it is strict: arguments must match the parameter types, and (by default) every kernel's
result must have exactly the dtype and shape that its op's result type says.
- Plain rows: `opdef.eager(*values, **attrs)`; one result for `nresults == 1`, nothing for `nresults == 0`.
- Structured rows: `opdef.eager(*values, regions=op.regions, run_block=self.run_block, **attrs)` returning one
  value per result; `run_block(block, values)` binds the block's arguments and runs it up to its terminator.
- Variable references (`RefType` params) are passed as `ir.types.Cell`s; `read`/`assign` kernels take the Cell.
Assumes only `ir.core`, `ir.types` and the op table; it never names an op.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ir.core import Block, Function, Op, Value
from ir.types import Cell, RefType, TensorType, StackType


class InterpError(RuntimeError):
    """A kernel returned something other than what its op's result types promise."""


def _describe(op: Op, fn: Optional[Function]) -> str:
    """The op as one line of IR text, its values named as in the printed function when that is known."""
    from ir.verify import format_loc, format_op, function_namer
    return f"`{format_op(op, function_namer(fn) if fn is not None else None)}`{format_loc(op)}"


def _param_name(fn: Function, k: int) -> str:
    v = fn.params[k]
    return f"parameter #{k}" + (f" %{v.name}" if v.name else "") + f" of @{fn.name}"


def check_argument(fn: Function, k: int, x: Any) -> Any:
    """The argument as the kernels expect it: a Cell for a reference, else an array of the param's exact type."""
    t = fn.params[k].type
    what = _param_name(fn, k)
    if isinstance(t, RefType):
        if not isinstance(x, Cell):
            raise TypeError(f"{what} is a Variable reference {t}: pass an ir.types.Cell, got {type(x).__name__}")
        _check_array(what, t, np.asarray(x.array))
        return x
    if isinstance(x, Cell):
        raise TypeError(f"{what} expects a tensor {t}, got a Variable reference (Cell)")
    if isinstance(x, (bool, int, float, list, tuple)):
        # Python scalars adopt the parameter's dtype, as in TensorFlow; rounding to a float is fine, but 1.5 or
        # 2**40 silently changed by an integer dtype is not.
        with np.errstate(all="ignore"):
            converted = np.asarray(x, dtype=t.dtype.np)
        if not t.dtype.is_floating and not np.array_equal(converted, np.asarray(x)):
            raise TypeError(f"{what} expects {t}: the Python value {x!r} does not fit {t.dtype.name}")
        x = converted
    return _check_array(what, t, np.asarray(x))


def _check_array(what: str, t: TensorType, a: np.ndarray) -> np.ndarray:
    if a.dtype != t.dtype.np:
        raise TypeError(f"{what} expects {t}, got an array of dtype {a.dtype}")
    if a.shape != t.shape:
        raise ValueError(f"{what} expects {t}, got an array of shape {a.shape}")
    return a


class Interpreter:
    """Runs functions op by op; `check_types` makes each kernel's results match their declared types exactly."""

    def __init__(self, check_types: bool = True) -> None:
        self.check_types = check_types
        self.fn: Optional[Function] = None  # the function being run, to name values in messages

    def run(self, fn: Function, args: Sequence[Any]) -> list[np.ndarray]:
        args = list(args)
        if len(args) != len(fn.params):
            raise TypeError(f"@{fn.name} takes {len(fn.params)} argument(s) "
                            f"({', '.join(str(t) for t in fn.param_types)}), got {len(args)}")
        values = [check_argument(fn, k, x) for k, x in enumerate(args)]
        self.fn = fn
        # NaN and inf arise silently, as in TensorFlow and compiled code; numpy's warnings would only be noise.
        with np.errstate(all="ignore"):
            outs = self.run_block(fn.block, values)
        results = []
        for v, out in zip(fn.results, outs):
            if isinstance(out, Cell):
                raise InterpError(f"@{fn.name} returns a Variable reference; return a read of it instead")
            # A copy: results must not alias a Variable's array or a read-only broadcast view.
            results.append(np.array(out, dtype=v.type.dtype.np))
        return results

    def run_block(self, block: Block, values: Sequence[Any]) -> list[Any]:
        """Binds the block's arguments to `values`, runs its ops, returns the terminator's operand values."""
        if len(values) != len(block.args):
            raise InterpError(f"block ^{block.label or '?'} takes {len(block.args)} value(s), got {len(values)}")
        env: dict[int, Any] = {id(a): v for a, v in zip(block.args, values)}
        for op in block.ops:
            operands = [env[id(v)] for v in op.operands]
            if op.opdef.terminator:
                return operands
            outs = self.run_op(op, operands)
            for r, out in zip(op.results, outs):
                env[id(r)] = out
        raise InterpError(f"block ^{block.label or '?'} has no terminator")

    def run_op(self, op: Op, operands: Sequence[Any]) -> tuple[Any, ...]:
        opdef = op.opdef
        try:
            if opdef.structured:
                outs = tuple(opdef.eager(*operands, regions=op.regions, run_block=self.run_block, **op.attrs))
            elif opdef.nresults == 1:
                outs = (opdef.eager(*operands, **op.attrs),)
            else:
                out = opdef.eager(*operands, **op.attrs)
                outs = () if out is None else tuple(out)
        except Exception as e:  # noqa: BLE001  the kernel's own error, with the op and line that raised it
            # Python >= 3.11 shows notes under the message; only the innermost op is named, not each cond/while
            # around it.
            if hasattr(e, "add_note") and not getattr(e, "_interp_noted", False):
                e.add_note(f"while interpreting op {_describe(op, self.fn)}")
                e._interp_noted = True  # type: ignore[attr-defined]
            raise
        if len(outs) != len(op.results):
            raise InterpError(f"op {_describe(op, self.fn)}: the kernel returned {len(outs)} value(s) for "
                              f"{len(op.results)} result(s)")
        if self.check_types:
            for r, out in zip(op.results, outs):
                self.check_result(op, r, out)
        return outs

    def check_result(self, op: Op, r: Value, out: Any) -> None:
        if isinstance(r.type, StackType):
            return  # a stack is a cons list of arrays, checked when its elements are popped
        a = np.asarray(out)
        if a.dtype != r.type.dtype.np or a.shape != r.type.shape:
            raise InterpError(f"op {_describe(op, self.fn)}: the kernel returned {a.dtype}{list(a.shape)} but "
                              f"the result type is {r.type}")


def run(fn: Function, args: Sequence[Any], interpreter: Optional[Interpreter] = None) -> list[np.ndarray]:
    """Runs `fn` on `args` (arrays, Python scalars, or Cells for reference parameters); returns its results.

    >>> import numpy as np
    >>> from ir.core import Block, Builder, Function, Value
    >>> from ir.types import TensorType, float32
    >>> x = Value(TensorType(float32, (2,)), "x")
    >>> b = Builder(Block([x]))
    >>> _ = b.op("return", [b.one("mul", x, x)])
    >>> run(Function("square", b.block), [np.array([2.0, 3.0], np.float32)])
    [array([4., 9.], dtype=float32)]
    """
    return (interpreter or Interpreter()).run(fn, args)

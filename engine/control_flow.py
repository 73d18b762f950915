"""`engine.cond`, `engine.while_loop`, `engine.print` and runtime assertions.

Eagerly they run as Python. While a function is traced they emit the structured ops of `ir.control` (and the
`print`/`assert` effect ops), tracing each branch and the loop body once into a closed region.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional, Sequence

from engine import dispatch, nest
from engine.convert import convert_to_tensor
from engine.ops.funnel import as_tensor
from engine.tensor import Tensor, TensorLike
from engine.tensor_array import shaped_like, unshaped_tensor_array
from engine.trace import Trace, current, unify_captures, user_location
from ir.opdef import OPS
from ir.types import TensorType, bool_, int32


def _pred_tensor(pred: Any, where: str) -> Tensor:
    t = as_tensor(pred)
    if t.dtype is not bool_ or tuple(t.shape) != ():
        raise TypeError(f"{where}: the predicate must be a scalar bool tensor, got dtype {t.dtype.name} and shape "
                        f"{tuple(t.shape)}")
    return t


def _tensors_of(structure: Any, what: str) -> list[Optional[Tensor]]:
    out: list[Optional[Tensor]] = []
    for leaf in nest.flatten(structure):
        if leaf is None:
            out.append(None)
        elif isinstance(leaf, TensorLike) or isinstance(leaf, (int, float, bool)) or hasattr(leaf, "dtype"):
            out.append(as_tensor(leaf) if isinstance(leaf, TensorLike) else convert_to_tensor(leaf))
        else:
            raise TypeError(f"{what} returned {leaf!r} of type {type(leaf).__name__}; only tensors, numbers and "
                            f"None can flow out of a traced branch or loop")
    return out


def _describe(structure: Any) -> str:
    return repr(nest.map_structure(lambda x: "None" if x is None else "*", structure))


def _at() -> str:
    """"file, line N: " of the user's line that called into Kiln, for messages."""
    loc = user_location()
    return "" if loc is None else f"{loc[0]}, line {loc[1]}: "


def _check_body_structure(out: Any, structure: Any) -> None:
    """ValueError (as TensorFlow's) unless the body returned the loop variables' structure; a list for a tuple is
    fine, as in TensorFlow."""
    try:
        nest.assert_same_structure(out, structure)
    except (ValueError, TypeError):
        raise ValueError(f"{_at()}while_loop: the body returns {_describe(out)} but the loop variables are "
                         f"{_describe(structure)}; the body must return the same structure") from None


def cond(pred: Any, true_fn: Optional[Callable[[], Any]] = None, false_fn: Optional[Callable[[], Any]] = None,
         name: Optional[str] = None) -> Any:
    """true_fn() if pred else false_fn(); traced, both branches are traced once into a `cond` op.

    >>> import engine as tf
    >>> float(tf.cond(tf.constant(2.0) > 1.0, lambda: tf.constant(1.0), lambda: tf.constant(-1.0)))
    1.0
    """
    if true_fn is None or false_fn is None:
        raise TypeError("cond needs both true_fn and false_fn")
    trace = current()
    if trace is None:
        p = pred if isinstance(pred, bool) else bool(_pred_tensor(pred, "cond"))
        return true_fn() if p else false_fn()
    p = _pred_tensor(pred, "cond")
    (f_then, out_then), (f_else, out_else) = trace_branches(trace, true_fn, false_fn)
    try:
        nest.assert_same_structure(out_then, out_else)
    except ValueError:
        raise TypeError(f"cond: the true branch returns {_describe(out_then)} but the false branch returns "
                        f"{_describe(out_else)}; both branches must return the same structure") from None
    t_then, t_else = _tensors_of(out_then, "cond's true branch"), _tensors_of(out_else, "cond's false branch")
    for i, (a, b) in enumerate(zip(t_then, t_else)):
        if (a is None) != (b is None):
            raise TypeError(f"cond: output {i} is None in one branch only")
        if a is not None and (a.dtype is not b.dtype or len(a.shape) != len(b.shape)):
            raise TypeError(f"cond: output {i} is {a.dtype.name}{list(a.shape)} in the true branch but "
                            f"{b.dtype.name}{list(b.shape)} in the false branch; both branches must agree in "
                            f"dtype and rank (dims that differ become unknown)")
    live = [i for i, a in enumerate(t_then) if a is not None]
    results = emit_cond(trace, p, f_then, f_else, [t_then[i] for i in live], [t_else[i] for i in live])
    flat: list[Any] = [None] * len(t_then)
    for i, r in zip(live, results):
        flat[i] = r
    return nest.pack_sequence_as(out_then, flat)


def trace_branches(trace: Trace, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> list[tuple[Any, Any]]:
    """Trace each branch once into its own region; returns (frame, Python outputs) per branch."""
    return [trace.trace_region(label, [], [], lambda args, fn=fn: fn())
            for label, fn in (("then", true_fn), ("else", false_fn))]


def emit_cond(trace: Trace, p: Tensor, f_then: Any, f_else: Any, then_out: Sequence[Tensor],
              else_out: Sequence[Tensor]) -> list[Tensor]:
    """Close both regions with their yields and emit the `cond` op; the outputs must agree in type."""
    types = [relaxed_type(a.type, b.type) for a, b in zip(then_out, else_out)]
    names = [t._node.name if t._node is not None else None for t in then_out]
    trace.finish_region(f_then, cast_to(trace, f_then, then_out, types))
    trace.finish_region(f_else, cast_to(trace, f_else, else_out, types))
    captured = unify_captures([f_then, f_else])
    operands = [trace.value_of(p)] + captured
    results = trace.emit_structured(OPS["cond"], operands, {}, [f_then.block, f_else.block], types, names=names)
    return [Tensor(None, r) for r in results]


def relaxed_type(a: TensorType, b: TensorType) -> TensorType:
    """The type both `a` and `b` are (same dtype and rank): each dim they disagree on becomes unknown (TF's
    most specific compatible shape)."""
    return TensorType(a.dtype, tuple(x if x == y else None for x, y in zip(a.shape, b.shape)))


def cast_to(trace: Trace, frame: Any, outputs: Sequence[Tensor], types: Sequence[TensorType],
            keep_unknown: bool = False) -> list[Tensor]:
    """`outputs`, each made its type in `types` (a `shape_cast` emitted into `frame`'s region where it differs;
    with `keep_unknown` also where both have `?` dims, so that they stay unknown when `specialize` makes the
    operand static: a loop's carried value whose size changes)."""
    def needs(t: Tensor, want: TensorType) -> bool:
        return t.type != want or (keep_unknown and not want.is_static)
    if not any(needs(t, want) for t, want in zip(outputs, types)):
        return list(outputs)
    trace.frames.append(frame)
    try:
        return [dispatch.apply(OPS["shape_cast"], t, shape=want.shape) if needs(t, want) else t
                for t, want in zip(outputs, types)]
    finally:
        trace.frames.pop()


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any, shape_invariants: Any = None,
               parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
               maximum_iterations: Any = None, name: Optional[str] = None) -> Any:
    """Repeat `loop_vars = body(*loop_vars)` while `cond(*loop_vars)`; traced, emits one `while_loop` op.

    >>> import engine as tf
    >>> int(tf.while_loop(lambda i: i < 10, lambda i: (i + 3,), [tf.constant(0)])[0])
    12
    """
    single = not isinstance(loop_vars, (list, tuple))
    structure = [loop_vars] if single else loop_vars
    trace = current()

    def call(fn: Callable[..., Any], values: Any) -> Any:
        return fn(*values)

    def repack(out: Any) -> Any:
        if single:
            return out
        if len(structure) == 1 and not isinstance(out, (list, tuple)):
            return type(structure)([out]) if isinstance(structure, list) else (out,)
        return out

    if trace is None:
        values = structure
        n = 0
        while bool(call(cond, values)):
            if maximum_iterations is not None and n >= int(maximum_iterations):
                break
            values = repack(call(body, values))
            values = [values] if single else values
            _check_body_structure(values, structure)
            n += 1
        # The result has the structure of loop_vars (a list stays a list), as when traced.
        return values[0] if single else nest.pack_sequence_as(structure, nest.flatten(list(values)))
    return _traced_while(trace, cond, body, structure, single, repack, maximum_iterations, shape_invariants)


def _invariant_types(init: Sequence[Tensor], structure: Any, single: bool, shape_invariants: Any) -> list[TensorType]:
    """The carried types: each loop variable's, or the shape its `shape_invariants` entry gives (None dims may
    change from trip to trip); ValueError (as TensorFlow's) when an invariant does not fit the initial value."""
    if shape_invariants is None:
        return [t.type for t in init]
    given = _shapes_of([shape_invariants] if single else shape_invariants)
    if len(given) != len(init):
        raise ValueError(f"{_at()}while_loop: shape_invariants has {len(given)} entries but there are {len(init)} "
                         f"loop variables")
    types = []
    for i, (t, shape) in enumerate(zip(init, given)):
        shape = t.shape if shape is None else tuple(None if d is None else int(d) for d in shape)
        if len(shape) != len(t.shape) or any(d is not None and d != n for d, n in zip(shape, t.shape)):
            raise ValueError(f"{_at()}while_loop: loop variable {i} has shape {tuple(t.shape)}, which is not "
                             f"compatible with its shape invariant {tuple(shape)}")
        types.append(TensorType(t.dtype, tuple(shape)))
    return types


def _shape_tensor_arrays(trace: Trace, body: Callable[..., Any], structure: Any, single: bool,
                         repack: Callable[[Any], Any]) -> Any:
    """Loop variables with each TensorArray that has no element shape yet given the one a speculative trace of the
    body writes into it (the trace is dropped)."""
    if not any(unshaped_tensor_array(v) for v in structure):
        return structure
    types = [t.type for t in _tensors_of(structure, "while_loop's loop_vars")]

    def once(args: list[Tensor]) -> list[Any]:
        out = repack(body(*nest.pack_sequence_as(structure, args)))
        return [out] if single else list(out)

    _, first = trace.trace_region("speculate", types, [None] * len(types), once)
    settled = [shaped_like(v, f, f"{_at()}while_loop: loop variable {i}") if unshaped_tensor_array(v) else v
               for i, (v, f) in enumerate(zip(structure, first))]
    return type(structure)(settled) if isinstance(structure, list) else tuple(settled)


def _traced_while(trace: Trace, cond: Callable[..., Any], body: Callable[..., Any], structure: Any, single: bool,
                  repack: Callable[[Any], Any], maximum_iterations: Any, shape_invariants: Any = None) -> Any:
    structure = _shape_tensor_arrays(trace, body, structure, single, repack)
    init = _tensors_of(structure, "while_loop's loop_vars")
    if any(t is None for t in init):
        raise TypeError("while_loop: a loop variable is None; every loop variable must be a tensor")
    relaxed = _invariant_types(init, structure, single, shape_invariants)
    init = cast_to(trace, trace.frame, init, relaxed, keep_unknown=shape_invariants is not None)
    counted = maximum_iterations is not None
    if counted:
        init = init + [convert_to_tensor(0, dtype=int32)]
        limit = as_tensor(maximum_iterations)
    k = len(init)
    types = [t.type for t in init]
    names = [t._node.name if t._node is not None else None for t in init]

    def user_vals(args: list[Tensor]) -> Any:
        return nest.pack_sequence_as(structure, args[:len(args) - counted] if counted else args)

    def cond_body(args: list[Tensor]) -> list[Any]:
        c = cond(*user_vals(args))
        c = _pred_tensor(c, "while_loop's cond")
        if counted:
            from engine.ops import less, logical_and
            c = logical_and(c, less(args[-1], limit))
        return [c]

    def body_body(args: list[Tensor]) -> list[Any]:
        out = repack(body(*user_vals(args)))
        out_struct = [out] if single else out
        _check_body_structure(out_struct, structure)
        outs = _tensors_of(out_struct, "while_loop's body")
        for i, (a, t) in enumerate(zip(outs, types)):
            if a is None or a.dtype is not t.dtype or not _fits(a.type, t):
                got = "None" if a is None else f"{a.dtype.name}{list(a.shape)}"
                # As TensorFlow: TypeError for another dtype, ValueError for another shape.
                error = ValueError if a is not None and a.dtype is t.dtype else TypeError
                raise error(f"{_at()}while_loop: loop variable {i} is {t.dtype.name}{list(t.shape)} before the loop "
                            f"but {got} after one iteration; to let its shape vary across iterations, give it a "
                            f"less specific shape with the `shape_invariants` argument (None where it may change)")
        outs = cast_to(trace, trace.frame, outs, types, keep_unknown=shape_invariants is not None)
        if counted:
            from engine.ops import add
            outs = outs + [add(args[-1], 1)]
        return outs

    f_cond, c_out = trace.trace_region("cond", types, names, cond_body)
    f_body, b_out = trace.trace_region("body", types, names, body_body)
    trace.finish_region(f_cond, c_out)
    trace.finish_region(f_body, b_out)
    captured = unify_captures([f_cond, f_body])
    operands = [trace.value_of(t) for t in init] + captured
    results = trace.emit_structured(OPS["while_loop"], operands, {"carried": k}, [f_cond.block, f_body.block],
                                    types, names=names)
    outs = [Tensor(None, r) for r in results[:k - counted]]
    packed = nest.pack_sequence_as(structure, outs)
    return packed[0] if single else packed


def _shapes_of(invariants: Any) -> list[Any]:
    """The shapes of a `shape_invariants` structure in order: a TensorShape, a list of ints and Nones, or None."""
    if invariants is None or isinstance(invariants, (tuple, list)) and all(d is None or isinstance(d, int)
                                                                           for d in invariants):
        return [invariants]
    if hasattr(invariants, "as_list") or hasattr(invariants, "shape") and not nest.is_nested(invariants):
        return [tuple(getattr(invariants, "shape", invariants))]
    return [s for v in (invariants.values() if isinstance(invariants, dict) else invariants) for s in _shapes_of(v)]


def _fits(t: TensorType, invariant: TensorType) -> bool:
    """`t` is an instance of `invariant`: the same rank, and the same size wherever the invariant has one."""
    return len(t.shape) == len(invariant.shape) and all(d is None or d == n for d, n in zip(invariant.shape, t.shape))


def print(*inputs: Any, output_stream: Any = None, sep: str = " ", end: str = "\n",  # noqa: A001
          summarize: int = 3, name: Optional[str] = None) -> None:
    """`tf.print`: prints on every call (eager, and each run of a traced function); stderr by default."""
    if output_stream is None:
        output_stream = "stderr"  # whatever sys.stderr is when the print runs
    if output_stream is sys.stdout or output_stream == "stdout":
        stream = "stdout"
    elif output_stream is sys.stderr or output_stream == "stderr":
        stream = "stderr"
    else:
        raise ValueError(f"print: output_stream must be sys.stdout or sys.stderr, got {output_stream!r}")
    pieces, tensors = [], []
    for x in inputs:
        if isinstance(x, TensorLike):
            pieces.append("{}")
            tensors.append(as_tensor(x))
        else:
            text = str(nest.map_structure(lambda v: v.numpy() if isinstance(v, Tensor) and v._node is None else v,
                                          x)) if nest.is_nested(x) else str(x)
            pieces.append(text.replace("{", "{{").replace("}", "}}"))
    template = sep.replace("{", "{{").replace("}", "}}").join(pieces) + end.replace("{", "{{").replace("}", "}}")
    dispatch.apply(OPS["print"], *tensors, template=template, stream=stream, summarize=int(summarize))


def Assert(condition: Any, data: Sequence[Any], summarize: Optional[int] = None,  # noqa: N802  (TF's name)
           name: Optional[str] = None) -> None:
    """Raises InvalidArgumentError (when run) if `condition` is false, showing `data`."""
    c = as_tensor(condition)
    if c.dtype is not bool_:
        raise TypeError(f"Assert: condition must be bool, got {c.dtype.name}")
    tensors = [as_tensor(d) for d in data if isinstance(d, TensorLike)]
    # Each tensor shows where it stands among the texts ("x = [1. -2.] y = 0"): a `{}` per tensor, braces escaped.
    parts = ["{}" if isinstance(d, TensorLike) else str(d).replace("{", "{{").replace("}", "}}") for d in data]
    message = " ".join(parts) if tensors else (" ".join(parts) or name or "Assert")
    dispatch.apply(OPS["assert"], c, *tensors, message=message, summarize=3 if summarize is None else int(summarize))

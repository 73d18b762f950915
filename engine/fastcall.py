"""The fast call path of a compiled concrete function: a small Python function generated per signature.

Calling compiled code costs about 0.05 µs; everything around it (allocating outputs, wrapping them as tensors) is
Python, so it is generated once per concrete function with the arity, dtypes and shapes written in as constants.
An `engine.function` installs it as what a call of the function runs (`Function._call`), so a call is one Python
frame: the global guards (keyword arguments, run-eagerly, an active tape, tracing), an identity compare per
argument, `np.empty` per output, the native call, and the result tensor built without running `Tensor.__init__`
(its value is an exact ndarray by construction). The arguments bind to positional-only parameters with a default
(no `*args` tuple to unpack; a keyword never reaches them) and a 1-d result's size is an int, not a tuple: on
`f(x, y) = x + y` over float32[8] that took the call from 784 to 701 ns CPU time (minimum of 120 alternating runs on
the loaded 2-core host; numba's dispatcher 832 ns in the same process). For a kernel compiled with unknown dims (`f32[?,784]`) the caller
is made for the parameter types, so one caller takes every size: a result whose dims follow the arguments' is
allocated from their shapes (codegen.owned.shape_source), one whose size the kernel decides is passed as a
descriptor and adopted after the call (codegen.owned.adopt; freed if the call fails). The arrays' dtypes, shapes
and layouts are checked by the native entry itself (codegen.entry), which refuses anything else with
`EntryArgumentError`; that, an argument that is neither an eager Tensor nor a numpy array, or one whose shape cannot give the results'
shapes, goes to the owner's general path (which converts, copies or raises a clear error). Without an owner (`ConcreteFunction.fast_call`), a miss returns `MISS`.

While a profiler records (engine.profiler), every call takes the general path, where the profiler times it.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Optional

import numpy as np

from autodiff import tape as _tape
from codegen import owned
from codegen.entry import EntryArgumentError
from codegen.runtime import num_threads
from engine import dispatch
from engine.tensor import Tensor

MISS = object()
#: `engine.config.run_functions_eagerly`: decorated functions run as plain Python (read by the generated callers).
RUN_EAGERLY = [False]
#: The profiler recording now, if any (engine.profiler sets it): compiled calls report to it.
PROFILING: list[Any] = []


def make_fast_call(concrete: Any, compiled: Any, arg_types: list[Any], owner: Optional[Any] = None) -> Callable[..., Any]:
    """The fast caller of `compiled` for positional eager tensors of `arg_types` (made once per compiled code and
    owner). `owner` is the `engine.function` whose general path (`_call_general`) takes the calls that miss."""
    key = (tuple(arg_types), owner is not None)
    made = compiled.fast_callers.get(key)
    if made is not None:
        return made
    n = len(arg_types)
    variables = concrete.variables
    assigned = [i - n for i in compiled.lowered.assigned]
    # The owner through a weak reference: its concretes own this code, which must not keep it alive.
    env: dict[str, Any] = {"Tensor": Tensor, "ndarray": np.ndarray, "new": Tensor.__new__, "MISS": MISS, "empty": np.empty,
                           "py": compiled._py, "pop": compiled._pool.pop, "push": compiled._pool.append,
                           "workspace": compiled.workspace, "fail": compiled.fail, "Refused": EntryArgumentError,
                           "compiled": compiled, "pack": concrete._pack, "eagerly": RUN_EAGERLY,
                           "taping": _tape.active, "tracers": dispatch._tracer, "tracing": dispatch.tracing,
                           "profiling": PROFILING,
                           "owner": weakref.ref(owner) if owner is not None else None}
    # The arguments bind to positional-only parameters (a keyword never binds to them, whatever its name): no
    # tuple to unpack. A parameter left at its default (`MISS`, too few arguments) fails the type check.
    params = "".join(f"a{i}=MISS, " for i in range(n)) + ("/, " if n else "")
    given = f"*given(({', '.join(f'a{i}' for i in range(n))}{',' if n == 1 else ''}), rest)" if n else "*rest"
    env["given"] = _given
    miss = f"owner()._call_general({given}, **kwargs)" if owner is not None else "MISS"
    lines = [f"def fast({params}*rest, **kwargs):",
             "    if rest or kwargs or eagerly[0] or taping or profiling or (tracers and tracing()):",
             f"        return {miss}"]
    miss_positional = f"owner()._call_general({given})" if owner is not None else "MISS"
    for i in range(n):  # an eager Tensor's array, or a numpy array itself (the entry checks its dtype and layout)
        lines += [f"    if type(a{i}) is Tensor:", f"        v{i} = a{i}._value",
                  f"    elif type(a{i}) is ndarray:", f"        v{i} = a{i}", "    else:",
                  f"        return {miss_positional}"]
    for k, v in enumerate(variables):
        env[f"cell{k}"] = v.cell
        lines.append(f"    c{k} = cell{k}.array")
    arrays = [f"v{i}" for i in range(n)] + [f"c{k}" for k in range(len(variables))]
    plans = compiled._dynamic  # results of unknown dims: from the arguments' shapes, or allocated by the kernel
    kernel_made = [k for k, plan in plans.items() if plan[0] == "kernel"]
    alloc = []
    for k, t in enumerate(compiled.lowered.results):
        env[f"OD{k}"] = t.dtype.np
        kind = "zeros" if k in kernel_made else "empty"
        dtype = "i64" if k in kernel_made else f"OD{k}"
        shape = owned.shape_source(t.shape, plans.get(k), arrays)
        if plans.get(k) is None and len(t.shape) == 1:  # numpy reads an int size faster than a 1-tuple
            shape = repr(t.shape[0])
        alloc.append(f"o{k} = {kind}({shape}, {dtype})")
    outs = [f"o{k}" for k in range(len(alloc))]
    env.update(zeros=np.zeros, i64=np.int64, adopt=owned.adopt, release=owned.release)
    for k, vi in enumerate(assigned):
        t = compiled.lowered.params[n + vi]
        env[f"WD{k}"] = t.dtype.np
        alloc.append(f"w{k} = empty({t.shape!r}, WD{k})")
    if compiled.threads > 1:  # a big tiled kernel: the general path splits it across threads
        lines.append(f"    outs = compiled.run([{', '.join(arrays)}], [{', '.join(f'cell{vi}' for vi in assigned)}])")
        lines.append("    return Tensor(outs[0])" if concrete._single_output else "    return pack(outs)")
        return _remember(compiled, key, _compile(lines, env))
    chunks = str(compiled.lowered.chunks)
    rows = getattr(compiled.lowered, "row_tiles", None)
    if rows is not None:  # tiled over a run-time row count: a call with many rows is split across threads
        split = rows.split_rows() if num_threads() > 1 else 1 << 62
        lines += ["    try:", f"        rows = {arrays[rows.param]}.shape[0]",
                  "    except (IndexError, AttributeError, TypeError):",
                  f"        return {miss_positional}", f"    if rows >= {split}:",
                  f"        outs = compiled.run([{', '.join(arrays)}], [{', '.join(f'cell{vi}' for vi in assigned)}])",
                  "        return Tensor(outs[0])" if concrete._single_output else "        return pack(outs)"]
        chunks = f"-(-rows // {rows.rows})"
    call_args = arrays + outs + [f"w{k}" for k in range(len(assigned))] + ["ws", "0", chunks]
    if any(plan[0] == "param" for plan in plans.values()):
        # Shapes read from the arguments: an argument of another rank (IndexError), a forged tensor
        # (AttributeError) or a huge wrong size (MemoryError) is the general path's to report, as a refusal is.
        lines.append("    try:")
        lines += [f"        {a}" for a in alloc]
        lines += ["    except (IndexError, AttributeError, TypeError, MemoryError):", f"        return {miss_positional}"]
    else:
        lines += [f"    {a}" for a in alloc]
    lines += ["    try:", "        ws = pop()", "    except IndexError:", "        ws = workspace()"]
    lines.append("    try:")
    lines.append(f"        code = py({', '.join(call_args)})")
    lines.append("    except Refused:")  # an argument of another dtype, shape or layout: the general path
    lines.append("        push(ws)")
    lines.append(f"        return {miss_positional}")
    for k, vi in enumerate(assigned):  # before raising too: assigns made before a failure stay, as in eager mode
        lines.append(f"    cell{vi}.array = w{k}")
    lines.append("    if code:")
    lines += [f"        release(o{k})" for k in kernel_made]  # what the failed call allocated
    lines.append("        fail(code, ws)")
    lines.append("    push(ws)")
    for k in kernel_made:  # the kernel's memory, owned by the result array from now on
        lines.append(f"    o{k} = adopt(o{k}, OD{k})")
    if concrete._single_output and len(outs) == 1:
        # Tensor(o0) without __init__: o0 is an exact ndarray, which is all __init__ would make sure of.
        lines += ["    t = new(Tensor)", "    t._value = o0", "    t._node = None", "    return t"]
    else:
        lines.append(f"    return pack([{', '.join(outs)}])")
    return _remember(compiled, key, _compile(lines, env))


def _given(positional: tuple, rest: tuple) -> tuple:
    """The positional arguments of a call of a generated caller: those given (not `MISS`), then the rest."""
    return tuple(a for a in positional if a is not MISS) + rest


def _remember(compiled: Any, key: tuple, fast: Callable[..., Any]) -> Callable[..., Any]:
    compiled.fast_callers[key] = fast
    # The kernel slot: `py` is a global of the caller, which codegen.tiers.swap replaces by the O3 build. Read again
    # once registered, so that a caller made while a swap runs cannot keep the quick build.
    fast.__globals__["py"] = compiled._py
    return fast


def _compile(lines: list[str], env: dict[str, Any]) -> Callable[..., Any]:
    source = "\n".join(lines)
    exec(source, env)  # noqa: S102  (our own generated source, kept on the function as `.source`)
    fast = env["fast"]
    fast.source = source  # type: ignore[attr-defined]
    return fast

"""The fast call path of a compiled concrete function: a small Python closure generated per signature.

Calling compiled code costs about 0.05 µs; everything around it (allocating outputs, wrapping them as tensors) is
Python, so it is generated once per concrete function with the arity, dtypes and shapes written in as constants:
one function call, an identity compare per argument, `np.empty` per output. The arrays' dtypes, shapes and layouts
are checked by the native entry itself (codegen.entry), which refuses anything else with `EntryArgumentError`;
that, or an argument that is not an eager Tensor, returns `MISS` and the caller takes the general path (which
converts, copies or raises a clear error).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from codegen.entry import EntryArgumentError
from engine.tensor import Tensor

MISS = object()


def make_fast_call(concrete: Any, compiled: Any, arg_types: list[Any]) -> Callable[[tuple], Any]:
    """The fast caller of `compiled` for positional eager tensors of `arg_types` (made once per compiled code)."""
    made = compiled.fast_callers.get(tuple(arg_types))
    if made is not None:
        return made
    n = len(arg_types)
    variables = concrete.variables
    assigned = [i - n for i in compiled.lowered.assigned]
    env: dict[str, Any] = {"Tensor": Tensor, "MISS": MISS, "empty": np.empty, "py": compiled._py,
                           "pool": compiled._pool, "workspace": compiled.workspace, "fail": compiled.fail,
                           "Refused": EntryArgumentError, "compiled": compiled, "pack": concrete._pack}
    lines = ["def fast(args):", f"    if len(args) != {n}:", "        return MISS"]
    if n:
        lines.append(f"    {', '.join(f'a{i}' for i in range(n))}{',' if n == 1 else ''} = args")
        lines.append("    if " + " or ".join(f"type(a{i}) is not Tensor" for i in range(n)) + ":")
        lines.append("        return MISS")
    for k, v in enumerate(variables):
        env[f"cell{k}"] = v.cell
        lines.append(f"    c{k} = cell{k}.array")
    outs = []
    for k, t in enumerate(compiled.lowered.results):
        env[f"OD{k}"] = t.dtype.np
        lines.append(f"    o{k} = empty({t.shape!r}, OD{k})")
        outs.append(f"o{k}")
    for k, vi in enumerate(assigned):
        t = compiled.lowered.params[n + vi]
        env[f"WD{k}"] = t.dtype.np
        lines.append(f"    w{k} = empty({t.shape!r}, WD{k})")
    arrays = [f"a{i}._value" for i in range(n)] + [f"c{k}" for k in range(len(variables))]
    if compiled.threads > 1:  # a big tiled kernel: the general path splits it across threads
        lines.append(f"    outs = compiled.run([{', '.join(arrays)}], [{', '.join(f'cell{vi}' for vi in assigned)}])")
        lines.append("    return Tensor(outs[0])" if concrete._single_output else "    return pack(outs)")
        return _remember(compiled, arg_types, _compile(lines, env))
    call_args = arrays + outs + [f"w{k}" for k in range(len(assigned))] + ["ws", "0", str(compiled.lowered.chunks)]
    lines.append("    ws = workspace()")
    lines.append("    try:")
    lines.append(f"        code = py({', '.join(call_args)})")
    lines.append("    except Refused:")  # an argument of another dtype, shape or layout: the general path
    lines.append("        pool.append(ws)")
    lines.append("        return MISS")
    for k, vi in enumerate(assigned):  # before raising too: assigns made before a failure stay, as in eager mode
        lines.append(f"    cell{vi}.array = w{k}")
    lines.append("    if code:")
    lines.append("        fail(code, ws)")
    lines.append("    pool.append(ws)")
    if concrete._single_output and len(outs) == 1:
        lines.append("    return Tensor(o0)")
    else:
        lines.append(f"    return pack([{', '.join(outs)}])")
    return _remember(compiled, arg_types, _compile(lines, env))


def _remember(compiled: Any, arg_types: list[Any], fast: Callable[[tuple], Any]) -> Callable[[tuple], Any]:
    compiled.fast_callers[tuple(arg_types)] = fast
    return fast


def _compile(lines: list[str], env: dict[str, Any]) -> Callable[[tuple], Any]:
    source = "\n".join(lines)
    exec(source, env)  # noqa: S102  (our own generated source, kept on the function as `.source`)
    fast = env["fast"]
    fast.source = source  # type: ignore[attr-defined]
    return fast

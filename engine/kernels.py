"""The one decision "one generic kernel, or a specialization per argument shapes" for IR with unknown dims.

`kernel_ir(fn, arg_shapes)` is asked by every place that compiles a traced function (engine.concrete's concrete
functions, the tape's call steps in engine.call_gradient, engine.transforms); `compiles_generically(fn)` is where
codegen says which functions it compiles with run-time sizes (every row's rule takes them: the conv/pool rows take
a run-time batch but keep spatial and channel dims static). For any other function, each distinct tuple of
argument shapes compiles `ir.passes.specialize(fn, shapes)`, a static function.
"""
from __future__ import annotations

from typing import Any

from ir.core import Function


def compiles_generically(fn: Function) -> bool:
    """Whether codegen compiles `fn`'s unknown dims as run-time sizes (one kernel for every size), as
    `codegen.runtime.supports_unknown_dims(fn)` says (False where codegen has no such answer)."""
    from codegen import runtime
    supports = getattr(runtime, "supports_unknown_dims", None)
    return bool(supports is not None and supports(fn))


def kernel_ir(fn: Function, arg_shapes: Any) -> tuple[Any, Function]:
    """The one decision "generic kernel or specialization": (a cache key, the IR to compile) for a call of `fn`
    with arguments of `arg_shapes` (one shape per parameter in order, None for a Variable reference; missing
    trailing entries are Variable references too).

    A function without unknown dims, or one codegen compiles generically, is its own kernel (key None); else the
    key is the tuple of argument shapes and the IR is `fn` specialized to them."""
    if all(p.type.is_static for p in fn.params) or compiles_generically(fn):
        return None, fn
    from ir.passes.specialize import specialize
    shapes = tuple(None if s is None else tuple(s) for s in arg_shapes)
    return shapes, specialize(fn, shapes)


def native_kernel(table: Any, fn: Function, shapes: Any) -> Any:
    """The compiled kernel that runs `fn` on arguments of `shapes` (None for a Variable's cell), kept in
    `table[fn]`: the one generic kernel, or the specialization to these shapes (`kernel_ir`)."""
    kernels = table.setdefault(fn, {})
    compiled = kernels.get(shapes) or kernels.get(None)
    if compiled is None:
        from codegen.runtime import compile_function
        from ir.passes import optimize
        key, kernel = kernel_ir(fn, shapes)
        compiled = kernels[key] = compile_function(optimize(kernel))
    return compiled

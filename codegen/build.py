"""Building native code for an ir.Function: the static work estimate, the row-tiling decision, lowering with the
native entry's argument specs, LLVM optimization and object emission (each phase timed for `KILN_DUMP=time`).
`codegen.runtime` caches, links and calls what this builds."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from codegen import entry, llvm_setup, module_split
from codegen.chunks import MACS_PER_ELEMENT_OP
from codegen.lower import Lowered, lower_function
from ir.core import Function, Op
from ir.dump import dump, wanted
from ir.opdef import Kind
from ir.types import RefType, TensorType
from ir.timing import phase


#: Kernels doing at least this many element operations release the GIL while they run.
RELEASE_GIL_ELEMENTS = 1 << 15


def contraction_macs(op: Op) -> int:
    """Multiply-adds of a linear-algebra op whose two operands hold batch x m x k and batch x k x n elements for its
    batch x m x n result (a product, transposed or not), else 0: a convolution or a broadcast batch (their sizes do
    not factor so), and a square m x m first operand with a result shaped like the second, which may be a solve
    (m^3/3 + m^2 n of them, not m^2 n), count by size as before."""
    if op.opdef.kind is not Kind.LINALG or len(op.operands) != 2 or len(op.results) != 1:
        return 0
    a, b, out = op.operands[0].type, op.operands[1].type, op.results[0].type
    if not isinstance(out, TensorType) or out.rank < 2 or not out.dtype.is_floating or out.size == 0:
        return 0
    m, n = out.shape[-2], out.shape[-1]
    batch = out.size // (m * n)
    k = a.size // (batch * m)
    if m == k and tuple(out.shape) == tuple(b.shape):
        return 0
    return out.size * k if a.size == batch * m * k and b.size == batch * k * n else 0


def op_work(op: Op) -> int:
    """Element operations of one op: a contraction's multiply-adds over MACS_PER_ELEMENT_OP (its operands' and
    result's sizes say little: 1024x10 @ 10x128 writes 131K elements in 1.3M multiply-adds, 784x1024 @ 1024x128
    writes 100K in 103M), anything else the size of its largest operand or result."""
    macs = contraction_macs(op)
    if macs:
        return max(1, macs // MACS_PER_ELEMENT_OP)
    return max([r.type.size for r in op.results] + [v.type.size for v in op.operands] + [0])


def work(fn: Function) -> int:
    """A rough static count of element operations (anything with regions may loop, so counts as long). The return
    costs nothing of its own (its values were counted where they were computed) except a parameter it copies."""
    total = 0
    for op in fn.walk():
        if op.regions or any(not v.type.is_static for v in [*op.operands, *op.results]):
            return TILE_ELEMENTS  # unknown sizes: maybe large (released, and tiled when it can be, deciding per call)
        if op.opdef.terminator:
            computed = {id(r) for o in fn.block.ops for r in o.results}
            total += sum(v.type.size for v in op.operands if id(v) not in computed)
            continue
        total += op_work(op)
    return total


def array_specs(lowered: Lowered) -> list[entry.ArraySpec]:
    """What the native entry requires of each array it takes: the parameters (read), then the results and the new
    arrays of assigned Variables (written). A result the kernel allocates is passed as its descriptor."""
    def spec(role: str, t: Any, writable: bool) -> entry.ArraySpec:
        return entry.ArraySpec(role, t.dtype.np, tuple(t.shape), writable)

    def result(k: int, t: Any) -> entry.ArraySpec:
        dims = lowered.result_dims[k] if not t.is_static else tuple(t.shape)
        if dims is None:
            return entry.ArraySpec(f"result {k}'s descriptor", np.dtype(np.int64), (1 + t.rank,), True)
        return entry.ArraySpec(f"result {k}", t.dtype.np, tuple(dims), True)
    return ([spec(f"parameter {i}", t, False) for i, t in enumerate(lowered.params)]
            + [result(k, t) for k, t in enumerate(lowered.results)]
            + [spec(f"the new value of Variable parameter {i}", lowered.params[i], True) for i in lowered.assigned])


#: Functions touching at least this many elements are tiled over rows when their ops allow it.
TILE_ELEMENTS = 1 << 16


def tiling_plan(fn: Function) -> Optional[tuple[Any, int]]:
    """(plan, rows per chunk) when `fn` can run chunk by chunk over its leading axis (codegen.tiling)."""
    from codegen.tiling import plan
    p = plan(fn)
    if p is None:
        return None
    return (p, p.chunk_rows) if p.rows is None or p.chunk_rows < p.rows else None


def lower_run_time_rows(fn: Function, p: Any, n: int, profile: bool = False) -> Optional[Lowered]:
    """`fn` lowered to run in chunks of `n` rows of a run-time row count (`p` from codegen.tiling.plan), or None
    when a result's rows are not a split parameter's (the kernel would allocate it: the function runs untiled)."""
    from codegen.chunks import RunTimeRows, row_work
    if any(isinstance(t, RefType) and not t.is_static for t in fn.param_types):
        return None  # (the entry and the body would number the run-time dims differently)
    slots, j = [], 0  # the run-time dims slot of each split parameter's leading dim (codegen.lower's order)
    for t, split in zip(fn.param_types, p.split_params):
        if split:
            slots.append(j)
        j += 0 if isinstance(t, RefType) else t.shape.count(None)
    first = p.split_params.index(True)
    rows = RunTimeRows(first, tuple(slots), n, row_work(fn, p))
    chunk_bytes = [int(np.prod(t.shape[1:], dtype=np.int64)) * t.dtype.np.itemsize * n if split else 0
                   for t, split in zip(fn.param_types + fn.result_types, p.split_params + p.split_results)]
    lowered = lower_function(fn, chunk_bytes=chunk_bytes, profile=profile, row_tiles=rows)
    if any(d is None or d[0] not in [("param_dim", s) for s in slots] for d in lowered.result_dims):
        return None
    return lowered


def build(fn: Function, release: bool, tiling: Optional[tuple[Any, int]] = None,
          profile: bool = False, quick: bool = False, whole: bool = False) -> tuple[Lowered, Any, bytes]:
    """(lowered, optimized module, object code): lower, optimize and emit (the expensive part that the cache
    skips). With `quick`, the quick tier's code (codegen.tiers: no IR optimization beyond the always-inliner,
    codegen level 0), and the LLVM IR text in place of the module, for the O3 build that replaces it. The module is
    None when it was compiled in parts (codegen.module_split), unless `whole` asks for it."""
    with phase("lower"):
        lowered = lower(fn, release, tiling, profile)
    text = str(lowered.module)
    lowered.module = None  # ~250 KB of llvmlite objects per function that nothing reads again
    mod, obj = emit(fn.name, text, quick, whole)
    return lowered, (text if quick else mod), obj


def emit(name: str, text: str, quick: bool = False, whole: bool = False) -> tuple[Any, bytes]:
    """(optimized module, object code) of the LLVM IR `text`: at O3, or with `quick` at O0 (the always-inliner
    only) with the level-0 TargetMachine (fast instruction selection and register allocation). The dumps show the
    O3 build only. At O3 a large module is compiled in parts on several threads (codegen.module_split; the module
    returned is then None) unless `whole` asks for the optimized module or a dump wants it."""
    if not (quick or whole or wanted("llvm") or wanted("asm")):
        parts = module_split.split(text, llvm_setup.part_threads())
        if parts is not None:
            with phase("llvm-parts"):
                return None, module_split.pack(llvm_setup.emit_parts(parts))
    with phase("llvm-parse"):
        mod = llvm_setup.parse(text)
    with phase("llvm-opt"):
        llvm_setup.optimize(mod, speed_level=0 if quick else 3)
    if quick:
        with phase("codegen"):
            return mod, llvm_setup.quick_target_machine().emit_object(mod)
    if wanted("llvm"):
        dump("llvm", name, str(mod))
    tm = llvm_setup.host_target_machine()
    if wanted("asm"):
        dump("asm", name, tm.emit_assembly(mod))
    with phase("codegen"):
        obj = tm.emit_object(mod)
    return mod, obj


def lower(fn: Function, release: bool, tiling: Optional[tuple[Any, int]], profile: bool = False) -> Lowered:
    if tiling is not None:
        from codegen.tiling import rewrite
        p, n = tiling
        chunk_fn = rewrite(fn, p, n)
        if p.rows is None:  # a run-time row count (codegen.chunks.RunTimeRows)
            lowered = lower_run_time_rows(fn, p, n, profile)
            if lowered is not None:
                entry.build(lowered.module, array_specs(lowered), lowered.workspace_size + 64, 1, release,
                            lowered.row_tiles)
                return lowered
            return lower(fn, release, None, profile)
        chunk_bytes = [t.size // (p.rows // n) * t.dtype.np.itemsize if split else 0
                       for t, split in zip(fn.param_types + fn.result_types, p.split_params + p.split_results)]
        lowered = lower_function(chunk_fn, chunk_bytes=chunk_bytes, profile=profile, chunks=p.rows // n)
        lowered.params, lowered.results = fn.param_types, fn.result_types
        lowered.chunks = p.rows // n
    else:
        lowered = lower_function(fn, profile=profile)
    entry.build(lowered.module, array_specs(lowered), lowered.workspace_size + 64, lowered.chunks, release)
    return lowered

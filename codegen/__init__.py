"""Code generation: lowering Kiln's IR to LLVM IR with llvmlite and compiling it for the host CPU (DESIGN.md §8).

Elementwise chains and the reductions that consume them are fused into loop nests, emitted with
`llvmlite.ir.IRBuilder`, optimized for the host CPU and run through llvmlite's JIT; object code is cached on disk.
This package reads only `ir`, never `engine`.
"""


def supports_unknown_dims(fn: object) -> bool:
    """Whether an ir.Function with unknown dims compiles to one kernel for every size (codegen.dynamic)."""
    from codegen.dynamic import supports_unknown_dims as supports
    return supports(fn)  # type: ignore[arg-type]

"""Process-wide LLVM setup shared by code generation: target registration, the host TargetMachine, and the
optimization pipeline.

What it owns:
- `ensure_initialized()`: registers the native target, asm printer and asm parser exactly once. llvmlite 0.50
  raises on the old `llvm.initialize()`, and without the asm printer LLVM aborts the process when it JITs, so every
  entry point here calls this first.
- `host_target_machine()`: one cached TargetMachine for the host CPU (name and feature string), opt level 3,
  `jit=True` (large code model, as the JIT expects). LLJIT and `emit_object`/`emit_assembly` may share it; MCJIT
  takes ownership of its TargetMachine and must get a fresh one from `new_host_target_machine()`.
- `optimize(module)`: the new pass manager at speed level 3 with loop and SLP vectorization on (SLP is off by
  default in llvmlite), in place on a parsed `llvmlite.binding.ModuleRef`; then the always-inliner once more, for
  the vector variants the loop vectorizer called (`VECTOR_VARIANT_MARK`, see `codegen.vmath_lanes`).
- `parse(ir_module)`: text of an `llvmlite.ir.Module` to a verified `ModuleRef` bound to the host triple and data
  layout.

It assumes one process-wide LLVM, which is what llvmlite provides; every llvmlite call is serialized behind
llvmlite's own lock, so the caches here need no locking of their own beyond idempotent initialization.
"""
from __future__ import annotations

import functools

import llvmlite.binding as llvm
import llvmlite.ir as lir

#: The string attribute of functions that exist only for the loop vectorizer to call and `optimize` to inline
#: (codegen.vmath_lanes): external until then, dropped after.
VECTOR_VARIANT_MARK = b'"kiln-vector-variant"'


@functools.cache
def ensure_initialized() -> None:
    """Register the native target, asm printer and asm parser (once per process)."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    llvm.initialize_native_asmparser()


def new_host_target_machine() -> llvm.TargetMachine:
    """A fresh TargetMachine for the host CPU at opt level 3 (for MCJIT, which takes ownership of it)."""
    ensure_initialized()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(),
                                        opt=3, jit=True)


@functools.cache
def host_target_machine() -> llvm.TargetMachine:
    """The shared host TargetMachine (never hand this one to MCJIT)."""
    return new_host_target_machine()


def parse(module: lir.Module | str) -> llvm.ModuleRef:
    """Parse and verify LLVM IR, binding it to the host triple and data layout."""
    ensure_initialized()
    tm = host_target_machine()
    ref = llvm.parse_assembly(str(module))
    ref.triple = llvm.get_process_triple()
    ref.data_layout = str(tm.target_data)
    ref.verify()
    return ref


def optimize(module: llvm.ModuleRef, speed_level: int = 3) -> llvm.ModuleRef:
    """Run the default new-pass-manager pipeline with loop and SLP vectorization on `module`, in place."""
    ensure_initialized()
    pto = llvm.create_pipeline_tuning_options(speed_level=speed_level)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pto.loop_unrolling = False
    pb = llvm.create_pass_builder(host_target_machine(), pto)
    pb.getModulePassManager().run(module, pb)
    # The loop vectorizer calls `alwaysinline` vector variants of functions (codegen.vmath_lanes) after the
    # pipeline's inliner has run: inline them now, then drop the variants, which had to stay external until here.
    late = llvm.create_new_module_pass_manager()
    late.add_always_inliner_pass()
    late.run(module, pb)
    variants = [fn for fn in module.functions if any(VECTOR_VARIANT_MARK in a for a in fn.attributes)]
    if variants:
        for fn in variants:
            fn.linkage = "internal"
        dce = llvm.create_new_module_pass_manager()
        dce.add_global_dead_code_eliminate_pass()
        dce.run(module, pb)
    return module

"""Code generation: lowering Kiln's IR to LLVM IR with llvmlite, and compiling it for the host CPU.

This package arrives in a later stage; today it holds nothing. When it does, it will fuse elementwise chains and
the reductions that consume them into loop nests, emit them with `llvmlite.ir.IRBuilder`, optimize for the host
CPU and run the object code through llvmlite's JIT (DESIGN.md §8). It will read only `ir`, never `engine`.
"""

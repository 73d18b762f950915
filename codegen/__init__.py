"""Code generation: lowering Kiln's IR to LLVM IR with llvmlite, and compiling it for the host CPU.

The compiled path arrives in a later stage; until then traced functions run on the reference interpreter. It will
fuse elementwise chains and the reductions that consume them into loop nests, emit them with
`llvmlite.ir.IRBuilder`, optimize for the host CPU and run the object code through llvmlite's JIT (DESIGN.md §8).
It reads only `ir`, never `engine`.
"""

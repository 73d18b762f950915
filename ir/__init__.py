"""Kiln's intermediate representation: types, the op table, and (later) the SSA IR, its text form and passes.

`ir` imports nothing else of Kiln's; `engine`, `autodiff` and `codegen` build on it.
"""
from ir import types
from ir.ops import NONDIFF, OPS, InferError, OpDef, op
from ir.types import Cell, DType, RefType, TensorType

__all__ = ["types", "OPS", "NONDIFF", "OpDef", "InferError", "op", "DType", "TensorType", "RefType", "Cell"]

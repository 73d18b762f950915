"""Kiln's intermediate representation: types, the op table, the typed SSA IR, its text form, the verifier, the
reference interpreter and the passes.

`ir` imports nothing else of Kiln's; `engine`, `autodiff` and `codegen` build on it.

    fn = ir.parse(text)            # text -> Function; str(fn) prints it back identically
    ir.verify.verify(fn)           # raises ir.VerifyError naming the op and the user's line
    ir.interpret(fn, arrays)       # the reference semantics (numpy kernels of the op table)
    ir.optimize(fn)                # canonicalize, fold, cse, dce to a fixed point
"""
from ir import passes, types, verify
from ir.core import Block, Builder, Function, Op, Rewriter, Value
from ir.interp import InterpError, Interpreter
from ir.interp import run as interpret
from ir.ops import NONDIFF, OPS, InferError, OpDef, op
from ir.parser import ParseError, parse
from ir.passes import optimize
from ir.printer import print_function
from ir.types import Cell, DType, RefType, TensorType
from ir.verify import VerifyError

__all__ = ["types", "passes", "verify", "OPS", "NONDIFF", "OpDef", "InferError", "op", "DType", "TensorType",
           "RefType", "Cell", "Block", "Builder", "Function", "Op", "Rewriter", "Value", "parse", "ParseError",
           "print_function", "VerifyError", "interpret", "Interpreter", "InterpError", "optimize"]

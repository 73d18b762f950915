"""Compiling a lowered function to native code and calling it (DESIGN §8).

`compile_function(fn)` lowers an ir.Function, optimizes it at O3 for the host CPU, links it into the process-wide
LLJIT (with numpy's OpenBLAS and a runtime callback for print/assert), and returns a `CompiledFunction` that takes
numpy arrays (and Variable cells) and returns numpy arrays.
"""
from __future__ import annotations

import ctypes
import glob
import itertools
import os
import sys
import threading
from typing import Any, Optional, Sequence

import llvmlite.binding as llvm
import numpy as np

from codegen import llvm_setup
from codegen.lower import Lowered, lower_function
from ir.core import Function
from ir.ops_state import InvalidArgumentError, format_value
from ir.types import Cell, RefType

_lock = threading.RLock()
_lljit: Optional[Any] = None
_names = itertools.count()
_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int64, ctypes.c_void_p)
ENTRY = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)

stats = {"compiled": 0, "cache_hits": 0}


def _blas_path() -> Optional[str]:
    """numpy's bundled OpenBLAS (ILP64, scipy_-prefixed symbols)."""
    base = os.path.dirname(os.path.dirname(np.__file__))
    for pattern in ("numpy.libs/libscipy_openblas64_*.so*", "numpy.libs/libopenblas64_*.so*",
                    "numpy/.dylibs/libscipy_openblas64_*", "numpy.libs/*openblas*"):
        found = glob.glob(os.path.join(base, pattern))
        if found:
            return found[0]
    return None


def jit() -> Any:
    global _lljit
    with _lock:
        if _lljit is None:
            llvm_setup.ensure_initialized()
            path = _blas_path()
            if path is not None:
                llvm.load_library_permanently(path)
            _lljit = llvm.create_lljit_compiler(llvm_setup.host_target_machine())
        return _lljit


class CompiledFunction:
    """Native code for one ir.Function: call it with numpy arrays (and Cells for Variable parameters)."""

    def __init__(self, fn: Function, lowered: Lowered, llvm_ir: str, asm: str, tracker: Any, address: int,
                 callback: Any) -> None:
        self.name = fn.name
        self.lowered = lowered
        self.llvm_ir = llvm_ir
        self.asm = asm
        self._tracker = tracker     # keeps the code alive
        self._callback = callback   # keeps the ctypes trampoline alive
        self._entry = ENTRY(address)
        self._params = lowered.params
        self._results = lowered.results
        self._n = len(lowered.params) + len(lowered.results) + len(lowered.assigned)

    def __call__(self, args: Sequence[Any]) -> list[np.ndarray]:
        params, results = self._params, self._results
        if len(args) != len(params):
            raise TypeError(f"{self.name}: expected {len(params)} arguments, got {len(args)}")
        ptrs = (ctypes.c_void_p * self._n)()
        keep = []
        for i, (a, t) in enumerate(zip(args, params)):
            arr = a.array if isinstance(t, RefType) else a
            arr = np.asarray(arr, dtype=t.dtype.np)
            if not arr.flags.c_contiguous:  # views (broadcasts, transposes) get a compact copy
                arr = arr.copy(order="C")
            if arr.shape != t.shape:
                raise ValueError(f"{self.name}: argument {i} has shape {arr.shape}, expected {t.shape}")
            keep.append(arr)
            ptrs[i] = arr.ctypes.data
        outs = [np.empty(t.shape, dtype=t.dtype.np) for t in results]
        var_outs = [np.empty(params[i].shape, dtype=params[i].dtype.np) for i in self.lowered.assigned]
        base = len(params)
        for k, o in enumerate(outs + var_outs):
            ptrs[base + k] = o.ctypes.data
        workspace = np.empty(max(self.lowered.workspace_size, 1) + 64, dtype=np.uint8)
        ws = workspace.ctypes.data
        ws += (-ws) % 64
        status = np.zeros(2, dtype=np.int64)
        code = self._entry(ctypes.addressof(ptrs), ws, status.ctypes.data)
        if code:
            err = self.lowered.errors[code - 1]
            extra = self._pending.pop(code, "") if hasattr(self, "_pending") else ""
            raise err.kind(err.message.format(value=extra if extra else status[1]))
        for i, new in zip(self.lowered.assigned, var_outs):
            args[i].array = new
        return outs


def _make_callback(lowered: Lowered, holder: list) -> Any:
    def callback(entry_id: int, ptrs: int) -> None:
        entry = lowered.prints[entry_id]
        types = entry[-1]
        arrays = []
        for k, t in enumerate(types):
            p = ctypes.cast(ptrs + 8 * k, ctypes.POINTER(ctypes.c_void_p))[0]
            n = max(t.size, 1) * t.dtype.np.itemsize
            buf = (ctypes.c_char * n).from_address(p)
            arrays.append(np.frombuffer(buf, dtype=t.dtype.np).reshape(t.shape).copy())
        if entry[0] == "print":
            _, template, stream, summarize, _ = entry
            out = sys.stdout if stream == "stdout" else sys.stderr
            out.write(template.format(*(format_value(a, summarize) for a in arrays)))
            out.flush()
        else:
            _, code, summarize, _ = entry
            shown = " ".join(format_value(a, summarize) for a in arrays)
            holder[0]._pending[code] = f" [{shown}]" if arrays else ""
    return _CALLBACK(callback)


def compile_function(fn: Function) -> CompiledFunction:
    lowered = lower_function(fn)
    text = str(lowered.module)
    mod = llvm_setup.parse(text)
    llvm_setup.optimize(mod)
    tm = llvm_setup.host_target_machine()
    asm = tm.emit_assembly(mod)
    obj = tm.emit_object(mod)
    holder: list = [None]
    cb = _make_callback(lowered, holder)
    lib = f"kiln_{next(_names)}"
    builder = llvm.JITLibraryBuilder().add_object_img(obj).add_current_process()
    builder = builder.import_symbol("kiln_runtime_callback", ctypes.cast(cb, ctypes.c_void_p).value)
    with _lock:
        tracker = builder.export_symbol("kiln_entry").link(jit(), lib)
    stats["compiled"] += 1
    compiled = CompiledFunction(fn, lowered, str(mod), asm, tracker, tracker["kiln_entry"], cb)
    compiled._pending = {}  # type: ignore[attr-defined]
    holder[0] = compiled
    return compiled


_unused = InvalidArgumentError, Cell

"""Linking object code into the JIT and freeing it again (DESIGN §8: native code is freed when its concrete
function is collected).

Native code is freed when nothing references it. Libraries are linked into `JitHost`s of up to 32 libraries each:
a single LLJIT keeps every library it ever linked (a library name cannot be reused, and each costs about 9 KB that
is never returned), while destroying an LLJIT returns all of it. The code, its resource tracker, its host, the
ctypes callback and the PyMethodDef the builtin points into are owned by one `NativeCode` object, which is the
builtin's `self`: whoever holds the builtin (the CompiledFunction, a generated fast caller) keeps the code alive,
and the last reference frees it in the only safe order (tracker, then the host's LLJIT once it has no library
left). The disk cache is what avoids recompiling.

`link(obj, callback, symbols)` links one object file (with numpy's OpenBLAS and the process's symbols resolvable)
and returns the METH_FASTCALL builtin `kiln_py` whose `self` is the `NativeCode`.
"""
from __future__ import annotations

import ctypes
import functools
import gc
import glob
import itertools
import os
import sys
import threading
from typing import Any, Optional

import llvmlite.binding as llvm
import numpy as np

from codegen import interrupt, llvm_setup, module_split

_lock = threading.RLock()
_names = itertools.count()


def _blas_path() -> Optional[str]:
    """numpy's bundled OpenBLAS (ILP64, scipy_-prefixed symbols)."""
    base = os.path.dirname(os.path.dirname(np.__file__))
    for pattern in ("numpy.libs/libscipy_openblas64_*.so*", "numpy.libs/libopenblas64_*.so*",
                    "numpy/.dylibs/libscipy_openblas64_*", "numpy.libs/*openblas*"):
        found = glob.glob(os.path.join(base, pattern))
        if found:
            return found[0]
    return None


@functools.cache
def _load_libraries() -> None:
    """Makes numpy's OpenBLAS resolvable by every LLJIT (`add_current_process`), once per process."""
    llvm_setup.ensure_initialized()
    path = _blas_path()
    if path is not None:
        llvm.load_library_permanently(path)


class JitHost:
    """An LLJIT that hosts up to `LIBRARIES_PER_JIT` libraries and is destroyed, returning all its memory, once
    the last NativeCode linked into it is gone (each NativeCode holds it; the module holds the host still being
    filled, and lets go of it too when none of its libraries is alive), after which the heap is trimmed."""

    def __init__(self) -> None:
        # Link errors raise RuntimeError (a bad cache entry is then rebuilt); LLVM's own stderr line is noise.
        self.lljit = llvm.create_lljit_compiler(llvm_setup.host_target_machine(), suppress_errors=True)
        self.linked = 0
        self.live = 0  # libraries linked (or being linked) whose NativeCode is alive

    def __del__(self) -> None:
        global _freed_libraries
        lljit = self.__dict__.pop("lljit", None)
        if lljit is not None:
            lljit.close()
            _freed_libraries += self.linked  # trimmed once the collection that freed it (and its functions) is over


#: A shared LLJIT keeps every library it ever linked (~10 KB each; a name cannot be reused), one LLJIT per function
#: costs ~190 KB while it lives: hosts of this many libraries bound the first and amortize the second.
LIBRARIES_PER_JIT = 32
_host: Optional[JitHost] = None


def _current_host() -> JitHost:
    """The host to link the next library into (call with `_lock` held)."""
    global _host
    if _host is None or _host.linked >= LIBRARIES_PER_JIT:
        _host = JitHost()
    _host.linked += 1
    _host.live += 1
    return _host


def _library_freed(host: JitHost) -> None:
    """A NativeCode of `host` is gone: if it was the last one of the host still being filled, drop that host too,
    so that deleting every function returns all of the JIT's memory (not all but the current host's)."""
    global _host
    host.live -= 1
    if host.live <= 0 and host is _host:
        _host = None


@functools.cache
def _malloc_trim() -> Optional[Any]:
    """glibc's malloc_trim, or None on other C libraries."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_malloc_trim()  # now: its ctypes objects, made during the first teardown, would pin one of the arenas it frees


#: Libraries whose LLJIT was destroyed since the heap was last trimmed.
_freed_libraries = 0


def release_free_memory() -> None:
    """Hands the free pages of the C heap back to the system. What an LLJIT and the compiles of its libraries
    freed is spread over the heap between live blocks, below its top, where free() never returns it (measured:
    2,000 retraced shapes held 170 MB after the Function was deleted, 6 MB of it in use); `malloc_trim(0)` returns
    every whole free page (madvise).

    First it empties CPython's type attribute cache, which holds a strong reference to the name of each of its
    4,096 last lookups. numpy's C code looks attributes up by names it makes afresh on every call (`_name_get`,
    `__str__`, `item`, `all`: one new string each time), so the cache kept a few hundred of those strings made
    during the compiles, scattered over the pymalloc arenas of the traces: each pinned a whole 1 MiB arena, which
    Python frees only when every block in it is (2,000 retraced shapes: 28 arenas held after the delete)."""
    sys._clear_type_cache()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


#: glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_heap_pages(mmap_below: int = 32 << 20, trim_above: int = 128 << 20) -> None:
    """Lets the heap blocks a kernel frees keep their pages for its next call. Kernels with run-time sizes allocate
    their intermediates with aligned_alloc and free them on return; with glibc's defaults each block over 128 KiB
    is a fresh mmap and the heap's free top is trimmed after the call, so every call page-faults all its
    intermediates in again (a Keras CNN train step at batch 32 with a None batch: 6,700 minor faults, 26 MB, per
    call; none for the static kernel, whose workspace persists). Blocks under `mmap_below` now come from the heap,
    whose free top goes back to the system past `trim_above` (and with `release_free_memory`)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, mmap_below)
    mallopt(_M_TRIM_THRESHOLD, trim_above)


keep_freed_heap_pages()


def _after_collection(phase: str, info: dict) -> None:
    """A gc callback: trims the heap at the end of a collection once the LLJITs destroyed since the last trim held
    LIBRARIES_PER_JIT libraries or more, when the functions' other memory, freed in the same collection, is free too.
    (A trim costs about 30 ms on a heap of 200 MB: once per function dropped would double the cost of compiling.)"""
    global _freed_libraries
    if phase == "stop" and _freed_libraries >= LIBRARIES_PER_JIT:
        _freed_libraries = 0
        release_free_memory()


gc.callbacks.append(_after_collection)


class NativeCode:
    """One compiled function's native code and everything that must live exactly as long as it: its library's
    resource tracker, the host LLJIT, the ctypes callback the code calls, and the PyMethodDef of the builtin. The
    builtin holds this object as its `self`, so the code cannot be freed while the builtin can still be called."""

    def __init__(self, host: JitHost, tracker: Any, callback: Any) -> None:
        self.host = host
        self.tracker = tracker
        self.callback = callback
        self.method_def: Optional[_PyMethodDef] = None

    def __del__(self) -> None:
        tracker = self.__dict__.pop("tracker", None)
        if tracker is not None:
            tracker.close()  # the library first: its dispose uses the LLJIT's session
        host = self.__dict__.pop("host", None)
        if host is not None:
            _library_freed(host)
            del host  # then, if this was its last library, the LLJIT


class _PyMethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p), ("ml_flags", ctypes.c_int),
                ("ml_doc", ctypes.c_char_p)]


_METH_FASTCALL = 0x80
_PyCFunction_NewEx = ctypes.pythonapi.PyCFunction_NewEx
_PyCFunction_NewEx.restype = ctypes.py_object
_PyCFunction_NewEx.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.c_void_p]
_PY_SYMBOLS = {name: ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value
               for name in ("PyEval_SaveThread", "PyEval_RestoreThread", "PyLong_FromLongLong", "PyLong_AsLongLong")}


def link(obj: bytes, callback: Any, symbols: dict[str, int]) -> Any:
    """The builtin `kiln_py` of object code `obj`; `callback` is the ctypes function the code calls back."""
    # Not ctypes.cast: it stores the callback in its own `_objects`, a cycle the collector never frees, which kept
    # every Lowered (its llvmlite module, ~250 KB) alive after its function was gone.
    address = ctypes.c_void_p.from_address(ctypes.addressof(callback)).value
    builder = llvm.JITLibraryBuilder()
    for part in module_split.unpack(obj):  # one library for a module compiled in parts (codegen.module_split)
        builder = builder.add_object_img(part)
    builder = builder.add_current_process()
    builder = builder.import_symbol("kiln_runtime_callback", address)
    for name, addr in {**_PY_SYMBOLS, **symbols}.items():
        builder = builder.import_symbol(name, addr)
    _load_libraries()
    interrupt.ensure_installed()
    with _lock:
        host = _current_host()
        tracker = builder.export_symbol("kiln_py").link(host.lljit, f"kiln_{next(_names)}")
    code = NativeCode(host, tracker, callback)
    code.method_def = _PyMethodDef(b"kiln", tracker["kiln_py"], _METH_FASTCALL, None)
    return _PyCFunction_NewEx(ctypes.addressof(code.method_def), code, None)

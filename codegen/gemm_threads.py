"""The thread team of the generated GEMM: GNU OpenMP's `GOMP_parallel`, and the thread count compiled code reads.

A GEMM in a function that runs whole (not split into row chunks across the runtime's pool, see codegen.tiling)
splits its own work across threads: it calls `GOMP_parallel(worker, args, threads, 0)` from libgomp, whose team
of threads persists between calls (a fork/join costs a few microseconds, where creating threads costs tens), and
the threads claim units of work from a counter in `args` (`codegen.rules.gemm_kernel`).

The code imports these names at link time (`symbols()`), so cached object files stay valid: `GOMP_parallel`,
and `kiln_gemm_threads`, an int32 the compiled code reads for the number of threads (the runtime's `num_threads()`,
KILN_NUM_THREADS or the cores, set at each link). Without libgomp the generated GEMM runs on the calling thread.
GNU OpenMP is not fork-safe: a child process forked after a team ran must not run compiled GEMMs.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any, Optional

THREADS_SYMBOL = "kiln_gemm_threads"
_threads = ctypes.c_int32(1)
_TEAM = ("GOMP_parallel",)


@functools.cache
def _libgomp() -> Optional[Any]:
    for name in (ctypes.util.find_library("gomp"), "libgomp.so.1"):
        if name:
            try:
                return ctypes.CDLL(name)
            except OSError:
                continue
    return None


def available() -> bool:
    """Whether compiled GEMMs may run on a team of threads (libgomp loads). With one thread allowed at run time
    they call their worker directly."""
    return _libgomp() is not None


def symbols(threads: int) -> dict[str, int]:
    """The addresses compiled GEMMs import: the thread count (set to `threads`), and libgomp's team functions when
    it loads."""
    _threads.value = max(1, threads)
    out = {THREADS_SYMBOL: ctypes.addressof(_threads)}
    lib = _libgomp()
    if lib is not None:
        out.update({name: ctypes.cast(getattr(lib, name), ctypes.c_void_p).value for name in _TEAM})
    return out

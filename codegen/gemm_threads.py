"""The thread team of the generated GEMM: GNU OpenMP's `GOMP_parallel`, and the thread count compiled code reads.

A GEMM in a function that runs whole (not split into row chunks across the runtime's pool, see codegen.tiling)
splits its own work across threads: it calls `GOMP_parallel(worker, args, threads, 0)` from libgomp, whose team
of threads persists between calls (with the passive wait policy below a fork/join is a futex wake-up and wait,
tens of microseconds at most, where creating threads costs more), and
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
import os
from typing import Any, Optional

THREADS_SYMBOL = "kiln_gemm_threads"
_threads = ctypes.c_int32(1)
_TEAM = ("GOMP_parallel",)


#: libgomp's wait policy unless the user set one: its idle threads sleep instead of spinning. On this 2-core
#: machine under load (other jobs on both cores), spinning made a team GEMM (784x256x128, x^T @ g) take 22 ms
#: median, 3.3 ms at best, against 1.9 ms on one thread; passive: 1.8 ms median, 0.54 ms at best.
WAIT_POLICY = "passive"


@functools.cache
def _libgomp() -> Optional[Any]:
    """libgomp, loaded with WAIT_POLICY (read once, when it loads; the environment is restored afterwards)."""
    before = os.environ.get("OMP_WAIT_POLICY")
    if before is None:
        os.environ["OMP_WAIT_POLICY"] = WAIT_POLICY
    try:
        for name in (ctypes.util.find_library("gomp"), "libgomp.so.1"):
            if name:
                try:
                    return ctypes.CDLL(name)
                except OSError:
                    continue
        return None
    finally:
        if before is None:
            del os.environ["OMP_WAIT_POLICY"]


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

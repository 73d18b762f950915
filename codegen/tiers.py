"""Tiered compilation: a function's first native code is a quick build, its O3 build replaces it when ready.

A compile that misses the disk cache spends most of its time in LLVM: the O3 pipeline and codegen at level 3 (the
20-op function: ~60 of ~90 ms of CPU; the MLP training step ~160 ms). The quick tier emits the same LLVM IR with the
O0 pipeline (the always-inliner only) and the level-0 TargetMachine (fast instruction selection, fast register
allocation): ~9 ms and ~12 ms for those two, for code that runs 2-20x slower (elementwise loops are not
vectorized; the GEMM workers it calls are their full builds, codegen.gemm_library). The first call runs the quick
code at once, and `schedule` queues the O3 build for the compile thread (codegen.llvm_setup.in_background: one
thread for all of LLVM's work keeps its allocations in one malloc arena; builds go over one at a time, so a compile
a caller waits for is queued behind at most one), which then

1. stores the O3 object in the disk cache (the quick object is never stored: a later process loads O3 code),
2. links it with the function's own callback (print/assert messages land where the quick code's would), and
3. swaps it in (`swap`): the CompiledFunction's builtin and the `py` global of every fast caller made for it
   (engine.fastcall), each one store of a reference. A call already running in the quick code holds a reference to
   its builtin (CPython keeps the callable alive for the duration of the call), so that code is freed only when the
   last such call has returned. Both builds come from one lowering, so the workspace layout, the error table and
   the argument checks are the same; only the machine code differs.

Only small work is tiered (no regions, which may loop without bound, and at most `MAX_ELEMENTS` element
operations, see codegen.build.work): slow code called in a loop, or one long call of it, would cost more than the
compile saves. `KILN_TIERED=0` turns tiering off; so does asking for the LLVM or assembly dump (which show
the O3 build). A queued build holds its function weakly: a function dropped before its turn is not built (and its
disk-cache entry not written), and one dropped while it builds is freed as soon as the build returns. At exit,
queued O3 builds still run when the disk cache is on (they fill it, as the first call did before tiering) and are
dropped when it is off; `wait()` waits for every queued build (tests, benchmarks).
"""
from __future__ import annotations

import collections
import os
import threading
import weakref
from typing import Any, Callable, Optional

from codegen import cache, llvm_setup, native
from ir import timing

#: Functions doing more element operations than this are built at O3 at once. Quick code runs elementwise work
#: 10-20x slower than O3 code (no vectorization): a function called in a loop pays that on every call until its O3
#: build arrives, which on a busy machine cost more than the quick build saved (the MNIST train step, ~1M element
#: operations: the first epoch took 0.4 s more CPU tiered, 138 quick calls of ~11 ms before the swap). Below this
#: bound a quick call costs at most about a millisecond more.
MAX_ELEMENTS = 1 << 16

#: Counters the tests read: quick builds linked, O3 builds swapped in, O3 builds that failed (the quick code stays).
stats = {"quick": 0, "swapped": 0, "failed": 0}


def enabled() -> bool:
    from ir.dump import wanted
    return os.environ.get("KILN_TIERED", "1") not in ("0", "false", "no", "off") and \
        not (wanted("llvm") or wanted("asm"))


class _Worker:
    """Feeds queued O3 builds to the compile thread one at a time (codegen.llvm_setup.in_background), so a compile a
    caller waits for is queued behind at most one of them; made again in a forked child."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.jobs: collections.deque[Callable[[], None]] = collections.deque()
        self.cond = threading.Condition()
        self.busy = False
        self.closing = False

    def _next(self) -> None:
        """Sends the next job over if none is there (called with `cond` held)."""
        if self.busy or not self.jobs or self.closing:
            return
        self.busy = True
        try:
            llvm_setup.in_background(self._run(self.jobs.popleft()))
        except RuntimeError:  # the compile thread is shut down (interpreter exit): nothing more will run
            self.busy = False
            self.jobs.clear()
            self.cond.notify_all()

    def _run(self, job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            finally:
                with self.cond:
                    self.busy = False
                    self._next()
                    self.cond.notify_all()
        return run

    def put(self, job: Callable[[], None]) -> None:
        with self.cond:
            self.jobs.append(job)
            self._next()

    def wait(self) -> None:
        with self.cond:
            while self.jobs or self.busy:
                self.cond.wait()

    def close(self, finish: bool) -> None:
        """Runs the queued builds to the end (`finish`) or drops them, then waits for the one running."""
        if finish:
            self.wait()
        with self.cond:
            self.jobs.clear()
            self.closing = True
            while self.busy:
                self.cond.wait()


_worker: Optional[_Worker] = None
_worker_lock = threading.Lock()


def _get_worker() -> _Worker:
    global _worker
    with _worker_lock:
        if _worker is None or _worker.pid != os.getpid():
            _worker = _Worker()
        return _worker


def wait() -> None:
    """Returns once every queued O3 build has been swapped in (or has failed)."""
    worker = _worker
    if worker is not None and worker.pid == os.getpid():
        worker.wait()


def _at_exit() -> None:
    # Runs before the interpreter tears down: no build may be inside LLVM (holding llvmlite's lock) by then.
    worker = _worker
    if worker is not None and worker.pid == os.getpid():
        worker.close(finish=cache.enabled())


# Before concurrent.futures shuts the compile thread down at exit (threading's exit hooks run newest first, and
# concurrent.futures registered its own when llvm_setup imported it), so queued builds can still be sent over.
threading._register_atexit(_at_exit)  # type: ignore[attr-defined]


def schedule(compiled: Any, name: str, text: str, store: Optional[Callable[[bytes], None]],
             link: Callable[[bytes], Any]) -> None:
    """Queues the O3 build of LLVM IR `text` for `compiled` (running its quick build): `store(obj)` puts it in the
    disk cache (None: not cached), `link(obj)` makes its builtin, which `swap` installs."""
    target = weakref.ref(compiled)  # a function dropped before its turn is not built again (nor kept alive)
    del compiled

    def job() -> None:
        from codegen.build import emit
        if target() is None:
            return
        try:
            with timing.compiling(f"{name} (O3, background)", background=True):
                mod, obj = emit(name, text)
                del mod
                if store is not None:
                    with timing.phase("cache"):
                        store(obj)
                if target() is None:
                    return
                with timing.phase("link"):
                    builtin = link(obj)
            live = target()
            if live is not None:
                swap(live, builtin)
                stats["swapped"] += 1
        except Exception:  # the quick code is correct, only slower: keep it
            stats["failed"] += 1
    stats["quick"] += 1
    _get_worker().put(job)


def swap(compiled: Any, builtin: Any) -> None:
    """Makes `builtin` what `compiled` and its fast callers call. The fast callers are listed after the store to
    `_py`: one made meanwhile either is in the list or read the new `_py` when it was made (engine.fastcall)."""
    compiled._py = builtin
    for fast in list(compiled.fast_callers.values()):
        fast.__globals__["py"] = builtin


def callback_of(builtin: Any) -> Any:
    """The ctypes callback the code behind `builtin` calls (its NativeCode holds it)."""
    code = builtin.__self__
    assert isinstance(code, native.NativeCode)
    return code.callback


def suits(fn: Any, elements: int) -> bool:
    """Whether `fn` (doing about `elements` element operations, codegen.build.work) gets a quick build first: no
    region (a loop's trip count is unbounded) and bounded work."""
    return elements <= MAX_ELEMENTS and not any(op.regions for op in fn.walk())

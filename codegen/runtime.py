"""Compiling a lowered function to native code and calling it (DESIGN §8).

`compile_function(fn)` verifies and lowers an ir.Function, optimizes it at O3 for the host CPU, links it into the
JIT (codegen.native: with numpy's OpenBLAS and a runtime callback for print/assert), and returns a `CompiledFunction` that takes
numpy arrays (and Variable cells) and returns numpy arrays.

Native code is owned and freed by codegen.native.
"""
from __future__ import annotations

import functools

import os
import sys
import threading
from typing import Any, Optional, Sequence

import numpy as np

from codegen import (cache, entry, gemm_library, gemm_threads, interrupt, llvm_setup, native, owned, partial,
                     softmax_rows, tiers)
from codegen.callbacks import make_callback as _make_callback
from codegen.dynamic import has_unknown_dims, supports_unknown_dims  # noqa: F401  (engine.concrete asks runtime)
from codegen.build import (RELEASE_GIL_ELEMENTS, TILE_ELEMENTS, array_specs, build,  # noqa: F401  (re-exported)
                           tiling_plan, work)
from codegen.lower import Lowered
from codegen.profile import KernelInfo
from ir.core import Function
from ir import timing
from ir.dump import wanted_stages
from ir.timing import phase
from ir.types import Cell, RefType
from ir.verify import verify

_lock = threading.RLock()
_executor: Optional[Any] = None


def num_threads() -> int:
    """Threads for large kernels: KILN_NUM_THREADS, else the machine's cores."""
    value = os.environ.get("KILN_NUM_THREADS")
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(f"KILN_NUM_THREADS must be a positive integer, got {value!r}") from None
    return os.cpu_count() or 1


def executor() -> Any:
    """The pool that runs a tiled kernel's other chunk ranges. Read without the lock once made: calls must not wait
    for a compile in another thread that holds it while linking."""
    global _executor
    if _executor is not None:
        return _executor
    with _lock:
        if _executor is None:
            from concurrent.futures import ThreadPoolExecutor
            _executor = ThreadPoolExecutor(max_workers=max(num_threads() - 1, 1), thread_name_prefix="kiln")
        return _executor
#: Counters the tests read: native compiles, disk-cache hits and misses in this process.
stats = {"compiled": 0, "cache_hits": 0, "cache_misses": 0}


class CompiledFunction:
    """Native code for one ir.Function: call it with numpy arrays (and Cells for Variable parameters).

    The call goes through one METH_FASTCALL builtin (`kiln_py`): Python allocates the outputs and passes the arrays;
    the builtin reads their data pointers and runs the kernel, releasing the GIL when the kernel is long.
    """

    def __init__(self, fn: Function, lowered: Lowered, release_gil: bool, py_entry: Any) -> None:
        self._fn = fn
        self.lowered = lowered
        self._release_gil = release_gil
        self._llvm_ir: Optional[str] = None
        self._py = py_entry  # the builtin; it owns the NativeCode (its `self`)
        self._params = lowered.params
        self._results = [(t.shape, t.dtype.np) for t in lowered.results]
        # Results with unknown dims: ("param", dims as ints and (parameter, axis) pairs) when the runtime
        # allocates them from the arguments' shapes, ("kernel", rank) when the kernel does (see codegen.lower).
        self._dynamic = {k: owned.result_plan(lowered, k) for k, t in enumerate(lowered.results) if not t.is_static}
        self._alloc = owned.allocator(self._results, self._dynamic, len(lowered.params)) if self._dynamic else None
        self._kernel_made = [k for k, plan in self._dynamic.items() if plan[0] == "kernel"]
        self._var_results = [(lowered.params[i].shape, lowered.params[i].dtype.np) for i in lowered.assigned]
        self._ws_size = lowered.workspace_size + 64
        self._pool: list[np.ndarray] = []
        self.pending: dict[int, str] = {}
        #: The generated callers of this code (engine.fastcall), by argument types: made once, not per slow call.
        self.fast_callers: dict[tuple, Any] = {}

    @property
    def fn(self) -> Function:
        """The (optimized) ir.Function this code was compiled from."""
        return self._fn.fn if isinstance(self._fn, _Deferred) else self._fn

    @property
    def name(self) -> str:
        return self.fn.name

    @property
    def threads(self) -> int:
        """How many threads share the chunks of one call (1 for untiled or small kernels)."""
        chunks = self.lowered.chunks
        if chunks < 2 or self._small:
            return 1
        return max(1, min(num_threads(), chunks))

    @functools.cached_property
    def _small(self) -> bool:
        """Too little work for a pool round trip (50-70 µs): its chunks run on the calling thread, as a call of a
        kernel tiled over a run-time row count with as little work does (codegen.chunks.SPLIT_WORK). A 256x10 @
        10x128 product took 119 µs in chunks on two threads, 15 µs on one (numpy 12 µs). A product's work is its
        multiply-adds (codegen.build.op_work), not its result's size."""
        from codegen.build import work
        from codegen.chunks import SPLIT_WORK
        return work(self.fn) < SPLIT_WORK

    def split(self, arrays: Sequence[np.ndarray]) -> tuple[int, int]:
        """(chunks, threads) of a call on `arrays`: fixed, or from the row count of a kernel tiled over a run-time
        row count (shared among threads only when its rows are worth a pool round trip, codegen.chunks)."""
        rows = self.lowered.row_tiles
        if rows is None:
            return self.lowered.chunks, self.threads
        a = arrays[rows.param]
        n = a.shape[0] if a.ndim else 0  # (a wrong rank is the entry's to report)
        chunks = rows.chunks(n)
        return chunks, (min(num_threads(), chunks) if n >= rows.split_rows() else 1)

    def workspace(self) -> np.ndarray:
        """A workspace for one call: a pooled one, or a new one (pop-or-allocate is safe across threads)."""
        try:
            return self._pool.pop()
        except IndexError:
            pass
        try:
            # the profiling variant's kernel counters accumulate in the workspace from zero
            return (np.zeros if self.lowered.kernels else np.empty)(self._ws_size, dtype=np.uint8)
        except MemoryError:
            raise self._memory_error() from None

    def take_counters(self) -> np.ndarray:
        """The profiling variant's kernel counters summed over its idle workspaces, which are cleared: int64
        [kernel, (nanoseconds, runs)] since the last take (codegen.profile)."""
        from codegen.profile import COUNTERS_OFFSET
        n = 2 * len(self.lowered.kernels)
        total = np.zeros(n, np.int64)
        for ws in list(self._pool):
            view = ws[COUNTERS_OFFSET:COUNTERS_OFFSET + 8 * n].view(np.int64)
            total += view
            view[:] = 0
        return total.reshape(-1, 2)

    def _memory_error(self) -> MemoryError:
        """The MemoryError of a call whose results or workspace cannot be allocated, naming the user's line."""
        need = self._ws_size + sum(int(np.prod([d or 0 for d in s], dtype=np.float64)) * np.dtype(t).itemsize
                                   for s, t in self._results + self._var_results)
        return MemoryError(f"{self.name}: one call of the compiled function needs {need / 2**30:,.1f} GiB for its "
                           f"results and intermediates{_user_line()}")

    def fail(self, code: int, ws: np.ndarray) -> None:
        """Raises the error the call with workspace `ws` reported, then pools `ws` (only once it has been read)."""
        try:
            entry.raise_error(self.lowered, self.pending, code, ws)
        finally:
            self._pool.append(ws)

    def _run_parallel(self, arrays: list[np.ndarray], chunks: int, parts: int) -> tuple[int, np.ndarray]:
        """Split [0, chunks) into `parts` ranges; the calling thread runs the first, pool threads the rest (the
        kernel releases the GIL, so they run at once). Returns the first failure's code and workspace, or 0 and a
        workspace; the others go back to the pool."""
        bounds = [chunks * i // parts for i in range(parts + 1)]
        spaces = [self.workspace() for _ in range(parts)]
        futures = [executor().submit(self._py, *arrays, spaces[i], bounds[i], bounds[i + 1]) for i in range(1, parts)]
        codes = [self._py(*arrays, spaces[0], bounds[0], bounds[1])] + [f.result() for f in futures]
        failed = next((k for k, code in enumerate(codes) if code), 0)
        self._pool.extend(w for k, w in enumerate(spaces) if k != failed)
        return codes[failed], spaces[failed]

    @property
    def llvm_ir(self) -> str:
        """The optimized LLVM IR (rebuilt on demand when the code came from the disk cache)."""
        if self._llvm_ir is None:
            tiling = self._tiling if self._tiling is None or self._tiling[0] is not None else tiling_plan(self.fn)
            self._llvm_ir = str(build(self.fn, self._release_gil, tiling, bool(self.lowered.kernels), whole=True)[1])
        return self._llvm_ir

    @property
    def asm(self) -> str:
        """The host assembly of the optimized module."""
        mod = llvm_setup.parse(self.llvm_ir)
        return llvm_setup.host_target_machine().emit_assembly(mod)

    def __call__(self, args: Sequence[Any]) -> list[np.ndarray]:
        """Checks and converts the arguments, then runs."""
        params = self._params
        if len(args) != len(params):
            raise TypeError(f"{self.name}: expected {len(params)} arguments, got {len(args)}")
        arrays = []
        for i, (a, t) in enumerate(zip(args, params)):
            arr = a.array if isinstance(t, RefType) else a
            arr = np.asarray(arr, dtype=t.dtype.np)
            if len(arr.shape) != len(t.shape) or any(d is not None and d != n for d, n in zip(t.shape, arr.shape)):
                raise ValueError(f"{self.name}: argument {i} has shape {arr.shape}, expected {t.shape}")
            arrays.append(arr)
        cells = [args[i] for i in self.lowered.assigned]
        return self.run(arrays, cells)

    def run(self, arrays: list[Any], cells: Sequence[Cell] = ()) -> list[np.ndarray]:
        """Runs on arrays of the parameter types (Variable parameters as their current arrays); `cells` are the
        Cells of the assigned Variables, which get their new arrays. Arrays the native entry would refuse for their
        layout (views, transposes, misaligned or foreign-typed buffers, subclasses) are copied first; a wrong shape
        raises."""
        arrays = [_fit(a, t.dtype.np) for a, t in zip(arrays, self._params)]
        try:
            outs = [np.empty(shape, dtype) for shape, dtype in self._results] if self._alloc is None else \
                self._alloc(arrays)
            var_outs = [np.empty(shape, dtype) for shape, dtype in self._var_results]
        except MemoryError:
            raise self._memory_error() from None
        chunks, parts = self.split(arrays)
        if parts > 1:
            code, ws = self._run_parallel([*arrays, *outs, *var_outs], chunks, parts)
        else:
            ws = self.workspace()
            code = self._py(*arrays, *outs, *var_outs, ws, 0, chunks)
        for cell, new in zip(cells, var_outs):  # assigns made before a failure stay, as in eager mode
            cell.array = new
        kernel_made = self._kernel_made
        if code:
            for k in kernel_made:
                owned.release(outs[k])
            self.fail(code, ws)
        self._pool.append(ws)
        for k in kernel_made:
            outs[k] = owned.adopt(outs[k], self._results[k][1])
        return outs


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OURS = tuple(os.path.join(_ROOT, p) + os.sep for p in ("codegen", "engine", "ir", "autodiff"))


def _user_line() -> str:
    """' (at file:line)' of the innermost frame outside Kiln's packages, or ''."""
    f = sys._getframe(1)
    while f is not None:
        name = os.path.abspath(f.f_code.co_filename)
        if not name.startswith(_OURS):
            return f" (at {f.f_code.co_filename}:{f.f_lineno})"
        f = f.f_back
    return ""


def _fit(a: Any, dtype: np.dtype) -> np.ndarray:
    """`a` as the native entry takes it: an exact ndarray of `dtype`, C-contiguous and aligned (copied if not).
    Another dtype is an error: converting is the caller's decision."""
    if type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned:
        return a
    arr = np.asarray(a)
    if arr.dtype != dtype:
        raise TypeError(f"expected an array of {dtype}, got {arr.dtype}")
    return np.array(arr, order="C")


def compile_function(fn: Any, source: Optional[Function] = None, profile: bool = False, *,
                     split_rows: bool = True) -> CompiledFunction:
    """Native code for `fn`, from the disk cache when an entry for this exact IR and machine exists. `split_rows`:
    reductions over a big input's rows may run on threads (codegen.partial).

    With `source` (the IR `fn` was optimized from), the cache is keyed by `source`, and `fn` may be a
    zero-argument callable that computes the optimized IR: a hit then skips the passes as well as LLVM. With
    `profile`, the variant that times its kernels (codegen.profile), cached apart from the normal build."""
    from ir.printer import print_function
    k = None
    if cache.enabled():
        with phase("cache"):
            k = cache.key(print_function(source if source is not None else fn, locations=True),
                          {"from": "traced" if source is not None else "optimized",
                           **({"profile": 1} if profile else {})})
            hit = cache.load(k)
        if hit is not None and not wanted_stages():
            meta, obj = hit
            try:
                tiling = (None, meta["tile_rows"]) if meta.get("tile_rows") else None
                lowered = cache.decode_meta(meta)
                lowered.kernels = [KernelInfo.from_json(k) for k in meta.get("kernels", [])]
                with phase("link"):
                    compiled = _link(_Deferred(fn), lowered, obj, meta["release_gil"], tiling)
                stats["cache_hits"] += 1
                timing.count("cache hit")
                return compiled
            except Exception:  # a valid-looking entry that does not decode or link: rebuild it
                pass
        stats["cache_misses"] += 1
        timing.count("cache miss")
    if not isinstance(fn, Function):
        fn = fn()
    fn = softmax_rows.fuse(fn)  # softmax patterns' two reductions as one pass over each row
    with phase("verify"):
        verify(fn)  # unverified IR (a wrong result shape, an operand out of scope) would make code that reads out of bounds
    elements = work(fn)
    release = elements >= RELEASE_GIL_ELEMENTS
    with phase("lower"):
        tiling = tiling_plan(fn) if elements >= TILE_ELEMENTS else None
    if tiling is None and elements >= partial.MIN_ELEMENTS and split_rows and not profile and \
            not has_unknown_dims(fn):  # reductions over rows on threads
        cut = partial.split(fn)
        if cut is not None:  # (the finish function reduces the chunks' results: it is not split again)
            return partial.Split(fn, cut, _compile_tiled(cut.chunk, (cut.plan, cut.rows)),
                                 compile_function(cut.finish, split_rows=False), lambda f: executor().submit(f))
    quick = not profile and tiers.enabled() and tiers.suits(fn, elements)
    lowered, mod, obj = llvm_setup.on_llvm_thread(build, fn, release, tiling, profile, quick)
    stats["compiled"] += 1
    store = None
    if k is not None:
        meta = dict(cache.encode_meta(lowered), release_gil=release, tile_rows=tiling[1] if tiling else 0,
                    kernels=[list(kernel) for kernel in lowered.kernels])
        store = lambda o: cache.store(k, meta, o)  # noqa: E731
        if not quick:  # the quick tier's code is never stored: its O3 build is (codegen.tiers)
            with phase("cache"):
                store(obj)
    if quick:  # `mod` is then the LLVM IR text, which the O3 build starts from
        with phase("link"):
            compiled = _link(fn, lowered, obj, release, tiling)
        callback = tiers.callback_of(compiled._py)
        tiers.schedule(compiled, fn.name, mod, store, lambda o: native.link(o, callback, _imports(o)))
        return compiled
    # Not `str(mod)` kept for `.llvm_ir`: ~15 KB of text per live function that few ever read (rebuilt on demand,
    # as after a cache hit).
    del mod
    with phase("link"):
        return _link(fn, lowered, obj, release, tiling)


def _compile_tiled(fn: Function, tiling: tuple[Any, int]) -> CompiledFunction:
    """Native code for `fn` tiled as given (not cached on disk: `fn` is made by `codegen.partial`)."""
    lowered, mod, obj = llvm_setup.on_llvm_thread(build, fn, True, tiling)
    stats["compiled"] += 1
    del mod
    compiled = _link(fn, lowered, obj, True, tiling)
    compiled._small = False  # codegen.partial decided the split from the whole input's size
    return compiled


class _Deferred:
    """The optimized IR of a function loaded from the cache, computed only if asked for (`.llvm_ir`)."""

    def __init__(self, thunk: Any) -> None:
        self._thunk = thunk
        self._fn: Optional[Function] = None

    @property
    def fn(self) -> Function:
        if self._fn is None:
            self._fn = self._thunk() if not isinstance(self._thunk, Function) else self._thunk
        return self._fn

    @property
    def name(self) -> str:
        return self.fn.name


def _link(fn: Function, lowered: Lowered, obj: bytes, release: bool,
          tiling: Optional[tuple[Any, int]] = None) -> CompiledFunction:
    pending: dict[int, str] = {}  # shared with the callback, which must not reference the CompiledFunction
    cb = _make_callback(lowered, pending)
    py_entry = native.link(obj, cb, _imports(obj))
    compiled = CompiledFunction(fn, lowered, release, py_entry)
    compiled._tiling = tiling
    compiled.pending = pending
    return compiled


def _imports(obj: bytes) -> dict[str, int]:
    """The addresses object code `obj` imports (the runtime's entry points, the GEMM workers it names: the same
    full builds for the quick tier and O3, codegen.gemm_library)."""
    return {**entry.symbols(), **interrupt.symbols(), **gemm_threads.symbols(num_threads()),
            **gemm_library.symbols(obj)}

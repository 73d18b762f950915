"""Reductions over rows split across threads: a function whose results reduce its big inputs' leading axis (a sum
of everything, a max over axis 0, a mean) runs as two compiled functions.

`split(fn)` cuts `fn` at its reductions over split rows (the rows whose tiling facet has `partial`, see
`codegen.rules.registry.Tiling`):
- the *chunk* function runs row-tiled (`codegen.tiling`): each chunk of rows reduces its own rows and writes its
  result as one row of a partial result stacked over the chunks (a float sum's chunk total is summed in blocks,
  see `codegen.rules.blocked_sum`, and rounded once to the result's dtype); the calling thread and the pool's take
  its chunks in shrinking grabs from one counter (`Split._run_chunks`, `grabs`), so that a thread the OS runs late
  takes less of the work instead of holding up the call (under a load of ~9.5 on the 2 cores, a 16M float32 sum
  took 24.2 ms median and 11.6 ms 10th percentile with one fixed half per thread; 14.2 and 3.0 ms with grabs, as
  on one thread: 15.2 and 2.7 ms);
- the *finish* function reduces each partial result over its chunks with the same row (a sum of the chunks'
  sums, added one by one in float64 for float sums; a max of their maxes, NaN propagating) and computes whatever
  `fn` does with the reductions afterwards (a mean's division, a norm's sqrt). It is small and compiled like any
  function. Measured: a 16M float32 sum of 1 + uniform[0, 1) values is off the float64 sum by 3e-8 relative
  (numpy's pairwise sum: 1.1e-7).

The plan is made once per compile; `Split` holds both compiled functions and looks to its callers like one
compiled function (the attributes `engine.concrete` and `engine.fastcall` read). It is not stored in the disk cache
as one entry: the finish function is, as an ordinary function; the chunk function is compiled again (one LLVM
compile) in a new process.
"""
from __future__ import annotations

import functools
import itertools
import threading
from typing import Any, Callable, Optional, Sequence

import numpy as np

from codegen.chunks import rows_per_chunk
from codegen.tiling import Plan
from ir.core import Block, Builder, Function, Value
from ir.passes.dce import dce
from ir.types import RefType, TensorType

#: Functions touching fewer elements run on one thread: handing half of the work to the pool costs tens of µs
#: (measured: a sum of 1M float32, which is in the cache, took 0.054 ms on one thread and 0.089 ms on two).
MIN_ELEMENTS = 1 << 22
#: At most this many chunks (so partial results stay small): enough for two threads to balance their shares.
MAX_CHUNKS = 64
#: At least this many rows per chunk, so that the partial results are at most an eighth of the input.
MIN_CHUNK_ROWS = 8
#: A thread of a split call takes 1 / (SHARE * threads) of the chunks left at a time (`grabs`: guided
#: scheduling): big grabs first, so that few calls (a few µs each) are made, and grabs of one chunk at the end, so
#: that no thread waits long for another's last grab (64 chunks on 2 threads: 16, 12, 9, 7, 5, 4, 3, 2, 2, 1, 1, 1,
#: 1 chunks).
SHARE = 2

#: What a value is to the cut: rows of the split input (_SPLIT), computed from whole values (_PLAIN), computed after
#: a reduction over split rows (_TAIL), or a whole value that a row gives the split rows' shape (_EITHER: a
#: broadcast of a constant over N rows; split next to split values, whole next to _TAIL ones, as in a mean's
#: division of a 4096x4096 matrix's column sums by a broadcast 4096).
_SPLIT, _PLAIN, _TAIL, _EITHER = "split", "plain", "tail", "either"


class Cut:
    """`fn` cut in two: `chunk` (tiled by `plan` in chunks of `rows` rows; its results are `fn`'s row-split results,
    then one partial result per reduction) and `finish` (params: the partial results, then `fn`'s unsplit params;
    results: `fn`'s other results). `take[i]` says where `fn`'s result i comes from: ("chunk", k) or ("finish", k)."""

    def __init__(self, chunk: Function, plan: Plan, rows: int, finish: Function, plain_params: list[int],
                 take: list[tuple[str, int]]) -> None:
        self.chunk = chunk
        self.plan = plan
        self.rows = rows
        self.finish = finish
        self.plain_params = plain_params
        self.take = take


def _rows(fn: Function) -> int:
    """The row count to split: the leading dimension of the largest parameter."""
    biggest = max((p.type for p in fn.params if p.type.shape), key=lambda t: t.size, default=None)
    return biggest.shape[0] if biggest is not None else 0


def split(fn: Function) -> Optional[Cut]:
    """`fn` cut at its reductions over split rows, or None when it has none or some op mixes rows otherwise."""
    if any(isinstance(p.type, RefType) for p in fn.params):
        return None
    N = _rows(fn)
    if N < 2:
        return None
    state: dict[int, str] = {}
    for p in fn.params:
        state[id(p)] = _SPLIT if p.type.shape and p.type.shape[0] == N else _PLAIN
    partial_ops: dict[int, dict] = {}
    for op in fn.block.ops:
        if op.opdef.terminator:
            break
        states = [state[id(v)] for v in op.operands]
        if _TAIL in states:  # after a reduction: runs in the finish function, so it must not touch split rows
            if _SPLIT in states or op.regions or op.opdef.effect:
                return None
            state.update((id(r), _TAIL) for r in op.results)
            continue
        rule = op.opdef.tile
        if rule is None:
            return None
        mask = [s in (_SPLIT, _EITHER) for s in states]
        combine = rule.partial(op, mask)
        if combine is not None:
            partial_ops[id(op)] = combine
            state.update((id(r), _TAIL) for r in op.results)
            continue
        out = rule.split(op, mask, N)
        if out is None:
            return None
        for r, s in zip(op.results, out):
            if s and (not r.type.shape or r.type.shape[0] != N):
                return None
            state[id(r)] = (_SPLIT if _SPLIT in states else _EITHER) if s else _PLAIN
    if not partial_ops:
        return None
    return _cut(fn, N, state, partial_ops)


def _chunk_rows(fn: Function, N: int, state: dict[int, str]) -> int:
    """Rows per chunk: the usual chunk size (codegen.chunks) or more, so that there are at most MAX_CHUNKS chunks
    and at least MIN_CHUNK_ROWS rows in each."""
    params = [state[id(p)] == _SPLIT for p in fn.params]
    results = [state[id(v)] == _SPLIT for v in fn.results]
    usual = rows_per_chunk(fn, Plan(N, params, results, set())) if any(params) else 1
    least = max(usual, -(-N // MAX_CHUNKS), MIN_CHUNK_ROWS)
    return next(d for d in range(least, N + 1) if N % d == 0)


def _live(fn: Function, wanted: Sequence[Value], skip: Callable[[Any], bool]) -> set[int]:
    """Ids of the ops (not skipped) that the values `wanted` depend on."""
    need = {id(v) for v in wanted}
    live: set[int] = set()
    for op in reversed(fn.block.ops):
        if op.opdef.terminator or skip(op) or not any(id(r) in need for r in op.results):
            continue
        live.add(id(op))
        need.update(id(v) for v in op.operands)
    return live


def _cut(fn: Function, N: int, state: dict[int, str], partial_ops: dict[int, dict]) -> Optional[Cut]:
    rows = _chunk_rows(fn, N, state)
    chunks = N // rows
    if chunks < 2:
        return None
    reductions = [op for op in fn.block.ops if id(op) in partial_ops]
    split_results = [i for i, v in enumerate(fn.results) if state[id(v)] == _SPLIT]
    # The chunk function: the split and plain ops the split results and the reductions need, and the reductions,
    # each one's result reshaped to one row of its partial result (typed here with all chunks' rows: the plan marks
    # it split, and `codegen.tiling.rewrite` gives it its one row per chunk).
    live = _live(fn, [fn.results[i] for i in split_results] + [v for op in reductions for v in op.operands],
                 lambda op: state[id(op.results[0])] == _TAIL if op.results else True)
    vmap: dict[int, Value] = {}
    block = Block([Value(p.type, p.name) for p in fn.params], label=fn.block.label)
    vmap.update((id(o), n) for o, n in zip(fn.params, block.args))
    split_ids = {id(a) for a, p in zip(block.args, fn.params) if state[id(p)] == _SPLIT}
    b = Builder(block)
    partials: list[Value] = []
    for op in fn.block.ops:
        if id(op) not in live and id(op) not in partial_ops:
            continue
        results = b.op(op.opdef, [vmap[id(v)] for v in op.operands], dict(op.attrs), op.regions,
                       result_types=[r.type for r in op.results], loc=op.loc, names=[r.name for r in op.results])
        vmap.update((id(o), n) for o, n in zip(op.results, results))
        if id(op) in partial_ops:
            r = results[0]
            stacked = r.type.with_shape((chunks,) + tuple(r.type.shape))
            (row,) = b.op("reshape", [r], {"shape": stacked.shape}, result_types=[stacked])
            partials.append(row)
            split_ids.add(id(row))
        elif state[id(op.results[0])] in (_SPLIT, _EITHER):
            split_ids.update(id(r) for r in results)
    b.op("return", [vmap[id(fn.results[i])] for i in split_results] + partials, result_types=[])
    chunk = Function(fn.name, block)
    params = [state[id(p)] == _SPLIT for p in fn.params]
    plan = Plan(N, params, [True] * len(chunk.results), split_ids)
    return _finish(fn, state, partial_ops, chunk, plan, rows, split_results, reductions, chunks)


def _finish(fn: Function, state: dict[int, str], partial_ops: dict[int, dict], chunk: Function, plan: Plan,
            rows: int, split_results: list[int], reductions: list[Any], chunks: int) -> Cut:
    """The finish function: each reduction again over the chunks' partial results, then the ops after them."""
    plain = [i for i, p in enumerate(fn.params) if state[id(p)] == _PLAIN]
    part_args = [Value(r.results[0].type.with_shape((chunks,) + tuple(r.results[0].type.shape)),
                       r.results[0].name) for r in reductions]
    block = Block(part_args + [Value(fn.params[i].type, fn.params[i].name) for i in plain], label=fn.block.label)
    vmap: dict[int, Value] = {id(fn.params[i]): a for i, a in zip(plain, block.args[len(part_args):])}
    b = Builder(block)
    arg_of = {id(op): a for op, a in zip(reductions, part_args)}
    for op in fn.block.ops:
        if op.opdef.terminator:
            break
        if id(op) in partial_ops:
            (r,) = b.op(op.opdef, [arg_of[id(op)]], partial_ops[id(op)], result_types=[op.results[0].type],
                        loc=op.loc, names=[op.results[0].name])
            vmap[id(op.results[0])] = r
        elif op.results and state[id(op.results[0])] != _SPLIT:
            results = b.op(op.opdef, [vmap[id(v)] for v in op.operands], dict(op.attrs), op.regions,
                           result_types=[r.type for r in op.results], loc=op.loc, names=[r.name for r in op.results])
            vmap.update((id(o), n) for o, n in zip(op.results, results))
    rest = [i for i in range(len(fn.results)) if i not in split_results]
    b.op("return", [vmap[id(fn.results[i])] for i in rest], result_types=[])
    finish = dce(Function(fn.name + "_finish", block))
    take = [("chunk", split_results.index(i)) if i in split_results else ("finish", rest.index(i))
            for i in range(len(fn.results))]
    return Cut(chunk, plan, rows, finish, plain, take)


class Split:
    """The compiled form of a `Cut`: runs the chunk function (its chunks shared among threads), then the finish
    function on the partial results. It offers what callers of `codegen.runtime.CompiledFunction` use."""

    def __init__(self, fn: Function, cut: Cut, chunk: Any, finish: Any, submit: Callable[..., Any]) -> None:
        self._fn = fn
        self._submit = submit  # runs a callable on the runtime's pool, returning a future
        self.cut = cut
        self.chunk = chunk
        self.finish = finish
        self.lowered = _Signature(fn)
        self.fast_callers: dict[tuple, Any] = {}
        self.pending: dict[int, str] = {}
        self._pool: list[np.ndarray] = []
        self._n_params = len(fn.params)
        self._dynamic: dict[int, Any] = {}  # results of run-time size: none (only static functions are split)

    @property
    def fn(self) -> Function:
        return self._fn

    @property
    def name(self) -> str:
        return self._fn.name

    @property
    def threads(self) -> int:
        """1: a call goes through `_py` like an untiled function's; the chunk function splits its own work."""
        return 1

    @property
    def llvm_ir(self) -> str:
        return self.chunk.llvm_ir + "\n" + self.finish.llvm_ir

    @property
    def asm(self) -> str:
        return self.chunk.asm + "\n" + self.finish.asm

    def workspace(self) -> np.ndarray:
        return _NO_WORKSPACE

    def fail(self, code: int, ws: np.ndarray) -> None:  # failures raise inside `run`
        raise AssertionError(f"{self.name}: unexpected failure code {code}")

    def __call__(self, args: Sequence[Any]) -> list[np.ndarray]:
        params = self.lowered.params
        if len(args) != len(params):
            raise TypeError(f"{self.name}: expected {len(params)} arguments, got {len(args)}")
        arrays = []
        for i, (a, t) in enumerate(zip(args, params)):
            arr = np.asarray(a, dtype=t.dtype.np)
            if arr.shape != t.shape:
                raise ValueError(f"{self.name}: argument {i} has shape {arr.shape}, expected {t.shape}")
            arrays.append(arr)
        return self.run(arrays)

    def run(self, arrays: list[Any], cells: Sequence[Any] = ()) -> list[np.ndarray]:
        parts = self._run_chunks(arrays)
        cut = self.cut
        n_split = len(parts) - len(cut.finish.params) + len(cut.plain_params)
        rest = self.finish.run(parts[n_split:] + [arrays[i] for i in cut.plain_params])
        return [parts[k] if where == "chunk" else rest[k] for where, k in cut.take]

    def _run_chunks(self, arrays: list[Any]) -> list[np.ndarray]:
        """The chunk function's results. Its chunks are taken a few at a time (`grabs`) from one counter by the
        calling thread and the pool's threads, not cut into one fixed range per thread, and the call waits only for
        the grabs taken, not for the pool's threads: a thread that starts late (a slow wake-up, a core busy with
        another process) takes fewer chunks or none, and the call does not wait for it to be scheduled."""
        chunk = self.chunk
        parts = chunk.threads
        if parts < 2:
            return chunk.run(arrays)
        arrays = [_laid_out(a, t.dtype.np) for a, t in zip(arrays, self.cut.chunk.param_types)]
        outs = [np.empty(t.shape, t.dtype.np) for t in self.cut.chunk.result_types]
        ranges = grabs(chunk.lowered.chunks, parts)
        steps = len(ranges)
        counter = itertools.count()  # next() on it is atomic under the GIL
        done: list[int] = []
        failed: list[tuple[Any, Any]] = []  # (status code, workspace) or (exception, None)
        finished = threading.Event()
        call, args = chunk._py, [*arrays, *outs]

        def work() -> None:
            ws = chunk.workspace()
            while not failed:
                k = next(counter)
                if k >= steps:
                    break
                try:
                    code = call(*args, ws, *ranges[k])
                except BaseException as e:  # (raised in the caller's thread below)
                    code, ws = e, None
                if code:
                    failed.append((code, ws))
                    finished.set()
                    return
                done.append(k)
                if len(done) == steps:
                    finished.set()
            chunk._pool.append(ws)
        for _ in range(parts - 1):
            self._submit(work)
        work()
        finished.wait()
        if failed:
            code, ws = failed[0]
            if ws is None:
                raise code
            chunk.fail(code, ws)
        return outs

    def _py(self, *args: Any) -> int:
        """The native entry's calling convention (arrays, results, workspace, chunk range): results are copied."""
        n = self._n_params
        for out, value in zip(args[n:n + len(self.lowered.results)], self.run(list(args[:n]))):
            np.copyto(out, value)
        return 0


_NO_WORKSPACE = np.empty(0, np.uint8)


@functools.lru_cache(maxsize=None)
def grabs(chunks: int, threads: int) -> tuple[tuple[int, int], ...]:
    """The chunk ranges [begin, end) that the threads of a `Split` call take one by one, in order: each is
    1 / (SHARE * threads) of the chunks left, rounded up."""
    out: list[tuple[int, int]] = []
    begin = 0
    while begin < chunks:
        size = -(-(chunks - begin) // (SHARE * threads))
        out.append((begin, begin + size))
        begin += size
    return tuple(out)


def _laid_out(a: Any, dtype: np.dtype) -> np.ndarray:
    """`a` as the native entry takes it (an exact, C-contiguous, aligned ndarray of `dtype`; copied if not)."""
    if type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned:
        return a
    return np.array(a, dtype=dtype, order="C")


class _Signature:
    """What callers read of a `Lowered`: the parameter and result types of the whole function."""

    def __init__(self, fn: Function) -> None:
        self.params: list[TensorType] = fn.param_types
        self.results: list[TensorType] = fn.result_types
        self.assigned: list[int] = []
        self.chunks = 1

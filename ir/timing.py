"""Where a compile's time goes: per-phase accounting (`KILN_DUMP=time`) and a notice for slow first calls.

A *compile* is one `compiling(name)` block (the first call of an `engine.function`: tracing, autodiff, the passes,
lowering and LLVM). Inside it, `phase(name)` blocks time their own work: nested phases are charged to the inner
one only, so the phases of a compile add up to at most its wall time. Phases outside any compile, and compiles in
which no phase ran (a call of an already compiled function), cost a few attribute lookups and report nothing.

- `KILN_DUMP=time` prints, after each compile, its phases with seconds and shares, the op count, and counters
  such as disk-cache hits and misses (`count`), to stderr or to `KILN_DUMP_DIR` like the other stages.
- A compile that has worked for `SLOW_SECONDS` (of the process's CPU time, so that a short compile on a busy
  machine stays quiet) prints once to stderr, at the next phase boundary, what it is compiling (the function's name
  and op count), so a long first call is not silent; short compiles print nothing. Checked at phase boundaries, not
  by a timer thread: a thread per compile grew the process (400 compiles: 2.3 MB of RSS, from glibc's per-thread
  arenas).

Phases in pipeline order: trace, autograph, autodiff, passes, verify, lower, llvm-parse, llvm-opt, codegen (object
code), link, cache (disk-cache lookups and stores). Per thread: one thread's compile never charges another's.
"""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator, Optional

#: A compile running this long says on stderr what it is compiling (once).
SLOW_SECONDS = 2.0
PHASES = ("trace", "autograph", "autodiff", "passes", "verify", "lower", "llvm-parse", "llvm-opt", "codegen",
          "link", "cache")

_local = threading.local()


class Compile:
    """The accounting of one compile: seconds per phase, counters, the op count once known."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ops: Optional[int] = None
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}   # process CPU seconds per phase (wall time counts other processes' turns)
        self.counts: dict[str, int] = {}
        self.start = time.perf_counter()
        self.cpu_start = 0.0  # read on the first phase: the CPU clock is a system call (4 us here)
        self.stack: list[list] = []   # [phase, resumed at, CPU clock then] of the open phases, innermost last
        self.armed = False
        self.announced = False

    def arm(self) -> None:
        """Starts the CPU clock (on the first phase: calls that compile nothing never read it)."""
        if not self.armed:
            self.armed = True
            self.cpu_start = time.process_time()

    def check(self, now: float) -> None:
        """At a phase boundary: announce once the compile has used SLOW_SECONDS of CPU (read only once it has taken
        that long in wall time, which it cannot take less than)."""
        if not self.announced and now - self.start >= SLOW_SECONDS and \
                time.process_time() - self.cpu_start >= SLOW_SECONDS:
            self.announce()

    def announce(self) -> None:
        if self.announced:
            return
        self.announced = True
        ops = f"{self.ops} ops" if self.ops is not None else "still tracing"
        doing = self.stack[-1][0] if self.stack else "compiling"
        sys.stderr.write(f"kiln: compiling {self.name} ({ops}) has taken {time.perf_counter() - self.start:.1f} s "
                         f"so far (now: {doing}); KILN_DUMP=time shows where compile time goes\n")
        sys.stderr.flush()

    def report(self) -> str:
        total = time.perf_counter() - self.start
        cpu = time.process_time() - self.cpu_start  # below the wall time when other processes share the cores
        head = f"{self.name}: {total:.3f} s (cpu {cpu:.3f} s)" + (f", {self.ops} ops" if self.ops is not None else "")
        if self.counts:
            head += ", " + ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        order = {p: i for i, p in enumerate(PHASES)}
        lines = [head + "; per phase: wall s, share of wall, cpu s"]
        for name, secs in sorted(self.seconds.items(), key=lambda kv: order.get(kv[0], len(order))):
            lines.append(f"  {name:<11}{secs:9.4f} s {100 * secs / total if total else 0:5.1f}%"
                         f"{self.cpu.get(name, 0.0):9.4f} s")
        rest = total - sum(self.seconds.values())
        lines.append(f"  {'other':<11}{rest:9.4f} s {100 * rest / total if total else 0:5.1f}%"
                     f"{cpu - sum(self.cpu.values()):9.4f} s")
        return "\n".join(lines)


def current() -> Optional[Compile]:
    """The accounting of this thread's open compile, made on first use (None outside any compile)."""
    record = getattr(_local, "compile", None)
    if record is None:
        name = getattr(_local, "name", None)
        if name is not None:
            record = _local.compile = Compile(name)
    return record


class compiling:
    """`with compiling(name):` a compile named `name`, or part of the one already open on this thread (nested
    compiles join the outer one). Cheap when nothing inside is timed (a call of compiled code): the accounting is
    made by the first phase. `.record` is the accounting afterwards (None if no phase ran). A `background` compile
    (codegen.tiers' O3 builds, which no caller waits for) is reported by KILN_DUMP=time but never announced as slow."""

    __slots__ = ("name", "outer", "record", "background")

    def __init__(self, name: str, background: bool = False) -> None:
        self.name = name
        self.record: Optional[Compile] = None
        self.background = background

    def __enter__(self) -> "compiling":
        self.outer = getattr(_local, "name", None)
        if self.outer is None:
            _local.name = self.name
            if self.background:
                _local.compile = Compile(self.name)
                _local.compile.announced = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.outer is not None:
            return
        record = getattr(_local, "compile", None)
        _local.name = _local.compile = None
        self.record = record
        if record is None:
            return
        if record.seconds:
            from ir.dump import dump, wanted
            if wanted("time"):
                dump("time", self.name, record.report())


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Charges the time inside to phase `name` of the current compile (not to an enclosing phase)."""
    record = current()
    if record is None:
        yield
        return
    record.arm()
    stack, seconds, cpu = record.stack, record.seconds, record.cpu
    now, clock = time.perf_counter(), time.process_time()
    record.check(now)
    if stack:
        outer = stack[-1]
        seconds[outer[0]] = seconds.get(outer[0], 0.0) + now - outer[1]
        cpu[outer[0]] = cpu.get(outer[0], 0.0) + clock - outer[2]
    stack.append([name, now, clock])
    try:
        yield
    finally:
        now, clock = time.perf_counter(), time.process_time()
        done = stack.pop()
        seconds[name] = seconds.get(name, 0.0) + now - done[1]
        cpu[name] = cpu.get(name, 0.0) + clock - done[2]
        if stack:
            stack[-1][1], stack[-1][2] = now, clock
        record.check(now)


def count(name: str, n: int = 1) -> None:
    """Adds to a counter of the current compile (e.g. "cache hit")."""
    record = current()
    if record is not None:
        record.counts[name] = record.counts.get(name, 0) + n


def note_ops(n: int) -> None:
    """The size of what the current compile compiles (shown by the report and the slow-compile notice)."""
    record = current()
    if record is not None:
        record.ops = n


def handed_over() -> tuple:
    """This thread's compile accounting, to hand to a thread that works for it (`taking_over`)."""
    return getattr(_local, "name", None), getattr(_local, "compile", None)


@contextmanager
def taking_over(state: tuple) -> Iterator[None]:
    """Phases timed inside count for the compile `state` came from (the caller waits meanwhile)."""
    old = handed_over()
    _local.name, _local.compile = state
    try:
        yield
    finally:
        _local.name, _local.compile = old

"""Ctrl-C for compiled code: compiled loops poll a process-wide interrupt counter and stop (DESIGN §8).

Python runs its signal handlers between bytecodes, so a compiled `while_loop` that never ends would never see
SIGINT. Kiln therefore puts a small native handler (`kiln_on_signal`, JIT-compiled here) in front of the one Python
installed: it increments the counter `kiln_sym_interrupts` and then calls Python's handler, so Python still learns of
the signal. Every call of a native entry records the counter's value in its status words (`STATUS_START`, written by
codegen.entry before the kernel starts); every loop compares the two every `POLL_TRIPS` trips of its own (one `and`
and a well-predicted branch per trip) and, when they differ, leaves with the error code of a `KeyboardInterrupt`
entry of the function's error table. Comparing with the value at the start of the call, instead of clearing a flag,
lets kernels in several threads all see one Ctrl-C and makes a Ctrl-C pressed while no kernel ran harmless.

Loops without a trip counter of their own poll too, when their nest is long (`LoopWork`, used by the lowering
context's `for_range`): a loop whose trips each do at least MIN_TRIP_WORK element steps polls in its latch every
`poll_every` trips (so about every POLL_WORK steps), and a loop of more than 2 * BLOCK_TRIPS static trips runs in
blocks, polling between them; so the innermost loops, which LLVM vectorizes, never contain a poll, and a nest that
does fewer than POLL_WORK steps per call gets none.

`raise_interrupt()` then runs Python's pending handlers (`PyErr_CheckSignals`), so the KeyboardInterrupt the user
sees is the one Python's own handler raises (or whatever a handler the user installed does); if none raises (in a
thread other than the main one, say), the caller raises KeyboardInterrupt itself.

The handler is installed (`ensure_installed()`) when code is linked, only in front of a C handler of the usual
kind (not SIG_DFL/SIG_IGN, no SA_SIGINFO); if the program later replaces Python's SIGINT handler with
`signal.signal`, the next link puts Kiln's back in front of the new one.
"""
from __future__ import annotations

import ctypes
import functools
import signal
import threading
from typing import Any, Optional

import llvmlite.binding as llvm
import llvmlite.ir as lir

from codegen.values import I64

#: Poll once per this many trips of a loop (a power of two).
POLL_TRIPS = 4096
#: Loops with static trip counts poll about once per this many element steps (innermost-loop trips; a BLAS call
#: counts its multiply-adds): tens of microseconds, against a few nanoseconds per poll.
POLL_WORK = 1 << 16
#: A loop of more than twice this many trips runs in blocks of this many, polling between blocks.
BLOCK_TRIPS = 1 << 16
#: Loops doing fewer element steps per trip are never polled inside (they are innermost or nearly: vector code).
MIN_TRIP_WORK = 1 << 10
#: The status word (index into the i64 status array of a call's workspace) holding the counter at the call's start.
STATUS_START = 2
SYMBOL = "kiln_sym_interrupts"

_counter = ctypes.c_int64(0)
_previous = ctypes.c_void_p(0)   # the handler Kiln's calls after counting
_lock = threading.Lock()
_installed: Optional[tuple[Any, Any, int]] = None  # (LLJIT, tracker, handler address), kept for the process


class _SigAction(ctypes.Structure):  # struct sigaction of Linux/x86-64 glibc
    _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ubyte * 128), ("flags", ctypes.c_int),
                ("restorer", ctypes.c_void_p)]


_SA_SIGINFO = 4
_HANDLER_IR = f"""
@{SYMBOL} = external global i64
@kiln_sym_previous = external global ptr
define void @kiln_on_signal(i32 %sig) {{
entry:
  %old = atomicrmw add ptr @{SYMBOL}, i64 1 seq_cst
  %h = load volatile ptr, ptr @kiln_sym_previous
  %n = ptrtoint ptr %h to i64
  %real = icmp ugt i64 %n, 1
  br i1 %real, label %chain, label %done
chain:
  call void %h(i32 %sig)
  ret void
done:
  ret void
}}
"""


def symbols() -> dict[str, int]:
    """The address compiled code polls (imported at link time, so cached object files stay valid)."""
    return {SYMBOL: ctypes.addressof(_counter)}


def count() -> int:
    return _counter.value


@functools.cache
def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sigaction.argtypes = [ctypes.c_int, ctypes.POINTER(_SigAction), ctypes.POINTER(_SigAction)]
    return libc


def ensure_installed() -> bool:
    """Puts Kiln's counting handler in front of the process's SIGINT handler if it is not there; True if it is."""
    global _installed
    import sys
    if not sys.platform.startswith("linux"):
        return False
    with _lock:
        libc = _libc()
        current = _SigAction()
        if libc.sigaction(signal.SIGINT, None, ctypes.byref(current)) != 0:
            return False
        if _installed is not None and current.handler == _installed[2]:
            return True
        if (current.handler or 0) <= 1 or current.flags & _SA_SIGINFO:
            return False  # SIG_DFL, SIG_IGN or a three-argument handler: leave the process alone
        if _installed is None:
            from codegen import llvm_setup
            llvm_setup.ensure_initialized()
            lljit = llvm.create_lljit_compiler(llvm_setup.host_target_machine())
            tracker = (llvm.JITLibraryBuilder().add_ir(_HANDLER_IR)
                       .import_symbol(SYMBOL, ctypes.addressof(_counter))
                       .import_symbol("kiln_sym_previous", ctypes.addressof(_previous))
                       .export_symbol("kiln_on_signal").link(lljit, "kiln_interrupt"))
            _installed = (lljit, tracker, tracker["kiln_on_signal"])
        _previous.value = current.handler
        ours = _SigAction()
        ctypes.memmove(ctypes.byref(ours), ctypes.byref(current), ctypes.sizeof(_SigAction))
        ours.handler = _installed[2]
        return libc.sigaction(signal.SIGINT, ctypes.byref(ours), None) == 0


def emit_poll(ctx: Any, trip: lir.Value) -> lir.Value:
    """In a loop whose trip count is `trip` (an i64 phi starting at 0): returns trip + 1, and every POLL_TRIPS
    trips leaves the function with a KeyboardInterrupt if a SIGINT arrived since the call started."""
    b = ctx.b
    nxt = b.add(trip, lir.Constant(I64, 1))
    due = b.icmp_unsigned("==", b.and_(nxt, lir.Constant(I64, POLL_TRIPS - 1)), lir.Constant(I64, 0))
    with b.if_then(due, likely=False):
        ctx.fail_if(interrupted(b, ctx.module, ctx.status), interrupt_code(ctx))
    return nxt


class LoopWork:
    """What the loops nested in one trip of a loop do, in element steps (see `for_range`): `work` in all, and the most
    steps a trip can take without meeting a poll (`unpolled` in loops that do not poll, plus the longest stretch
    `gap` between two polls of a loop that does)."""

    def __init__(self) -> None:
        self.work = 0
        self.unpolled = 0
        self.gap = 0

    def add(self, work: int, gap: int) -> None:
        self.work += work
        self.unpolled += work if not gap else 0
        self.gap = max(self.gap, gap)

    def add_loop(self, trips: Optional[int], inner: "LoopWork", every: Optional[int]) -> None:
        """Counts a loop of `trips` trips (None: unknown, counted as long) whose trips do `inner`, polling every
        `every` trips (None: not at all)."""
        n = trips if trips is not None else POLL_WORK
        step = inner.between_polls()
        self.work += n * (inner.work + 1)
        if every is None:
            self.unpolled += n * step
        else:
            self.gap = max(self.gap, every * step)

    def between_polls(self) -> int:
        """The most element steps one trip takes without a poll (counting the trip itself as one)."""
        return 1 + self.unpolled + self.gap


def poll_every(trips: Optional[int], step: int) -> Optional[int]:
    """How many trips apart a loop of `trips` trips, each `step` element steps long without a poll, polls (a power
    of two), or None: it does not (short trips: an inner loop that LLVM vectorizes or unrolls; or a loop short in
    all, left to the loops around it)."""
    if step < MIN_TRIP_WORK or (trips is not None and trips * step <= POLL_WORK):
        return None
    every = 1
    while every * 2 * step <= POLL_WORK:
        every *= 2
    return every


def emit_loop_poll(ctx: Any, trip: lir.Value, every: int) -> None:
    """In a loop's latch: every `every` trips (`trip` counts them from 0), leave with a KeyboardInterrupt if a
    SIGINT arrived since the call started."""
    b = ctx.b
    if every == 1:
        ctx.fail_if(interrupted(b, ctx.module, ctx.status), interrupt_code(ctx))
        return
    due = b.icmp_unsigned("==", b.and_(trip, lir.Constant(I64, every - 1)), lir.Constant(I64, every - 1))
    with b.if_then(due, likely=False):
        ctx.fail_if(interrupted(b, ctx.module, ctx.status), interrupt_code(ctx))


def interrupted(b: lir.IRBuilder, module: lir.Module, status: lir.Value) -> lir.Value:
    """i1: a SIGINT arrived since the call whose status words are at `status` started."""
    glob = module.globals.get(SYMBOL)
    if glob is None:
        glob = lir.GlobalVariable(module, I64, SYMBOL)
    now = b.load_atomic(glob, "monotonic", 8, typ=I64)
    start = b.load(b.gep(status, [lir.Constant(I64, STATUS_START)], inbounds=True, source_etype=I64), typ=I64)
    return b.icmp_unsigned("!=", now, start)


def interrupt_code(ctx: Any) -> int:
    """The function's error code for an interrupt (one entry in its error table, made on first use)."""
    for k, err in enumerate(ctx.errors):
        if err.kind is KeyboardInterrupt:
            return k + 1
    return ctx.error(KeyboardInterrupt, "interrupted: a SIGINT arrived while compiled code ran")


def raise_interrupt(message: str) -> None:
    """Runs Python's pending signal handlers (raising what they raise), else raises KeyboardInterrupt."""
    ctypes.pythonapi.PyErr_CheckSignals()
    raise KeyboardInterrupt(message)

"""Fault suite, interrupt part (issue 13): long straight-line kernels (no while_loop, not tiled) obey Ctrl-C.

Long loop nests poll the interrupt counter (codegen.interrupt: blocks of long loops, latches of loops with heavy
trips); short ones stay free of polls. The signal tests run in a fresh process: a kernel that ignored SIGINT would
run to its end (or hang the suite).
"""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import engine as tf
from codegen import interrupt
from codegen.runtime import compile_function
from tests.test_fault_runtime import _env, _script


def _compiled(f, *arrays):
    return compile_function(tf.make_ir(f, optimize=True)(*[tf.constant(a) for a in arrays]))


def _body_polls(cf) -> int:
    """Loads of the interrupt counter in the kernel body (the entry's one load, at the call's start, not counted)."""
    body = re.search(r"define [^\n]*@\"?kiln_body\"?\(.*?\n}\n", cf.llvm_ir, re.S).group(0)
    return body.count(f"@{interrupt.SYMBOL}")


def test_long_loop_nests_poll_and_short_ones_do_not() -> None:
    x = np.random.default_rng(0).standard_normal(3 * interrupt.BLOCK_TRIPS + 5).astype(np.float32)
    long_sum = _compiled(lambda a: tf.reduce_sum(a * 2.0), x)
    assert long_sum.lowered.chunks == 1 and _body_polls(long_sum) >= 1
    np.testing.assert_allclose(long_sum([x])[0], np.sum(x.astype(np.float64) * 2), rtol=1e-5)
    short_sum = _compiled(lambda a: tf.reduce_sum(a * 2.0), x[:4000])
    assert _body_polls(short_sum) == 0
    a = np.arange(300 * 300, dtype=np.int32).reshape(300, 300) % 7 - 3
    heavy_rows = _compiled(tf.matmul, a, a)  # 300 rows of 90,000 multiply-adds: the row loop polls
    assert heavy_rows.lowered.chunks == 1 and _body_polls(heavy_rows) >= 1
    np.testing.assert_array_equal(heavy_rows([a, a])[0], a @ a)
    small = np.ones((16, 16), np.int32)
    assert _body_polls(_compiled(tf.matmul, small, small)) == 0


def test_a_blocked_loop_covers_every_trip() -> None:
    """A loop cut into blocks of BLOCK_TRIPS trips, with a partial last block, still visits each index once."""
    n = 2 * interrupt.BLOCK_TRIPS + 3
    x = np.arange(n, dtype=np.int64)
    cf = _compiled(lambda a: tf.reduce_sum(a * 3), x)
    assert _body_polls(cf) >= 1
    assert int(cf([x])[0]) == 3 * n * (n - 1) // 2


def test_a_long_straight_line_kernel_stops_when_the_counter_moves() -> None:
    """An untiled int32 matmul (no while_loop) stops once the interrupt counter moves during the call (another
    thread moves it as the SIGINT handler would), and runs to the right answer afterwards."""
    n = 1024
    a = np.ones((n, n), np.int32)
    cf = _compiled(tf.matmul, a, a)
    assert cf.lowered.chunks == 1
    stop = threading.Event()

    def bump() -> None:
        while not stop.is_set():
            interrupt._counter.value += 1
            time.sleep(0.0005)

    thread = threading.Thread(target=bump)
    thread.start()
    try:
        with pytest.raises(KeyboardInterrupt, match="SIGINT"):
            cf([a, a])
    finally:
        stop.set()
        thread.join()
    out = cf([a, a])[0]
    assert out.shape == (n, n) and (out == n).all()


KERNEL = """
import signal, sys, threading, time
import numpy as np
import engine as tf

@tf.function(jit_compile=True)
def product(a, b):
    return tf.matmul(a, b)  # int32: the compiled i-k-j loops, not BLAS; not tiled, no while_loop

N = 3072  # 2.9e10 multiply-adds: seconds to minutes, far longer than the half second before the SIGINT
big = tf.constant(np.ones((N, N), np.int32))
assert product.get_concrete_function(big, big).compiled.lowered.chunks == 1
"""

# The program's own SIGINT handler, installed before Kiln links code (linking puts Kiln's counting handler in front
# of the handler in place then), does not raise: only the kernel's poll turns the signal into KeyboardInterrupt.
KERNEL_MAIN = """
import signal
seen = []
signal.signal(signal.SIGINT, lambda *_: seen.append("handler"))
""" + KERNEL + """
for attempt in range(2):
    print("ready", flush=True)
    try:
        product(big, big)
        print("completed", flush=True)
    except KeyboardInterrupt as e:
        print("interrupted" if "SIGINT" in str(e) else f"other {e}", flush=True)
small = np.arange(12, dtype=np.int32).reshape(3, 4)
assert (product(tf.constant(small), tf.constant(small.T)).numpy() == small @ small.T).all()
print("alive", len(seen), flush=True)
"""

KERNEL_THREAD = KERNEL + """
seen = []
finished = threading.Event()
def worker():
    try:
        for _ in range(20):  # a kernel runs whenever the SIGINT comes, however late a loaded machine delivers it
            product(big, big)
    except KeyboardInterrupt:
        seen.append("worker")
    finally:
        finished.set()
t = threading.Thread(target=worker, daemon=True)
t.start()
print("ready", flush=True)
try:
    while not finished.is_set():
        time.sleep(0.05)
except KeyboardInterrupt:
    seen.append("main")
state = "stopped" if finished.wait(60) else "alive"
print(" ".join(sorted(seen)), state, flush=True)
"""


def _signal_each_ready(tmp_path: Path, text: str) -> list[str]:
    """Runs `text`, sending SIGINT half a second after each "ready" line; returns the other lines."""
    proc = subprocess.Popen([sys.executable, str(_script(tmp_path, text))], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    lines = []
    try:
        for line in proc.stdout:
            if line.strip() == "ready":
                time.sleep(0.5)
                proc.send_signal(signal.SIGINT)
            else:
                lines.append(line.strip())
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read()[-3000:]
    return lines


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the interrupt handler is installed on Linux")
def test_sigint_stops_a_long_straight_line_kernel(tmp_path: Path) -> None:
    """Twice in a row: the call raises KeyboardInterrupt inside the kernel (the program's own SIGINT handler does
    not raise, so a kernel that ran to its end would print "completed"), and the process and the function live on."""
    assert _signal_each_ready(tmp_path, KERNEL_MAIN) == ["interrupted", "interrupted", "alive 2"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the interrupt handler is installed on Linux")
def test_sigint_stops_a_long_straight_line_kernel_on_another_thread(tmp_path: Path) -> None:
    assert _signal_each_ready(tmp_path, KERNEL_THREAD) == ["main worker stopped"]

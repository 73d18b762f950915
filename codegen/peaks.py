"""The machine's measured peaks, the roof of the profiler's roofline (engine.profiler, the performance notebook).

`peaks()` measures, once per machine (cached as JSON next to the disk cache, keyed by the host CPU and its
features), the bandwidth of a streaming copy and the GFLOP/s of a dense loop of independent vector FMAs, both on one
core.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import time
from typing import NamedTuple, Optional

import llvmlite.ir as lir
import numpy as np

from codegen.values import I32, I64


class Peaks(NamedTuple):
    """One core's streaming-copy bandwidth (GB/s, bytes read + written) and vector-FMA throughput (GFLOP/s)."""
    gbytes_per_s: float
    gflops_per_s: float


_peaks: list[Peaks] = []


def peaks(path: Optional[str] = None) -> Peaks:
    """The machine's peaks: measured once, then read from `path` (default: peaks.json in the disk cache's
    directory, keyed by the host CPU and its features)."""
    if _peaks:
        return _peaks[0]
    from codegen import cache, llvm_setup
    llvm_setup.ensure_initialized()
    import llvmlite.binding as llvm
    host = f"{llvm.get_host_cpu_name()} {llvm.get_host_cpu_features().flatten()}"
    file = path or os.path.join(cache.directory(), "peaks.json")
    try:
        with open(file) as f:
            saved = json.load(f)
        if saved.get("host") == host:
            _peaks.append(Peaks(saved["gbytes_per_s"], saved["gflops_per_s"]))
            return _peaks[0]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    measured = Peaks(measure_bandwidth(), measure_flops())
    _peaks.append(measured)
    try:
        os.makedirs(os.path.dirname(file), mode=0o700, exist_ok=True)
        tmp = f"{file}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump({"host": host, **measured._asdict()}, f)
        os.replace(tmp, file)
    except OSError:
        pass
    return measured


def measure_bandwidth(mbytes: int = 64, repeats: int = 15) -> float:
    """GB/s of numpy's copy of an array much larger than the caches (bytes read plus bytes written), best of
    `repeats`."""
    src = np.ones(mbytes << 17, np.float64)
    dst = np.empty_like(src)
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return 2 * src.nbytes / best / 1e9


_CHAINS = 12  # independent accumulators: two FMA pipes of latency 4-6 stay full


def measure_flops(iterations: int = 500_000, repeats: int = 25) -> float:
    """GFLOP/s of a loop of independent vector FMAs on registers (the host's widest float vectors), best of
    `repeats`: what one core can compute when memory is no limit."""
    import llvmlite.binding as llvm

    from codegen import llvm_setup
    features = llvm.get_host_cpu_features()
    lanes = 16 if features.get("avx512f") else 8 if features.get("avx2") or features.get("avx") else 4
    vec = lir.VectorType(lir.FloatType(), lanes)
    module = lir.Module("kiln_peak")
    fn = lir.Function(module, lir.FunctionType(lir.FloatType(), [I64]), "kiln_peak_fma")
    fma = lir.Function(module, lir.FunctionType(vec, [vec, vec, vec]), f"llvm.fma.v{lanes}f32")
    b = lir.IRBuilder(fn.append_basic_block("entry"))
    pre = b.block
    loop, done = fn.append_basic_block("loop"), fn.append_basic_block("done")
    b.branch(loop)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(lir.Constant(I64, 0), pre)
    accs = []
    for c in range(_CHAINS):
        acc = b.phi(vec)
        acc.add_incoming(lir.Constant(vec, [1.0 + c * 1e-3] * lanes), pre)
        accs.append(acc)
    mul, add = lir.Constant(vec, [0.999999] * lanes), lir.Constant(vec, [1e-7] * lanes)
    nxt = [b.call(fma, [acc, mul, add]) for acc in accs]
    for acc, v in zip(accs, nxt):
        acc.add_incoming(v, loop)
    i_next = b.add(i, lir.Constant(I64, 1))
    i.add_incoming(i_next, loop)
    b.cbranch(b.icmp_signed("<", i_next, fn.args[0]), loop, done)
    b.position_at_end(done)
    total = nxt[0]
    for v in nxt[1:]:
        total = b.fadd(total, v)
    b.ret(b.extract_element(total, lir.Constant(I32, 0)))
    mod = llvm_setup.parse(str(module))
    llvm_setup.optimize(mod)
    jit = llvm.create_lljit_compiler(llvm_setup.new_host_target_machine())
    try:
        tracker = llvm.JITLibraryBuilder().add_ir(mod).export_symbol("kiln_peak_fma").link(jit, "kiln_peak")
        run = ctypes.CFUNCTYPE(ctypes.c_float, ctypes.c_int64)(tracker["kiln_peak_fma"])
        run(1000)
        best = math.inf
        for _ in range(repeats):
            t = time.perf_counter()
            run(iterations)
            best = min(best, time.perf_counter() - t)
        del run
        tracker.close()
    finally:
        jit.close()
    return 2 * lanes * _CHAINS * iterations / best / 1e9

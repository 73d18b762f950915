"""The generated GEMM's workers called directly (codegen.gemm_library's builds, no IR optimization passes) against
numpy in float64: every variant (float32/float64, each pair of transposes, AVX-512 and AVX2 widths where the host
runs them), with every way a caller drives them (A packed or read in place, B packed whole or only where it must
be, the work in one unit or cut into units of row blocks or panels), on shapes that hit each edge of the blocking:
m below and off the register tile's rows, n below one vector, between one vector and a panel, off the panel,
k of 1, off the transposed-pack block (lanes), and over several k blocks.
Tolerances: float32 within 1e-5 relative to sum |a||b|, float64 1e-13 (as tests/test_gemm.py).
"""
from __future__ import annotations

import ctypes
import itertools

import numpy as np
import pytest

from codegen import gemm_library
from codegen.rules import gemm_kernel
from codegen.rules.gemm_plan import host_vector_bytes, kc_limit, mr_for
from ir.types import float32, float64

RTOL = {np.float32: 1e-5, np.float64: 1e-13}
WIDTHS = (64, 32) if host_vector_bytes() == 64 else (32,)
TRANSPOSES = list(itertools.product((False, True), repeat=2))


def call_worker(name: str, a: np.ndarray, b: np.ndarray, m: int, n: int, k: int, grains: tuple[int, int],
                pack_all: bool, pack_a: bool) -> np.ndarray:
    """C = A' @ B' from worker `name`, run on this thread until it has claimed every unit."""
    c = np.full((m, n), np.nan, a.dtype)
    counter = np.zeros(1, np.int64)
    values = dict(a=a.ctypes.data, b=b.ctypes.data, c=c.ctypes.data, counter=counter.ctypes.data, m=m, n=n, k=k,
                  row_grain=grains[0], panel_grain=grains[1], pack_all=int(pack_all), pack_a=int(pack_a))
    args = np.array([values[x] for x in gemm_kernel.ARGS], np.int64)
    ctypes.CFUNCTYPE(None, ctypes.c_void_p)(gemm_library._address(name))(args.ctypes.data)
    return c


def check(dtype: type, ta: bool, tb: bool, width: int, m: int, k: int, n: int, grains: tuple[int, int],
          pack_all: bool, pack_a: bool, seed: int = 0) -> None:
    ir_dtype = float32 if dtype is np.float32 else float64
    name = gemm_kernel.worker_name(ir_dtype, ta, tb, width)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    got = call_worker(name, a, b, m, n, k, grains, pack_all, pack_a)
    a64, b64 = (a.T if ta else a).astype(np.float64), (b.T if tb else b).astype(np.float64)
    want, scale = a64 @ b64, np.abs(a64) @ np.abs(b64)
    bad = ~(np.abs(got - want) <= RTOL[dtype] * (scale + 1e-30))  # NaN (a C element never written) is bad too
    assert not bad.any(), f"{name} {m}x{k}x{n} grains={grains} pack_all={pack_all} pack_a={pack_a}: " \
                          f"{bad.sum()} elements off, first at {np.argwhere(bad)[0]}"


def edge_shapes(width: int, dtype: type) -> list[tuple[int, int, int]]:
    """(m, k, n) around every boundary of the blocking for this vector width and dtype."""
    lanes, mr = width // np.dtype(dtype).itemsize, mr_for(width)
    panel, kc = 2 * lanes, kc_limit(width)
    return [(1, 1, 1), (mr - 1, lanes + 3, lanes - 1), (mr + 1, 2 * lanes - 1, lanes + 1), (3 * mr, kc + 7, panel),
            (2 * mr + 5, 2 * kc + 1, 2 * panel + lanes), (37, 5, 3 * panel + 1)]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta,tb", TRANSPOSES, ids=lambda t: "T" if t else "N")
def test_every_variant_on_every_edge(width: int, dtype: type, ta: bool, tb: bool) -> None:
    for m, k, n in edge_shapes(width, dtype):
        for pack_all, pack_a in itertools.product((False, True), repeat=2):
            check(dtype, ta, tb, width, m, k, n, (1 << 20, 1 << 20), pack_all, pack_a)


@pytest.mark.parametrize("ta,tb", TRANSPOSES, ids=lambda t: "T" if t else "N")
@pytest.mark.parametrize("grains", [(1, 1), (2, 1 << 20), (1 << 20, 1), (3, 2)])
def test_units_of_work_cover_c_once(ta: bool, tb: bool, grains: tuple[int, int]) -> None:
    """However the grid is cut into units (as a thread team's are), every element of C is written once."""
    width = host_vector_bytes()
    check(np.float32, ta, tb, width, 4 * mr_for(width) + 3, 70, 5 * 2 * (width // 4) + 7, grains, tb, False, seed=3)


@pytest.mark.parametrize("m,k,n,ta,tb", [(32, 784, 128, False, False), (784, 32, 128, True, False),
                                         (32, 128, 784, False, True), (32, 128, 10, False, False),
                                         (32, 10, 128, False, True), (256, 10, 128, False, True)])
def test_training_step_products(m: int, k: int, n: int, ta: bool, tb: bool) -> None:
    """The shapes benchmarks/gemm.py times, as the planner drives them on one thread."""
    from codegen.rules.gemm import plan
    g = plan(float32, m, n, k, ta, tb)
    check(np.float32, ta, tb, host_vector_bytes(), m, k, n, g.grains(team=False), g.pack_b, g.pack_a(team=False))


def test_worker_ir_keeps_the_register_tile_in_phis() -> None:
    """No IR pass runs before codegen (codegen.gemm_library), so the worker must not leave its accumulators in
    stack slots for SROA: its one alloca is the B panel buffer."""
    import llvmlite.ir as lir
    module = lir.Module()
    gemm_kernel.define_worker(module, gemm_kernel.worker_name(float32, False, False, host_vector_bytes()))
    assert str(module).count(" alloca ") == 1


def test_a_worker_build_leaves_loop_strength_reduction_on_for_other_code() -> None:
    """gemm_library builds workers with LLVM's process-wide `-disable-lsr` set, and must reset it: code built
    afterwards is what it was before (the option does change this code, so the comparison can tell)."""
    import llvmlite.binding as llvm
    import llvmlite.ir as lir
    from codegen import llvm_setup
    module = lir.Module()
    gemm_kernel.define_worker(module, gemm_kernel.worker_name(float32, False, False, host_vector_bytes()))
    text = str(module)

    def asm() -> str:
        return llvm_setup.host_target_machine().emit_assembly(llvm_setup.parse(text))
    before = asm()
    gemm_library._codegen(llvm_setup.parse(text))
    assert asm() == before
    llvm.set_option("", "-disable-lsr")
    try:
        assert asm() != before
    finally:
        llvm.set_option("", "-disable-lsr=0")

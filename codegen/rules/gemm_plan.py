"""The generated GEMM's blocking, from the host's facts: vector width (AVX-512 or AVX2), L1 size, the register
tile (`mr` x `nr` vectors), the k block, and how a product's work is cut into units for a thread team. `Gemm` is one
product's plan (codegen.rules.gemm makes it; codegen.rules.gemm_kernel emits the worker that runs it).
"""
from __future__ import annotations

import functools
import glob
from dataclasses import dataclass
from typing import Optional

from ir.types import DType


@functools.cache
def host_vector_bytes() -> int:
    """64 where the host has AVX-512 (32 vector registers), else 32 (AVX2: 16 registers)."""
    import llvmlite.binding as llvm
    from codegen import llvm_setup
    llvm_setup.ensure_initialized()
    return 64 if llvm.get_host_cpu_features().get("avx512f") else 32


def _cache_bytes(wanted: str, default: int) -> int:
    """The data cache of cpu0 at level `wanted` (sysfs), `default` if unknown."""
    for index in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        try:
            with open(f"{index}/level") as f:
                level = f.read().strip()
            with open(f"{index}/type") as f:
                kind = f.read().strip()
            with open(f"{index}/size") as f:
                size = f.read().strip()
        except OSError:
            continue
        if level == wanted and kind in ("Data", "Unified") and size[:-1].isdigit():
            return int(size[:-1]) * {"K": 1024, "M": 1024 * 1024}.get(size[-1], 0) or default
    return default


@functools.cache
def l1_data_bytes() -> int:
    """The L1 data cache of cpu0, 32 KiB if unknown."""
    return _cache_bytes("1", 32 * 1024)


@functools.cache
def l2_bytes() -> int:
    """The L2 cache of cpu0 (per core on the CPUs we tune for), 512 KiB if unknown."""
    return _cache_bytes("2", 512 * 1024)


#: Panels per unit of work from which A is packed (the copy costs about what 1-2 panels' FMAs do).
PACK_A_MIN_PANELS = 8


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Gemm:
    """One product: shape, dtype, transposes, and whether B is packed whole; the blocking follows from the host."""
    dtype: DType
    m: int
    n: int
    k: int
    ta: bool
    tb: bool
    pack_b: bool

    nr = 2
    #: Row blocks per unit of work when the threads share rows; column panels per unit when they share panels.
    ROW_GRAIN, PANEL_GRAIN = 4, 2

    @property
    def lanes(self) -> int:
        return host_vector_bytes() // self.dtype.size

    @property
    def mr(self) -> int:
        return mr_for(host_vector_bytes())

    @property
    def panel(self) -> int:
        return self.nr * self.lanes

    @property
    def kc(self) -> int:
        """Rows of k per block (what the worker computes at run time from k)."""
        blocks = _cdiv(self.k, kc_limit())
        return _cdiv(self.k, blocks)

    @property
    def row_blocks(self) -> int:
        return self.m // self.mr

    @property
    def full_panels(self) -> int:
        return self.n // self.panel

    @property
    def row_chunk(self) -> int:
        """Row blocks per chunk of A (what the worker computes at run time from kc): see `a_chunk_bytes`."""
        return max(1, a_chunk_bytes() // (self.kc * self.mr * self.dtype.size))

    def pack_a(self, team: bool = True) -> bool:
        """Whether each chunk of A's rows is packed (gemm_kernel `pack_a`) before the panels pass over it: on the
        calling thread alone, where the panels are enough to repay the copy. One thread, CPU time, paired with
        OpenBLAS, against reading A in place: g @ W^T (n = 784, 25 panels) at batch 32, 256 and 1024 0.93-1.04 of
        the time over three runs (4% less on average); at n = 128 (4 panels) packing cost 5-14%; in a team's units
        of 4 row blocks it cost 25% (256x128x784)."""
        return not team and _cdiv(self.n, self.panel) >= PACK_A_MIN_PANELS

    def split_rows(self) -> bool:
        """A packed B's panels are shared (each is then packed once); a B read in place, the row blocks."""
        if self.pack_b and self.full_panels >= 2:
            return False
        return self.row_blocks >= 2 or self.full_panels < 2

    def grains(self, team: bool = True) -> tuple[int, int]:
        """(row blocks, panels) per unit of work; alone, one unit holds everything (nothing is packed twice)."""
        if not team:
            return max(1, _cdiv(self.m, self.mr)), max(1, _cdiv(self.n, self.panel))
        if self.split_rows():
            return self.ROW_GRAIN, _cdiv(self.n, self.panel)
        return _cdiv(self.m, self.mr), self.PANEL_GRAIN

    def units(self) -> int:
        """How many units of work the threads share."""
        rg, pg = self.grains()
        return max(1, _cdiv(_cdiv(self.m, self.mr), rg)) * max(1, _cdiv(_cdiv(self.n, self.panel), pg))


def mr_for(vector_bytes: int) -> int:
    """Rows of the register tile: mr * nr accumulators, nr vectors of B and one broadcast fit the registers (32
    with AVX-512: 8 x 2; 16 with AVX2: 6 x 2)."""
    return 8 if vector_bytes == 64 else 6


def kc_limit(vector_bytes: Optional[int] = None) -> int:
    """The longest k block: its B micro-panel (kc x nr vectors) takes at most half of L1."""
    return max(16, l1_data_bytes() // 2 // (Gemm.nr * (vector_bytes or host_vector_bytes())))


def a_chunk_bytes() -> int:
    """The most of A (rows x k block) that one chunk of rows takes: a quarter of L2, so it stays there while every
    panel of B passes over it and C streams past."""
    return l2_bytes() // 4

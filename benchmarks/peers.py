"""The peer libraries of benchmarks/run.py, when installed: numba, jax, tensorflow, torch.

A peer that cannot be imported is skipped silently. Each peer's version of a workload lives in that workload's
record (`Workload.peers`, keyed by the peer's `key`), written against the few helpers a `Peer` gives: `np` (its
numpy-like module), `put(*arrays)` (inputs as its own arrays, converted once, outside the timing) and `jit(fn)`
(its compiler, as its users call it). A workload a peer cannot run (no version, or an error while building) is
skipped for that peer with a short reason, which run.py prints as a footnote. Nothing here is timed or checked.

Asynchronous libraries (jax) block on the result inside the jitted callable, or only the dispatch would be timed.

For the compile-time workloads (first_call, cache_hit) a peer gives `source_import` (the line that binds `M` to its
numpy-like module in the generated source) and `wrap(python_function, cache)`, which returns the compiled callable.
"""
from __future__ import annotations

import importlib
import os
from typing import Any, Callable, Optional

import numpy as np

from harness import Built, describe_error


class Peer:
    """One installed peer library: `name` for the table, the helpers workload versions use, compile-time hooks."""

    key = ""
    label = ""
    #: The import that binds `M` in the generated 20-op function; None when the peer has no such workload.
    source_import: Optional[str] = None

    def __init__(self, module: Any) -> None:
        self.module = module
        self.np: Any = module  # the numpy-like module that workload versions call
        self.version = getattr(module, "__version__", "?")
        self.skipped: dict[str, str] = {}   # workload -> why this peer does not run it

    @property
    def name(self) -> str:
        return f"{self.label or self.key} {self.version}"

    def kernel(self, workload: Any, inputs: dict) -> Optional[Built]:
        """`(fn, args)` for this workload (a `harness.Workload`), or None (with the reason in `self.skipped`)."""
        factory = workload.peers.get(self.key)
        if factory is None:
            self.skipped.setdefault(workload.name, workload.skip.get(self.key, "not implemented for this peer"))
            return None
        try:
            return factory(self, inputs)
        except Exception as e:  # a peer's failure never stops the benchmark
            self.skipped[workload.name] = describe_error(e)
            return None

    def put(self, *arrays: Any) -> tuple:
        return arrays

    def jit(self, fn: Callable[..., Any], reduction: bool = False) -> Callable[..., Any]:
        """`fn` compiled as this peer's users compile it; `reduction`: fn is mostly reductions."""
        return fn

    def to_numpy(self, result: Any) -> np.ndarray:
        return np.asarray(result)

    def wrap(self, fn: Callable[..., Any], cache: bool = False) -> Callable[..., Any]:
        raise NotImplementedError

    def cache_env(self, directory: str) -> dict[str, str]:
        """Environment variables that point this peer's disk cache at `directory` (for cache_hit)."""
        return {}

    def cache_hits(self, wrapped: Any) -> Optional[int]:
        """How many disk-cache hits the wrapped function has had, when the peer tells."""
        return None


class NumbaPeer(Peer):
    """Plain `@njit` loops, one thread (no `parallel=True`), as a numba user writes them. Reductions get the
    `reassoc` and `contract` fast-math flags, the same ones Kiln allows itself inside reductions; elementwise loops
    get none."""

    key = "numba"
    label = "numba"
    source_import = "import numpy as M"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.np = np

    def jit(self, fn: Callable[..., Any], reduction: bool = False) -> Callable[..., Any]:
        return self.module.njit(fastmath={"reassoc", "contract"})(fn) if reduction else self.module.njit(fn)

    def wrap(self, fn: Callable[..., Any], cache: bool = False) -> Callable[..., Any]:
        return self.module.njit(cache=cache)(fn)

    def cache_env(self, directory: str) -> dict[str, str]:
        return {"NUMBA_CACHE_DIR": directory}

    def cache_hits(self, wrapped: Any) -> Optional[int]:
        stats = getattr(wrapped, "stats", None)
        return None if stats is None else int(sum(stats.cache_hits.values()))


class JaxPeer(Peer):
    """`jax.jit` on the CPU backend, float32; every call waits for its result (`block_until_ready`)."""

    key = "jax"
    label = "jax"
    source_import = "import jax.numpy as M"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.np = importlib.import_module("jax.numpy")
        self.lax = importlib.import_module("jax.lax")

    def put(self, *arrays: Any) -> tuple:
        return tuple(self.np.asarray(a) for a in arrays)

    def jit(self, fn: Callable[..., Any], reduction: bool = False) -> Callable[..., Any]:
        jitted, block = self.module.jit(fn), self.module.block_until_ready
        return lambda *args: block(jitted(*args))  # (a tuple of results too)

    def wrap(self, fn: Callable[..., Any], cache: bool = False) -> Callable[..., Any]:
        return self.jit(fn)


class TensorFlowPeer(Peer):
    """`tf.function(jit_compile=True)` (XLA) on the CPU; the same TF2 source that Kiln runs."""

    key = "tensorflow"
    label = "tensorflow"
    source_import = "import tensorflow as M"

    def put(self, *arrays: Any) -> tuple:
        return tuple(self.module.constant(a) for a in arrays)

    def jit(self, fn: Callable[..., Any], reduction: bool = False) -> Callable[..., Any]:
        return self.module.function(fn, jit_compile=True)

    def to_numpy(self, result: Any) -> np.ndarray:
        return np.asarray(result.numpy())

    def wrap(self, fn: Callable[..., Any], cache: bool = False) -> Callable[..., Any]:
        return self.jit(fn)


class TorchPeer(Peer):
    """Eager torch on the CPU (torch.compile needs a C compiler and minutes; it is left out): `jit` is identity."""

    key = "torch"
    label = "torch eager"

    def put(self, *arrays: Any) -> tuple:
        return tuple(self.module.from_numpy(a) if isinstance(a, np.ndarray) else float(a) for a in arrays)

    def to_numpy(self, result: Any) -> np.ndarray:
        return result.numpy()


PEERS: dict[str, type[Peer]] = {"numba": NumbaPeer, "jax": JaxPeer, "tensorflow": TensorFlowPeer, "torch": TorchPeer}


def load_peers(wanted: Optional[set[str]] = None) -> list[Peer]:
    """The installed peers among `wanted` (all of them when None), in a fixed order; missing ones are skipped."""
    found = []
    for key, cls in PEERS.items():
        if wanted is not None and key not in wanted:
            continue
        if key == "tensorflow":
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            module = importlib.import_module(key)
        except Exception:  # not installed, or broken: skip it
            continue
        if key == "jax":
            try:
                module.config.update("jax_platforms", "cpu")
            except Exception:  # backends already initialized: keep what jax chose
                pass
        found.append(cls(module))
    return found

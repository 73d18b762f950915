"""`keras.initializers`: the initial values of weights, computed as numpy arrays (never traced ops), so that a
layer built while a function is being traced creates its Variables from concrete values.

Random initializers draw from numpy's PCG64 generator: seeded per initializer when `seed=` is given, else from the
Keras seed stream (`keras.utils.set_random_seed`). The distributions and their scales are Keras 3's; the random bits
are Kiln's own (no framework's bits match another's).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from ir.types import as_dtype

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
           "LecunUniform", "Identity", "Orthogonal", "get", "serialize"]

_seed_state = {"rng": np.random.default_rng()}


def set_seed(seed: Optional[int]) -> None:
    """Restart the stream unseeded initializers draw from (what `keras.utils.set_random_seed` calls)."""
    _seed_state["rng"] = np.random.default_rng(seed)


def _rng(seed: Optional[int]) -> np.random.Generator:
    return np.random.default_rng(seed) if seed is not None else _seed_state["rng"]


def _fans(shape: Sequence[int]) -> tuple[float, float]:
    """Keras's fan-in and fan-out: dense kernels (in, out); conv kernels (*window, in, out)."""
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: `initializer(shape, dtype)` returns the initial array."""

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)


class Zeros(Initializer):
    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return np.zeros(tuple(shape), as_dtype(dtype).np)


class Ones(Initializer):
    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return np.ones(tuple(shape), as_dtype(dtype).np)


class Constant(Initializer):
    def __init__(self, value: Any = 0.0) -> None:
        self.value = value

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return np.broadcast_to(np.asarray(self.value, as_dtype(dtype).np), tuple(shape)).copy()

    def get_config(self) -> dict:
        return {"value": np.asarray(self.value).tolist()}


class _Random(Initializer):
    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed

    def get_config(self) -> dict:
        return {"seed": self.seed}


class RandomNormal(_Random):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Optional[int] = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return _rng(self.seed).normal(self.mean, self.stddev, tuple(shape)).astype(as_dtype(dtype).np)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Random):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Optional[int] = None) -> None:
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return _rng(self.seed).uniform(self.minval, self.maxval, tuple(shape)).astype(as_dtype(dtype).np)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated(rng: np.random.Generator, mean: float, stddev: float, shape: tuple[int, ...]) -> np.ndarray:
    """Normal values redrawn until within two standard deviations, as Keras's truncated normal."""
    out = rng.normal(0.0, 1.0, shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, int(bad.sum()))
        bad = np.abs(out) > 2.0
    return mean + stddev * out


class TruncatedNormal(RandomNormal):
    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return _truncated(_rng(self.seed), self.mean, self.stddev, tuple(shape)).astype(as_dtype(dtype).np)


class VarianceScaling(_Random):
    """Keras's VarianceScaling: scale / fan (fan_in, fan_out or their mean), as a truncated normal (with the
    0.8796 correction of a +-2 sigma truncation), an untruncated normal, or a uniform distribution."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: Optional[int] = None) -> None:
        super().__init__(seed)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r} (expected fan_in, fan_out or fan_avg)")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, fan)
        rng, shape = _rng(self.seed), tuple(shape)
        if self.distribution in ("truncated_normal", "normal"):
            out = _truncated(rng, 0.0, math.sqrt(variance) / 0.87962566103423978, shape)
        elif self.distribution == "untruncated_normal":
            out = rng.normal(0.0, math.sqrt(variance), shape)
        else:
            limit = math.sqrt(3.0 * variance)
            out = rng.uniform(-limit, limit, shape)
        return out.astype(as_dtype(dtype).np)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _scaling(name: str, scale: float, mode: str, distribution: str) -> type:
    def __init__(self: VarianceScaling, seed: Optional[int] = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self: VarianceScaling) -> dict:
        return {"seed": self.seed}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                            "__doc__": f"VarianceScaling({scale}, {mode!r}, {distribution!r})."})


GlorotUniform = _scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeNormal = _scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
HeUniform = _scaling("HeUniform", 2.0, "fan_in", "uniform")
LecunNormal = _scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")
LecunUniform = _scaling("LecunUniform", 1.0, "fan_in", "uniform")


class Identity(Initializer):
    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {tuple(shape)}")
        return (self.gain * np.eye(*shape)).astype(as_dtype(dtype).np)

    def get_config(self) -> dict:
        return {"gain": self.gain}


class Orthogonal(_Random):
    def __init__(self, gain: float = 1.0, seed: Optional[int] = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        cols = int(shape[-1])
        a = _rng(self.seed).normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        q = q.T if rows < cols else q
        return (self.gain * q[:rows, :cols]).reshape(tuple(shape)).astype(as_dtype(dtype).np)

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


_BY_NAME: dict[str, type] = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_normal": HeNormal,
    "he_uniform": HeUniform, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "identity": Identity,
    "orthogonal": Orthogonal}
_BY_CLASS = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier: Any) -> Initializer:
    """A name ('glorot_uniform' or 'GlorotUniform'), a config dict, an Initializer or a callable."""
    if identifier is None:
        raise ValueError("an initializer is required, got None")
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_CLASS.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier!r} "
                             f"(known: {', '.join(sorted(_BY_NAME))})")
        return cls()
    if isinstance(identifier, dict):
        cls = _BY_CLASS.get(identifier.get("class_name", ""))
        if cls is None:
            raise ValueError(f"Could not interpret initializer config: {identifier!r}")
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def serialize(init: Any) -> dict:
    if not isinstance(init, Initializer):
        raise ValueError(f"initializer {init!r} is not a keras.initializers.Initializer: it cannot be saved")
    return {"class_name": type(init).__name__, "config": init.get_config()}

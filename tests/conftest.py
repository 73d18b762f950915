"""Shared test configuration: hypothesis profiles, chosen by the environment, and fixtures several modules use.

- "ci" (when CI=true): few, derandomized examples, so CI on two cores stays fast and reproducible.
- "dev" (otherwise): more examples, randomized, to find new counterexamples locally.
Set HYPOTHESIS_PROFILE to pick one explicitly.
"""
from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

# Tests import `engine` and `ir` from the repository root, whatever the working directory.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# One build per compile: tests that pin when native code and disk-cache entries appear and are freed would race with
# tiered compilation's background O3 builds. tests/test_tiered_compile.py turns tiering on for its own tests.
os.environ.setdefault("KILN_TIERED", "0")

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])

_default = "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


@pytest.fixture
def no_disk_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """KILN_CACHE=0: for tests that patch how code is made for the same IR, which the disk cache would not see."""
    monkeypatch.setenv("KILN_CACHE", "0")


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reductions over rows split across two threads from any size, in chunks of a few hundred elements
    (codegen.partial, codegen.chunks); a test may set KILN_NUM_THREADS again after it."""
    from codegen import chunks, partial
    monkeypatch.setattr(partial, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(chunks, "TARGET_ELEMENTS", 256)
    monkeypatch.setenv("KILN_NUM_THREADS", "2")

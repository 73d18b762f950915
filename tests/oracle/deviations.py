"""Where Kiln deliberately differs from TensorFlow: one entry per recorded program whose answer differs.

Each entry pins Kiln's documented behaviour (the observation Kiln must give) and names the row of
`docs/tf-compat.md` that explains it. The replay test checks both that Kiln gives exactly this and that it still
differs from TensorFlow, so an entry that is no longer needed is noticed and removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Deviation:
    doc: str        # the heading of its row in docs/tf-compat.md
    kiln: Any       # the observation Kiln gives (observe.observe's JSON form)


DEVIATIONS: dict[str, Deviation] = {
}

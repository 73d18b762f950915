"""Keras 3's progress bar: `1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 1ms/step - accuracy: 0.8766 - loss: 0.4287`.

On a terminal the line is redrawn in place (at most every `interval` seconds, and at the end); when the output is
not a terminal only the finished line is printed (verbose=1), as Keras does. verbose=2 prints one plain line per
epoch: `1875/1875 - 3s - 1ms/step - accuracy: 0.8766 - loss: 0.4287`.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, Optional, TextIO

__all__ = ["Progbar"]


def _per_unit(seconds: float, unit: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _eta(seconds: float) -> str:
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def _format_value(v: float) -> str:
    return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.4e}"


class Progbar:
    def __init__(self, target: Optional[int], width: int = 20, verbose: int = 1, interval: float = 0.05,
                 unit_name: str = "step", stream: Optional[TextIO] = None) -> None:
        self.target, self.width, self.verbose, self.interval, self.unit_name = target, width, verbose, interval, \
            unit_name
        self.stream = stream or sys.stdout
        self.dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.last_update = 0.0
        self.prev_width = 0
        self.after_first: Optional[float] = None

    def _step_time(self, current: int, now: float) -> float:
        """Seconds per step, leaving out the first step (compilation) once there are others, as Keras does."""
        if not current:
            return 0.0
        if self.after_first is not None and current > 1:
            return (now - self.after_first) / (current - 1)
        return (now - self.start) / current

    def update(self, current: int, values: Callable[[], dict[str, float]] | dict[str, float],
               finalize: Optional[bool] = None) -> None:
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.perf_counter()
        if current == 1 and self.after_first is None:
            self.after_first = now
        if self.verbose == 1 and not finalize and (not self.dynamic or now - self.last_update < self.interval):
            return
        if self.verbose == 2 and not finalize:
            return
        self.last_update = now
        logs = values() if callable(values) else values
        elapsed = now - self.start
        per_step = self._step_time(current, now)
        metrics = "".join(f" - {k}: {_format_value(v)}" for k, v in logs.items())
        total = str(self.target) if self.target is not None else "Unknown"
        digits = len(total)
        if self.verbose == 2:
            self.stream.write(f"{current:>{digits}}/{total} - {elapsed:.0f}s - "
                              f"{_per_unit(per_step, self.unit_name)}{metrics}\n")
            self.stream.flush()
            return
        if self.target is not None:
            filled = int(self.width * min(current / self.target, 1.0))
            rest = "━" * (self.width - filled)
            bar = f"{current:>{digits}}/{total} " + "━" * filled + (f"\x1b[37m{rest}\x1b[0m" if self.dynamic else rest)
        else:
            bar = f"{current:>7}/Unknown"
        if finalize or self.target is None:
            timing = f" {elapsed:.0f}s {_per_unit(per_step, self.unit_name)}"
        else:
            timing = f" {_eta(per_step * (self.target - current))} {_per_unit(per_step, self.unit_name)}"
        line = bar + timing + metrics
        if self.dynamic:
            pad = max(self.prev_width - len(line), 0)
            self.stream.write("\r" + line + " " * pad + ("\n" if finalize else ""))
            self.prev_width = len(line)
        elif finalize:
            self.stream.write(line + "\n")
        self.stream.flush()

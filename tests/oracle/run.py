"""Running one oracle program under a framework, and the catalogue of all hand-written programs."""
from __future__ import annotations

import importlib
import linecache
import pkgutil
import sys
import types
from typing import Any

import numpy as np

from tests.oracle import programs as _programs_pkg
from tests.oracle.observe import observe, observe_error
from tests.oracle.program import Program, check_unique


class _SourceLoader:
    def __init__(self, source: str) -> None:
        self.source = source

    def get_source(self, name: str) -> str:
        return self.source


def run_program(tf: Any, program: Program) -> Any:
    """Execute the program's source with `tf` as the framework; its observation (or the exception's)."""
    filename = f"/oracle/{program.name}.py"
    # AutoGraph (TensorFlow's and Kiln's) reads a function's source: register it as a file's lines.
    linecache.cache[filename] = (len(program.source), None, program.source.splitlines(True), filename)
    # The namespace is a registered module's: TF's AutoGraph finds a lambda's source through inspect.getmodule, and
    # runs a function it cannot convert unconverted (a Python `if` on a tensor then raises).
    # TF's AutoGraph also refreshes linecache from the module's `__loader__` when a module's `__file__` is the
    # function's file: the loader hands back the program's source.
    module = types.ModuleType(f"oracle_{program.name}")
    module.__file__ = filename
    module.__loader__ = _SourceLoader(program.source)
    namespace: dict[str, Any] = module.__dict__
    namespace.update({"tf": tf, "np": np})
    sys.modules[module.__name__] = module
    try:
        code = compile(program.source, filename, "exec")
        exec(code, namespace)
        return observe(tf, namespace.get("result"))
    except Exception as exc:  # noqa: BLE001 - which exception a program raises is what is observed
        return observe_error(exc)
    finally:
        del sys.modules[module.__name__]


def modules() -> list[str]:
    """The modules of `tests/oracle/programs`, each one golden file."""
    return sorted(m.name for m in pkgutil.iter_modules(_programs_pkg.__path__) if not m.name.startswith("_"))


def load(module: str) -> list[Program]:
    progs = list(importlib.import_module(f"tests.oracle.programs.{module}").PROGRAMS)
    check_unique(progs)
    return progs

"""Which functions AutoGraph leaves alone: library code (the standard library, installed packages, numpy, Kiln
itself). Its own module, so that `engine.function` can tell without importing the converter (20 ms, which a `fit`
step, library code throughout, never needs)."""
from __future__ import annotations

import os
import sysconfig
from typing import Any

LIBRARY_PREFIXES = ("engine", "ir", "autodiff", "codegen", "numpy", "llvmlite")
_KILN_DIRS = tuple(os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", d)) + os.sep
                   for d in ("engine", "ir", "autodiff", "codegen"))
_LIBRARY_DIRS = tuple({os.path.realpath(p) + os.sep for key in ("stdlib", "platstdlib", "purelib", "platlib")
                       if (p := sysconfig.get_paths().get(key))})


def is_library(fn: Any) -> bool:
    """Whether `fn` is library code, which is traced as it is."""
    module = getattr(fn, "__module__", None) or ""
    if module.split(".")[0] in LIBRARY_PREFIXES or module in ("builtins", "__builtin__"):
        return True
    code = getattr(fn, "__code__", None)
    if code is None:
        return True
    # By where the code lives, not by __module__ (functools.wraps copies the wrapped function's module).
    filename = os.path.realpath(code.co_filename)
    return filename.startswith(_LIBRARY_DIRS) or filename.startswith(_KILN_DIRS)

"""The `>>>` examples in the docstrings of ir, codegen, autodiff and engine run as tests, one test per docstring.

Every module of the four packages is imported and searched with `doctest`. An example runs in its module's
namespace, as `doctest.testmod` runs it, except that names a module binds over Python builtins (`engine`'s `print`,
`range`, `abs`, `bool`, ... are TensorFlow's) are taken out, so `print(...)` in an example is Python's, as in the
user's session the example shows. Output must match exactly (`...` may stand for any text).
"""
from __future__ import annotations

import builtins
import doctest
import importlib
import io
import pkgutil
from types import ModuleType

import pytest

PACKAGES = ("ir", "codegen", "autodiff", "engine")

# Docstring examples that show the right (TensorFlow's) answer while the code gives another: strict xfail, so the
# entry must go once the code is fixed.
KNOWN_FAILURES: dict[str, str] = {
}


def modules() -> list[ModuleType]:
    found = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        found.append(package)
        found += [importlib.import_module(info.name) for info in pkgutil.walk_packages(package.__path__, name + ".")]
    return found


def collect() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = []
    for module in modules():
        globs = {k: v for k, v in vars(module).items() if not (hasattr(builtins, k) and not k.startswith("__"))}
        tests += [t for t in finder.find(module, module.__name__, globs=globs) if t.examples]
    return sorted(tests, key=lambda t: t.name)


TESTS = collect()


def test_the_examples_are_found():
    # Pinned from below so that a collector that silently finds nothing fails.
    names = {t.name for t in TESTS}
    assert {"engine", "engine.ops.constant_op.constant", "ir.parser.parse", "ir.printer.print_function"} <= names
    assert sum(len(t.examples) for t in TESTS) >= 80


@pytest.mark.parametrize("test", [
    pytest.param(t, id=t.name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[t.name])]
                 if t.name in KNOWN_FAILURES else []) for t in TESTS])
def test_docstring_examples(test):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = io.StringIO()
    result = runner.run(test, out=out.write, clear_globs=True)
    assert result.failed == 0, out.getvalue()


def test_known_failures_are_docstrings_that_exist():
    assert set(KNOWN_FAILURES) <= {t.name for t in TESTS}

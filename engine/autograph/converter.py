"""Converting one function: source -> AST -> flag lowering -> control-flow transform -> code, cached per code object.

The converted function keeps the user's file name and line numbers (errors and tracebacks point at the user's
code), the original globals and closure cells (later rebinding of a closed-over name is seen), defaults and name.
`ag__` reaches it as one more closure cell. Functions that cannot be converted (no source, generators, zero-argument
`super()`) run unconverted with a warning; library code (the standard library, installed packages, numpy, Kiln
itself) is never converted.
"""
from __future__ import annotations

import ast
import functools
import inspect
import linecache
import re
import textwrap
import types
import warnings
from typing import Any, Callable, Optional

from engine.autograph import operators
from engine.autograph.library import is_library as _is_library
from engine.autograph.lowering import lower
from engine.autograph.transformer import transform

_cache: dict[Any, Optional[types.CodeType]] = {}   # code object -> converted code (None: not convertible)
_source_cache: dict[Any, str] = {}
class ConversionError(ValueError):
    """A function's source could not be converted."""


def _lambda_trees(source: str) -> list[ast.AST]:
    """Parse trees holding the lambdas of `source`: the lines of a lambda's code object, which need not be a
    statement (`"k": lambda x: f(x),` in a dict display, or the middle of a call spread over lines). Each lambda is
    parsed, in brackets, from its keyword to the longest end that parses; line numbers stay those of `source`."""
    try:
        return [ast.parse(source)]
    except SyntaxError:
        pass
    trees = []
    for start in (m.start() for m in re.finditer(r"\blambda\b", source)):
        for end in range(len(source), start, -1):
            try:
                tree = ast.parse("(" + source[start:end] + "\n)", mode="eval")  # in brackets, lines may break
            except SyntaxError:
                continue
            ast.increment_lineno(tree, source.count("\n", 0, start))
            trees.append(tree)
            break
    return trees


def _lambda_source(code: types.CodeType) -> str:
    """The lines a lambda spans, from its code object's instruction positions (inspect.getsource stops at the first
    line of a lambda whose body continues on the next)."""
    lines = linecache.getlines(code.co_filename)
    last = max((p[1] for p in code.co_positions() if p[1] is not None), default=code.co_firstlineno)
    if not lines or last > len(lines):
        return inspect.getsource(code)
    return "".join(lines[code.co_firstlineno - 1:last])


def _function_node(fn: types.FunctionType) -> ast.FunctionDef:
    code = fn.__code__
    # The code object's own lines: `inspect.getsource(fn)` would follow `__wrapped__` to another function.
    source = textwrap.dedent(_lambda_source(code) if fn.__name__ == "<lambda>" else inspect.getsource(code))
    if fn.__name__ == "<lambda>":
        params = list(code.co_varnames[:code.co_argcount])
        found: dict[tuple[int, str], ast.Lambda] = {}
        for tree in _lambda_trees(source):
            for n in ast.walk(tree):
                if isinstance(n, ast.Lambda) and [a.arg for a in n.args.args] == params:
                    found.setdefault((n.lineno, ast.unparse(n)), n)
        if len(found) != 1:
            raise ConversionError("several lambdas with these parameters on one line; cannot tell which one to "
                                  "convert" if found else "no lambda found in the source")
        lam = next(iter(found.values()))
        ast.increment_lineno(lam, code.co_firstlineno - 1)
        node = ast.FunctionDef(name="ag__lambda", args=lam.args, body=[ast.Return(value=lam.body)],
                               decorator_list=[], returns=None)
        ast.copy_location(node, lam)
        ast.copy_location(node.body[0], lam.body)
    else:
        tree = ast.parse(source)
        defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if not defs:
            raise ConversionError("no function definition in the source")
        node = defs[0]
        if isinstance(node, ast.AsyncFunctionDef):
            raise ConversionError("async functions are not converted")
        node.decorator_list = []
        ast.increment_lineno(tree, code.co_firstlineno - 1)
    return node  # type: ignore[return-value]


# The converted function's name inside its factory. Not the user's: a recursive function refers to itself by its
# name, which must still find the user's global (or closure cell), not the factory's local. The code object then
# takes the user's name back, for tracebacks.
_CONVERTED = "ag__converted"


def _converted_tree(fn: types.FunctionType) -> tuple[ast.Module, str]:
    """The module that defines the factory of the converted function, and the converted source (for to_code)."""
    node = transform(lower(_function_node(fn)))
    source = ast.unparse(node)
    node.name = _CONVERTED
    freevars = [n for n in fn.__code__.co_freevars]
    factory = ast.FunctionDef(
        name="ag__factory",
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in ["ag__"] + freevars], vararg=None,
                           kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[node, ast.Return(value=ast.Name(id=node.name, ctx=ast.Load()))], decorator_list=[], returns=None)
    ast.copy_location(factory, node)
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    return module, source


def _inner_code(module_code: types.CodeType, name: str) -> types.CodeType:
    factory = next(c for c in module_code.co_consts if isinstance(c, types.CodeType) and c.co_name == "ag__factory")
    return next(c for c in factory.co_consts if isinstance(c, types.CodeType) and c.co_name == name)


def _convert_code(fn: types.FunctionType) -> types.CodeType:
    code = fn.__code__
    if code in _cache:
        cached = _cache[code]
        if cached is None:
            raise ConversionError("not convertible (see the earlier warning)")
        return cached
    try:
        if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR | inspect.CO_COROUTINE):
            raise ConversionError("generators and coroutines are run unconverted")
        if "super" in code.co_names and "__class__" in code.co_freevars:
            raise ConversionError("zero-argument super() needs the class cell; run unconverted")
        module, source = _converted_tree(fn)
        compiled = compile(module, code.co_filename, "exec")
        inner = _inner_code(compiled, _CONVERTED).replace(co_name=code.co_name, co_qualname=code.co_qualname)
        _source_cache[code] = source
        from ir.dump import dump
        dump("ast", fn.__qualname__, _source_cache[code])
    except (OSError, TypeError, SyntaxError, ConversionError, IndexError, StopIteration) as e:
        _cache[code] = None
        raise ConversionError(str(e) or type(e).__name__) from None
    _cache[code] = inner
    return inner


def convert(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` converted, or `fn` itself with a warning when its source cannot be converted."""
    if getattr(fn, "__kiln_do_not_convert__", False) or _is_library(fn):
        return fn
    if isinstance(fn, types.MethodType):
        inner = convert(fn.__func__)
        return inner if inner is fn.__func__ else types.MethodType(inner, fn.__self__)
    if isinstance(fn, functools.partial):
        return functools.partial(convert(fn.func), *fn.args, **fn.keywords)
    if not isinstance(fn, types.FunctionType):
        return fn
    try:
        code = _convert_code(fn)
    except ConversionError as e:
        if fn.__code__ not in _warned:
            _warned.add(fn.__code__)
            warnings.warn(f"AutoGraph could not convert {fn.__qualname__} ({e}); it runs unconverted, so Python "
                          f"control flow on tensors in it will fail while tracing", RuntimeWarning, stacklevel=3)
        return fn
    cells = []
    original = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    for var in code.co_freevars:
        cells.append(types.CellType(operators) if var == "ag__" else original[var])
    new = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, tuple(cells))
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__dict__.update(fn.__dict__)
    new.__wrapped__ = fn  # type: ignore[attr-defined]
    new.__kiln_converted__ = True  # type: ignore[attr-defined]
    return new


_warned: set[Any] = set()


def convert_for_call(f: Any) -> Any:
    """What `ag__.converted_call` calls: converted user functions (and the `__call__` of a callable user object,
    as TensorFlow converts it), everything else as it is."""
    if getattr(f, "__kiln_converted__", False):
        return f
    if isinstance(f, (types.FunctionType, types.MethodType, functools.partial)):
        return convert(f)
    call = getattr(type(f), "__call__", None)
    if isinstance(call, types.FunctionType) and not isinstance(f, type) and not _is_library(call):
        converted = convert(call)
        return f if converted is call else types.MethodType(converted, f)
    return f


def to_code(fn: Callable[..., Any]) -> str:
    """The generated source of `fn` (the function as AutoGraph rewrites it)."""
    target = getattr(fn, "python_function", fn)
    if isinstance(target, types.MethodType):
        target = target.__func__
    if not isinstance(target, types.FunctionType):
        raise TypeError(f"to_code needs a Python function, got {type(fn).__name__}")
    _convert_code(target)
    return _source_cache[target.__code__]


operators.install_converter(convert_for_call)

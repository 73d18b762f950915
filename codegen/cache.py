"""The disk cache of compiled object code (DESIGN §8).

An entry is keyed by a SHA-256 of: the IR text (with source locations, which error messages quote), the compile
options, the host CPU name and feature string, the llvmlite, LLVM and numpy versions (the native entry reads numpy's
structs), and a fingerprint of Kiln's own `ir` and `codegen` sources (so any change to the compiler invalidates old
entries). It holds the object code and the metadata needed to call it (parameter and result types, workspace size,
error table, print/assert table) as JSON.

Entries are written atomically (a temporary file, then `os.replace`) and end with a SHA-256 of their content, so a
truncated, corrupt or foreign file is detected, ignored and rebuilt. Object code is code this process will run, so
only regular files owned by this user, in directories owned by this user and closed to others (0700), are read, and
what they hold must be an object file of the host's format whose structure `codegen.objcheck` validated (every
offset, index and relocation the linker follows), and an entry that still fails to decode or link is rebuilt. `KILN_CACHE_DIR` chooses the directory (default:
`$XDG_CACHE_HOME/kiln` or `~/.cache/kiln`); `KILN_CACHE=0` turns the cache off.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import llvmlite
import llvmlite.binding as llvm
import numpy as np

from codegen import module_split, objcheck
from ir.types import RefType, TensorType, as_dtype, bfloat16

MAGIC = b"KILNOBJ1"
_OBJECT_MAGIC = b"\xcf\xfa\xed\xfe" if sys.platform == "darwin" else b"\x7fELF"  # what LLVM emits for the host


def enabled() -> bool:
    return os.environ.get("KILN_CACHE", "1") not in ("0", "false", "no", "off")


def directory() -> Path:
    explicit = os.environ.get("KILN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kiln"


@functools.cache
def _fingerprint() -> str:
    """Identifies the compiler's own sources (path, size and modification time of every file of `ir` and
    `codegen`, as Python's bytecode cache does): entries made by another version of Kiln never match."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for package in ("ir", "codegen"):
        for path in sorted((root / package).rglob("*.py")):
            st = path.stat()
            h.update(f"{path.relative_to(root).as_posix()}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def key(ir_text: str, options: dict[str, Any]) -> str:
    from codegen import llvm_setup
    llvm_setup.ensure_initialized()
    h = hashlib.sha256()
    for part in (ir_text, json.dumps(options, sort_keys=True), llvm.get_host_cpu_name(),
                 llvm.get_host_cpu_features().flatten(), llvmlite.__version__, np.__version__,
                 ".".join(map(str, llvm.llvm_version_info)), _fingerprint(),
                 # bfloat16's type number (the entry compares it) is numpy's for this process: only code that takes
                 # bfloat16 depends on it, and only such code loads its module (ir.types imports it on first use).
                 str(bfloat16.np.num) if bfloat16.short in ir_text else ""):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


# ---- metadata <-> JSON ----------------------------------------------------------------------------------------------
def _type_json(t: TensorType) -> list:
    return ["ref" if isinstance(t, RefType) else "tensor", t.dtype.name, list(t.shape)]


def _type_from(j: list) -> TensorType:
    cls = RefType if j[0] == "ref" else TensorType
    return cls(as_dtype(j[1]), j[2])


def encode_meta(lowered: Any) -> dict[str, Any]:
    prints = []
    for entry in lowered.prints:
        *head, types = entry
        prints.append([list(head), [_type_json(t) for t in types]])
    return {"params": [_type_json(t) for t in lowered.params], "results": [_type_json(t) for t in lowered.results],
            "assigned": list(lowered.assigned), "workspace_size": lowered.workspace_size,
            "errors": [[e.kind.__name__, e.message] for e in lowered.errors], "prints": prints,
            "chunks": lowered.chunks, "result_dims": lowered.result_dims,
            "row_tiles": list(lowered.row_tiles) if lowered.row_tiles is not None else None}


def decode_meta(meta: dict[str, Any]) -> Any:
    from codegen.context import ErrorInfo
    from codegen.lower import Lowered
    from ir.ops_state import IndexOutOfRangeError, IntegerDivisionByZeroError, InvalidArgumentError
    kinds = {"IndexError": IndexError, "ZeroDivisionError": ZeroDivisionError, "ValueError": ValueError,
             "InvalidArgumentError": InvalidArgumentError, "TypeError": TypeError,
             "IntegerDivisionByZeroError": IntegerDivisionByZeroError, "IndexOutOfRangeError": IndexOutOfRangeError,
             "KeyboardInterrupt": KeyboardInterrupt, "MemoryError": MemoryError}
    errors = [ErrorInfo(kinds[k], m) for k, m in meta["errors"]]
    prints = [tuple(head) + ([_type_from(t) for t in types],) for head, types in meta["prints"]]
    lowered = Lowered(None, [_type_from(t) for t in meta["params"]], [_type_from(t) for t in meta["results"]],
                      meta["assigned"], meta["workspace_size"], errors, prints)
    lowered.chunks = meta["chunks"]
    if meta.get("row_tiles"):
        from codegen.chunks import RunTimeRows
        param, slots, rows, work = meta["row_tiles"]
        lowered.row_tiles = RunTimeRows(param, tuple(slots), rows, work)
    lowered.result_dims = [None if d is None else tuple(x if isinstance(x, int) else tuple(x) for x in d)
                           for d in meta.get("result_dims", [None] * len(lowered.results))]
    return lowered


# ---- files ----------------------------------------------------------------------------------------------------------
def _path(k: str) -> Path:
    return directory() / k[:2] / f"{k}.kobj"


def load(k: str) -> Optional[tuple[dict[str, Any], bytes]]:
    """(metadata, object code) for key `k`, or None when absent, truncated, corrupt or foreign, or when the entry
    or its directory is not ours alone: only a regular file (no symlink, FIFO or device) in a private directory."""
    if _private_dir(_path(k).parent, create=False) is None:
        return None
    try:
        fd = os.open(_path(k), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            _refuse(_path(k), "is not a regular file owned by this user")
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) < len(MAGIC) + 8 + 32 or not data.startswith(MAGIC):
        return None
    body, digest = data[:-32], data[-32:]
    if hashlib.sha256(body).digest() != digest:
        return None
    n = int.from_bytes(body[len(MAGIC):len(MAGIC) + 8], "little")
    start = len(MAGIC) + 8
    try:
        meta = json.loads(body[start:start + n].decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    obj = body[start + n:]
    if not isinstance(meta, dict) or meta.get("key") != k or \
            not obj.startswith((_OBJECT_MAGIC, module_split.PARTS_MAGIC)):  # an object, or a module's parts'
        return None
    if objcheck.problem(obj) is not None:  # LLVM's linker aborts the process on a malformed object
        return None
    return meta, obj


def _private_dir(path: Path, create: bool) -> Optional[Path]:
    """`path` (and the cache root above it) if each is a real directory owned by this user and closed to others
    (made 0700 if we own it), else None; with `create`, missing ones are made 0700 first."""
    root = directory()
    for d in (root, path):
        if create:
            try:
                d.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError:
                return None
        try:
            st = os.lstat(d)
        except OSError:
            return None
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            _refuse(d, "is not a directory owned by this user")
            return None
        if st.st_mode & 0o077:
            try:
                os.chmod(d, 0o700)
            except OSError:
                _refuse(d, "is open to other users and cannot be made private (0700)")
                return None
    return path


_refused: set[str] = set()


def _refuse(d: Path, why: str) -> None:
    """Says once per directory why the cache is not used there (it holds code this process would run)."""
    if str(d) in _refused:
        return
    _refused.add(str(d))
    import warnings
    warnings.warn(f"Kiln's disk cache is off for {d}: it {why}; compiled code is not read from or written there "
                  f"(set KILN_CACHE_DIR to a private directory, or KILN_CACHE=0)", RuntimeWarning, stacklevel=3)


def store(k: str, meta: dict[str, Any], obj: bytes) -> None:
    """Writes the entry atomically; a cache that cannot be written is skipped silently (it is only a cache)."""
    meta = dict(meta, key=k)
    head = json.dumps(meta).encode()
    body = MAGIC + len(head).to_bytes(8, "little") + head + obj
    path = _path(k)
    if _private_dir(path.parent, create=True) is None:
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(body + hashlib.sha256(body).digest())
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)  # type: ignore[possibly-undefined]
        except (OSError, UnboundLocalError):
            pass


def entry_path(k: str) -> Path:
    """Where the entry for key `k` lives (tests truncate it to check rebuilding)."""
    return _path(k)



"""A function's LLVM module cut into parts that LLVM optimizes and compiles at once, on several threads (DESIGN §8).

O3 and codegen are most of a compile that misses the disk cache, and llvmlite runs them on one thread (the MNIST
training step: 0.21-0.26 s of its 0.35-0.45 s). The module's functions are independent compile units: the Python
entry (`kiln_py`, `kiln_entry`, the argument checks: about a third of the lines of a training step) calls the body
(`kiln_body`) across a `noinline` boundary, and an outlined body (codegen.outline) calls its segments the same way.
`split(text, n)` deals the module's functions out to `n` parts of about equal size (by lines of IR, largest first):

- each external function, and each outlined segment (made external: a part calls another part's segments by name;
  the JIT links a function's parts into one library, so the names stay private to the function), is defined in
  one part and declared in the others;
- internal helpers (`alwaysinline` math, the argument checker) and the vector variants `codegen.llvm_setup.optimize`
  inlines after the pipeline are defined in every part (each part's optimizer drops what it does not call);
- everything else at the top level (declarations, constants, metadata) is copied into every part.

The parts' object files travel as one `bytes` (`pack`/`unpack`: a small header, then each object), which the disk
cache stores and `codegen.native.link` links into one library. A module too small to pay for a second thread (a
part would carry less than `MIN_SHARE` of the lines, or the module has fewer than `MIN_LINES`) is not split.
"""
from __future__ import annotations

import re
import struct
from typing import Optional

#: A module with fewer lines of function bodies is compiled whole: a thread's start and a second parse cost more
#: than a small module's codegen.
MIN_LINES = 1200
#: Nor is a module whose smallest part would carry less than this share of the lines.
MIN_SHARE = 0.15

PARTS_MAGIC = b"KILNPRT1"
_TOP = re.compile(r'(?m)^(?=define |declare |@|!|attributes |%"?[\w.]+"? = type )')
_NAME = re.compile(r'define [^@]*@"?([^"(]+)"?\(')


def split(text: str, n: int) -> Optional[list[str]]:
    """The module `text` (llvmlite.ir's printing) as `n` modules that together define its functions, or None when
    splitting it would not pay (see the module docstring)."""
    if n < 2:
        return None
    chunks = _TOP.split(text)
    head, shared, defs = chunks[0], [], []
    for chunk in chunks[1:]:
        (defs if chunk.startswith("define ") else shared).append(chunk)
    everywhere, helpers, dealt = [], {}, []   # dealt: (name, text, lines)
    for chunk in defs:
        name = _NAME.match(chunk).group(1)
        signature = chunk[:chunk.index("{")]
        internal = chunk.startswith(("define internal ", "define private "))
        if 'kiln-vector-variant' in signature or (internal and not name.startswith("kiln_seg")):
            everywhere.append(chunk)
            helpers[name] = chunk.count("\n")
        else:
            dealt.append((name, chunk, chunk.count("\n")))
    # A function's load counts the helpers it calls too (the optimizer of its part inlines or compiles them).
    dealt = [(name, chunk, lines + sum(n for h, n in helpers.items() if f'@"{h}"' in chunk))
             for name, chunk, lines in dealt]
    total = sum(lines for _, _, lines in dealt)
    if total < MIN_LINES or len(dealt) < 2:
        return None
    loads = [0] * n
    owner: dict[str, int] = {}
    for name, _, lines in sorted(dealt, key=lambda d: -d[2]):
        k = loads.index(min(loads))
        owner[name] = k
        loads[k] += lines
    if min(loads) < MIN_SHARE * total:
        return None
    parts = []
    for k in range(n):
        out = [head, *shared, *everywhere]
        for name, chunk, _ in dealt:
            external = re.sub(r"^define (internal |private )?", "define ", chunk, count=1)
            if owner[name] == k:
                out.append(external)
            else:
                out.append("declare " + external[len("define "):external.index("{")].rstrip() + "\n\n")
        parts.append("".join(out))
    return parts


def pack(objects: list[bytes]) -> bytes:
    """The object files of one function's parts as one `bytes` (a lone object is returned as it is)."""
    if len(objects) == 1:
        return objects[0]
    header = PARTS_MAGIC + struct.pack(f"<I{len(objects)}Q", len(objects), *(len(o) for o in objects))
    return header + b"".join(objects)


def unpack(blob: bytes) -> list[bytes]:
    """The object files `pack` put together (a plain object file: itself). Raises ValueError on a malformed
    header (a corrupt cache entry)."""
    if not blob.startswith(PARTS_MAGIC):
        return [blob]
    try:
        (count,) = struct.unpack_from("<I", blob, len(PARTS_MAGIC))
        if not 1 <= count <= 64:
            raise ValueError(f"{count} parts")
        sizes = struct.unpack_from(f"<{count}Q", blob, len(PARTS_MAGIC) + 4)
    except struct.error as e:
        raise ValueError(f"truncated parts header ({e})") from None
    offset = len(PARTS_MAGIC) + 4 + 8 * count
    if offset + sum(sizes) != len(blob):
        raise ValueError(f"parts of {sum(sizes)} bytes in {len(blob) - offset}")
    objects = []
    for size in sizes:
        objects.append(blob[offset:offset + size])
        offset += size
    return objects

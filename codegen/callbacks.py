"""The runtime callback of compiled code: `print` writes its values (formatted as TF's tf.print), a failed `assert`
leaves its message for the runtime to raise. Compiled code calls it with an entry id and a block of pointers (the
values' data, then their unknown dims)."""
from __future__ import annotations

import ctypes
import sys
from typing import Any

import numpy as np

from codegen.lower import Lowered
from ir.ops_state import assert_message, format_value

_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int64, ctypes.c_void_p)


def make_callback(lowered: Lowered, pending: dict[int, str]) -> Any:
    def callback(entry_id: int, ptrs: int) -> None:
        entry = lowered.prints[entry_id]
        types = entry[-1]
        arrays = []
        words = ctypes.cast(ptrs, ctypes.POINTER(ctypes.c_int64))
        sizes = iter(words[len(types):len(types) + sum(t.shape.count(None) for t in types)])  # unknown dims
        for k, t in enumerate(types):
            p = ctypes.cast(ptrs + 8 * k, ctypes.POINTER(ctypes.c_void_p))[0]
            shape = tuple(next(sizes) if d is None else d for d in t.shape)
            count = int(np.prod(shape, dtype=np.int64))
            if count == 0:
                arrays.append(np.zeros(shape, dtype=t.dtype.np))
                continue
            buf = (ctypes.c_char * (count * t.dtype.np.itemsize)).from_address(p)
            arrays.append(np.frombuffer(buf, dtype=t.dtype.np).reshape(shape).copy())
        if entry[0] == "print":
            _, template, stream, summarize, _ = entry
            out = sys.stdout if stream == "stdout" else sys.stderr
            out.write(template.format(*(format_value(a, summarize) for a in arrays)))
            out.flush()
        else:
            _, code, summarize, message, _ = entry
            pending[code] = assert_message(message, arrays, summarize)
    return _CALLBACK(callback)

"""Finding, downloading and checking the files `keras.datasets` reads.

Files live where Keras keeps them, `~/.keras/datasets/` (or `$KERAS_HOME/datasets/`). A file that is absent is
downloaded from Keras's origin, with a progress bar, and checked against the published SHA-256; offline, the error
says which file to put where. Only regular files are read.
"""
from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from typing import Optional

__all__ = ["cache_dir", "get_file", "DatasetError"]


class DatasetError(OSError):
    pass


def cache_dir() -> str:
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(base, "datasets")


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(url: str, target: str) -> None:
    tmp = target + ".part"
    with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            if total and sys.stdout.isatty():
                filled = int(30 * done / total)
                sys.stdout.write(f"\r{done // 1024:>8} KB/{total // 1024} KB [{'=' * filled}{'.' * (30 - filled)}]")
                sys.stdout.flush()
        if total and sys.stdout.isatty():
            sys.stdout.write("\n")
    os.replace(tmp, target)


def get_file(fname: str, origin: str, file_hash: Optional[str] = None, subdir: str = "") -> str:
    """The local path of `fname`, downloading it from `origin` when it is not in the cache."""
    folder = os.path.join(cache_dir(), subdir) if subdir else cache_dir()
    path = os.path.join(folder, fname)
    if os.path.lexists(path):
        if not os.path.isfile(path):
            raise DatasetError(f"{path} exists but is not a regular file")
        return path
    os.makedirs(folder, exist_ok=True)
    print(f"Downloading data from {origin}")
    try:
        _download(origin, path)
    except (urllib.error.URLError, OSError) as exc:
        raise DatasetError(f"cannot download {origin} ({exc}). Without network access, put the file at {path} "
                           f"(the same file Keras caches there)") from None
    if file_hash is not None and _sha256(path) != file_hash:
        os.remove(path)
        raise DatasetError(f"the file downloaded from {origin} does not have the published SHA-256 {file_hash}; "
                           f"it was removed")
    return path

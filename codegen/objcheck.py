"""Structural validation of an ELF relocatable object before LLVM links it (DESIGN §8, disk cache).

LLVM's linkers trust their input: a section header, symbol or relocation that points outside the file makes the JIT
read or write out of bounds and abort the process (`malloc_consolidate(): invalid chunk size`, `Unchecked
Expected`). A cache entry whose content changed and whose checksum was recomputed reaches the linker, so every
offset, size and index the linker follows is checked here first: the header (64-bit, little-endian, x86-64,
relocatable), every section's extent, links and entry sizes, string tables' terminators, every symbol's name,
section and extent, and every relocation's symbol, type and target range. `problem(obj)` returns what is wrong, or
None. It checks structure only: altered instruction bytes are not detectable this way (the entry's checksum is what
catches accidental corruption).

Only the format LLVM emits for Linux x86-64 is understood; on any other host `problem` accepts everything.
"""
from __future__ import annotations

import platform
import struct
import sys
from typing import Optional

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_RELA = struct.Struct("<QQq")
_SHT_SYMTAB, _SHT_STRTAB, _SHT_RELA, _SHT_NOBITS, _SHT_REL = 2, 3, 4, 8, 9
_SHN_LORESERVE, _SHN_ABS, _SHN_COMMON = 0xFF00, 0xFFF1, 0xFFF2
#: x86-64 relocation types LLVM emits for JIT code (large code model and small), with the bytes each patches.
_RELOC_WIDTH = {1: 8, 2: 4, 4: 4, 9: 4, 10: 4, 11: 4, 24: 8, 26: 8, 41: 4, 42: 4}
_MAX_SECTIONS = 1 << 14


def applies() -> bool:
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


def problem(obj: bytes) -> Optional[str]:
    """What makes `obj` unsafe to hand to LLVM's linker, or None."""
    if not applies():
        return None
    from codegen.module_split import unpack  # the object files of a module compiled in parts
    try:
        parts = unpack(obj)
    except ValueError as e:
        return f"malformed parts ({e})"
    for part in parts:
        try:
            found = _check(memoryview(part))
        except struct.error as e:
            found = f"truncated structure ({e})"
        if found is not None:
            return found
    return None


def _within(offset: int, size: int, total: int) -> bool:
    return 0 <= offset and 0 <= size and offset + size <= total


def _check(data: memoryview) -> Optional[str]:
    n = len(data)
    if n < _EHDR.size:
        return "shorter than an ELF header"
    (ident, e_type, machine, version, _, phoff, shoff, _, ehsize, _, phnum, shentsize, shnum,
     shstrndx) = _EHDR.unpack_from(data, 0)
    if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1 or ident[6] != 1:
        return "not a 64-bit little-endian ELF file"
    if e_type != 1 or machine != 62 or version != 1 or ehsize != _EHDR.size or phnum != 0:
        return "not an x86-64 relocatable object"
    if shentsize != _SHDR.size or not 1 <= shnum <= _MAX_SECTIONS or not _within(shoff, shnum * _SHDR.size, n):
        return "section header table out of bounds"
    if shstrndx >= shnum:
        return "section name table index out of range"
    sections = [_SHDR.unpack_from(data, shoff + i * _SHDR.size) for i in range(shnum)]
    for i, (name, typ, _, _, offset, size, link, info, align, entsize) in enumerate(sections):
        if typ != _SHT_NOBITS and not _within(offset, size, n):
            return f"section {i} extends past the end of the file"
        if link >= shnum or (align & (align - 1)) != 0:
            return f"section {i} has a bad link or alignment"
        if typ == _SHT_STRTAB and size and data[offset + size - 1] != 0:
            return f"string table {i} is not terminated"
        if typ in (_SHT_SYMTAB, _SHT_RELA, _SHT_REL) and (entsize != (_SYM.size if typ == _SHT_SYMTAB else
                                                                       _RELA.size) or size % entsize):
            return f"section {i} has a bad entry size"
        if typ == _SHT_REL:
            return f"section {i}: REL relocations are not what LLVM emits for x86-64"
    names = sections[shstrndx]
    if names[1] != _SHT_STRTAB:
        return "section name table is not a string table"
    if any(s[0] >= names[5] for s in sections):
        return "a section name lies outside the section name table"
    symbols: dict[int, int] = {}
    for i, s in enumerate(sections):
        if s[1] == _SHT_SYMTAB:
            bad = _check_symbols(data, sections, i)
            if bad:
                return bad
            symbols[i] = s[5] // _SYM.size
    for i, s in enumerate(sections):
        if s[1] == _SHT_RELA:
            bad = _check_relocations(data, sections, i, symbols)
            if bad:
                return bad
    return None


def _check_symbols(data: memoryview, sections: list[tuple], i: int) -> Optional[str]:
    _, _, _, _, offset, size, link, info, _, _ = sections[i]
    strtab = sections[link]
    if strtab[1] != _SHT_STRTAB:
        return f"symbol table {i} does not link to a string table"
    count = size // _SYM.size
    if info > count:
        return f"symbol table {i} has a bad first global index"
    for k in range(count):
        name, kind, _, shndx, value, sym_size = _SYM.unpack_from(data, offset + k * _SYM.size)
        if name >= max(strtab[5], 1):
            return f"symbol {k} has a name outside its string table"
        if (kind & 0xF) > 6 or (kind >> 4) not in (0, 1, 2, 10):
            return f"symbol {k} has an unknown type or binding"
        if shndx in (0, _SHN_ABS, _SHN_COMMON):
            continue
        if shndx >= len(sections) or shndx >= _SHN_LORESERVE:
            return f"symbol {k} is in a section that does not exist"
        target = sections[shndx]
        if target[1] != _SHT_NOBITS and not _within(value, sym_size, target[5]):
            return f"symbol {k} lies outside its section"
    return None


def _check_relocations(data: memoryview, sections: list[tuple], i: int, symbols: dict[int, int]) -> Optional[str]:
    _, _, _, _, offset, size, link, info, _, _ = sections[i]
    if link not in symbols:
        return f"relocation section {i} does not link to a symbol table"
    if not 0 < info < len(sections):
        return f"relocation section {i} applies to a section that does not exist"
    target_size = sections[info][5]
    for k in range(size // _RELA.size):
        r_offset, r_info, _ = _RELA.unpack_from(data, offset + k * _RELA.size)
        sym, typ = r_info >> 32, r_info & 0xFFFFFFFF
        width = _RELOC_WIDTH.get(typ)
        if width is None:
            return f"relocation {k} of section {i} has unsupported type {typ}"
        if sym >= symbols[link]:
            return f"relocation {k} of section {i} names a symbol that does not exist"
        if not _within(r_offset, width, target_size):
            return f"relocation {k} of section {i} patches outside its section"
    return None

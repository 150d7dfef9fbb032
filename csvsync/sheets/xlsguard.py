"""Safety checks on a legacy Excel ``.xls`` file (BIFF in an OLE2 compound file), run before
calamine opens it.

An ``.xls`` is no zip and holds no XML, so the XLSX guards do not apply, and calamine (0.36
``cfb``, ``xls``) offers nothing to look at before it loads: opening the file reads the whole
container and builds every sheet's grid at once, sized by numbers the file gives. So this module
walks the same structures calamine walks, in Python, and bounds each number first:

* the file size, by ``XlsxLimits.max_total_uncompressed`` (calamine holds the workbook stream
  and its sectors in memory; an ``.xls`` is not compressed);
* the compound file's header: the FAT and DIFAT lengths calamine reserves room for, within the
  file's sectors; every sector chain it follows (DIFAT, FAT, directory, mini stream, mini FAT,
  the workbook stream) inside the file and without a cycle (a cycle in the directory chain makes
  calamine read forever);
* each sheet: the area its ``DIMENSIONS`` record declares (calamine reserves a cell for each)
  and the extent of its cell records (calamine builds a dense grid over them), by the row,
  column and cell limits XLSX has. Every sheet is checked, not only the one asked for, since
  calamine builds them all.

A sheet's position past the stream's end or a record cut short is refused as damaged. Strings
are not bounded here: a ``.xls`` sheet is at most 65,536 x 256 cells written one record each,
so its text is bounded by the file size. Every failure is a one-line ``SheetError`` naming the
file.
"""

from __future__ import annotations

import struct
from pathlib import Path

from csvsync.errors import SheetError
from csvsync.options import XlsxLimits
from csvsync.sheets.filetype import OLE2_MAGIC, sniff
from csvsync.sheets.xlsxguard import check_extent, check_total

_HINT_RESAVE = "save it again from Excel or LibreOffice (as .xlsx if you can)"
_END_OF_CHAIN = 0xFFFFFFFE
_RESERVED = 0xFFFFFFFA  # ids from here on mark free, end-of-chain or FAT sectors
_STREAMS = ("Workbook", "Book", "WORKBOOK", "BOOK")  # calamine's order
_BOF, _EOF, _BOUNDSHEET, _DIMENSIONS, _MULRK = 0x0809, 0x000A, 0x0085, 0x0200, 0x00BD
# Records calamine turns into one cell at the (row, column) their first four bytes give.
_CELL_RECORDS = frozenset({0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006})


class _Damaged(Exception):
    """The container or a record is not what calamine can read safely."""


def _fail(path: Path, problem: str, hint: str) -> SheetError:
    return SheetError(f"{path}: {problem}", hint)


def check_xls_safe(path: Path, limits: XlsxLimits = XlsxLimits()) -> None:
    """Refuse an ``.xls`` whose container or sheets would make calamine allocate past
    ``limits`` (see the module doc)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            if not head.startswith(OLE2_MAGIC):
                found = sniff(path)
                what = f"is {found.name}, not" if found is not None else "is not"
                advice = found.advice if found is not None else _HINT_RESAVE
                raise _fail(path, f"{what} a legacy .xls workbook", advice)
            if size > limits.max_total_uncompressed:
                raise _fail(
                    path,
                    f"is {size:,} bytes, more than the limit of "
                    f"{limits.max_total_uncompressed:,} bytes for a .xls workbook",
                    "save it as .xlsx or split the workbook",
                )
            handle.seek(0)
            data = handle.read()
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "check its permissions") from None
    try:
        stream = _workbook_stream(data, limits)
        if stream is None:
            return  # no workbook stream: calamine says so itself
        total = 0
        for name, rows, columns, declared in _sheet_extents(stream):
            check_extent(path, name, *declared, limits, "declares")
            check_extent(path, name, rows, columns, limits)
            # calamine builds every sheet at once: together they are bounded as one sheet is.
            total += max(rows * columns, declared[0] * declared[1])
            check_total(path, total, limits)
    except _Damaged as exc:
        raise _fail(path, f"is damaged ({exc})", _HINT_RESAVE) from None


# --- the compound file -----------------------------------------------------------------------


def _u32s(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 4}I", data[: len(data) // 4 * 4]))


class _Sectors:
    """The file's sectors as calamine numbers them (sector 0 right after the header)."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = data, size
        self.count = max(len(data) // size - 1, 0)  # the header takes the first sector's room
        self.maxid = len(data) // size  # calamine's bound: one past the last full sector

    def get(self, sector: int) -> bytes:
        if sector > self.maxid:
            raise _Damaged(f"sector {sector} points past the end of the file")
        start = (sector + 1) * self.size
        return self.data[start : start + self.size]

    def chain(self, first: int, fat: list[int], length: int, what: str) -> bytes:
        """A chain's bytes, at most ``length``; refused if it loops or leaves the FAT."""
        parts: list[bytes] = []
        seen: set[int] = set()
        total, sector = 0, first
        while sector != _END_OF_CHAIN and total < length:
            if sector in seen:
                raise _Damaged(f"the {what} chain loops at sector {sector}")
            if sector >= len(fat):
                raise _Damaged(f"the {what} chain names sector {sector}, past the FAT")
            seen.add(sector)
            part = self.get(sector)
            parts.append(part[: length - total])
            total += len(parts[-1])
            sector = fat[sector]
        return b"".join(parts)


def _workbook_stream(data: bytes, limits: XlsxLimits) -> bytes | None:
    if len(data) < 512:
        raise _Damaged(f"{len(data)} bytes, too short for a compound file")
    header = data[:512]
    shift = struct.unpack_from("<H", header, 30)[0]
    if shift not in (9, 12) or struct.unpack_from("<H", header, 32)[0] != 6:
        raise _Damaged("not a compound file header calamine reads")
    size = 1 << shift
    version = struct.unpack_from("<H", header, 26)[0]
    fat_len, dir_start = struct.unpack_from("<II", header, 44)
    mini_start, mini_len, difat_start = struct.unpack_from("<III", header, 60)
    # calamine reserves room for these two counts, each of 4-byte ids, before reading a sector.
    difat_reserve = struct.unpack_from("<I", header, 62)[0]
    sectors = _Sectors(data, size)
    if fat_len > sectors.maxid or mini_len > sectors.maxid:
        raise _Damaged(f"the header declares {max(fat_len, mini_len):,} sectors")
    if difat_reserve * 4 > max(limits.max_total_uncompressed, len(data)):
        raise _Damaged(f"the header declares a DIFAT of {difat_reserve:,} sectors")
    difat = _u32s(header[76:512])
    seen: set[int] = set()
    sector = difat_start
    while sector < _RESERVED:
        if sector in seen:
            raise _Damaged(f"the DIFAT chain loops at sector {sector}")
        seen.add(sector)
        difat.extend(_u32s(sectors.get(sector)))
        sector = difat.pop()
    fat: list[int] = []
    for sector in difat:
        if sector < 0xFFFFFFFC:
            fat.extend(_u32s(sectors.get(sector)))
    directory = sectors.chain(dir_start, fat, len(data), "directory")
    if not directory or len(directory) % 128:
        # calamine reads 128-byte entries and panics on a shorter last one (a cut file).
        raise _Damaged(f"a directory of {len(directory):,} bytes, not whole entries")
    entries = [directory[i : i + 128] for i in range(0, len(directory), 128)]
    lengths = []
    for entry in entries:
        start = struct.unpack_from("<I", entry, 116)[0]
        if size == 512:
            length = struct.unpack_from("<I", entry, 120)[0]
        else:
            length = struct.unpack_from("<Q", entry, 120)[0]
        lengths.append((_entry_name(entry), start, length))
    if version != 3 and lengths[0][1] == _END_OF_CHAIN:
        raise _Damaged("an empty root directory")
    mini_stream, mini_fat = b"", []
    if mini_len > 0:
        mini_stream = sectors.chain(lengths[0][1], fat, lengths[0][2], "mini stream")
        mini_fat = _u32s(sectors.chain(mini_start, fat, mini_len * size, "mini FAT"))
    for wanted in _STREAMS:
        for name, start, length in lengths:
            if name != wanted:
                continue
            if length < 4096:
                minis = _Sectors(b"\0" * 64 + mini_stream, 64)
                return minis.chain(start, mini_fat, length, "workbook stream")
            return sectors.chain(start, fat, length, "workbook stream")
    return None


def _entry_name(entry: bytes) -> str:
    name = entry[:64].decode("utf-16-le", "replace")
    return name.split("\0", 1)[0]


# --- the BIFF records ------------------------------------------------------------------------


def _records(stream: bytes, at: int) -> list[tuple[int, bytes]]:
    """The records from ``at`` to the stream's end or the first EOF record, EOF included."""
    found = []
    while at + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, at)
        body = stream[at + 4 : at + 4 + length]
        if len(body) < length:
            raise _Damaged(f"record 0x{kind:04X} at byte {at:,} is cut short")
        found.append((kind, body))
        at += 4 + length
        if kind == _EOF:
            break
    return found


def _sheet_extents(stream: bytes) -> list[tuple[str, int, int, tuple[int, int]]]:
    """For each sheet: its name, the rows and columns its cells reach (1-based) and the
    (rows, columns) its DIMENSIONS record declares."""
    sheets: list[tuple[int, str]] = []
    for kind, body in _records(stream, 0):
        if kind == _BOUNDSHEET:
            if len(body) < 7 or len(body) < 7 + body[6]:
                # calamine panics reading a BoundSheet8 cut short: refuse it first.
                raise _Damaged(f"a sheet record of {len(body)} bytes")
            position = struct.unpack_from("<I", body)[0]
            sheets.append((position, _sheet_name(body) or f"#{len(sheets) + 1}"))
    extents = []
    for position, name in sheets:
        if position > len(stream):
            raise _Damaged(f"sheet {name} starts past the workbook stream's end")
        rows = columns = 0
        declared = (0, 0)
        depth, seen_bof = 0, False
        for kind, body in _records(stream, position):
            if depth:  # an embedded chart's records: calamine skips them
                depth += (kind == _BOF) - (kind == _EOF)
                continue
            if kind == _BOF:
                depth, seen_bof = (1 if seen_bof else 0), True
            elif kind == _DIMENSIONS:
                declared = _declared(body)
            elif kind in _CELL_RECORDS and len(body) >= 4:
                row, col = struct.unpack_from("<HH", body)
                rows, columns = max(rows, row + 1), max(columns, col + 1)
            elif kind == _MULRK and len(body) >= 6:
                row = struct.unpack_from("<H", body)[0]
                last = struct.unpack_from("<H", body, len(body) - 2)[0]
                rows, columns = max(rows, row + 1), max(columns, last + 1)
        extents.append((name, rows, columns, declared))
    return extents


def _sheet_name(body: bytes) -> str:
    """A BIFF8 BoundSheet8's name, for the error line ("" when it is not in that form)."""
    if len(body) < 8:
        return ""
    count, wide = body[6], body[7] & 1
    raw = body[8 : 8 + count * (2 if wide else 1)]
    return raw.decode("utf-16-le" if wide else "latin-1", "replace")


def _declared(body: bytes) -> tuple[int, int]:
    """The (rows, columns) calamine reserves for a DIMENSIONS record, as it reads one."""
    if len(body) == 10:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", body)
    elif len(body) == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", body)
    else:
        raise _Damaged(f"a DIMENSIONS record of {len(body)} bytes")
    if first_col > 0xFF or last_col < first_col:
        first_col = 0
    if last_row < 1 or last_col < 1:
        return 1, 1
    if last_row - 1 < first_row or last_col - 1 < first_col:
        raise _Damaged("a DIMENSIONS record whose end comes before its start")
    return last_row - first_row, last_col - first_col

"""``--write-back``: a copy of the sheet with the new items' ids filled in, never the original.

The copy sits next to the sheet as ``<name>.with-ids.<ext>``; the next run then updates those
items instead of looking them up by slug. XLSX copies keep the workbook's formatting (openpyxl
edits only the key cells); CSV copies keep every other cell byte for byte as text.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

from csvsync.errors import SheetError
from csvsync.sheets.read import SheetOptions, csv_records


def check_can_write_back(sheet: Path) -> None:
    """Refuse, before a run sends anything, a sheet ``--write-back`` cannot copy."""
    if sheet.suffix.lower() in (".ods", ".xls"):
        # No writer for these here: a copy in another format would not be "the sheet with ids".
        raise SheetError(
            f"{sheet}: --write-back copies .csv and .xlsx sheets only", "save the sheet as .xlsx"
        )


def write_back(sheet: Path, options: SheetOptions, key_column: str, ids: dict[int, str]) -> Path:
    """Write the copy; ``ids`` maps sheet row numbers (header = 1) to new item ids."""
    out = sheet.with_name(f"{sheet.stem}.with-ids{sheet.suffix}")
    check_can_write_back(sheet)
    if sheet.suffix.lower() in (".xlsx", ".xlsm"):
        _xlsx(sheet, options.sheet_name, key_column, ids, out)
    else:
        _csv(sheet, key_column, ids, out, options)
    return out


def _xlsx(sheet: Path, name: str | None, key: str, ids: dict[int, str], out: Path) -> None:
    wb = openpyxl.load_workbook(sheet)
    ws = wb[name] if name and name in wb.sheetnames else wb.worksheets[0]
    header = [str(c.value).strip() if c.value is not None else "" for c in ws[1]]
    if key not in header:
        raise SheetError(f"{sheet}: no column '{key}' to write the new ids into")
    col = header.index(key) + 1
    for row, item_id in ids.items():
        ws.cell(row=row, column=col).value = item_id
    _atomic(out, lambda tmp: wb.save(tmp))


def _csv(sheet: Path, key: str, ids: dict[int, str], out: Path, options: SheetOptions) -> None:
    records, delimiter = csv_records(sheet, options)
    header = [h.strip() for h in records[0]]
    if key not in header:
        raise SheetError(f"{sheet}: no column '{key}' to write the new ids into")
    col = header.index(key)
    # Row numbers count records (header = 1), as the sheet reader does.
    for row, item_id in ids.items():
        if 0 < row - 1 < len(records) and len(records[row - 1]) > col:
            records[row - 1][col] = item_id

    def save(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows(records)

    _atomic(out, save)


def _atomic(out: Path, save: Callable[[str], object]) -> None:
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".csvsync-", suffix=out.suffix)
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

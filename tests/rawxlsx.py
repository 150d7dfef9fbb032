"""Hand-written XLSX workbooks, for XML and zip layouts the usual writers never produce.

``workbook`` zips a worksheet (and any extra or replaced parts) into a minimal valid package;
``worksheet`` and ``cell`` write the sheet's XML with an optional namespace prefix.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OOXML = "http://schemas.openxmlformats.org"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RT = f"{_OOXML}/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_RT}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<workbook xmlns="{MAIN}" xmlns:r="{_RT}">'
    '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_RT}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def worksheet(
    data: str, *, prefix: str = "", ns: str = MAIN, doctype: str = "", top: str = ""
) -> str:
    """A worksheet whose sheetData holds ``data``: ``doctype`` goes before the root element,
    ``top`` inside it before sheetData (a <dimension>)."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns{':' + prefix if prefix else ''}"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<{p}worksheet {xmlns}="{ns}">{top}'
        f"<{p}sheetData>{data}</{p}sheetData></{p}worksheet>"
    )


def cell(ref: str | None, text: str, prefix: str = "", attrs: str = "") -> str:
    """An inline-string cell; ``ref`` None leaves out its r attribute."""
    p = f"{prefix}:" if prefix else ""
    r = f' r="{ref}"' if ref is not None else ""
    return f'<{p}c{r}{attrs} t="inlineStr"><{p}is><{p}t>{text}</{p}t></{p}is></{p}c>'


def row(number: int | None, *cells: str, prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    r = f' r="{number}"' if number is not None else ""
    return f"<{p}row{r}>{''.join(cells)}</{p}row>"


HEADER = row(1, cell("A1", "Item ID"), cell("B1", "Name"))


def workbook(
    path: Path,
    sheet: str | bytes,
    *,
    parts: dict[str, str | bytes] | None = None,
    root_rels: str = ROOT_RELS,
    workbook_xml: str = WORKBOOK,
    workbook_rels: str = WORKBOOK_RELS,
    sheet_part: str = "xl/worksheets/sheet1.xml",
    folder: str = "xl/",
) -> Path:
    """A workbook zip whose one sheet ("Data") is ``sheet``; ``parts`` adds or replaces entries."""
    entries: dict[str, str | bytes] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": root_rels,
        f"{folder}workbook.xml": workbook_xml,
        f"{folder}_rels/workbook.xml.rels": workbook_rels,
        sheet_part: sheet,
    }
    entries.update(parts or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return path


def declare_size(path: Path, entry: str, size: int) -> None:
    """Make the zip's local header and central directory declare ``size`` bytes for ``entry``."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(entry)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == entry.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def corrupt_deflate(path: Path, entry: str) -> None:
    """Flip bytes in the middle of ``entry``'s compressed data (the zip directory stays valid)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(entry)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    for at in range(middle - 16, middle + 16):
        data[at] ^= 0x5A
    path.write_bytes(bytes(data))

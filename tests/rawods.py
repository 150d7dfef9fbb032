"""Hand-written ODS and patched XLS files, for what LibreOffice never writes (the hostile corpus).

``ods`` zips a ``content.xml`` around table XML; ``row``/``cell`` write its elements with the
repeat counts LibreOffice uses. ``patched_xls`` copies a LibreOffice-made fixture with some of its
bytes replaced, each replacement found exactly once.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"'
)


_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIMETYPE}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def cell(text: str | None = None, repeat: int = 1, attrs: str = "") -> str:
    """A cell: a string when ``text`` is given, else empty (a trailing filler)."""
    rep = f' table:number-columns-repeated="{repeat}"' if repeat != 1 else ""
    if text is None:
        return f"<table:table-cell{rep}{attrs}/>"
    return (
        f'<table:table-cell office:value-type="string"{rep}{attrs}>'
        f"<text:p>{text}</text:p></table:table-cell>"
    )


def row(*cells: str, repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat != 1 else ""
    return f"<table:table-row{rep}>{''.join(cells)}</table:table-row>"


def table(name: str, *rows: str) -> str:
    return f'<table:table table:name="{name}">{"".join(rows)}</table:table>'


HEADER = row(cell("Item ID"), cell("Name"), cell(repeat=16382))
# What LibreOffice writes after the last row: the rest of the sheet, empty, in one element.
TRAILING = row(cell(repeat=16384), repeat=1048000)


def content(*tables: str, head: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{head}<office:document-content {_NS}>'
        f"<office:body><office:spreadsheet>{''.join(tables)}"
        "</office:spreadsheet></office:body></office:document-content>"
    )


def ods(path: Path, body: str | bytes, mimetype: str = MIMETYPE) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", _MANIFEST)
        archive.writestr("content.xml", body)
    return path


def patched_xls(path: Path, *changes: tuple[bytes, bytes], source: str = "typed.xls") -> Path:
    data = (FIXTURES / source).read_bytes()
    for old, new in changes:
        assert data.count(old) == 1, (old, data.count(old))
        assert len(old) == len(new)  # the container's offsets stay right
        data = data.replace(old, new)
    path.write_bytes(data)
    return path

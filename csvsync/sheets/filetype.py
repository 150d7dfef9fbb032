"""What a file's first bytes say it is: for a sheet given under the wrong extension.

``sniff`` names the format of a file whose bytes are not what its extension promises (an XLSX
workbook renamed ``.csv``, CSV text renamed ``.xlsx``, a PDF or an image given as a sheet), so the
one error line can say what the file is and what to do. It never decides how a file is read:
the extension does; this only explains a refusal.
"""

from __future__ import annotations

import codecs
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class Kind:
    """A file format: what to call it, and what to do with it for csvsync."""

    code: str  # "xlsx", "csv", "ods", "xls", "pdf", ...
    name: str  # "an XLSX workbook"
    advice: str  # "rename it to .xlsx"


XLSX = Kind("xlsx", "an XLSX workbook", "rename it to .xlsx")
TEXT = Kind("csv", "text (CSV?)", "rename it to .csv")
XLS = Kind("xls", "a legacy Excel .xls workbook", "rename it to .xls")
_SAVE = "save it from its application as .xlsx or .csv"
_EXPORT = "export the sheet as .csv or .xlsx"
_LOCKED = Kind(
    "locked", "a password-protected workbook", "remove the password and save it again as .xlsx"
)
_OLE2 = Kind("ole2", "an OLE2 compound file (a .doc, .msg, ...?)", _EXPORT)
# Directory entry names in an OLE2 file (UTF-16, NUL-terminated as stored): the workbook stream
# of a .xls (calamine's names), and what an encrypted XLSX or a protected .xls holds instead.
_OLE2_ENCRYPTED = "EncryptedPackage".encode("utf-16-le") + b"\0\0"
_OLE2_WORKBOOK = tuple(n.encode("utf-16-le") + b"\0\0" for n in ("Workbook", "Book"))
_OLE2_SCAN = 1 << 23  # the directory of a large file can sit anywhere: look at 8 MiB

_MAGIC: tuple[tuple[bytes, Kind], ...] = (
    (b"%PDF-", Kind("pdf", "a PDF document", _EXPORT)),
    (b"\x89PNG\r\n\x1a\n", Kind("png", "a PNG image", _EXPORT)),
    (b"\xff\xd8\xff", Kind("jpeg", "a JPEG image", _EXPORT)),
    (b"GIF87a", Kind("gif", "a GIF image", _EXPORT)),
    (b"GIF89a", Kind("gif", "a GIF image", _EXPORT)),
    (b"\x1f\x8b", Kind("gzip", "a gzip archive", "unpack it first")),
    (b"BZh", Kind("bzip2", "a bzip2 archive", "unpack it first")),
    (b"7z\xbc\xaf\x27\x1c", Kind("7z", "a 7-Zip archive", "unpack it first")),
    (b"Rar!\x1a\x07", Kind("rar", "a RAR archive", "unpack it first")),
    (b"{\\rtf", Kind("rtf", "an RTF document", _EXPORT)),
)
_HTML = Kind("html", "an HTML page", "open it in a spreadsheet application and save it as .xlsx")
_ODS = Kind("ods", "an OpenDocument spreadsheet (.ods)", "rename it to .ods")
_ODF = Kind("odf", "an OpenDocument file", _EXPORT)
_DOCX = Kind("docx", "a Word document", _EXPORT)
_PPTX = Kind("pptx", "a PowerPoint file", _EXPORT)
_ZIP = Kind("zip", "a zip archive", "unpack it and name the .csv or .xlsx inside")


def sniff(path: Path) -> Kind | None:
    """The format ``path``'s bytes show, or None when they show none (text, or unknown)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    if head.startswith(OLE2_MAGIC):
        return _ole2_kind(path)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(ZIP_MAGICS):
        return _zip_kind(path)
    start = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html", b"<table")):
        return _HTML
    if is_text(head):
        return TEXT
    return None


def is_text(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) reads as text: a UTF-16 BOM, or UTF-8 (the last
    character may be cut) without NUL bytes, or mostly printable ASCII (Latin-1, cp1252)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if not head or b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    except UnicodeDecodeError:
        pass
    others = len(head.translate(None, _PRINTABLE))
    return others * 4 < len(head)


_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"


def _ole2_kind(path: Path) -> Kind:
    """A .xls, a password-protected workbook or another OLE2 file, by the names its directory
    holds (a byte search: this only explains a refusal; ``xlsguard`` reads the directory)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_OLE2_SCAN)
    except OSError:
        return XLS
    if _OLE2_ENCRYPTED in data:
        return _LOCKED
    if any(name in data for name in _OLE2_WORKBOOK):
        return XLS
    return _OLE2


def _zip_kind(path: Path) -> Kind:
    try:
        with zipfile.ZipFile(path) as archive:
            names = {name.replace("\\", "/").lower(): name for name in archive.namelist()}
            if "mimetype" in names:
                mimetype = archive.read(names["mimetype"])[:100]
                if b"opendocument.spreadsheet" in mimetype:
                    return _ODS
                return _ODF
            if any(n.endswith("workbook.xml") for n in names):
                return XLSX
            if "word/document.xml" in names:
                return _DOCX
            if "ppt/presentation.xml" in names:
                return _PPTX
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError):
        pass  # a damaged zip is still a zip
    except (NotImplementedError, RuntimeError):
        pass  # an unknown compression method, an encrypted entry
    return _ZIP

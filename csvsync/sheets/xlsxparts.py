"""Which zip entry calamine reads for each part of an XLSX workbook, found as calamine finds it.

``xlsxguard`` must scan the very bytes calamine will read, or a benign part can stand in for a
hostile one. calamine (0.36/0.37) takes the workbook's folder from ``_rels/.rels`` (the folder of
the officeDocument target, default ``xl/``), reads ``<folder>workbook.xml`` and
``<folder>_rels/workbook.xml.rels``, and looks every entry up by its ASCII-lower-cased name first.
``Package`` does the same, with a reader of small XML parts that tokenizes, matches names and
splits attributes as quick-xml and calamine's ``RawAttrIter`` do (local names after the first
colon, ``get_attrs!``'s counting of repeated keys, entities unescaped only where calamine does).
It also reads the shared strings table's declared ``uniqueCount``, which calamine reserves room
for before reading a string.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from csvsync.errors import SheetError
from csvsync.options import XlsxLimits

_OFFICE_DOCUMENT = (
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
_SHEET_TYPES = frozenset({"worksheet", "chartsheet", "dialogsheet"})
_HINT_RESAVE = "save it again from Excel as .xlsx"
# The rels files and workbook.xml of real workbooks are kilobytes, a few MB with many names.
_SMALL_PART_LIMIT = 64 << 20

# quick-xml's whitespace between a tag's name and its attributes, and Rust's
# ``is_ascii_whitespace`` between attributes.
_NAME_END = re.compile(rb"[ \t\r\n]")
_ATTR_SPACE = b" \t\n\x0c\r"
_TAG = re.compile(rb"""<((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ENTITY = re.compile(r"&(?:(lt|gt|amp|apos|quot)|#([0-9]+)|#x([0-9a-fA-F]+));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}


class Damaged(Exception):
    """Something calamine would refuse to read too: reported as a damaged file."""


def _fail(path: Path, problem: str, hint: str) -> SheetError:
    return SheetError(f"{path}: {problem}", hint)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


_ASCII_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    # Rust's to_ascii_lowercase: only A-Z fold (str.lower would fold 'İ' and others too).
    return (
        text.encode("utf-8", "surrogateescape")
        .translate(_ASCII_LOWER)
        .decode("utf-8", "surrogateescape")
    )


class Package:
    """The parts of an open workbook zip as calamine finds them.

    calamine takes the workbook's folder from ``_rels/.rels`` (the officeDocument target's folder,
    default ``xl/``), reads ``<folder>workbook.xml`` and ``<folder>_rels/workbook.xml.rels``, and
    looks every part up by its lower-cased name first.
    """

    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.archive = archive
        self._folded = {ascii_lower(name.replace("\\", "/")): name for name in archive.namelist()}
        try:
            self.folder = self._workbook_folder()
            workbook = self.entry(f"{self.folder}workbook.xml")
        except Damaged as exc:
            raise _fail(path, f"is damaged ({exc})", _HINT_RESAVE) from None
        if workbook is None:
            raise _fail(path, *self._not_a_workbook())

    def _not_a_workbook(self) -> tuple[str, str]:
        names = set(self.archive.namelist())
        other = "save it as .xlsx from its application"
        if "content.xml" in names and "mimetype" in names:
            return "is an OpenDocument file (.ods), not an XLSX workbook", other
        if "word/document.xml" in names:
            return "is a Word document (.docx), not an XLSX workbook", other
        if "ppt/presentation.xml" in names:
            return "is a PowerPoint file (.pptx), not an XLSX workbook", other
        problem = "is a zip archive but not an Excel workbook (no xl/workbook.xml)"
        return problem, "save it from Excel as .xlsx"

    def entry(self, name: str) -> str | None:
        """The zip entry calamine opens for ``name``, or None when it finds none."""
        found = self._folded.get(ascii_lower(name), name)
        return found if found in self.archive.NameToInfo else None

    def read(self, name: str) -> bytes:
        """The whole part ``name`` (as found by ``entry``); its declared size bounds the read."""
        entry = self.entry(name)
        if entry is None:
            raise Damaged(f"it lists {name!r} but holds no such entry")
        info = self.archive.getinfo(entry)
        with self._decompressing(entry), self.archive.open(info) as stream:
            return stream.read(info.file_size)

    @contextmanager
    def _decompressing(self, entry: str) -> Iterator[None]:
        """A part that cannot be decompressed is one line naming it, whatever zipfile raised."""
        try:
            yield
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise _fail(
                self.path,
                f"is damaged: {entry} cannot be decompressed ({_one_line(exc)})",
                _HINT_RESAVE,
            ) from None
        except (NotImplementedError, RuntimeError) as exc:  # an unknown method; encryption
            raise _fail(
                self.path, f"cannot be read: {entry}: {_one_line(exc)}", _HINT_RESAVE
            ) from None

    def _small_part(self, name: str) -> bytes:
        entry = self.entry(name)
        if entry is not None and self.archive.getinfo(entry).file_size > _SMALL_PART_LIMIT:
            # Read by the Python tokenizer below: a hostile 900 MB workbook.xml would take minutes.
            raise Damaged(f"{entry} is larger than {_SMALL_PART_LIMIT >> 20} MiB")
        data = self.read(name)
        if data.startswith((b"\xfe\xff", b"\xff\xfe")) or b"\x00" in data[:1024]:
            raise Damaged(f"{name} is not UTF-8 XML")
        return data

    def _workbook_folder(self) -> str:
        if self.entry("_rels/.rels") is None:
            # calamine refuses the file; so does the workbook check after this.
            return "xl/"
        target: str | None = None
        tags = _tags(self._small_part("_rels/.rels"))
        _skip_to(tags, b"Relationships", "_rels/.rels")
        for kind, name, attrs in tags:
            if kind == "end" and _local(name) == b"Relationships":
                break
            if kind == "start" and _local(name) == b"Relationship":
                rel_type, rel_target = _get_attrs(attrs, b"Type", b"Target")
                if rel_type == _OFFICE_DOCUMENT and rel_target is not None:
                    target = _unescape(rel_target)
        else:
            raise Damaged("_rels/.rels ends early")
        if target is None:
            raise Damaged("_rels/.rels names no workbook")
        folder = target[: target.rfind("/") + 1]
        return folder.removeprefix("/")

    def sheet_parts(self) -> list[tuple[str, str]]:
        """(sheet name, part name) for every sheet of the workbook, in calamine's order."""
        try:
            return self._sheet_parts()
        except Damaged as exc:
            raise _fail(self.path, f"is damaged ({exc})", _HINT_RESAVE) from None

    def _sheet_parts(self) -> list[tuple[str, str]]:
        rels_name = f"{self.folder}_rels/workbook.xml.rels"
        if self.entry(rels_name) is None:
            raise Damaged(f"no {rels_name}")
        rels: dict[bytes, tuple[str, str]] = {}
        for kind, name, attrs in _tags(self._small_part(rels_name)):
            if kind == "end" and _local(name) == b"Relationships":
                break
            if kind == "start" and _local(name) == b"Relationship":
                rel_id, rel_type, rel_target = _get_attrs(attrs, b"Id", b"Type", b"Target")
                if rel_id is not None:
                    rels[rel_id] = (_text(rel_target or b""), _text(rel_type or b""))
        else:
            raise Damaged(f"{rels_name} ends early")
        sheets = []
        for kind, name, attrs in _tags(self._small_part(f"{self.folder}workbook.xml")):
            if kind != "start" or _local(name) != b"sheet":
                continue
            sheet_name, rel_id = "", b""
            for key, value in _attrs(attrs):
                if key == b"name":
                    sheet_name = _unescape(value)
                elif key == b"id" or (key.endswith(b"id") and key[:-2].endswith(b":")):
                    rel_id = value
            if rel_id not in rels:
                raise Damaged(f"sheet {sheet_name!r} has no relationship")
            target, kind = rels[rel_id]
            if kind.rsplit("/", 1)[-1] not in _SHEET_TYPES:
                raise Damaged(f"sheet {sheet_name!r} is of an unknown type")
            part = target[1:] if target.startswith("/") else f"{self.folder}{target}"
            sheets.append((sheet_name, part))
        return sheets

    def sheet_xml(self, sheet_name: str) -> bytes:
        """The worksheet XML calamine reads for the sheet named ``sheet_name``."""
        for name, part in self.sheet_parts():
            if name == sheet_name:
                try:
                    return self.read(part)
                except Damaged as exc:
                    raise _fail(self.path, f"is damaged ({exc})", _HINT_RESAVE) from None
        raise _fail(self.path, f"is damaged (no sheet named {sheet_name!r})", _HINT_RESAVE)

    def check_shared_strings(self, limits: XlsxLimits) -> None:
        """calamine reserves the ``uniqueCount`` the table declares, before reading a string."""
        name = f"{self.folder}sharedStrings.xml"
        entry = self.entry(name)
        if entry is None:
            return
        try:
            attrs = self._sst_attributes(entry)
        except Damaged as exc:
            raise _fail(self.path, f"is damaged ({exc})", _HINT_RESAVE) from None
        if attrs is None:
            return
        count = _get_attrs(attrs, b"uniqueCount")[0]
        number = (count or b"").removeprefix(b"+")
        if number.isdigit() and int(number) > limits.max_shared_strings:
            raise _fail(
                self.path,
                f"{entry} declares {int(number):,} shared strings, more than the limit of "
                f"{limits.max_shared_strings:,}",
                _HINT_RESAVE,
            )

    def _sst_attributes(self, entry: str) -> bytes | None:
        # Only the start of the table is needed: read it in pieces until <sst ...> is complete.
        buffer = b""
        info = self.archive.getinfo(entry)
        with self._decompressing(entry), self.archive.open(info) as stream:
            left = info.file_size
            while left > 0:
                # Doubling pieces: a hostile comment before <sst> is re-read log(n) times.
                chunk = stream.read(min(max(65_536, len(buffer)), left))
                if not chunk:
                    break
                left -= len(chunk)
                buffer += chunk
                found = _first_start(buffer, b"sst", final=left <= 0)
                if found is not _INCOMPLETE:
                    return found
        return None


def damaged_part(path: Path) -> None:
    """Raise "is damaged: <entry> cannot be decompressed" for the first entry whose data is
    corrupt; return if every entry reads whole (only called once a read has failed)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return
    with archive:
        for info in archive.infolist():
            try:
                with archive.open(info) as stream:
                    while stream.read(1 << 20):
                        pass
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                problem = f"is damaged: {info.filename} cannot be decompressed ({_one_line(exc)})"
                raise _fail(path, problem, _HINT_RESAVE) from None
            except (OSError, NotImplementedError, RuntimeError):
                continue


# --- a reader of small XML parts as quick-xml reads them ---------------------------------------

_Tag = tuple[str, bytes, bytes]  # ("start" | "end", name, raw attributes)
_INCOMPLETE: Any = object()


def _tags(data: bytes, final: bool = True) -> Iterator[_Tag]:
    """Start and end tags in document order; an empty element is a start and an end (calamine
    turns on expand_empty_elements). Comments, CDATA and processing instructions are skipped;
    a DTD is refused (no workbook part has one)."""
    pos = 0
    while True:
        i = data.find(b"<", pos)
        if i < 0:
            return
        if not final and len(data) - i < 9:
            raise _More()  # the buffer may end inside "<![CDATA[" or "<!--"
        for opener, closer in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>")):
            if data.startswith(opener, i):
                j = data.find(closer, i + len(opener))
                if j < 0:
                    raise Damaged("an unterminated comment or section") if final else _More()
                pos = j + len(closer)
                break
        else:
            if data.startswith(b"<!", i):
                raise Damaged("a DTD")
            match = _TAG.match(data, i)
            if match is None:
                raise Damaged("an unterminated tag") if final else _More()
            pos = match.end()
            body = match.group(1)
            if body.startswith(b"/"):
                yield "end", _NAME_END.split(body[1:], 1)[0], b""
                continue
            empty = body.endswith(b"/")
            body = body[:-1] if empty else body
            split = _NAME_END.search(body)
            name = body[: split.start()] if split else body
            attrs = body[split.start() :] if split else b""
            yield "start", name, attrs
            if empty:
                yield "end", name, b""


class _More(Exception):
    """The buffer ends inside a tag: read more of the part."""


def _first_start(data: bytes, local: bytes, final: bool) -> Any:
    """The raw attributes of the first start tag named ``local``; None if there is none;
    ``_INCOMPLETE`` when the buffer may end before it."""
    try:
        for kind, name, attrs in _tags(data, final):
            if kind == "start" and _local(name) == local:
                return attrs
    except _More:
        return _INCOMPLETE
    return None if final else _INCOMPLETE


def _skip_to(tags: Iterator[_Tag], local: bytes, part: str) -> None:
    for kind, name, _ in tags:
        if kind == "start" and _local(name) == local:
            return
    raise Damaged(f"{part} has no <{local.decode()}>")


def _local(name: bytes) -> bytes:
    # quick-xml's local_name: everything after the first colon.
    return name.split(b":", 1)[-1]


def _attrs(raw: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) pairs as calamine's RawAttrIter yields them: the key is everything up to '='
    (trimmed), the value is quoted; anything else is malformed."""
    pos, end = 0, len(raw)
    while True:
        while pos < end and raw[pos] in _ATTR_SPACE:
            pos += 1
        if pos >= end:
            return
        eq = raw.find(b"=", pos)
        if eq < 0:
            raise Damaged("a malformed attribute")
        key = raw[pos:eq].rstrip(_ATTR_SPACE)
        pos = eq + 1
        while pos < end and raw[pos] in _ATTR_SPACE:
            pos += 1
        if pos >= end or raw[pos] not in b"\"'":
            raise Damaged("an unquoted attribute value")
        quote = raw[pos : pos + 1]
        close = raw.find(quote, pos + 1)
        close = end if close < 0 else close
        yield key, raw[pos + 1 : close]
        pos = close + 1


def _get_attrs(raw: bytes, *keys: bytes) -> list[bytes | None]:
    """calamine's ``get_attrs!``: each match (a repeated key too) counts, and the scan stops
    once as many matches as keys were seen."""
    found: list[bytes | None] = [None] * len(keys)
    matches = 0
    for key, value in _attrs(raw):
        if key in keys:
            found[keys.index(key)] = value
            matches += 1
            if matches == len(keys):
                break
    return found


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise Damaged("text that is not UTF-8") from None


def _unescape(value: bytes) -> str:
    text = _text(value)
    if "&" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return _NAMED[match.group(1)]
        number = int(match.group(2)) if match.group(2) else int(match.group(3), 16)
        if number == 0 or number > 0x10FFFF:
            raise Damaged("an invalid character reference")
        return chr(number)

    out = _ENTITY.sub(one, text)
    if "&" in _ENTITY.sub("", text):
        raise Damaged("an unknown entity")
    return out

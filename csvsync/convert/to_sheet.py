"""Live API values -> sheet cells, per Webflow field type: the inverse of ``convert/to_api.py``.

This module owns one promise: a cell made here, read back by ``sheets/read.py`` and converted by
``fields.convert_column`` with the same field options, has the key ``fields.api_key`` gives the
live value, so ``export`` followed by ``plan`` finds nothing to change. Where a format choice
could break that promise (a float Excel would round, a date Excel cannot hold, an option name two
options share, a reference target without a slug), the cell falls back to a form that reads back
exactly (text, the id), and where no form can, the value is counted in ``CellMaker.problems``.

Cells are ``None`` (empty), ``str``, ``bool``, ``int``/``float`` or a naive ``datetime`` (a
local time in the field's zone); CSV cells are always ``str`` or ``None``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csvsync.convert.cells import (
    MAX_YEAR,
    MIN_YEAR,
    format_has_time,
    iso_key,
    number_key,
    typed_text,
    zone,
)
from csvsync.convert.to_api import TEXT_TYPES
from csvsync.models import FieldOptions, RefTarget, SchemaField

Cell = str | bool | int | float | dt.datetime | None

_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
# Excel's date system starts in 1900 and has a fake 1900-02-29: keep typed dates well inside.
_EXCEL_YEARS = range(1901, 9999)
_TRUE_WORDS = ("true", "yes", "1")
_FALSE_WORDS = ("false", "no", "0")


@dataclass(frozen=True)
class RefNames:
    """A reference target collection: its lookup tables and each item's slug and name."""

    target: RefTarget
    slugs: Mapping[str, str]  # item id -> slug
    names: Mapping[str, str]  # item id -> name


@dataclass
class CellMaker:
    """Turns one field's live values into cells for a CSV (``xlsx=False``) or an XLSX sheet."""

    schema: SchemaField
    options: FieldOptions
    xlsx: bool
    refs: RefNames | None = None
    file_sources: Mapping[str, str] = field(default_factory=dict)
    problems: Counter[str] = field(default_factory=Counter)
    _option_names: dict[str, str] | None = field(default=None, init=False, repr=False)

    def cell(self, value: Any) -> Cell:
        if value is None or value == "" or value == []:
            return None
        kind = self.schema.type
        if kind in TEXT_TYPES:
            return value if isinstance(value, str) else typed_text(value)
        method = _BY_TYPE.get(kind)
        return method(self, value) if method else str(value).strip() or None

    # -- one method per type ------------------------------------------------------------------
    def _number(self, value: Any) -> Cell:
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            self.problems["is not a number"] += 1
            return typed_text(value)
        if not math.isfinite(x):
            self.problems["is not a finite number"] += 1
            return typed_text(value)
        # xlsxwriter stores 16 significant digits; a float needing 17 goes out as exact text.
        if self.xlsx and math.isfinite(x) and float(f"{x:.16g}") == x:
            key = number_key(x)
            return int(key) if key.lstrip("-").isdigit() else x
        text = number_key(x)
        return text.replace(".", ",") if self.options.decimal == "," else text

    def _switch(self, value: Any) -> Cell:
        if isinstance(value, bool):
            on = value
        elif str(value).strip().lower() in ("true", "false"):
            on = str(value).strip().lower() == "true"
        else:
            self.problems["is not true or false"] += 1
            return str(value)
        configured = self.options.true_values if on else self.options.false_values
        if self.xlsx and not (self.options.true_values or self.options.false_values):
            return on
        # The same word table _switch in convert/to_api.py reads with: configured words override.
        words = dict.fromkeys(_TRUE_WORDS, True) | dict.fromkeys(_FALSE_WORDS, False)
        words |= {w.strip().lower(): True for w in self.options.true_values if w.strip()}
        words |= {w.strip().lower(): False for w in self.options.false_values if w.strip()}
        defaults = _TRUE_WORDS if on else _FALSE_WORDS
        for word in (*configured, "TRUE" if on else "FALSE", *defaults):
            if word.strip() and words.get(word.strip().lower()) is on:
                return word.strip()
        self.problems["has no word that reads back as " + str(on).lower()] += 1
        return on if self.xlsx else str(on).upper()

    def _datetime(self, value: Any) -> Cell:
        iso = iso_key(str(value))
        moment = _canonical_moment(iso)
        if moment is None:  # also "0000-01-01T23:59:59,999Z": the key of what Python cannot read
            self.problems["is not an ISO 8601 date"] += 1
            return str(value)
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            # Written as it is; reading it back is refused, as any date outside these years.
            self.problems["is outside the years 1000-9999 that Webflow and csvsync take"] += 1
            return iso.replace(".000Z", "Z")
        tz = zone(self.options.timezone)
        fmt = self.options.date_format
        try:
            local = moment.astimezone(tz)
        except OverflowError:  # 9999-12-31 late in UTC is already the year 10000 east of it
            if fmt:
                self.problems[f"cannot be written with date_format {fmt!r}"] += 1
            return iso.replace(".000Z", "Z")
        if fmt and not format_has_time(fmt):
            # Read back as a date-only cell: compared by calendar day in the field's zone.
            text = local.strftime(fmt)
            parsed = _strptime(text, fmt)
            if parsed is None or parsed.date() != local.date():
                self.problems[f"cannot be written with date_format {fmt!r}"] += 1
            return text
        if fmt:
            text = local.strftime(fmt)
            if _reads_back(text, fmt, tz, moment):
                return text
            if self.xlsx and _typed_ok(moment, tz):
                return local.replace(tzinfo=None)
            self.problems[f"has more precision than date_format {fmt!r} shows"] += 1
            return text
        if self.xlsx and _typed_ok(moment, tz):
            return local.replace(tzinfo=None)
        return iso.replace(".000Z", "Z")

    def _option(self, value: Any) -> Cell:
        if self._option_names is None:
            self._option_names = _option_names(self.schema)
        ident = str(value)
        cell = self._option_names.get(ident)
        if cell is None:
            self.problems["has no name or id that reads back as that option"] += 1
            return ident
        return cell

    def _reference(self, value: Any) -> Cell:
        return self._ref_text(str(value))

    def _multi_reference(self, value: Any) -> Cell:
        ids = value if isinstance(value, list) else [value]
        parts = [self._ref_text(str(v.get("id") if isinstance(v, dict) else v)) for v in ids]
        return self._joined([p for p in parts if p])

    def _file(self, value: Any) -> Cell:
        url = value.get("url") if isinstance(value, dict) else value
        if url is None or not str(url).strip():
            return None
        # The cache keys a re-hosted file by the URL the sheet sent; so must the cell.
        return self.file_sources.get(str(url), str(url)).strip()

    def _multi_image(self, value: Any) -> Cell:
        items = value if isinstance(value, list) else [value]
        return self._joined([u for u in (self._file(v) for v in items) if isinstance(u, str)])

    def _plain(self, value: Any) -> Cell:
        return str(value)

    # -- helpers ------------------------------------------------------------------------------
    def _joined(self, parts: list[str]) -> Cell:
        sep = self.options.separator or ";"
        if any(sep in p for p in parts):
            self.problems[f"holds the separator {sep!r} inside one value"] += 1
        return sep.join(parts) or None

    def _ref_text(self, item_id: str) -> str:
        refs, by = self.refs, self.options.by
        if refs is None and by in ("slug", "name"):
            # Without the target's items the reader takes ids only, and `by` refuses those.
            self.problems[f"cannot be written by {by}: the referenced items are not loaded"] += 1
        if refs is None or by == "id":
            return item_id
        target = refs.target
        if by == "name":
            name = refs.names.get(item_id, "").strip()
            if name and target.by_name.get(name.lower()) == item_id:
                return name
            self.problems["has no unique name to write (by: name)"] += 1
            return item_id
        slug = refs.slugs.get(item_id, "")
        # With no `by`, ids are looked up first: a slug that is another item's id would misread.
        if slug and target.by_slug.get(slug) == item_id and (by or slug not in target.ids):
            return slug
        if item_id not in target.ids:
            self.problems["points at an item the referenced collection does not have live"] += 1
        elif by == "slug":
            self.problems["points at an item without a usable slug (by: slug)"] += 1
        return item_id


_BY_TYPE = {
    "Number": CellMaker._number,
    "Switch": CellMaker._switch,
    "DateTime": CellMaker._datetime,
    "Option": CellMaker._option,
    "Reference": CellMaker._reference,
    "MultiReference": CellMaker._multi_reference,
    "Image": CellMaker._file,
    "File": CellMaker._file,
    "MultiImage": CellMaker._multi_image,
    "Email": CellMaker._plain,
    "Phone": CellMaker._plain,
    "Link": CellMaker._plain,
    "VideoLink": CellMaker._plain,
    "Color": CellMaker._plain,
}


def _option_names(schema: SchemaField) -> dict[str, str]:
    """Option id -> the cell to write: its name, or its id when the name is blank or an earlier
    option has it (the reader takes the first option of a name). An id that would itself read as
    another option's name, or lose its surrounding spaces, is left out: nothing reads back as it.
    """
    choices = [o for o in schema.validations.get("options") or [] if isinstance(o, dict)]
    first: dict[str, str] = {}
    for o in choices:
        first.setdefault(str(o.get("name", "")).strip().lower(), str(o.get("id", "")))
    out = {}
    for o in choices:
        name, ident = str(o.get("name", "")).strip(), str(o.get("id", ""))
        if ident in out:
            continue
        if name and first.get(name.lower()) == ident:
            out[ident] = name
        elif ident and ident == ident.strip() and first.get(ident.lower(), ident) == ident:
            out[ident] = ident
    return out


def _canonical_moment(iso: str) -> dt.datetime | None:
    """The instant of a key in iso_key's form, or None (another form, or a year Python lacks)."""
    if not _CANONICAL.fullmatch(iso):
        return None
    try:
        return dt.datetime.fromisoformat(iso[:-1] + "+00:00")
    except ValueError:
        return None


def _strptime(text: str, fmt: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, fmt)
    except (ValueError, re.error):
        return None


def _reads_back(text: str, fmt: str, tz: dt.tzinfo, moment: dt.datetime) -> bool:
    parsed = _strptime(text, fmt)
    if parsed is None:
        return False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz, fold=0)
    try:
        return parsed.astimezone(dt.UTC) == moment
    except OverflowError:
        return False


def _typed_ok(moment: dt.datetime, tz: dt.tzinfo) -> bool:
    """A naive local datetime cell reads back (as a local time in ``tz``) as ``moment``.

    Not in the autumn overlap's second hour (csvsync reads ambiguous times as the first) nor
    outside the years Excel's date numbers hold.
    """
    local = moment.astimezone(tz)
    if local.year not in _EXCEL_YEARS:
        return False
    again = local.replace(tzinfo=None).replace(tzinfo=tz, fold=0)
    return again.astimezone(dt.UTC) == moment

"""One converter per writable Webflow field type, column-wise, and the canonical value keys.

This module owns what a sheet cell means for each Webflow field type: ``convert_column`` turns a
pandas Series of cells (CSV text, or XLSX cells with Excel's types) into the JSON values to send,
a canonical comparison key per row, and a short per-row error; ``api_key`` gives the key of a
value as the Webflow API returns it. The diff relies on one contract: for a value the sheet gives
and the same value as Webflow returns it after a write, ``keys[i] == api_key(field, returned)``.
The user-facing rules are in ``docs/field-types.md``.

The generic parsers (cell kinds, numbers, dates) live in ``convert/cells.py``. Everything works
on whole columns; per-cell Python runs only for typed XLSX cells that need it, for error messages,
and to build per-row lists for the multi-value types.
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csvsync.convert.cells import (
    BOOL,
    DATE,
    DATE_RANGE,
    DATETIME,
    EMPTY,
    NUM,
    STR,
    TIME,
    BoolArray,
    ObjArray,
    as_floats,
    as_object,
    check_date_format,
    classify,
    date_key,
    date_out_of_range,
    escaped,
    format_has_time,
    iso_key,
    number_key,
    number_values,
    parse_date_text,
    parse_number_text,
    printable,
    quote,
    text_column,
    to_float,
    typed_dates,
    typed_text,
    underflows,
    zone,
)
from csvsync.convert.richtext import canonical_html
from csvsync.models import FIELD_TYPES, FILE_TYPES, TEXT_TYPES, FieldOptions, RefTarget, SchemaField

__all__ = [
    "MAX_TEXT_LENGTH",
    "Converted",
    "api_key",
    "check_mappable",
    "cleared_value",
    "convert_column",
    "date_key",
]

# Webflow documents no hard limit; a cell this long is a broken export, not content.
MAX_TEXT_LENGTH = 1_000_000
MULTI_TYPES = frozenset({"MultiImage", "MultiReference"})
# MultiImage keys join URLs with a space: a URL cannot hold a raw space.
MULTI_IMAGE_KEY_SEPARATOR = " "
MULTI_REFERENCE_KEY_SEPARATOR = ","


@dataclass
class Converted:
    """A converted column; every Series shares the input's index."""

    values: pd.Series  # object: JSON-ready API value per row; None where empty or invalid
    keys: pd.Series  # object: canonical comparison key per row; None where empty or invalid
    errors: pd.Series  # object: None, or a short reason naming the value
    empty: pd.Series  # bool: the cell was empty
    date_only: pd.Series | None = None  # DateTime only: the cell gave a date without a time


class _Result:
    """Per-row output arrays, filled mask by mask."""

    def __init__(self, n: int, empty: BoolArray) -> None:
        self.values: ObjArray = np.full(n, None, dtype=object)
        self.keys: ObjArray = np.full(n, None, dtype=object)
        self.errors: ObjArray = np.full(n, None, dtype=object)
        self.empty = empty

    def ok(self, mask: BoolArray, values: Any, keys: Any = None) -> None:
        self.values[mask] = values
        self.keys[mask] = values if keys is None else keys

    def fail(self, mask: BoolArray, message: Callable[[Any], str], shown: Any) -> None:
        """Mark rows as invalid; ``message`` gets the displayed value of each failing row."""
        if not mask.any():
            return
        self.values[mask] = None
        self.keys[mask] = None
        # Cached per distinct value; the type is part of the key because True == 1 == 1.0.
        cache: dict[tuple[type, Any], str] = {}
        texts = []
        for value in np.asarray(shown, dtype=object)[mask]:
            try:
                text = cache.get((type(value), value))
                if text is None:
                    text = cache[(type(value), value)] = message(value)
            except TypeError:  # unhashable cell
                text = message(value)
            texts.append(text)
        self.errors[mask] = texts

    def build(self, index: pd.Index, date_only: BoolArray | None = None) -> Converted:
        return Converted(
            values=pd.Series(self.values, index=index, dtype=object),
            keys=pd.Series(self.keys, index=index, dtype=object),
            errors=pd.Series(self.errors, index=index, dtype=object),
            empty=pd.Series(self.empty, index=index, dtype=bool),
            date_only=None if date_only is None else pd.Series(date_only, index=index, dtype=bool),
        )


Converter = Callable[
    [SchemaField, FieldOptions, pd.Series, np.ndarray, Mapping[str, RefTarget]], Converted
]


def _validations(field: SchemaField) -> dict[str, Any]:
    return field.validations or {}


def _stripped(
    cells: pd.Series, kinds: np.ndarray, typed_as_text: bool = True
) -> tuple[pd.Series, BoolArray]:
    """Text of every cell, stripped; a whitespace-only cell counts as empty.

    With ``typed_as_text=False`` typed cells read as "" (their converter uses the typed value)
    but do not count as empty: rendering 100,000 numbers as text only to ignore it is slow.
    """
    if typed_as_text:
        text = text_column(cells, kinds).str.strip()
        return text, (text == "").to_numpy(dtype=bool)
    is_text = kinds == STR
    if is_text.all():
        text = cells.str.strip()
    else:
        text = pd.Series("", index=cells.index, dtype=object)
        if is_text.any():
            text[is_text] = cells[is_text].str.strip()
    return text, (kinds == EMPTY) | (is_text & (text == "").to_numpy(dtype=bool))


def _shown(cells: pd.Series, text: pd.Series, kinds: np.ndarray) -> ObjArray:
    """What an error message quotes: the stripped text of text cells, else the typed value."""
    return np.where(kinds == STR, text.to_numpy(dtype=object), cells.to_numpy(dtype=object))


# --- text ----------------------------------------------------------------------------------


def _text(
    field: SchemaField,
    options: FieldOptions,
    cells: pd.Series,
    kinds: np.ndarray,
    refs: Mapping[str, RefTarget],
) -> Converted:
    # Text is kept exactly as written: surrounding spaces and newlines are content.
    return _checked_text(field, text_column(cells, kinds), cells.index)


def _rich_text(
    field: SchemaField,
    options: FieldOptions,
    cells: pd.Series,
    kinds: np.ndarray,
    refs: Mapping[str, RefTarget],
) -> Converted:
    """HTML as written; a cell of plain text (no tag) with line breaks becomes paragraphs, one
    per line, so an editor's Alt+Enter lines show as lines on the page."""
    text = text_column(cells, kinds)
    plain = text.str.contains(r"[\r\n]", regex=True) & ~text.str.contains(_TAG, regex=True)
    if plain.any():
        text = text.copy()
        text[plain] = [plain_paragraphs(t) for t in text[plain]]
    return _checked_text(field, text, cells.index, canonical_html)


_TAG = r"<[A-Za-z!/]"


def plain_paragraphs(text: str) -> str:
    """``a\nb`` -> ``<p>a</p><p>b</p>``: each non-blank line a paragraph, ``&<>`` escaped."""
    lines = (line.strip() for line in re.split(r"\r\n|\r|\n", text))
    return "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines if line)


def _checked_text(
    field: SchemaField,
    text: pd.Series,
    index: pd.Index,
    key: Callable[[str], str] | None = None,
) -> Converted:
    """Length rules; ``key`` turns a value into its comparison key (RichText: canonical)."""
    cells = text.to_numpy(dtype=object)
    length = np.fromiter(map(len, cells), dtype=np.int64, count=len(text))
    empty = length == 0
    res = _Result(len(text), empty)
    rules = _validations(field)
    max_len = MAX_TEXT_LENGTH
    if isinstance(rules.get("maxLength"), int):
        max_len = min(max_len, rules["maxLength"])
    min_len: int = rules["minLength"] if isinstance(rules.get("minLength"), int) else 0
    too_long = ~empty & (length > max_len)
    too_short = ~empty & (length < min_len)
    good = ~empty & ~too_long & ~too_short
    values = cells[good]
    res.ok(good, values, None if key is None else [key(v) for v in values])
    res.fail(
        too_long,
        lambda v: f"{quote(v)} is {len(v):,} characters long; the limit is {max_len:,}",
        text,
    )
    res.fail(
        too_short,
        lambda v: f"{quote(v)} is {len(v)} characters long; the minimum is {min_len}",
        text,
    )
    return res.build(index)


# --- pattern-checked strings -----------------------------------------------------------------

# Never part of an address, a URL or a color: control characters (tabs and line breaks too),
# and the invisible ones (zero-width, bidirectional overrides) that make a link read as another.
_HIDDEN_CHARS = "\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
_HIDDEN = re.compile(f"[{_HIDDEN_CHARS}]")
_SPACES = " \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"  # the spaces that are none of those
_EMAIL_MAX = 254  # RFC 5321: the longest address a mail server takes


def _pattern(body: str, limit: int = MAX_TEXT_LENGTH) -> re.Pattern[str]:
    # The length limit as a lookahead: one pass in C, not another pass of pandas per cell.
    return re.compile(rf"(?=.{{1,{limit}}}\Z)(?:{body})", re.IGNORECASE | re.DOTALL)


# Every pattern runs in linear time and refuses the hidden characters itself (one fullmatch per
# cell on the common path): a cell may hold a million characters, and an ambiguous pattern (the
# old email one on "x@" and 20,000 dots) took seconds per cell.
_EMAIL = _pattern(
    rf"[^@\s{_HIDDEN_CHARS}]+@[^@\s.{_HIDDEN_CHARS}]+(?:\.[^@\s.{_HIDDEN_CHARS}]+)+", _EMAIL_MAX
)
# Webflow documents Phone and Link values as strings and nothing more (docs/field-rules.md):
# any text goes, as written, but for the hidden characters, csvsync's own guard (a link that
# reads as another, a number that dials another).
_ANY_TEXT = _pattern(f"[^{_HIDDEN_CHARS}]+")
_VISIBLE = rf"[^\s{_HIDDEN_CHARS}]"
_URL = rf"https?://[^\s/?#@{_HIDDEN_CHARS}]+(?:@[^\s/?#@{_HIDDEN_CHARS}]+)?(?:[/?#]{_VISIBLE}*)?"
_HTTP_URL = _pattern(_URL)
_CSS_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?(?:%|deg|rad|grad|turn)?"
_CSS_GAP = rf"[{_SPACES}]*[,/][{_SPACES}]*|[{_SPACES}]+"
_COLOR = _pattern(
    r"#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})"
    rf"|(?:rgba?|hsla?)\([{_SPACES}]*{_CSS_NUMBER}(?:(?:{_CSS_GAP}){_CSS_NUMBER}){{2,3}}"
    rf"[{_SPACES}]*\)"
)
# CSS Color Module Level 4 named colors.
CSS_COLOR_NAMES = frozenset(
    """aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue
    blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk
    crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki
    darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
    darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue
    dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro
    ghostwhite gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo
    ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
    lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen
    lightskyblue lightslategray lightslategrey lightsteelblue lightyellow lime limegreen
    linen magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple
    mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred
    midnightblue mintcream mistyrose moccasin navajowhite navy oldlace olive olivedrab
    orange orangered orchid palegoldenrod palegreen paleturquoise palevioletred papayawhip
    peachpuff peru pink plum powderblue purple rebeccapurple red rosybrown royalblue
    saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue
    slategray slategrey snow springgreen steelblue tan teal thistle tomato turquoise violet
    wheat white whitesmoke yellow yellowgreen transparent""".split()  # noqa: SIM905
)

_PATTERN_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "Email": (_EMAIL, "is not an email address (name@example.com)"),
    "Phone": (_ANY_TEXT, "is not a phone number"),
    "Link": (_ANY_TEXT, "is not a link"),
    "VideoLink": (_HTTP_URL, "is not a video link (an http(s) URL, e.g. YouTube or Vimeo)"),
    "Color": (
        _COLOR,
        "is not a color (#RGB, #RRGGBB, #RRGGBBAA, rgb(), rgba(), hsl(), hsla(), a CSS name)",
    ),
    "Image": (_HTTP_URL, "is not an http(s) URL of an image"),
    "File": (_HTTP_URL, "is not an http(s) URL of a file"),
}


_WHAT = {
    "Email": "email address",
    "Phone": "phone number",
    "Link": "link",
    "VideoLink": "video link",
    "Color": "color",
    "Image": "URL",
    "File": "URL",
}


def _matches(field_type: str, text: pd.Series) -> BoolArray:
    pattern = _PATTERN_RULES[field_type][0]
    good = text.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False, copy=True)
    if field_type == "Color":
        good |= text.str.lower().isin(CSS_COLOR_NAMES).to_numpy(dtype=bool)
    return good


def _pattern_error(field_type: str, value: str) -> str:
    """Why a stripped text cell failed ``_matches``: per failing cell, for its message."""
    what = _WHAT[field_type]
    limit = _EMAIL_MAX if field_type == "Email" else MAX_TEXT_LENGTH
    if len(value) > limit:
        why = " for an email address (RFC 5321)" if field_type == "Email" else ""
        return f"{quote(value)} is {len(value):,} characters long; the limit is {limit:,}{why}"
    hidden = _HIDDEN.search(value)
    if hidden is not None:
        return (
            f"{quote(value)} holds an invisible or control character "
            f"({escaped(hidden.group())}), which no {what} "
            "may contain: delete it"
        )
    return f"{quote(value)} {_PATTERN_RULES[field_type][1]}"


def _patterned(
    field: SchemaField,
    options: FieldOptions,
    cells: pd.Series,
    kinds: np.ndarray,
    refs: Mapping[str, RefTarget],
) -> Converted:
    text, empty = _stripped(cells, kinds)
    res = _Result(len(text), empty)
    good = ~empty & _matches(field.type, text)
    strings = text.to_numpy()[good]
    if field.type in ("Image", "File"):
        res.ok(good, [{"url": url} for url in strings], strings)
    else:
        res.ok(good, strings)
    res.fail(~empty & ~good, lambda v: _pattern_error(field.type, v), text)
    return res.build(cells.index)


# --- numbers -------------------------------------------------------------------------------


def _number(
    field: SchemaField,
    options: FieldOptions,
    cells: pd.Series,
    kinds: np.ndarray,
    refs: Mapping[str, RefTarget],
) -> Converted:
    text, empty = _stripped(cells, kinds, typed_as_text=False)
    shown = _shown(cells, text, kinds)
    n = len(text)
    res = _Result(n, empty)
    x = np.full(n, np.nan)
    is_text = (kinds == STR) & ~empty
    shaped = np.zeros(n, dtype=bool)
    if is_text.any():
        parsed, ok = parse_number_text(text[is_text], options.decimal)
        x[is_text] = parsed
        shaped[is_text] = ok
    is_num = kinds == NUM
    if is_num.any():
        x[is_num] = as_floats(cells[is_num])
        shaped |= is_num
    res.fail(is_text & ~shaped, _not_a_number(options.decimal), text)
    res.fail(kinds == BOOL, lambda v: f"{quote(v)} is a true/false cell, not a number", cells)
    res.fail(
        ~empty & ~is_text & ~is_num & (kinds != BOOL),
        lambda v: f"{quote(v)} is not a number",
        cells,
    )
    with np.errstate(invalid="ignore"):
        bad = shaped & ~np.isfinite(x)
    res.fail(bad, _out_of_range, shown)
    if is_text.any():
        # "1e-400" reads as 0.0: a float cannot hold it, and 0 is not what the cell says.
        tiny = np.zeros(n, dtype=bool)
        tiny[is_text] = underflows(text[is_text], x[is_text])
        tiny &= shaped & ~bad
        res.fail(tiny, _suffix(_UNDERFLOW), shown)
        bad |= tiny
    good = shaped & ~bad
    good &= _number_rules(field, x, good, res, shown)
    if good.any():
        values, keys = number_values(x[good])
        res.ok(good, values, keys)
    return res.build(cells.index)


# Numbers go to Webflow as JSON, which interoperates as IEEE doubles (RFC 8259, section 6).
_NON_FINITE_TEXT = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_OVERFLOW = "is too large for a number (beyond ±1.8e308, the largest double-precision number)"
_NON_FINITE = "is not a finite number (Webflow takes finite numbers only)"
_UNDERFLOW = (
    "is too close to zero for a number: it would be sent as 0 (nonzero numbers start at 5e-324); "
    "write 0 if you mean zero"
)


def _not_a_number(decimal: str) -> Callable[[Any], str]:
    def message(value: Any) -> str:
        if _NON_FINITE_TEXT.fullmatch(str(value)):
            return f"{quote(value)} {_NON_FINITE}"
        return f"{quote(value)} is not a number (decimal mark '{decimal}')"

    return message


def _out_of_range(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{quote(value)} {_NON_FINITE}"  # a typed inf: no text could overflow to it
    return f"{quote(value)} {_OVERFLOW}"


def _number_rules(
    field: SchemaField, x: np.ndarray, good: BoolArray, res: _Result, shown: ObjArray
) -> BoolArray:
    """Apply the schema's Number validations; returns the rows that pass."""
    rules = _validations(field)
    passed = np.ones(len(x), dtype=bool)
    checks: list[tuple[BoolArray, str]] = []
    with np.errstate(invalid="ignore"):
        if rules.get("format") == "integer":
            checks.append((np.floor(x) != x, "is not a whole number (the field takes integers)"))
        if rules.get("allowNegative") is False:
            checks.append((x < 0, "is negative (the field does not allow negative numbers)"))
        if rules.get("allowZero") is False:
            checks.append((x == 0, "is zero (the field does not allow zero)"))
        low, high = rules.get("minValue"), rules.get("maxValue")
        if isinstance(low, int | float) and not isinstance(low, bool):
            checks.append((x < low, f"is below the minimum {number_key(float(low))}"))
        if isinstance(high, int | float) and not isinstance(high, bool):
            checks.append((x > high, f"is above the maximum {number_key(float(high))}"))
    for broken, reason in checks:
        failing = good & passed & broken
        res.fail(failing, _suffix(reason), shown)
        passed &= ~failing
    return passed


def _suffix(reason: str) -> Callable[[Any], str]:
    return lambda value: f"{quote(value)} {reason}"


# --- switch --------------------------------------------------------------------------------

_TRUE_WORDS = ("true", "yes", "1")
_FALSE_WORDS = ("false", "no", "0")


def _switch(
    field: SchemaField,
    options: FieldOptions,
    cells: pd.Series,
    kinds: np.ndarray,
    refs: Mapping[str, RefTarget],
) -> Converted:
    text, empty = _stripped(cells, kinds, typed_as_text=False)
    words: dict[str, bool] = dict.fromkeys(_TRUE_WORDS, True) | dict.fromkeys(_FALSE_WORDS, False)
    # Configured words win over the defaults (a sheet may use "0" for yes, however odd).
    words |= {w.strip().lower(): True for w in options.true_values if w.strip()}
    words |= {w.strip().lower(): False for w in options.false_values if w.strip()}
    found = np.full(len(text), None, dtype=object)
    is_text = (kinds == STR) & ~empty
    if is_text.any():
        found[is_text] = text[is_text].str.lower().map(words).to_numpy(dtype=object)
    is_bool = kinds == BOOL
    if is_bool.any():
        found[is_bool] = cells[is_bool].to_numpy(dtype=bool).astype(object)
    is_num = kinds == NUM
    if is_num.any():
        # A number cell holding 1 or 0 (numpy compares; Series.map would hash an int of 400
        # digits into a float index on pandas 2 and raise OverflowError).
        x = as_floats(cells[is_num])
        flags = np.full(len(x), None, dtype=object)
        flags[x == 1], flags[x == 0] = True, False
        found[is_num] = flags
    good = ~empty & ~pd.isna(found)
    res = _Result(len(text), empty)
    flags = found[good].astype(bool)
    res.ok(good, flags.astype(object), np.where(flags, "true", "false").astype(object))
    accepted = ", ".join(
        dict.fromkeys([*_TRUE_WORDS, *_FALSE_WORDS, *options.true_values, *options.false_values])
    )
    res.fail(
        ~empty & ~good,
        lambda v: f"{quote(v)} is not a yes/no value (use one of: {accepted})",
        _shown(cells, text, kinds),
    )
    return res.build(cells.index)


# --- dates ---------------------------------------------------------------------------------


def _datetime(
    field: SchemaField,
    options: FieldOptions,
    cells: pd.Series,
    kinds: np.ndarray,
    refs: Mapping[str, RefTarget],
) -> Converted:
    tz = options.timezone or "UTC"
    zone(tz)  # an unknown zone is a mapping error: raise before touching any row
    if options.date_format:
        check_date_format(options.date_format)  # so is a pattern strptime refuses
    text, empty = _stripped(cells, kinds, typed_as_text=False)
    n = len(text)
    iso = np.full(n, None, dtype=object)
    date_only = np.zeros(n, dtype=bool)
    is_text = (kinds == STR) & ~empty
    if is_text.any():
        iso[is_text], date_only[is_text] = parse_date_text(text[is_text], options.date_format, tz)
    typed = (kinds == DATETIME) | (kinds == DATE)
    if typed.any():
        iso[typed] = typed_dates(cells.to_numpy()[typed], tz)
        date_only[kinds == DATE] = True
    good = ~empty & ~pd.isna(iso)
    res = _Result(n, empty)
    res.ok(good, iso[good])
    if options.date_format:
        expected = f"expected {options.date_format}"
        if not format_has_time(options.date_format):
            expected += ", a date"
    else:
        expected = "expected ISO 8601, e.g. 2024-05-01 or 2024-05-01T10:30:00+02:00"

    def message(value: Any) -> str:
        outside = date_out_of_range(value, options.date_format, tz)
        if outside is not None:
            return f"{quote(value)} is {outside}; {DATE_RANGE}"
        return f"{quote(value)} is not a valid date ({expected})"

    res.fail(kinds == TIME, lambda v: f"{quote(v)} is a time without a date", cells)
    res.fail(~empty & ~good & (kinds != TIME), message, _shown(cells, text, kinds))
    date_only &= good
    return res.build(cells.index, date_only)


# --- options -------------------------------------------------------------------------------


def _option(
    field: SchemaField,
    options: FieldOptions,
    cells: pd.Series,
    kinds: np.ndarray,
    refs: Mapping[str, RefTarget],
) -> Converted:
    text, empty = _stripped(cells, kinds)
    choices = [o for o in _validations(field).get("options") or [] if isinstance(o, dict)]
    by_name: dict[str, str] = {}
    for o in choices:
        by_name.setdefault(str(o.get("name", "")).strip().lower(), str(o.get("id", "")))
    by_id = {str(o.get("id")): str(o.get("id")) for o in choices if o.get("id")}
    found = text.str.lower().map(by_name).to_numpy(dtype=object, copy=True)
    missing = pd.isna(found)
    if missing.any():
        found[missing] = text[missing].map(by_id).to_numpy(dtype=object)
    found = _composed_retry(
        text,
        ~empty & pd.isna(found),
        found,
        lambda t: t.str.lower().map(
            {unicodedata.normalize("NFC", k): v for k, v in reversed(by_name.items())}
        ),
    )
    good = ~empty & ~pd.isna(found)
    res = _Result(len(text), empty)
    res.ok(good, found[good])
    names = [str(o.get("name", "")) for o in choices]
    listed = ", ".join(printable(n[:60]) for n in names[:5]) + (
        f", … ({len(names)} in all)" if len(names) > 5 else ""
    )
    lowered = {name.lower(): name for name in names}
    label = printable(field.display_name)

    def message(value: Any) -> str:
        close = difflib.get_close_matches(str(value).lower()[:200], list(lowered), n=1)
        hint = f"; did you mean {quote(lowered[close[0]])}?" if close else ""
        return f"{quote(value)} is not an option of {label}{hint} (options: {listed})"

    res.fail(~empty & ~good, message, text)
    return res.build(cells.index)


def _composed_retry(
    text: pd.Series, missing: BoolArray, found: ObjArray, look_up: Callable[[pd.Series], pd.Series]
) -> ObjArray:
    """Look the missing cells up again in Unicode's composed form (NFC), when it differs.

    "Cafe" + a combining accent (as macOS may paste it) and "Café" look the same and are
    one name; the lookups compare exact text, so only the misses pay for this.
    """
    if not missing.any():
        return found
    composed = text[missing].str.normalize("NFC")
    differs = (composed != text[missing]).to_numpy(dtype=bool)
    if differs.any():
        rows = np.flatnonzero(missing)[differs]
        found[rows] = look_up(composed[differs]).to_numpy(dtype=object)
    return found


# --- references ----------------------------------------------------------------------------

_ITEM_ID = re.compile(r"[0-9a-f]{24}")


def _resolve(
    parts: pd.Series, field: SchemaField, options: FieldOptions, refs: Mapping[str, RefTarget]
) -> tuple[ObjArray, ObjArray]:
    """Item id (or None) and error (or None) for each stripped, non-empty reference text."""
    if len(parts) >= _DEDUP_MIN_ROWS:
        # References repeat (a collection of 100,000 rows may point at 50 authors).
        codes, uniques = pd.factorize(parts.to_numpy(dtype=object))
        if len(uniques) <= len(parts) * _DEDUP_MAX_RATIO:
            found, errors = _resolve_distinct(
                pd.Series(uniques, dtype=object), field, options, refs
            )
            return found[codes], errors[codes]
    return _resolve_distinct(parts, field, options, refs)


def _resolve_distinct(
    parts: pd.Series, field: SchemaField, options: FieldOptions, refs: Mapping[str, RefTarget]
) -> tuple[ObjArray, ObjArray]:
    by = options.by
    if by not in (None, "id", "slug", "name"):
        raise ValueError(f"by must be id, slug or name, not {by!r}")
    n = len(parts)
    found = np.full(n, None, dtype=object)
    errors = np.full(n, None, dtype=object)
    target = refs.get(str(_validations(field).get("collectionId") or ""))
    if target is None:
        if by in (None, "id"):
            looks_like_id = parts.str.fullmatch(_ITEM_ID).to_numpy(dtype=bool, na_value=False)
            found[looks_like_id] = parts.to_numpy()[looks_like_id]
        reason = (
            "is not an item id (24 hex digits); the referenced collection's items are not "
            "loaded, so slugs and names cannot be resolved"
        )
        for i in np.flatnonzero(pd.isna(found)).tolist():
            errors[i] = f"{quote(parts.iat[i])} {reason}"
        return found, errors

    def fill(table: Mapping[str, str], lower: bool = False) -> None:
        # Each pass only sees the texts still unresolved. Plain dict.get beats Series.map(dict)
        # here: map copies the whole table (all items of the target collection) into a Series.
        miss = pd.isna(found)
        if miss.any():
            texts = parts[miss]
            if lower:
                texts = texts.str.lower()
            found[miss] = _objects([table.get(t) for t in texts.tolist()])

    if by in (None, "id"):
        fill({i: i for i in target.ids} if len(target.ids) < len(parts) else _IdTable(target.ids))
    if by in (None, "slug"):
        fill(target.by_slug)
        fill(target.by_slug, lower=True)
    if by in (None, "name"):
        fill(target.by_name, lower=True)
    if by != "id":

        def composed(texts: pd.Series) -> pd.Series:
            hits = []
            for t in texts.tolist():  # the few misses whose composed form differs
                hit = None
                if by in (None, "slug"):
                    hit = target.by_slug.get(t) or target.by_slug.get(t.lower())
                if hit is None and by in (None, "name"):
                    hit = target.by_name.get(t.lower())
                hits.append(hit)
            return pd.Series(hits, dtype=object)

        found = _composed_retry(parts, pd.isna(found), found, composed)
    missing = pd.isna(found)
    found[missing] = None
    for i in np.flatnonzero(missing).tolist():
        value = str(parts.iat[i])
        what = by or ("id" if _ITEM_ID.fullmatch(value) else "slug or name")
        errors[i] = f"no item with {what} {quote(value)} in the referenced collection"
    return found, errors


class _IdTable(Mapping[str, str]):
    """A set of ids seen as the identity mapping, without copying it."""

    def __init__(self, ids: frozenset[str]) -> None:
        self._ids = ids

    def __getitem__(self, key: str) -> str:
        if key in self._ids:
            return key
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def _reference(
    field: SchemaField,
    options: FieldOptions,
    cells: pd.Series,
    kinds: np.ndarray,
    refs: Mapping[str, RefTarget],
) -> Converted:
    text, empty = _stripped(cells, kinds)
    res = _Result(len(text), empty)
    live = ~empty
    ids, errors = _resolve(text[live], field, options, refs)
    rows = np.flatnonzero(live)
    ok = pd.isna(errors)
    res.values[rows[ok]] = ids[ok]
    res.keys[rows[ok]] = ids[ok]
    res.errors[rows[~ok]] = errors[~ok]
    return res.build(cells.index)


def _split(text: pd.Series, empty: BoolArray, separator: str) -> tuple[pd.Series, np.ndarray]:
    """Non-blank stripped parts of multi-value cells and the row position each came from.

    Parts come out in row order (explode keeps it), so each row's parts are one contiguous run.
    """
    rows = np.flatnonzero(~empty)
    # Plain comprehensions: pandas' .str.split/.explode/.str.strip wrap each call in a lambda.
    lists = [cell.split(separator) for cell in text.to_numpy(dtype=object)[rows].tolist()]
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    flat = np.array([p.strip() for parts in lists for p in parts] or [], dtype=object)
    owner = np.repeat(rows, lengths)
    keep = flat != ""
    return pd.Series(flat[keep], dtype=object), owner[keep]


def _runs(owner: np.ndarray, items: ObjArray) -> tuple[np.ndarray, list[list[Any]]]:
    """Rows that own parts, and each such row's items as a list (``owner`` is sorted)."""
    rows, starts, counts = np.unique(owner, return_index=True, return_counts=True)
    flat = items.tolist()
    return rows, [flat[a : a + c] for a, c in zip(starts.tolist(), counts.tolist(), strict=True)]


def _objects(items: list[Any]) -> ObjArray:
    # np.array(list_of_lists) would build a 2-D array when the lists have equal lengths.
    return np.fromiter(items, dtype=object, count=len(items))


def _multi(
    field: SchemaField,
    options: FieldOptions,
    cells: pd.Series,
    kinds: np.ndarray,
    refs: Mapping[str, RefTarget],
) -> Converted:
    separator = options.separator or ";"
    text, empty = _stripped(cells, kinds)
    parts, owner = _split(text, empty, separator)
    has_parts = np.zeros(len(text), dtype=bool)
    has_parts[owner] = True
    res = _Result(len(text), empty | ~has_parts)  # "; ;" holds nothing
    if field.type == "MultiReference":
        items, errors = _resolve(parts, field, options, refs)
    else:
        good = _matches("Image", parts)
        items = parts.to_numpy(dtype=object)
        errors = np.full(len(parts), None, dtype=object)
        for i in np.flatnonzero(~good).tolist():
            errors[i] = _pattern_error("Image", parts.iat[i])
    failed = ~pd.isna(errors)
    keep = np.ones(len(parts), dtype=bool)
    if failed.any():
        # One message per row, naming its first two bad parts.
        bad_rows, messages = _runs(owner[failed], errors[failed])
        res.errors[bad_rows] = _objects(
            [
                "; ".join(m[:2]) + (f" (and {len(m) - 2} more)" if len(m) > 2 else "")
                for m in messages
            ]
        )
        keep &= ~np.isin(owner, bad_rows)
    if field.type == "MultiReference":
        # A repeated reference is one reference: Webflow stores a set, in the order given.
        pairs = pd.DataFrame({"row": owner, "id": items})
        keep &= ~pairs.duplicated().to_numpy(dtype=bool)
    rows, groups = _runs(owner[keep], items[keep])
    if field.type == "MultiReference":
        res.values[rows] = _objects(groups)
        res.keys[rows] = [MULTI_REFERENCE_KEY_SEPARATOR.join(g) for g in groups]
    else:
        res.values[rows] = _objects([[{"url": url} for url in g] for g in groups])
        res.keys[rows] = [MULTI_IMAGE_KEY_SEPARATOR.join(g) for g in groups]
    return res.build(cells.index)


_CONVERTERS: dict[str, Converter] = {
    "PlainText": _text,
    "RichText": _rich_text,
    "Email": _patterned,
    "Phone": _patterned,
    "Link": _patterned,
    "VideoLink": _patterned,
    "Color": _patterned,
    "Image": _patterned,
    "File": _patterned,
    "Number": _number,
    "Switch": _switch,
    "DateTime": _datetime,
    "Option": _option,
    "Reference": _reference,
    "MultiReference": _multi,
    "MultiImage": _multi,
}


# --- public API ----------------------------------------------------------------------------


def convert_column(
    field: SchemaField, options: FieldOptions, cells: pd.Series, refs: Mapping[str, RefTarget]
) -> Converted:
    """Convert one column of sheet cells for ``field``; see the module docstring.

    Raises ValueError for a field ``check_mappable`` refuses by type, an unknown time zone, an
    invalid ``decimal`` or ``by`` option: those are mapping errors, not row errors.
    """
    converter = _CONVERTERS.get(field.type)
    if converter is None:
        reason = check_mappable(field, localized=False) or f"unknown field type {field.type!r}"
        raise ValueError(f"field '{field.slug}': {reason}")
    cells = as_object(cells)
    kinds = classify(cells)
    n = len(cells)
    if n >= _DEDUP_MIN_ROWS and converter is not _text and (kinds == STR).all():
        # Sheets repeat values (options, switches, prices, dates, references): convert each
        # distinct text once. Only all-text columns: factorize would merge True, 1 and 1.0.
        # Not plain texts: their check is column-wise already, and names or descriptions are
        # mostly distinct, so hashing them to find repeats would cost more than it saves.
        codes, uniques = pd.factorize(cells.to_numpy(dtype=object))
        if len(uniques) <= n * _DEDUP_MAX_RATIO:
            distinct = pd.Series(uniques, dtype=object)
            part = converter(field, options, distinct, kinds[: len(uniques)], refs)
            return _expand(part, codes, cells.index)
    return converter(field, options, cells, kinds, refs)


_DEDUP_MIN_ROWS = 64
_DEDUP_MAX_RATIO = 0.9


def _expand(part: Converted, codes: np.ndarray, index: pd.Index) -> Converted:
    """Spread the conversion of distinct values back over the rows (values are shared objects)."""

    def take(series: pd.Series, dtype: Any) -> pd.Series:
        return pd.Series(series.to_numpy(dtype=dtype)[codes], index=index, dtype=dtype)

    return Converted(
        values=take(part.values, object),
        keys=take(part.keys, object),
        errors=take(part.errors, object),
        empty=take(part.empty, bool),
        date_only=None if part.date_only is None else take(part.date_only, bool),
    )


def api_key(field: SchemaField, value: Any) -> str:
    """Canonical key of a value as the Webflow API returns it; "" for null/empty/missing."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    kind = field.type
    if kind in TEXT_TYPES:
        text = value if isinstance(value, str) else typed_text(value)
        return canonical_html(text) if kind == "RichText" else text
    if isinstance(value, list):
        return _list_key(kind, value)
    if isinstance(value, dict):
        url = value.get("url")
        return "" if url is None else str(url).strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "Number":
        if isinstance(value, int | float):
            return number_key(to_float(value))
        try:
            return number_key(float(str(value).strip()))
        except ValueError:
            return str(value).strip()
    text = str(value).strip()
    if kind == "Switch" and text.lower() in ("true", "false"):
        return text.lower()
    if kind == "DateTime" and text:
        return iso_key(text)
    if kind == "MultiImage" and text:
        return _list_key(kind, [text])
    return text


def _list_key(kind: str, items: list[Any]) -> str:
    parts = []
    for item in items:
        part = item.get("url") if isinstance(item, dict) and kind == "MultiImage" else item
        if isinstance(item, dict) and kind != "MultiImage":
            part = item.get("id") or item.get("url")
        if part is not None and str(part).strip():
            parts.append(str(part).strip())
    if kind == "MultiImage":
        return MULTI_IMAGE_KEY_SEPARATOR.join(parts)
    return MULTI_REFERENCE_KEY_SEPARATOR.join(parts)


def cleared_value(field: SchemaField) -> Any:
    """The value that clears ``field``: an empty list for multi-value fields, else None."""
    return [] if field.type in MULTI_TYPES else None


def check_mappable(field: SchemaField, localized: bool) -> str | None:
    """Why ``field`` cannot be mapped (with ``localized: true`` if set), or None if it can."""
    if field.type == "ExtFileRef":
        return "ExtFileRef fields are undocumented in Webflow's API, so csvsync cannot write them"
    if field.type == "User":
        return "User fields are read-only in Webflow's API"
    if field.type not in FIELD_TYPES or field.type not in _CONVERTERS:
        return f"csvsync does not know the field type {field.type!r}"
    if not field.editable:
        return f"field '{field.slug}' is not editable (read-only in Webflow)"
    if localized and field.type in FILE_TYPES:
        return (
            f"{field.type} field '{field.slug}' cannot be localized: "
            "Webflow's API does not localize images or files; drop localized: true"
        )
    return None

"""Column-wise parsing of sheet cells into plain values: the building blocks of ``to_api.py``.

This module owns the type-agnostic machinery the field converters share: sorting a column's cells
by the Python type the sheet reader gave them (CSV: all ``str``; XLSX: whatever Excel stored),
turning typed cells into text, and the vectorized parsers for numbers (with the mapping's
``decimal`` rule) and dates (``date_format`` or ISO 8601, then the field's time zone, then UTC).
Nothing here knows about Webflow's schema; ``to_api.py`` maps field types onto these parsers.

Every parser works on whole columns with pandas/numpy operations and drops to per-cell Python
only for cells the fast path cannot handle (typed XLSX cells that need ``isinstance``, dates
outside pandas' timestamp range), because the performance target is 100,000 rows x ~10 fields in
about a second.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd

# Cell kinds, as small ints so masks are cheap numpy comparisons.
EMPTY, STR, BOOL, NUM, DATETIME, DATE, TIME, OTHER = range(8)

_TYPE_KINDS: dict[type, int] = {
    str: STR,
    np.str_: STR,
    bool: BOOL,
    np.bool_: BOOL,
    int: NUM,
    float: NUM,
    np.int64: NUM,
    np.int32: NUM,
    np.float64: NUM,
    np.float32: NUM,
    dt.datetime: DATETIME,
    pd.Timestamp: DATETIME,
    dt.date: DATE,
    dt.time: TIME,
}

BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

# Above 2**53 a float no longer holds every integer, so "integral" stops meaning "exact int".
_MAX_EXACT_INT = 2.0**53


def _kind_of(value: object) -> int:
    # Slow path for subclasses and numpy scalar types the table does not list.
    if isinstance(value, str):
        return STR
    if isinstance(value, bool | np.bool_):
        return BOOL
    if isinstance(value, int | float | np.integer | np.floating):
        return NUM
    if isinstance(value, dt.datetime):
        return DATETIME
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, dt.time):
        return TIME
    return OTHER


def as_object(cells: pd.Series) -> pd.Series:
    """The column as an object Series (pandas 3 reads CSV text as its own ``str`` dtype)."""
    if cells.dtype == object:
        return cells
    return cells.astype(object)


def classify(cells: pd.Series) -> npt.NDArray[np.int8]:
    """Kind code per cell; ``EMPTY`` for None/NaN/NaT (``""`` is left to the caller)."""
    n = len(cells)
    if pd.api.types.infer_dtype(cells, skipna=False) in ("string", "empty"):
        return np.full(n, STR, dtype=np.int8)
    mapped = cells.map(type).map(_TYPE_KINDS)
    kinds = mapped.to_numpy(dtype=float, na_value=np.nan, copy=True)
    unknown = np.isnan(kinds)
    if unknown.any():
        kinds[unknown] = [_kind_of(v) for v in cells.to_numpy()[unknown]]
    out = kinds.astype(np.int8)
    out[pd.isna(cells).to_numpy()] = EMPTY
    return out


def typed_text(value: object) -> str:
    """Text of a typed XLSX cell, as an editor would read it in the sheet."""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"  # how Excel shows a boolean cell
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        x = float(value)
        if x.is_integer() and abs(x) < _MAX_EXACT_INT:
            return str(int(x))  # Excel stores every number as a float; 12.0 was typed as 12
        return repr(x)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def text_column(cells: pd.Series, kinds: npt.NDArray[np.int8]) -> pd.Series:
    """Every cell as ``str``: text as is, typed cells via ``typed_text``, empty cells as ``""``."""
    text = cells.copy()
    empty = kinds == EMPTY
    if empty.any():
        text[empty] = ""
    typed = (kinds != STR) & ~empty
    if typed.any():
        text[typed] = [typed_text(v) for v in cells.to_numpy()[typed]]
    return text


def quote(value: object, limit: int = 60) -> str:
    """A cell value for an error message: quoted, shortened, one line."""
    text = value if isinstance(value, str) else typed_text(value)
    text = text.replace("\r", " ").replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


# --- numbers -------------------------------------------------------------------------------

_SIGN = r"[+-]?"
_EXP = r"(?:[eE][+-]?\d+)?"


def _number_pattern(decimal: str) -> re.Pattern[str]:
    if decimal == ".":
        grouped = r"\d{1,3}(?:,\d{3})+(?:\.\d*)?"
        plain = r"(?:\d+(?:\.\d*)?|\.\d+)" + _EXP
    else:
        # The same group character throughout one number (\1): "1.234 567" is no number.
        grouped = r"\d{1,3}([. \u00a0\u202f])\d{3}(?:\1\d{3})*(?:,\d*)?"
        plain = r"(?:\d+(?:,\d*)?|,\d+)" + _EXP
    return re.compile(f"{_SIGN}(?:{grouped}|{plain})")


_NUMBER_PATTERNS = {d: _number_pattern(d) for d in (".", ",")}
_GROUP_CHARS = {".": r"[,]", ",": r"[. \u00a0\u202f]"}


def check_decimal(decimal: str) -> None:
    if decimal not in _NUMBER_PATTERNS:
        raise ValueError(f"decimal must be '.' or ',', not {decimal!r}")


def parse_number_text(text: pd.Series, decimal: str) -> tuple[npt.NDArray[np.float64], BoolArray]:
    """Parse stripped text cells as numbers; returns (value, matched-the-number-shape)."""
    check_decimal(decimal)
    shaped = text.str.fullmatch(_NUMBER_PATTERNS[decimal]).to_numpy(dtype=bool, na_value=False)
    values = np.full(len(text), np.nan)
    if shaped.any():
        plain = text[shaped].str.replace(_GROUP_CHARS[decimal], "", regex=True)
        if decimal == ",":
            plain = plain.str.replace(",", ".", regex=False)
        try:
            # astype(float) parses with Python's float(), exact to the last bit; pd.to_numeric's
            # fast parser is not (it reads "0.30000000000000004" as 0.3), so an exported value
            # would not read back as itself.
            values[shaped] = plain.to_numpy(dtype=object).astype(float)
        except ValueError:
            values[shaped] = pd.to_numeric(plain, errors="coerce").to_numpy(dtype=float)
    return values, shaped


def number_values(x: npt.NDArray[np.float64]) -> tuple[ObjArray, ObjArray]:
    """JSON values and keys of finite floats: integral ones become ints ("12", not "12.0")."""
    integral = (np.floor(x) == x) & (np.abs(x) < _MAX_EXACT_INT)
    values = x.astype(object)
    keys = np.empty(len(x), dtype=object)
    if integral.any():
        ints = x[integral].astype(np.int64)
        values[integral] = ints.astype(object)
        keys[integral] = ints.astype(str).astype(object)
    frac = ~integral
    if frac.any():
        keys[frac] = [repr(v) for v in x[frac].tolist()]
    return values, keys


def number_key(x: float) -> str:
    """The canonical key of one number; must agree with ``number_values``."""
    if math.isfinite(x) and x.is_integer() and abs(x) < _MAX_EXACT_INT:
        return str(int(x))
    return repr(float(x))


# --- dates ---------------------------------------------------------------------------------

_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
# An offset only ever follows a time ("2024-05-01" must not read as offset -01).
_TRAILING_OFFSET = re.compile(r":\d{2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$")
# strptime directives that carry a time of day (or a whole date-and-time, %c).
_TIME_DIRECTIVE = re.compile(r"%[-#]?[HIMSfpXcTRrlk]")
_OFFSET_DIRECTIVE = re.compile(r"%[-#]?[zZ]")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from exc


def format_has_time(date_format: str) -> bool:
    return bool(_TIME_DIRECTIVE.search(date_format))


def _iso_ms(utc: pd.Series) -> ObjArray:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for a tz-aware or naive-UTC datetime Series (NaT -> None)."""
    if isinstance(utc.dtype, pd.DatetimeTZDtype):
        utc = utc.dt.tz_convert("UTC").dt.tz_localize(None)
    # Keep pandas' own resolution (us in pandas 3) so years outside the ns range survive.
    raw = np.asarray(utc.to_numpy()).astype("datetime64[ms]")
    text: ObjArray = np.datetime_as_string(raw, unit="ms", timezone="UTC").astype(object)
    text[np.isnat(raw)] = None
    return text


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    if tz == "UTC":
        return naive.dt.tz_localize("UTC")
    # DST: a nonexistent local time (spring gap) moves forward to the first valid instant; an
    # ambiguous one (autumn overlap) takes the first occurrence, i.e. the daylight-saving offset.
    return naive.dt.tz_localize(
        tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )


def _py_iso(moment: dt.datetime, tz: str) -> str | None:
    # Per-cell fallback for datetimes outside pandas' range; fold=0 = first occurrence.
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone(tz))
        utc = moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _py_parse(text: str, date_format: str | None) -> dt.datetime | None:
    try:
        if date_format:
            return dt.datetime.strptime(text, date_format)
        return dt.datetime.fromisoformat(text.upper().replace(",", "."))
    except ValueError:
        return None


def _parse_iso(text: pd.Series, tz: str) -> ObjArray:
    """ISO-UTC-ms strings of ISO-shaped text; lowercase t/z and comma fractions go to the retry."""
    parsed: pd.Series | None
    with warnings.catch_warnings():
        # Mixed offsets: pandas 2 warns and returns objects, pandas 3 raises; both mean "split".
        warnings.simplefilter("ignore", FutureWarning)
        try:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except ValueError:
            parsed = None
    if parsed is not None and isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return _iso_ms(parsed)  # every cell carried an offset
    if parsed is not None and pd.api.types.is_datetime64_dtype(parsed.dtype):
        return _localize_iso(parsed, tz)
    iso = np.full(len(text), None, dtype=object)
    aware = text.str.contains(_TRAILING_OFFSET).to_numpy(dtype=bool, na_value=False)
    with_offset = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
    iso[aware] = _iso_ms(with_offset)
    local = pd.to_datetime(text[~aware], format="ISO8601", errors="coerce")
    iso[~aware] = _localize_iso(local, tz)
    return iso


def _localize_iso(naive: pd.Series, tz: str) -> ObjArray:
    return _iso_ms(_localize(naive, tz))


def parse_date_text(
    text: pd.Series, date_format: str | None, tz: str
) -> tuple[ObjArray, BoolArray]:
    """ISO-UTC-ms strings (None where invalid) and date-only flags for stripped text cells."""
    n = len(text)
    iso = np.full(n, None, dtype=object)
    if n == 0:
        return iso, np.zeros(0, dtype=bool)
    if date_format:
        date_only = np.full(n, not format_has_time(date_format))
        if _OFFSET_DIRECTIVE.search(date_format):
            parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=True)
            iso = _iso_ms(parsed)
        else:
            parsed = pd.to_datetime(text, format=date_format, errors="coerce")
            iso = _iso_ms(_localize(parsed, tz))
        candidates = np.ones(n, dtype=bool)
    else:
        candidates = text.str.fullmatch(_ISO).to_numpy(dtype=bool, na_value=False)
        # The shape check guarantees "YYYY-MM-DD" is 10 characters and anything longer has a time.
        date_only = candidates & (text.str.len().to_numpy() == 10)
        if candidates.any():
            iso[candidates] = _parse_iso(text[candidates], tz)
    retry = candidates & pd.isna(iso)
    if retry.any():
        for i in np.flatnonzero(retry).tolist():
            moment = _py_parse(str(text.iat[i]), date_format)
            iso[i] = None if moment is None else _py_iso(moment, tz)
    return iso, date_only


def typed_dates(values: ObjArray, tz: str) -> ObjArray:
    """ISO-UTC-ms strings of datetime/date cells: naive ones are local times in ``tz``."""
    iso = np.full(len(values), None, dtype=object)
    if not len(values):
        return iso
    aware = np.fromiter(
        (getattr(v, "tzinfo", None) is not None for v in values), dtype=bool, count=len(values)
    )
    naive = ~aware
    if naive.any():
        # A date cell becomes midnight; pandas reads date and datetime objects alike.
        parsed = pd.to_datetime(pd.Series(values[naive], dtype=object), errors="coerce")
        iso[naive] = _iso_ms(_localize(parsed, tz))
    retry = pd.isna(iso) | aware
    for i in np.flatnonzero(retry).tolist():
        v = values[i]
        moment = v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time(0))
        iso[i] = _py_iso(moment, tz)
    return iso


_CANONICAL_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def iso_key(value: str) -> str:
    """Canonical ISO-UTC-ms form of an ISO 8601 string from the API (unparseable: as given)."""
    text = value.strip()
    if _CANONICAL_ISO.fullmatch(text):
        return text
    moment = _py_parse(text.upper(), None)
    if moment is None:
        return text
    return _py_iso(moment, "UTC") or text


def date_key(iso: str, tz: str) -> str:
    """``YYYY-MM-DD`` of an ISO 8601 UTC datetime as seen in time zone ``tz``."""
    moment = _py_parse(iso.strip().upper(), None)
    if moment is None:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(zone(tz)).date().isoformat()
    except OverflowError:
        return moment.date().isoformat()

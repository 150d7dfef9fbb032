"""Column-wise parsing of sheet cells into plain values: the building blocks of ``to_api``.

This module owns the type-agnostic machinery the field converters share: sorting a column's cells
by the Python type the sheet reader gave them (CSV: all ``str``; XLSX: whatever Excel stored),
turning typed cells into text, and the vectorized parsers for numbers (with the mapping's
``decimal`` rule) and dates (``date_format`` or ISO 8601, then the field's time zone, then UTC).
Nothing here knows about Webflow's schema; ``to_api`` maps field types onto these parsers.

Every parser works on whole columns with pandas/numpy operations and drops to per-cell Python
only for cells the fast path cannot handle (typed XLSX cells that need ``isinstance``, dates
outside pandas' timestamp range), because the performance target is 100,000 rows x ~10 fields in
about a second.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import unicodedata
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
        return _int_text(int(value))
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


def _int_text(x: int) -> str:
    try:
        return str(x)
    except ValueError:  # str() refuses ints of more than 4,300 digits; Decimal prints them
        return str(decimal.Decimal(x))


def text_column(cells: pd.Series, kinds: npt.NDArray[np.int8]) -> pd.Series:
    """Every cell as ``str``: text as is, typed cells via ``typed_text``, empty cells as ``""``.

    A column of text only is returned as it is (not a copy): callers do not write to it."""
    if (kinds == STR).all():
        return cells
    text = cells.copy()
    empty = kinds == EMPTY
    if empty.any():
        text[empty] = ""
    typed = (kinds != STR) & ~empty
    if typed.any():
        text[typed] = [typed_text(v) for v in cells.to_numpy()[typed]]
    return text


# Characters a message must not print as they are: line breaks (shown as a space), and control,
# format (zero-width, bidirectional overrides) and lone surrogate characters, shown as escapes
# (\x1b, \u202e) so a cell cannot move the cursor, clear the terminal or reorder the line, and
# an invisible difference ("Red\u200b") becomes visible.
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029]")
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
    "\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)


def escaped(char: str) -> str:
    """One character as a Python-style escape: \\x1b, \\u200b, \\U000e0041."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _escape(match: re.Match[str]) -> str:
    return escaped(match.group())


def printable(text: str) -> str:
    """``text`` on one line, its unprintable characters as escapes (for messages)."""
    return _UNPRINTABLE.sub(_escape, _LINE_BREAKS.sub(" ", text))


def quote(value: object, limit: int = 60) -> str:
    """A cell value for an error message: quoted, shortened, one printable line."""
    text = value if isinstance(value, str) else typed_text(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{printable(text)}'"


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


def as_floats(values: pd.Series) -> npt.NDArray[np.float64]:
    """Typed number cells as floats; an int beyond the float range becomes +/-inf."""
    try:
        return values.to_numpy(dtype=float)
    except OverflowError:  # a Python int above ~1.8e308: per cell, only then
        return np.array([to_float(v) for v in values.tolist()], dtype=float)


def to_float(value: int | float) -> float:
    """``float(value)``, with +/-inf for an int beyond the float range instead of an error."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


_EXPONENT = re.compile(r"[eE][+-]?\d+$")


def underflows(text: pd.Series, values: npt.NDArray[np.float64]) -> BoolArray:
    """Number texts that read as 0 but spell a nonzero number: closer to zero than 5e-324.

    ``text`` holds number-shaped stripped texts and ``values`` what they parsed to. A float
    cannot hold such a value, and 0 is not what the cell says.
    """
    out = np.zeros(len(text), dtype=bool)
    zero = values == 0
    if not zero.any():
        return out
    mantissa = text[zero].str.replace(_EXPONENT, "", regex=True)
    nonzero = mantissa.str.contains("[1-9]", regex=True).to_numpy(
        dtype=bool, na_value=False, copy=True
    )
    # Digits of other scripts ("١e-400"): their zero is not "0", so ask unicodedata, per cell.
    other = ~nonzero & mantissa.str.contains("[^\x00-\x7f]", regex=True).to_numpy(
        dtype=bool, na_value=False
    )
    for i in np.flatnonzero(other).tolist():
        nonzero[i] = any(unicodedata.decimal(c, 0) for c in str(mantissa.iat[i]))
    out[zero] = nonzero
    return out


# --- dates ---------------------------------------------------------------------------------

_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
# LibreOffice writes a date-time cell to CSV as "2024-03-31 2:30:00": a one-digit hour.
_ONE_DIGIT_HOUR = re.compile(r"^(\d{4}-\d{2}-\d{2}[Tt ])(\d:\d{2})")
# A year of five or more digits (ISO 8601's expanded form), refused as after 9999.
_LONG_YEAR = re.compile(r"\+?\d{5,}-\d{2}-\d{2}(?:[Tt ].*)?")
# An offset only ever follows a time ("2024-05-01" must not read as offset -01).
_TRAILING_OFFSET = re.compile(r":\d{2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$")
# strptime directives that carry a time of day (or a whole date-and-time, %c).
_TIME_DIRECTIVE = re.compile(r"%[-#]?[HIMSfpXcTRrlk]")
_OFFSET_DIRECTIVE = re.compile(r"%[-#]?[zZ]")
_OFFSET_SECONDS = re.compile(r"[+-]\d{2}:?\d{2}:?\d{2}(?!\d)")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from exc


def format_has_time(date_format: str) -> bool:
    return bool(_TIME_DIRECTIVE.search(date_format))


# Webflow's dates have four-digit years: what is sent must lie in 1000-01-01 .. 9999-12-31 UTC.
MIN_YEAR, MAX_YEAR = 1000, 9999
_FIRST_MS = np.datetime64("1000-01-01T00:00:00.000", "ms")
_LAST_MS = np.datetime64("9999-12-31T23:59:59.999", "ms")
# Local times this far inside the range are inside it in UTC in every zone (offsets < 1 day);
# pandas localizes them column-wise, the few others go to the per-cell path.
_SAFE_LOCAL = ("1000-01-02", "9999-12-30")
DATE_RANGE = "Webflow takes dates from 1000-01-01 to 9999-12-31 (UTC)"


def _iso_ms(utc: pd.Series) -> ObjArray:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for a tz-aware or naive-UTC datetime Series (NaT -> None).

    Instants outside Webflow's years give None, like NaT.
    """
    if isinstance(utc.dtype, pd.DatetimeTZDtype):
        utc = utc.dt.tz_convert("UTC").dt.tz_localize(None)
    # Keep pandas' own resolution (us in pandas 3) so years outside the ns range survive.
    raw = np.asarray(utc.to_numpy()).astype("datetime64[ms]")
    outside = np.isnat(raw) | (raw < _FIRST_MS) | (raw > _LAST_MS)
    raw[outside] = np.datetime64("NaT", "ms")
    text: ObjArray = np.datetime_as_string(raw, unit="ms", timezone="UTC").astype(object)
    text[outside] = None
    return text


def _inside(naive: pd.Series, first: str, last: str) -> BoolArray:
    """Naive datetimes within [first, last] (NaT: False), compared in the Series' own unit."""
    values = np.asarray(naive.to_numpy())
    if np.datetime_data(values.dtype)[0] == "ns":
        return ~np.isnat(values)  # nanoseconds span 1677-2262 only: all inside
    return (values >= np.datetime64(first).astype(values.dtype)) & (
        values <= np.datetime64(last).astype(values.dtype)
    )


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    if tz == "UTC":
        return naive.dt.tz_localize("UTC")
    # pandas cannot localize a local time whose UTC instant leaves Python's years 1-9999: such
    # cells (near the ends of the range only) become NaT here and take the per-cell path.
    safe = _inside(naive, *_SAFE_LOCAL)
    if not safe.all():
        naive = naive.where(safe)
    # DST: a nonexistent local time (spring gap) moves forward to the first valid instant; an
    # ambiguous one (autumn overlap) takes the first occurrence, i.e. the daylight-saving offset.
    # A ZoneInfo, not the name: pandas 2 reads a name with pytz, whose rules stop in 2037, round
    # local mean time to the minute and may be another tz database release than Python's.
    return naive.dt.tz_localize(
        zone(tz), ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )


def _utc(moment: dt.datetime, tz: str) -> dt.datetime | None:
    """The UTC instant of a cell's datetime (naive: local in ``tz``, fold=0 = first occurrence);
    None when it falls outside Python's years 1-9999."""
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone(tz))
        return moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def _utc_text(utc: dt.datetime) -> str:
    # isoformat pads the year to four digits (strftime's %Y does not, on glibc) and truncates.
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _py_iso(moment: dt.datetime, tz: str) -> str | None:
    # Per-cell fallback for datetimes outside pandas' range or near the ends of Webflow's.
    utc = _utc(moment, tz)
    # A pandas Timestamp (XLSX dates on pandas 2) computes past the year 9999 where Python stops.
    if utc is None or not MIN_YEAR <= utc.year <= MAX_YEAR:
        return None
    return _utc_text(utc)


def _py_parse(text: str, date_format: str | None) -> dt.datetime | None:
    try:
        if date_format:
            return dt.datetime.strptime(text, date_format)
        return dt.datetime.fromisoformat(text.upper().replace(",", "."))
    except (ValueError, re.error):  # re.error: a pattern naming %z twice
        return None


def check_date_format(date_format: str) -> None:
    """Raise ValueError naming the problem when ``date_format`` is no strptime pattern."""
    reason = None
    try:
        with warnings.catch_warnings():
            # Python 3.13 warns of a format with a day but no year; only the format is tested.
            warnings.simplefilter("ignore", DeprecationWarning)
            dt.datetime.strptime("", date_format)
    except ValueError as exc:
        if not str(exc).startswith("time data"):
            reason = str(exc)
    except re.error as exc:
        reason = f"it repeats a directive ({exc.msg})"
    if reason is None:
        try:
            pd.to_datetime(pd.Series(["x"], dtype=object), format=date_format, errors="coerce")
        except (ValueError, re.error) as exc:
            reason = str(exc)
    if reason is not None:
        raise ValueError(
            f"date_format {date_format!r} is not a strptime pattern: {reason} "
            "(e.g. %d.%m.%Y or %Y-%m-%d %H:%M)"
        )


def date_out_of_range(value: object, date_format: str | None, tz: str) -> str | None:
    """Why a date cell that did not convert lies outside Webflow's years, or None.

    For error messages only (per failing cell): "before the year 1000", "after the year 9999
    in UTC", or "0999-12-31T23:06:32.000Z in UTC, before the year 1000" when the cell's own
    year is inside but its instant in UTC is not.
    """
    if isinstance(value, dt.datetime):
        moment: dt.datetime | None = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(0))
    elif isinstance(value, str):
        text = value.strip()
        if not date_format:
            text = _ONE_DIGIT_HOUR.sub(r"\g<1>0\g<2>", text)
            if not _ISO.fullmatch(text):
                return "after the year 9999" if _LONG_YEAR.fullmatch(text) else None
            if int(text[:4]) < MIN_YEAR:  # also year 0000, which Python cannot parse
                return "before the year 1000"
        moment = _py_parse(text, date_format)
    else:
        return None
    if moment is None:
        return None
    if moment.year < MIN_YEAR:
        return "before the year 1000"
    utc = _utc(moment, tz)
    if utc is None:  # past Python's years: the offset moved it over an end (9999 only)
        return "after the year 9999 in UTC"
    if utc.year < MIN_YEAR:
        return f"{_utc_text(utc)} in UTC, before the year 1000"
    if utc.year > MAX_YEAR:  # a pandas Timestamp
        return "after the year 9999 in UTC"
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
            # pandas drops the seconds of an offset such as +005328 (Berlin's local mean time,
            # which export writes for years before 1893); Python's strptime keeps them.
            iso[text.str.contains(_OFFSET_SECONDS).to_numpy(dtype=bool, na_value=False)] = None
        else:
            parsed = pd.to_datetime(text, format=date_format, errors="coerce")
            iso = _iso_ms(_localize(parsed, tz))
        candidates = np.ones(n, dtype=bool)
    else:
        text = text.str.replace(_ONE_DIGIT_HOUR, r"\g<1>0\g<2>", regex=True)
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


_CANONICAL_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def iso_key(value: str) -> str:
    """Canonical ISO-UTC-ms form of an ISO 8601 string from the API (unparseable: as given)."""
    text = value.strip()
    if _CANONICAL_ISO.fullmatch(text):
        return text
    moment = _py_parse(text.upper(), None)
    utc = None if moment is None else _utc(moment, "UTC")
    # Live values are keyed whatever their year; only the sheet's dates are held to Webflow's.
    return text if utc is None else _utc_text(utc)


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

"""Property tests of the field converters (issue 12), with hypothesis.

For every field type csvsync converts: any column of cells (text in any script, typed XLSX cells:
int, float with nan and inf, bool, datetime and date at their extremes, time, None, very long
strings) with any valid mapping options gives, per row, a value with its key, an empty cell or a
one-line row error, never an exception. What it accepts keeps the key contract with
``api_key`` and is valid JSON for Webflow; and the cell ``export`` writes for it reads back as
the same key, unless ``CellMaker`` counted a note for it (docs/field-types.md). Example counts
are kept modest so this file runs in seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ALL_TYPES

from csvsync.convert.cells import format_has_time
from csvsync.convert.to_api import api_key, convert_column, date_key
from csvsync.convert.to_sheet import CellMaker, RefNames
from csvsync.models import FieldOptions, RefTarget, SchemaField

# CSVSYNC_HYPOTHESIS_EXAMPLES=500 for a deeper search than the default run's.
SETTINGS = settings(
    max_examples=int(os.environ.get("CSVSYNC_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

A = "a" * 24
B = "b" * 24
AUTHORS = "authors0000000000000000c"
TARGET = RefTarget(
    ids=frozenset({A, B}),
    by_slug={"jane-doe": A, "bob": B},
    by_name={"jane doe": A, "bob stone": B},
)
REFS = {AUTHORS: TARGET}
REF_NAMES = RefNames(TARGET, slugs={A: "jane-doe", B: "bob"}, names={A: "Jane Doe", B: "Bob Stone"})

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Pacific/Kiritimati",  # +14
    "Etc/GMT+12",  # -12
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # half-hour DST
]
DATE_FORMATS = [
    None,
    "%d.%m.%Y",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%d %B %Y",
    "%y%m%d",
]
CANONICAL = re.compile(r"[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")

# --- cells -----------------------------------------------------------------------------------

DIGITS = "0123456789０１２３４５６７８９٠١٢٣٤٥٦٧٨٩"
digits = st.text(st.sampled_from(DIGITS), min_size=1, max_size=6)
number_texts = st.builds(
    lambda sign, whole, frac, exp: f"{sign}{whole}{frac}{exp}",
    st.sampled_from(["", "-", "+"]),
    digits,
    st.sampled_from(["", ".5", ",25", ".000", ",", "."]),
    st.sampled_from(["", "e3", "E-3", "e400", "e-400", "e-320", "e308", "e-5000"]),
)
grouped_numbers = st.sampled_from(
    ["1,234.5", "1.234,5", "1 234,5", "1\u00a0234", "-0", "+0.0", "0e999", "1e-400", "1e400"]
)
years = st.sampled_from(["0000", "0001", "0999", "1000", "1582", "1900", "2024", "9999"])
iso_texts = st.builds(
    lambda y, md, t, z: f"{y}-{md}{t}{z if t else ''}",
    years,
    st.sampled_from(["01-01", "12-31", "02-29", "05-01", "13-01"]),
    st.sampled_from(["", "T00:00", " 23:59:59", "T10:30:00.123456789", "t02:30", "T23:59:59,999"]),
    st.sampled_from(["", "Z", "z", "+14:00", "-12:00", "+0545", "-01", "+00:00"]),
)
formatted_dates = st.builds(
    lambda d, m, y, hm: f"{d}.{m}.{y}{hm}",
    st.sampled_from(["01", "31", "1"]),
    st.sampled_from(["01", "12"]),
    years,
    st.sampled_from(["", " 23:59", " 00:00 +1400"]),
)
shaped_texts = st.sampled_from(
    [
        "#fff",
        "#12345",
        "rgb(1, 2, 3)",
        "rgb(1..2, 3, 4)",
        "hsl(10deg 20% 30% / 0.5)",
        "Transparent",
        "https://example.com/a b",
        "https://exa\x00mple.com/",
        "http://example.com/\x1b[2J",
        "mailto:a@b.co",
        "tel:+1 555",
        "a@b.co",
        "a@b..co",
        "+1 (555) 010-9999 ext. 12",
        "Red",
        " green ",
        "opt-blue",
        "bob",
        "Jane Doe",
        A,
        "jane-doe;bob;bob",
        ";;",
        "yes",
        "NEIN",
        "nan",
        "inf",
        "-Infinity",
        "TRUE",
        "\u202egnp.exe",
    ]
)
long_texts = st.builds(
    lambda ch, n: ch * n,
    st.sampled_from(["x", "é", "1", "@", ".", " ", "😀"]),
    st.sampled_from([255, 257, 5_000, 1_000_001]),
)
text_cells = st.one_of(
    st.text(max_size=30),
    number_texts,
    grouped_numbers,
    iso_texts,
    formatted_dates,
    shaped_texts,
    long_texts,
)
typed_cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**53 + 1, 2**63, -(2**64), 10**400, -(10**400)]),
    st.floats(),
    st.floats(width=32).map(np.float32),
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
    st.datetimes(min_value=dt.datetime.min, max_value=dt.datetime.max),
    st.datetimes(
        min_value=dt.datetime.min + dt.timedelta(days=2),
        max_value=dt.datetime.max - dt.timedelta(days=2),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-13))]),
    ),
    st.sampled_from([dt.datetime.min, dt.datetime.max, dt.datetime(999, 12, 31, 23, 59)]),
    st.dates(),
    st.times(),
    st.datetimes(min_value=dt.datetime(1678, 1, 1), max_value=dt.datetime(2261, 12, 31)).map(
        pd.Timestamp
    ),
    st.just(float("nan")),
    st.just(pd.NaT),
)
cells = st.one_of(text_cells, typed_cells)


@st.composite
def columns(draw: st.DrawFn) -> list[Any]:
    column = draw(st.lists(cells, min_size=1, max_size=6))
    if draw(st.booleans()):
        column = column * 12  # 64+ rows: the distinct-values path of convert_column
    return column


# --- fields and options ----------------------------------------------------------------------

bounds = st.one_of(
    st.integers(-100, 100), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
)
option_lists = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.one_of(st.sampled_from(["Red", "red", "", " Green ", "opt-red"]), st.text()),
            # Webflow's option ids are hex; a few read like names, to test that export sees it.
            "id": st.one_of(
                st.sampled_from(["opt-red", "Red", "x"]),
                st.from_regex(r"[0-9a-f]{1,8}", fullmatch=True),
            ),
        }
    ),
    max_size=4,
)


def validations(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    if kind == "Number":
        return st.fixed_dictionaries(
            {},
            optional={
                "format": st.sampled_from(["integer", "decimal"]),
                "allowNegative": st.booleans(),
                "allowZero": st.booleans(),
                "minValue": bounds,
                "maxValue": bounds,
            },
        )
    if kind in ("PlainText", "RichText"):
        return st.fixed_dictionaries(
            {}, optional={"maxLength": st.integers(0, 300), "minLength": st.integers(0, 5)}
        )
    if kind == "Option":
        return st.fixed_dictionaries({"options": option_lists})
    if kind in ("Reference", "MultiReference"):
        return st.fixed_dictionaries({}, optional={"collectionId": st.just(AUTHORS)})
    return st.just({})


words = st.lists(st.sampled_from(["Ja", "nein", "1", "0", "yes", " ", "Oui", "x;y"]), max_size=2)
field_options = st.builds(
    FieldOptions,
    decimal=st.sampled_from([".", ","]),
    true_values=words.map(tuple),
    false_values=words.map(tuple),
    date_format=st.sampled_from(DATE_FORMATS),
    timezone=st.sampled_from(ZONES),
    separator=st.sampled_from([";", ",", "|", " / "]),
    by=st.sampled_from([None, "id", "slug", "name"]),
)


def schema(kind: str, rules: dict[str, Any]) -> SchemaField:
    return SchemaField(slug="f", type=kind, display_name="Field", validations=rules)


def echo(kind: str, value: Any) -> Any:
    """The value as Webflow returns it after the write (JSON round trip, files re-hosted)."""
    value = json.loads(json.dumps(value, allow_nan=False))
    if kind in ("Image", "File"):
        return {"fileId": "f" * 24, "url": value["url"], "alt": None}
    if kind == "MultiImage":
        return [{"fileId": "f" * 24, "url": v["url"], "alt": None} for v in value]
    return value


def printable(message: str) -> bool:
    return not any(unicodedata.category(c) == "Cc" for c in message)


def _date_only_format(options: FieldOptions) -> bool:
    return bool(options.date_format) and not format_has_time(options.date_format or "")


# --- the properties --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_TYPES)
@SETTINGS
@given(data=st.data())
def test_any_cell_gives_a_value_or_a_row_error(kind: str, data: st.DataObject) -> None:
    rules = data.draw(validations(kind), label="validations")
    options = data.draw(field_options, label="options")
    column = data.draw(columns(), label="cells")
    f = schema(kind, rules)
    series = pd.Series(column, index=range(10, 10 + len(column)), dtype=object)
    c = convert_column(f, options, series, REFS)
    for part in (c.values, c.keys, c.errors, c.empty):
        assert part.index.equals(series.index)
    assert (c.date_only is not None) == (kind == "DateTime")
    for i in range(len(column)):
        value, key, error = c.values.iat[i], c.keys.iat[i], c.errors.iat[i]
        if error is not None:
            assert isinstance(error, str) and error
            assert value is None and key is None and not c.empty.iat[i]
            assert "\n" not in error and "\r" not in error and printable(error), repr(error)
            continue
        if c.empty.iat[i]:
            assert value is None and key is None
            continue
        assert value is not None and isinstance(key, str), (column[i], value, key)
        json.dumps(value, allow_nan=False)  # Webflow takes JSON: no NaN, no Infinity
        assert api_key(f, echo(kind, value)) == key, (column[i], value)
        if kind == "DateTime":
            assert CANONICAL.fullmatch(value), (column[i], value)
        if kind == "Number":
            assert math.isfinite(value) and abs(value) < 1.8e308


@pytest.mark.parametrize("kind", ALL_TYPES)
@pytest.mark.parametrize("xlsx", [False, True], ids=["csv", "xlsx"])
@SETTINGS
@given(data=st.data())
def test_accepted_values_read_back_from_the_exported_cell(
    kind: str, xlsx: bool, data: st.DataObject
) -> None:
    rules = data.draw(validations(kind), label="validations")
    options = data.draw(field_options, label="options")
    column = data.draw(st.lists(cells, min_size=1, max_size=4), label="cells")
    f = schema(kind, rules)
    c = convert_column(f, options, pd.Series(column, dtype=object), REFS)
    for value, error in zip(c.values, c.errors, strict=True):
        if error is not None or value is None:
            continue
        live = echo(kind, value)
        # export passes the target's names only when the schema names a loaded target
        maker = CellMaker(f, options, xlsx, REF_NAMES if rules.get("collectionId") else None)
        cell = maker.cell(live)
        assert xlsx or cell is None or isinstance(cell, str)
        if maker.problems:
            continue  # export says so in its notes
        again = convert_column(f, options, pd.Series([cell], dtype=object), REFS)
        assert again.errors.iat[0] is None, (value, cell, again.errors.iat[0])
        want = api_key(f, live)
        if kind == "DateTime" and again.date_only is not None and again.date_only.iat[0]:
            # A date-only cell compares by calendar day in the field's zone.
            assert date_key(again.keys.iat[0], options.timezone) == date_key(
                want, options.timezone
            ), (value, cell)
        else:
            assert again.keys.iat[0] == want, (value, cell)


api_values = st.one_of(
    st.none(),
    st.text(max_size=20),
    iso_texts,
    st.sampled_from(
        [
            "0001-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "9999-12-31T23:59:59.999999999Z",
            "0000-01-01T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "1000-01-01T00:00:00.000Z",
        ]
    ),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.just(10**400),
    st.lists(st.one_of(st.text(max_size=5), st.just(A)), max_size=3),
    st.fixed_dictionaries({"url": st.one_of(st.none(), st.text(max_size=10))}),
    st.lists(st.fixed_dictionaries({"url": st.text(max_size=10)}), max_size=2),
)


@pytest.mark.parametrize("kind", ALL_TYPES)
@SETTINGS
@given(data=st.data())
def test_export_never_crashes_on_a_live_value(kind: str, data: st.DataObject) -> None:
    rules = data.draw(validations(kind), label="validations")
    options = data.draw(field_options, label="options")
    value = data.draw(api_values, label="live value")
    f = schema(kind, rules)
    for xlsx in (False, True):
        maker = CellMaker(f, options, xlsx, REF_NAMES)
        cell = maker.cell(value)
        assert cell is None or isinstance(cell, str | bool | int | float | dt.datetime)
        api_key(f, value)


def live_values(kind: str, rules: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values Webflow may hold for a field (set in its editor, not only by csvsync)."""
    if kind in ("PlainText", "RichText"):
        return st.text(min_size=1)
    if kind == "Number":
        return st.one_of(
            st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53)
        )
    if kind == "Switch":
        return st.booleans()
    if kind == "DateTime":
        return st.datetimes(
            min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)
        ).map(lambda d: d.isoformat(timespec="milliseconds") + "Z")
    if kind == "Option":
        ids = [str(o["id"]) for o in rules.get("options", []) if str(o["id"])]
        return st.sampled_from(ids) if ids else st.nothing()
    if kind == "Reference":
        return st.sampled_from([A, B])
    return st.lists(st.sampled_from([A, B]), min_size=1, max_size=2, unique=True)


LIVE_TYPES = ["PlainText", "Number", "Switch", "DateTime", "Option", "Reference", "MultiReference"]


@pytest.mark.parametrize("kind", LIVE_TYPES)
@pytest.mark.parametrize("xlsx", [False, True], ids=["csv", "xlsx"])
@SETTINGS
@given(data=st.data())
def test_live_values_read_back_from_the_exported_cell(
    kind: str, xlsx: bool, data: st.DataObject
) -> None:
    rules = data.draw(validations(kind), label="validations")
    rules.pop("minLength", None), rules.pop("maxLength", None)
    for bound in ("format", "allowNegative", "allowZero", "minValue", "maxValue"):
        rules.pop(bound, None)  # a live value Webflow holds passed its field's rules
    options = data.draw(field_options, label="options")
    live = data.draw(live_values(kind, rules), label="live value")
    f = schema(kind, rules)
    maker = CellMaker(f, options, xlsx, REF_NAMES if rules.get("collectionId") else None)
    cell = maker.cell(live)
    if maker.problems:
        return  # export counts it in its notes
    again = convert_column(f, options, pd.Series([cell], dtype=object), REFS)
    assert again.errors.iat[0] is None, (live, cell, again.errors.iat[0])
    want = api_key(f, live)
    got = again.keys.iat[0]
    if kind == "DateTime" and again.date_only is not None and again.date_only.iat[0]:
        assert date_key(got, options.timezone) == date_key(want, options.timezone), (live, cell)
    else:
        assert got == want, (live, cell)

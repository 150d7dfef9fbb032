"""Field converters: values, keys, errors and the key contract, per Webflow field type."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from support import ALL_TYPES

from csvsync.convert.richtext import canonical_html
from csvsync.convert.to_api import (
    Converted,
    api_key,
    check_mappable,
    cleared_value,
    convert_column,
    date_key,
)
from csvsync.models import FieldOptions, RefTarget, SchemaField

A = "a" * 24
B = "b" * 24
C = "c" * 24
AUTHORS = "authors0000000000000000c"
REFS = {
    AUTHORS: RefTarget(
        ids=frozenset({A, B}),
        by_slug={"jane-doe": A, "bob": B},
        by_name={"jane doe": A, "bob stone": B},
    )
}
OPTIONS = [
    {"name": "Red", "id": "opt-red"},
    {"name": "Green", "id": "opt-green"},
    {"name": "Blue", "id": "opt-blue"},
]


def field(kind: str, **validations: Any) -> SchemaField:
    return SchemaField(slug="f", type=kind, display_name="Field", validations=validations)


def conv(
    kind: str,
    cells: list[Any],
    validations: dict[str, Any] | None = None,
    refs: dict[str, RefTarget] | None = None,
    **options: Any,
) -> Converted:
    return convert_column(
        field(kind, **(validations or {})),
        FieldOptions(**options),
        pd.Series(cells, dtype=object),
        REFS if refs is None else refs,
    )


def one(kind: str, cell: Any, validations: dict[str, Any] | None = None, **options: Any) -> tuple:
    c = conv(kind, [cell], validations, **options)
    return c.values.iat[0], c.keys.iat[0], c.errors.iat[0]


def ok(kind: str, cell: Any, validations: dict[str, Any] | None = None, **options: Any) -> tuple:
    value, key, error = one(kind, cell, validations, **options)
    assert error is None, error
    return value, key


def error(kind: str, cell: Any, validations: dict[str, Any] | None = None, **options: Any) -> str:
    value, key, err = one(kind, cell, validations, **options)
    assert value is None and key is None
    assert isinstance(err, str)
    return err


# --- empty cells -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_empty_cells_are_empty_not_errors(kind: str) -> None:
    cells: list[Any] = ["", None, float("nan"), pd.NaT]
    if kind not in ("PlainText", "RichText"):
        cells += ["   ", "\t"]
    validations = {"options": OPTIONS} if kind == "Option" else {"collectionId": AUTHORS}
    c = conv(kind, cells, validations)
    assert c.empty.tolist() == [True] * len(cells)
    assert c.values.isna().all() and c.keys.isna().all() and c.errors.isna().all()
    assert c.values.dtype == object and c.empty.dtype == bool
    assert (c.date_only is not None) == (kind == "DateTime")


def test_whitespace_is_text_in_text_fields() -> None:
    assert ok("PlainText", "  ") == ("  ", "  ")


def test_output_keeps_the_input_index_and_accepts_pandas_str_dtype() -> None:
    cells = pd.Series(["1", "2,5", ""], index=[7, 8, 9], dtype="str")
    c = convert_column(field("Number"), FieldOptions(decimal=","), cells, {})
    assert list(c.values.index) == [7, 8, 9]
    assert c.values.tolist() == [1, 2.5, None]
    assert c.empty.tolist() == [False, False, True]


def test_empty_column() -> None:
    c = convert_column(field("Number"), FieldOptions(), pd.Series([], dtype=object), {})
    assert len(c.values) == 0


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (" keep  spaces ", " keep  spaces "),
        ("line\nbreak", "line\nbreak"),
        ("<p>Hi</p>", "<p>Hi</p>"),
        (12, "12"),
        (12.0, "12"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        (np.int64(7), "7"),
        (True, "TRUE"),
        (dt.datetime(2024, 5, 1), "2024-05-01"),
        (dt.datetime(2024, 5, 1, 10, 30), "2024-05-01T10:30:00"),
        (dt.date(2024, 5, 1), "2024-05-01"),
    ],
)
@pytest.mark.parametrize("kind", ["PlainText", "RichText"])
def test_text(kind: str, cell: Any, text: str) -> None:
    if kind == "RichText" and cell == "line\nbreak":
        text = "<p>line</p><p>break</p>"  # plain text with line breaks: paragraphs
    # RichText compares in canonical form (spaces collapsed); PlainText exactly.
    key = canonical_html(text) if kind == "RichText" else text
    assert ok(kind, cell) == (text, key)
    assert api_key(field(kind), text) == key


@pytest.mark.parametrize("kind", ["PlainText", "RichText"])
def test_text_length_limits(kind: str) -> None:
    rules = {"maxLength": 5, "minLength": 2}
    assert ok(kind, "abcde", rules) == ("abcde", "abcde")
    assert error(kind, "abcdef", rules) == "'abcdef' is 6 characters long; the limit is 5"
    assert error(kind, "a", rules) == "'a' is 1 characters long; the minimum is 2"


def test_text_over_a_million_characters() -> None:
    err = error("PlainText", "x" * 1_000_001)
    assert "1,000,001 characters long; the limit is 1,000,000" in err
    assert len(err) < 200  # the value is quoted shortened


# --- pattern-checked strings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cell"),
    [
        ("Email", "ann@example.com"),
        ("Email", " ann+tag@mail.example.co.uk "),
        ("Phone", "+1 (555) 123-4567"),
        ("Phone", "030 1234.56 ext 12"),
        ("Phone", "555"),
        # Webflow documents Phone and Link values as strings: any text (docs/field-rules.md).
        ("Phone", "+1 555 0100 ext. 12"),
        ("Phone", "12"),
        ("Phone", "call me"),
        ("Phone", "0800 FLOWERS"),
        ("Phone", "☎ +44 20 7946 0000"),
        ("Link", "https://example.com/a?b=c#d"),
        ("Link", "http://localhost:8080"),
        ("Link", "mailto:ann@example.com"),
        ("Link", "MAILTO:x@example.com?subject=Hi there"),
        ("Link", "tel:+4930123"),
        ("Link", "tel:+1 555"),
        ("Link", "example.com"),
        ("Link", "ftp://example.com"),
        ("Link", "https://"),
        ("Link", "/about#team"),
        ("Link", "https://例え.jp/パス"),
        ("VideoLink", "https://www.youtube.com/watch?v=abc"),
        ("VideoLink", "https://vimeo.com/123"),
        ("Color", "#fff"),
        ("Color", "#FFAA"),
        ("Color", "#12aBef"),
        ("Color", "#12abef80"),
        ("Color", "rgb(255, 0, 0)"),
        ("Color", "rgba(255,0,0,0.5)"),
        ("Color", "rgb(255 0 0 / 50%)"),
        ("Color", "hsl(120, 50%, 50%)"),
        ("Color", "hsla(120deg 50% 50% / .5)"),
        ("Color", "RebeccaPurple"),
        ("Color", "lightgoldenrodyellow"),
        ("Color", "transparent"),
    ],
)
def test_patterned_strings_are_stripped_and_kept(kind: str, cell: str) -> None:
    assert ok(kind, cell) == (cell.strip(), cell.strip())
    assert api_key(field(kind), cell.strip()) == cell.strip()


@pytest.mark.parametrize(
    ("kind", "cell", "reason"),
    [
        ("Email", "ann@example", "is not an email address"),
        ("Email", "ann example.com", "is not an email address"),
        ("VideoLink", "youtube.com/watch", "is not a video link"),
        ("Color", "#ff", "is not a color"),
        ("Color", "#gggggg", "is not a color"),
        ("Color", "blurple", "is not a color"),
        ("Color", "rgb(1,2)", "is not a color"),
        ("Image", "photo.jpg", "is not an http(s) URL of an image"),
        ("File", "ftp://x/y.pdf", "is not an http(s) URL of a file"),
    ],
)
def test_patterned_string_errors_name_the_value(kind: str, cell: str, reason: str) -> None:
    assert error(kind, cell).startswith(f"'{cell}' {reason}")


def test_number_cell_in_phone_column() -> None:
    assert ok("Phone", 4930123456.0) == ("4930123456", "4930123456")


@pytest.mark.parametrize(
    ("kind", "cell", "shown"),
    [
        ("Link", "https://exa\x00mple.com/", "https://exa\\x00mple.com/"),
        ("Link", "https://example.com/\x1b[2J", "https://example.com/\\x1b[2J"),
        ("Link", "https://exam\u200bple.com", "https://exam\\u200bple.com"),
        ("VideoLink", "https://youtu.be/\u202eabc", "https://youtu.be/\\u202eabc"),
        ("Image", "https://x.com/a\x7f.png", "https://x.com/a\\x7f.png"),
        ("Email", "ann@exa\x08mple.com", "ann@exa\\x08mple.com"),
        ("Phone", "555\x1c0100", "555\\x1c0100"),
        ("Color", "#fff\ufeff", "#fff\\ufeff"),
    ],
)
def test_patterned_strings_refuse_control_and_invisible_characters(
    kind: str, cell: str, shown: str
) -> None:
    message = error(kind, cell)
    assert message.startswith(f"'{shown}' holds an invisible or control character (")
    assert message.isprintable()


@pytest.mark.parametrize(
    ("kind", "cell", "reason"),
    [
        ("Email", "a@b..co", "is not an email address"),
        ("Email", "a@.b.co", "is not an email address"),
        ("Email", "a@b.co.", "is not an email address"),
        ("Email", "a" * 250 + "@b.co", "is 255 characters long; the limit is 254 for an email"),
        ("Color", "rgb(1..2, 3, 4)", "is not a color"),
        ("Color", "rgb(1, 2, 3, 4, 5)", "is not a color"),
        ("Color", "rgb(١, ٢, ٣)", "is not a color"),
        (
            "Link",
            "https://" + "x" * 1_000_000,
            "is 1,000,008 characters long; the limit is 1,000,000",
        ),
    ],
)
def test_patterned_strings_hostile_values(kind: str, cell: str, reason: str) -> None:
    assert reason in error(kind, cell)


@pytest.mark.parametrize(
    ("kind", "cell"),
    [
        ("Email", "a@" + "." * 100_000 + "@"),  # took 30 s with the old email pattern
        ("Email", "a@" + "a." * 50_000 + " "),
        ("Color", "rgb(1" + " " * 100_000 + "x"),
        ("Phone", "1 " * 50_000 + "\u200b"),
        ("Link", "http://a@" * 20_000 + " \u202e"),
    ],
)
def test_patterns_take_linear_time_on_long_cells(kind: str, cell: str) -> None:
    import time

    start = time.perf_counter()
    error(kind, cell)
    assert time.perf_counter() - start < 5  # quadratic patterns took 30 s and more


def test_messages_show_unprintable_characters_as_escapes() -> None:
    message = error("Option", "Red\u200b\x1b[31m\nx", {"options": OPTIONS})
    assert message.startswith("'Red\\u200b\\x1b[31m x' is not an option of Field")
    named = [{"name": "Bad\x1b]0;title\x07", "id": "o1"}]
    assert error("Option", "x", {"options": named}).endswith("(options: Bad\\x1b]0;title\\x07)")


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Image", "File"])
def test_file_url(kind: str) -> None:
    url = "https://cdn.example.com/a.png"
    assert ok(kind, f" {url} ") == ({"url": url}, url)
    returned = {"fileId": "f1", "url": url, "alt": None}
    assert api_key(field(kind), returned) == url


def test_multi_image() -> None:
    cell = "https://x.com/a.png; https://x.com/b.png;;"
    value, key = ok("MultiImage", cell)
    assert value == [{"url": "https://x.com/a.png"}, {"url": "https://x.com/b.png"}]
    returned = [
        {"fileId": "1", "url": "https://x.com/a.png"},
        {"fileId": "2", "url": "https://x.com/b.png"},
    ]
    assert (
        key == api_key(field("MultiImage"), returned) == "https://x.com/a.png https://x.com/b.png"
    )
    assert ok("MultiImage", "https://x.com/a.png|https://x.com/b.png", separator="|")[1] == key


def test_multi_image_errors_and_blank_parts() -> None:
    c = conv("MultiImage", ["https://x.com/a.png;nope;also bad;bad3", " ; ", "https://x.com/c.png"])
    assert c.errors.iat[0] == (
        "'nope' is not an http(s) URL of an image; 'also bad' is not an http(s) URL of an image"
        " (and 1 more)"
    )
    assert c.values.iat[0] is None
    assert c.empty.tolist() == [False, True, False]
    assert c.values.iat[2] == [{"url": "https://x.com/c.png"}]


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "decimal", "value"),
    [
        ("12", ".", 12),
        (" 12 ", ".", 12),
        ("12.00", ".", 12),
        ("+12", ".", 12),
        ("-12.5", ".", -12.5),
        ("1,234.50", ".", 1234.5),
        ("1,234,567", ".", 1234567),
        (".5", ".", 0.5),
        ("1e3", ".", 1000),
        ("0.1", ".", 0.1),
        ("12,00", ",", 12),
        ("1.234,50", ",", 1234.5),
        ("1 234,5", ",", 1234.5),
        ("1\u00a0234,5", ",", 1234.5),
        ("1\u202f234\u202f567", ",", 1234567),
        ("1.234.567", ",", 1234567),
        ("-0,25", ",", -0.25),
        ("1.234", ",", 1234),
        ("1,234", ".", 1234),
    ],
)
def test_number_text(cell: str, decimal: str, value: float) -> None:
    got, key = ok("Number", cell, decimal=decimal)
    assert got == value and type(got) is type(value)
    assert key == api_key(field("Number"), value)


@pytest.mark.parametrize(
    ("cell", "decimal"),
    [
        ("1.23,4", ","),
        ("1.5", ","),
        ("1,5", "."),
        ("1,23", "."),
        ("1 234.5", "."),
        ("1.234 567", ","),
        ("12abc", "."),
        ("--1", "."),
        ("1,2,3", ","),
        ("€12", "."),
    ],
)
def test_number_text_errors(cell: str, decimal: str) -> None:
    assert error("Number", cell, decimal=decimal) == (
        f"'{cell}' is not a number (decimal mark '{decimal}')"
    )


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("1e400", "'1e400' is too large for a number (beyond ±1.8e308"),
        ("-1e400", "'-1e400' is too large for a number"),
        ("9" * 400, "'999999999"),
        (10**400, "'1000000000"),  # a typed int beyond the float range (library callers)
        (float("inf"), "'inf' is not a finite number (Webflow takes finite numbers only)"),
        (float("-inf"), "'-inf' is not a finite number"),
        ("nan", "'nan' is not a finite number"),
        ("inf", "'inf' is not a finite number"),
        ("-Infinity", "'-Infinity' is not a finite number"),
        ("1e-400", "'1e-400' is too close to zero for a number: it would be sent as 0"),
        ("-2e-324", "'-2e-324' is too close to zero"),
        ("0." + "0" * 400 + "1", "is too close to zero"),
        ("١e-400", "'١e-400' is too close to zero"),
        ("0,5e-400", "'0,5e-400' is too close to zero"),
    ],
)
def test_number_out_of_range(cell: Any, message: str) -> None:
    decimal = "," if isinstance(cell, str) and "," in cell else "."
    assert message in error("Number", cell, decimal=decimal)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("0e-400", 0), ("-0", 0), ("-0.0", 0), ("٠e-400", 0), ("5e-324", 5e-324), ("1e-320", 1e-320)],
)
def test_number_zero_and_subnormal_are_values(cell: str, value: float) -> None:
    got, key = ok("Number", cell)
    assert got == value and key == api_key(field("Number"), value)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("１２３", 123),
        ("١٢٣", 123),
        ("۱۲۳٫", None),
        ("१२३", 123),
        ("１,２３４.５", 1234.5),
        ("-٣", -3),
    ],
)
def test_number_digits_of_other_scripts(cell: str, value: float | None) -> None:
    if value is None:  # the Arabic decimal separator is not a decimal mark
        assert "is not a number" in error("Number", cell)
    else:
        assert ok("Number", cell) == (value, str(value))


@pytest.mark.parametrize(
    ("cell", "value"),
    [(12, 12), (12.0, 12), (2.5, 2.5), (np.float64(3.0), 3), (np.int64(-4), -4), (0.1, 0.1)],
)
def test_number_typed_cells_bypass_text_rules(cell: Any, value: float) -> None:
    got, key = ok("Number", cell, decimal=",")
    assert got == value and type(got) is type(value)
    assert key == api_key(field("Number"), value)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (True, "'TRUE' is a true/false cell, not a number"),
        (dt.datetime(2024, 5, 1), "'2024-05-01' is not a number"),
    ],
)
def test_number_typed_errors(cell: Any, message: str) -> None:
    assert error("Number", cell) == message


def test_number_keys_agree_for_int_and_float_api_values() -> None:
    f = field("Number")
    assert api_key(f, 12) == api_key(f, 12.0) == ok("Number", "12,00", decimal=",")[1] == "12"
    assert api_key(f, 1234.5) == ok("Number", "1.234,50", decimal=",")[1] == "1234.5"
    assert api_key(f, None) == ""
    assert api_key(f, 2**60) == api_key(f, float(2**60))


@pytest.mark.parametrize(
    ("rules", "cell", "message"),
    [
        ({"format": "integer"}, "2.5", "'2.5' is not a whole number (the field takes integers)"),
        (
            {"allowNegative": False},
            "-1",
            "'-1' is negative (the field does not allow negative numbers)",
        ),
        ({"allowZero": False}, "0", "'0' is zero (the field does not allow zero)"),
        ({"minValue": 5}, "4.5", "'4.5' is below the minimum 5"),
        ({"maxValue": 10.5}, "11", "'11' is above the maximum 10.5"),
        ({"maxValue": 10}, 11.0, "'11' is above the maximum 10"),
    ],
)
def test_number_validations(rules: dict[str, Any], cell: Any, message: str) -> None:
    assert error("Number", cell, rules) == message


def test_number_validations_pass() -> None:
    rules = {
        "format": "integer",
        "allowNegative": False,
        "allowZero": False,
        "minValue": 1,
        "maxValue": 10,
        "precision": None,
    }
    assert ok("Number", "10", rules) == (10, "10")
    assert ok("Number", "-1", {"allowNegative": True}) == (-1, "-1")


# --- switch ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "flag"),
    [
        ("true", True),
        ("TRUE", True),
        (" Yes ", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("0", False),
        (True, True),
        (False, False),
        (np.bool_(True), True),
        (1, True),
        (0.0, False),
    ],
)
def test_switch(cell: Any, flag: bool) -> None:
    value, key = ok("Switch", cell)
    assert value is flag
    assert key == api_key(field("Switch"), flag) == ("true" if flag else "false")


def test_switch_configured_words() -> None:
    opts = {"true_values": ("Ja", "Oui"), "false_values": ("Nein",)}
    assert ok("Switch", "ja", **opts) == (True, "true")
    assert ok("Switch", "OUI", **opts) == (True, "true")
    assert ok("Switch", "nein", **opts) == (False, "false")
    assert ok("Switch", "yes", **opts) == (True, "true")  # defaults still apply


@pytest.mark.parametrize("cell", ["maybe", "2", 2, "y"])
def test_switch_errors_list_the_words(cell: Any) -> None:
    message = error("Switch", cell, true_values=("Ja",))
    assert message == (
        f"'{cell}' is not a yes/no value (use one of: true, yes, 1, false, no, 0, Ja)"
    )


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "tz", "iso", "date_only"),
    [
        ("2024-05-01", "UTC", "2024-05-01T00:00:00.000Z", True),
        ("2024-05-01", "Europe/Berlin", "2024-04-30T22:00:00.000Z", True),
        ("2024-05-01T10:30", "Europe/Berlin", "2024-05-01T08:30:00.000Z", False),
        ("2024-05-01 10:30:00", "America/New_York", "2024-05-01T14:30:00.000Z", False),
        # LibreOffice's CSV form of a date-time cell: a one-digit hour.
        ("2024-03-31 2:30:00", "UTC", "2024-03-31T02:30:00.000Z", False),
        ("2024-05-01 9:05", "Europe/Berlin", "2024-05-01T07:05:00.000Z", False),
        ("2024-05-01T10:30:00.123456", "UTC", "2024-05-01T10:30:00.123Z", False),
        ("2024-05-01T10:30:00,5", "UTC", "2024-05-01T10:30:00.500Z", False),
        ("2024-05-01T10:30:00Z", "Europe/Berlin", "2024-05-01T10:30:00.000Z", False),
        ("2024-05-01t10:30:00z", "Europe/Berlin", "2024-05-01T10:30:00.000Z", False),
        ("2024-05-01T10:30+02:00", "UTC", "2024-05-01T08:30:00.000Z", False),
        ("2024-05-01T10:30:00-0530", "UTC", "2024-05-01T16:00:00.000Z", False),
        ("1500-01-01", "UTC", "1500-01-01T00:00:00.000Z", True),
        ("2999-12-31T23:59:59Z", "UTC", "2999-12-31T23:59:59.000Z", False),
        # DST: a nonexistent local time moves forward; an ambiguous one takes the first (summer).
        ("2024-03-31T02:30", "Europe/Berlin", "2024-03-31T01:00:00.000Z", False),
        ("2024-10-27T02:30", "Europe/Berlin", "2024-10-27T00:30:00.000Z", False),
    ],
)
def test_datetime_iso_text(cell: str, tz: str, iso: str, date_only: bool) -> None:
    c = conv("DateTime", [cell], timezone=tz)
    assert c.errors.iat[0] is None
    assert c.values.iat[0] == c.keys.iat[0] == iso
    assert c.date_only is not None and c.date_only.iat[0] == date_only
    assert api_key(field("DateTime"), iso) == iso


def test_datetime_mixed_offsets_in_one_column() -> None:
    c = conv(
        "DateTime",
        ["2024-05-01", "2024-05-01T10:00Z", "2024-05-01T10:00"],
        timezone="Europe/Berlin",
    )
    assert c.keys.tolist() == [
        "2024-04-30T22:00:00.000Z",
        "2024-05-01T10:00:00.000Z",
        "2024-05-01T08:00:00.000Z",
    ]
    assert c.date_only is not None and c.date_only.tolist() == [True, False, False]


@pytest.mark.parametrize(
    ("cell", "fmt", "iso", "date_only"),
    [
        ("01.05.2024", "%d.%m.%Y", "2024-04-30T22:00:00.000Z", True),
        ("01.05.2024 10:30", "%d.%m.%Y %H:%M", "2024-05-01T08:30:00.000Z", False),
        ("05/01/2024 01:00 PM", "%m/%d/%Y %I:%M %p", "2024-05-01T11:00:00.000Z", False),
        ("2024-05-01 10:30 +0000", "%Y-%m-%d %H:%M %z", "2024-05-01T10:30:00.000Z", False),
        ("01.05.1600", "%d.%m.%Y", "1600-04-30T23:06:32.000Z", True),  # Berlin's LMT offset
    ],
)
def test_datetime_with_format(cell: str, fmt: str, iso: str, date_only: bool) -> None:
    c = conv("DateTime", [cell], date_format=fmt, timezone="Europe/Berlin")
    assert c.errors.iat[0] is None
    assert c.keys.iat[0] == iso
    assert c.date_only is not None and c.date_only.iat[0] == date_only


@pytest.mark.parametrize(
    ("cell", "fmt", "expected"),
    [
        ("2024-02-30", None, "expected ISO 8601, e.g. 2024-05-01 or 2024-05-01T10:30:00+02:00"),
        ("2024", None, "expected ISO 8601"),
        ("20240501", None, "expected ISO 8601"),
        ("May 1st", None, "expected ISO 8601"),
        ("2024-05-01T25:00", None, "expected ISO 8601"),
        ("31.02.2024", "%d.%m.%Y", "expected %d.%m.%Y, a date"),
        ("2024-05-01", "%d.%m.%Y", "expected %d.%m.%Y, a date"),
        ("01.05.2024", "%d.%m.%Y %H:%M", "expected %d.%m.%Y %H:%M"),
    ],
)
def test_datetime_errors_name_value_and_format(cell: str, fmt: str | None, expected: str) -> None:
    message = error("DateTime", cell, date_format=fmt)
    assert message.startswith(f"'{cell}' is not a valid date ({expected}")


@pytest.mark.parametrize(
    ("cell", "iso", "date_only"),
    [
        (dt.datetime(2024, 5, 1, 10, 30), "2024-05-01T08:30:00.000Z", False),
        (dt.datetime(2024, 5, 1), "2024-04-30T22:00:00.000Z", False),  # midnight: still a time
        (pd.Timestamp("2024-05-01 10:30"), "2024-05-01T08:30:00.000Z", False),
        (dt.date(2024, 5, 1), "2024-04-30T22:00:00.000Z", True),
        (dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.UTC), "2024-05-01T10:30:00.000Z", False),
        (pd.Timestamp("2024-05-01T10:30+02:00"), "2024-05-01T08:30:00.000Z", False),
        (dt.datetime(1500, 1, 1, tzinfo=dt.UTC), "1500-01-01T00:00:00.000Z", False),
    ],
)
def test_datetime_typed_cells(cell: Any, iso: str, date_only: bool) -> None:
    c = conv("DateTime", [cell], timezone="Europe/Berlin", date_format="%d.%m.%Y")
    assert c.errors.iat[0] is None
    assert c.keys.iat[0] == iso
    assert c.date_only is not None and c.date_only.iat[0] == date_only


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (dt.time(10, 30), "'10:30:00' is a time without a date"),
        (45000, "'45000' is not a valid date"),
        (True, "'TRUE' is not a valid date"),
    ],
)
def test_datetime_typed_errors(cell: Any, message: str) -> None:
    assert error("DateTime", cell).startswith(message)


def test_error_messages_tell_true_from_one() -> None:
    c = conv("DateTime", [True, 1, 1.0])
    assert [e.split(" is ")[0] for e in c.errors] == ["'TRUE'", "'1'", "'1'"]


def test_datetime_unknown_zone_is_a_mapping_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        conv("DateTime", ["2024-05-01"], timezone="Mars/Olympus")


@pytest.mark.parametrize("fmt", ["%Q", "%", "%d.%m.%Y %", "%d %z %z"])
def test_datetime_bad_date_format_is_a_mapping_error(fmt: str) -> None:
    with pytest.raises(ValueError, match=f"date_format '{fmt}' is not a strptime pattern"):
        conv("DateTime", ["2024-05-01"], date_format=fmt)


RANGE = "Webflow takes dates from 1000-01-01 to 9999-12-31 (UTC)"
BERLIN_NY = {"timezone": "America/New_York"}


@pytest.mark.parametrize(
    ("cell", "options", "says"),
    [
        ("0001-01-01", {}, f"'0001-01-01' is before the year 1000; {RANGE}"),
        ("0999-12-31T23:59:59Z", {}, "'0999-12-31T23:59:59Z' is before the year 1000;"),
        ("0000-01-01", {}, "'0000-01-01' is before the year 1000;"),
        ("0001-01-01T00:00:00-01:00", {}, "is before the year 1000;"),
        ("10000-01-01", {}, f"'10000-01-01' is after the year 9999; {RANGE}"),
        (
            "1000-01-01",
            {"timezone": "Europe/Berlin"},  # local mean time, +00:53:28
            "'1000-01-01' is 0999-12-31T23:06:32.000Z in UTC, before the year 1000;",
        ),
        ("9999-12-31T23:30", BERLIN_NY, "'9999-12-31T23:30' is after the year 9999 in UTC;"),
        ("9999-12-31T23:30-01:00", {}, "is after the year 9999 in UTC;"),
        ("01.01.0999", {"date_format": "%d.%m.%Y"}, "'01.01.0999' is before the year 1000;"),
        ("01.01.0999 +0000", {"date_format": "%d.%m.%Y %z"}, "is before the year 1000;"),
        ("31.12.9999 23:00 -0200", {"date_format": "%d.%m.%Y %H:%M %z"}, "after the year 9999"),
        (dt.datetime(1, 1, 1), {}, "'0001-01-01' is before the year 1000;"),
        (dt.date(999, 12, 31), {}, "'0999-12-31' is before the year 1000;"),
        (dt.datetime(9999, 12, 31, 23, 59), BERLIN_NY, "after the year 9999 in UTC;"),
        (
            dt.datetime(9999, 12, 31, 20, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            {},
            "'9999-12-31T20:00:00-05:00' is after the year 9999 in UTC;",
        ),
    ],
)
def test_dates_outside_webflows_years_are_row_errors(
    cell: Any, options: dict[str, Any], says: str
) -> None:
    assert says in error("DateTime", cell, **options)


@pytest.mark.parametrize(
    ("cell", "options", "iso"),
    [
        ("1000-01-01", {}, "1000-01-01T00:00:00.000Z"),
        ("1000-01-01T00:00:00Z", {"timezone": "Europe/Berlin"}, "1000-01-01T00:00:00.000Z"),
        ("0999-12-31T20:00-05:00", {}, "1000-01-01T01:00:00.000Z"),  # 1000 in UTC
        ("9999-12-31T23:59:59.999999999", {}, "9999-12-31T23:59:59.999Z"),
        ("9999-12-31", {"timezone": "Pacific/Kiritimati"}, "9999-12-30T10:00:00.000Z"),
        ("9999-12-31T18:59", BERLIN_NY, "9999-12-31T23:59:00.000Z"),
        ("31.12.9999", {"date_format": "%d.%m.%Y"}, "9999-12-31T00:00:00.000Z"),
        (dt.datetime(9999, 12, 31, 23, 59, 59, 999999), {}, "9999-12-31T23:59:59.999Z"),
        (dt.datetime(1000, 1, 1, 5), BERLIN_NY, "1000-01-01T09:56:02.000Z"),  # LMT -4:56:02
        (dt.date(9999, 12, 31), {"timezone": "Etc/GMT+12"}, "9999-12-31T12:00:00.000Z"),
    ],
)
def test_dates_at_the_ends_of_webflows_years(cell: Any, options: dict[str, Any], iso: str) -> None:
    assert ok("DateTime", cell, **options)[1] == iso


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/New_York"])
def test_date_extremes_next_to_each_other_in_one_column(tz: str) -> None:
    # Once sent as "1-01-01T…" and refused by Webflow on every run, and a crash of the diff
    # when "0001-01-01" stood next to a nanosecond date in one column.
    cells = ["0001-01-01", "9999-12-31T23:59:59.999999999", "2024-05-01T10:00", ""] * 20
    c = conv("DateTime", [*cells, dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)], timezone=tz)
    errors, keys = c.errors.tolist(), c.keys.tolist()
    assert all("before the year 1000" in e for e in errors[0:80:4] + errors[80:81])
    assert keys[2].startswith("2024-05-01T") and keys[3] is None
    if tz == "America/New_York":  # 23:59:59 local is the year 10000 in UTC
        assert all("after the year 9999 in UTC" in e for e in errors[1:80:4])
    else:
        assert all(k is not None and k.startswith("9999-12-3") for k in keys[1:80:4])
    assert keys[81] is not None and keys[81].startswith("9999-12-3")


def test_datetime_offset_with_seconds_reads_as_python_does() -> None:
    # Berlin's local mean time as export writes it with %z; pandas drops the offset's seconds.
    fmt = "%Y-%m-%d %H:%M:%S %z"
    assert ok("DateTime", "1893-01-01 00:53:28 +005328", date_format=fmt)[1] == (
        "1893-01-01T00:00:00.000Z"
    )


@pytest.mark.parametrize(
    ("returned", "key"),
    [
        ("2024-05-01T00:00:00.000Z", "2024-05-01T00:00:00.000Z"),
        ("2024-05-01T00:00:00Z", "2024-05-01T00:00:00.000Z"),
        ("2024-05-01T02:00:00+02:00", "2024-05-01T00:00:00.000Z"),
        ("2024-05-01T00:00:00.123456Z", "2024-05-01T00:00:00.123Z"),
        ("not a date", "not a date"),
        (None, ""),
        ("", ""),
    ],
)
def test_datetime_api_key_normalizes(returned: Any, key: str) -> None:
    assert api_key(field("DateTime"), returned) == key


@pytest.mark.parametrize(
    ("iso", "tz", "day"),
    [
        ("2024-04-30T22:00:00.000Z", "Europe/Berlin", "2024-05-01"),
        ("2024-04-30T22:00:00.000Z", "UTC", "2024-04-30"),
        ("2024-05-01T03:00:00.000Z", "America/New_York", "2024-04-30"),
    ],
)
def test_date_key(iso: str, tz: str, day: str) -> None:
    assert date_key(iso, tz) == day


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["Red", "red", " RED ", "opt-red"])
def test_option_by_name_or_id(cell: str) -> None:
    assert ok("Option", cell, {"options": OPTIONS}) == ("opt-red", "opt-red")
    assert api_key(field("Option", options=OPTIONS), "opt-red") == "opt-red"


def test_option_did_you_mean() -> None:
    assert error("Option", "Gren", {"options": OPTIONS}) == (
        "'Gren' is not an option of Field; did you mean 'Green'? (options: Red, Green, Blue)"
    )
    assert error("Option", "Purple", {"options": OPTIONS}) == (
        "'Purple' is not an option of Field (options: Red, Green, Blue)"
    )


def test_option_list_is_capped_at_five() -> None:
    many = [{"name": f"Size {i}", "id": f"s{i}"} for i in range(8)]
    message = error("Option", "XL", {"options": many})
    assert message.endswith("(options: Size 0, Size 1, Size 2, Size 3, Size 4, … (8 in all))")


# --- references ------------------------------------------------------------------------------

REF = {"collectionId": AUTHORS}


@pytest.mark.parametrize(
    ("cell", "by", "item"),
    [
        (A, None, A),
        ("jane-doe", None, A),
        ("Jane-Doe", None, A),
        ("Jane Doe", None, A),
        ("bob stone", None, B),
        (A, "id", A),
        ("bob", "slug", B),
        ("BOB STONE", "name", B),
    ],
)
def test_reference_lookup(cell: str, by: str | None, item: str) -> None:
    assert ok("Reference", cell, REF, by=by) == (item, item)
    assert api_key(field("Reference", **REF), item) == item


@pytest.mark.parametrize(
    ("cell", "by", "message"),
    [
        ("nobody", None, "no item with slug or name 'nobody' in the referenced collection"),
        (C, None, f"no item with id '{C}' in the referenced collection"),
        ("jane-doe", "id", "no item with id 'jane-doe' in the referenced collection"),
        ("Jane Doe", "slug", "no item with slug 'Jane Doe' in the referenced collection"),
        (A, "name", f"no item with name '{A}' in the referenced collection"),
    ],
)
def test_reference_not_found(cell: str, by: str | None, message: str) -> None:
    assert error("Reference", cell, REF, by=by) == message


def test_reference_without_loaded_target_accepts_only_ids() -> None:
    c = conv("Reference", [C, "jane-doe"], REF, refs={})
    assert c.values.iat[0] == C
    assert "is not an item id (24 hex digits)" in c.errors.iat[1]


def test_bad_by_option_is_a_mapping_error() -> None:
    with pytest.raises(ValueError, match="by must be id, slug or name"):
        conv("Reference", ["x"], REF, by="title")


def test_multi_reference() -> None:
    c = conv("MultiReference", [f"bob; {A} ;jane-doe;bob", "Jane Doe", " ; "], REF)
    assert c.values.iat[0] == [B, A]  # sheet order, repeats dropped
    returned = [B, A]
    assert c.keys.iat[0] == api_key(field("MultiReference", **REF), returned) == f"{B},{A}"
    assert c.values.iat[1] == [A]
    assert c.empty.tolist() == [False, False, True]
    assert ok("MultiReference", f"bob|{A}", REF, separator="|")[0] == [B, A]


def test_multi_reference_errors() -> None:
    message = error("MultiReference", "bob;ghost", REF)
    assert message == "no item with slug or name 'ghost' in the referenced collection"


# --- api_key, cleared_value, check_mappable --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "key"),
    [
        ("PlainText", None, ""),
        ("PlainText", "", ""),
        ("MultiReference", [], ""),
        ("MultiImage", [], ""),
        ("Image", {"fileId": "1", "url": None}, ""),
        ("Switch", False, "false"),
        ("Switch", "true", "true"),
        ("Number", "12.0", "12"),
        ("Number", float("nan"), ""),
        ("MultiReference", [{"id": A}, B], f"{A},{B}"),
        ("Reference", f" {A} ", A),
        ("Color", "#FFF", "#FFF"),
    ],
)
def test_api_key_shapes(kind: str, value: Any, key: str) -> None:
    assert api_key(field(kind), value) == key


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("MultiReference", []),
        ("MultiImage", []),
        ("PlainText", None),
        ("Number", None),
        ("Switch", None),
        ("Image", None),
        ("Reference", None),
    ],
)
def test_cleared_value(kind: str, value: Any) -> None:
    assert cleared_value(field(kind)) == value


@pytest.mark.parametrize(
    ("schema", "localized", "reason"),
    [
        (SchemaField("x", "ExtFileRef", "X"), False, "undocumented"),
        (SchemaField("x", "User", "X"), False, "read-only"),
        (SchemaField("x", "PlainText", "X", editable=False), False, "not editable"),
        (SchemaField("x", "Image", "X"), True, "Webflow's API does not localize images"),
        (SchemaField("x", "MultiImage", "X"), True, "Webflow's API does not localize images"),
        (SchemaField("x", "File", "X"), True, "Webflow's API does not localize images"),
        (SchemaField("x", "Hologram", "X"), False, "does not know the field type"),
    ],
)
def test_check_mappable_refuses(schema: SchemaField, localized: bool, reason: str) -> None:
    message = check_mappable(schema, localized)
    assert message is not None and reason in message


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_check_mappable_accepts_writable_types(kind: str) -> None:
    assert (
        check_mappable(field(kind), localized=kind not in ("Image", "MultiImage", "File")) is None
    )


@pytest.mark.parametrize("kind", ["ExtFileRef", "User", "Hologram"])
def test_convert_refuses_unwritable_types(kind: str) -> None:
    with pytest.raises(ValueError):
        conv(kind, ["x"])


# --- the key contract, through the value Webflow would send back -----------------------------


def webflow_echo(kind: str, value: Any) -> Any:
    """The value as the API returns it after a write (numbers as floats, files with ids)."""
    if kind == "Number":
        return float(value)
    if kind in ("Image", "File"):
        return {"fileId": "f" * 24, "url": value["url"], "alt": None}
    if kind == "MultiImage":
        return [{"fileId": "f" * 24, "url": v["url"], "alt": None} for v in value]
    return value


@pytest.mark.parametrize(
    ("kind", "cells", "options"),
    [
        ("PlainText", ["Hello ", 12, 2.5, "a\nb"], {}),
        ("Number", ["12", "12,00", "1.234,50", 12, 12.0, 0.1, "-3"], {"decimal": ","}),
        ("Switch", ["ja", "no", True, 0], {"true_values": ("Ja",)}),
        (
            "DateTime",
            ["2024-05-01", "2024-05-01T10:30", dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 10)],
            {"timezone": "Europe/Berlin"},
        ),
        ("Email", [" a@b.co "], {}),
        ("Image", ["https://x.com/a.png"], {}),
        ("MultiImage", ["https://x.com/a.png;https://x.com/b.png"], {}),
        ("Option", ["green"], {}),
        ("Reference", ["bob"], {}),
        ("MultiReference", ["bob;jane-doe"], {}),
    ],
)
def test_key_contract(kind: str, cells: list[Any], options: dict[str, Any]) -> None:
    validations = {"options": OPTIONS} if kind == "Option" else REF
    c = conv(kind, cells, validations, **options)
    assert c.errors.isna().all(), c.errors.tolist()
    f = field(kind, **validations)
    for value, key in zip(c.values, c.keys, strict=True):
        assert key == api_key(f, webflow_echo(kind, value))


# --- large columns (no timing assertions: benchmarks live elsewhere) ---------------------------

N = 100_000


@pytest.mark.parametrize(
    ("kind", "make", "options"),
    [
        ("PlainText", lambda i: f"Name {i}", {}),
        ("Number", lambda i: f"{i},{i % 100:02d}", {"decimal": ","}),
        ("Number", lambda i: float(i) / 4, {}),
        ("Switch", lambda i: ("yes", "no", True)[i % 3], {}),
        (
            "DateTime",
            lambda i: f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}",
            {"timezone": "Europe/Berlin"},
        ),
        ("DateTime", lambda i: dt.datetime(2024, 1, 1) + dt.timedelta(minutes=i), {}),
        ("Option", lambda i: ("Red", "green", "opt-blue")[i % 3], {}),
        ("Reference", lambda i: ("bob", A, "Jane Doe")[i % 3], {}),
        ("MultiReference", lambda i: f"bob;{A}" if i % 2 else "jane-doe", {}),
        ("Image", lambda i: f"https://x.com/{i}.png", {}),
        ("MultiImage", lambda i: f"https://x.com/{i}.png;https://x.com/b.png", {}),
        ("Email", lambda i: f"user{i}@example.com", {}),
    ],
)
def test_large_columns_convert(kind: str, make: Any, options: dict[str, Any]) -> None:
    cells = pd.Series([make(i) for i in range(N)], dtype=object)
    cells.iat[N // 2] = ""  # an empty cell and a bad one in the middle of it all
    cells.iat[N // 3] = "§bad§"
    validations = {"options": OPTIONS} if kind == "Option" else REF
    c = convert_column(field(kind, **validations), FieldOptions(**options), cells, REFS)
    assert len(c.values) == N
    assert c.empty.sum() == 1 and bool(c.empty.iat[N // 2])
    bad = c.errors.notna()
    if kind == "PlainText":
        assert not bad.any()
    else:
        assert bad.sum() == 1 and "'§bad§'" in c.errors.iat[N // 3]
    assert c.values[~bad & ~c.empty].notna().all()
    assert c.keys[~bad & ~c.empty].notna().all()


# --- export of dates at and beyond the ends (to_sheet) -----------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("live", "tz", "fmt", "reads_back"),
    [
        ("1000-01-01T00:00:00.000Z", "UTC", None, True),
        ("1000-01-01T00:00:00.000Z", "America/New_York", None, True),  # 0999 locally: ISO text
        ("1000-01-01T00:00:00.000Z", "America/New_York", "%d.%m.%Y %H:%M", False),
        ("9999-12-31T23:59:59.999Z", "Europe/Berlin", None, True),  # 10000 locally: ISO text
        ("9999-12-31T23:59:59.999Z", "Europe/Berlin", "%d.%m.%Y", False),
        ("9999-12-31T23:59:59.999999999Z", "UTC", "%Y-%m-%d %H:%M:%S.%f", True),
        ("9999-12-31T12:00:00Z", "Pacific/Kiritimati", "%d.%m.%Y", False),  # 01.01.10000
        ("0001-01-01T00:00:00.000Z", "America/New_York", None, False),
        ("0001-01-01T00:00:00Z", "UTC", "%d.%m.%Y", False),
        ("0999-12-31T23:59:59.999Z", "UTC", None, False),
    ],
)
def test_export_of_dates_at_and_beyond_webflows_years(
    tmp_path: Any, suffix: str, live: str, tz: str, fmt: str | None, reads_back: bool
) -> None:
    from csvsync.convert.to_sheet import CellMaker
    from csvsync.sheets.read import read_sheet
    from csvsync.sheets.write import write_table

    f, options = field("DateTime"), FieldOptions(timezone=tz, date_format=fmt)
    maker = CellMaker(f, options, xlsx=suffix == "xlsx")
    cell = maker.cell(live)  # never raises
    path = tmp_path / f"t.{suffix}"
    write_table(path, ["D"], [[cell]], "Items")
    c = convert_column(f, options, read_sheet(path).frame["D"], {})
    if reads_back:
        assert not maker.problems and c.errors.iat[0] is None, (cell, c.errors.iat[0])
        assert c.keys.iat[0] == api_key(f, live)
    else:
        assert maker.problems, cell  # export's notes count it
        if fmt is None and not live.startswith(("1000", "9999")):
            assert "before the year 1000" in c.errors.iat[0]  # written as ISO text in UTC


def test_export_notes_an_option_nothing_reads_back_as() -> None:
    from csvsync.convert.to_sheet import CellMaker

    # The first option's name is blank, so its id is written; but "Red" reads as the second.
    rules = {"options": [{"name": "", "id": "Red"}, {"name": "red", "id": "r2"}, {"id": "x"}]}
    maker = CellMaker(field("Option", **rules), FieldOptions(), xlsx=False)
    assert maker.cell("r2") == "red" and not maker.problems
    assert maker.cell("x") == "x" and not maker.problems
    assert maker.cell("Red") == "Red"
    assert maker.problems == {"has no name or id that reads back as that option": 1}


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_timestamps_past_9999_in_utc_are_row_errors(unit: str) -> None:
    # pandas 2's sheet reader gives XLSX dates as Timestamps of other units than ns; their
    # arithmetic goes past the year 9999, where Python's datetime stops.
    cell = pd.Timestamp("9999-12-31 23:59").as_unit(unit)
    assert "after the year 9999 in UTC" in error("DateTime", cell, timezone="America/New_York")
    assert ok("DateTime", cell)[1] == "9999-12-31T23:59:00.000Z"


@pytest.mark.parametrize(
    ("cell", "tz", "iso"),
    [
        ("1901-01-01T00:00", "Europe/Berlin", "1900-12-31T23:00:00.000Z"),  # CET since 1893
        ("1850-01-15T12:00", "Europe/Berlin", "1850-01-15T11:06:32.000Z"),  # LMT, to the second
        ("1915-06-01T12:00", "Asia/Kathmandu", "1915-06-01T06:18:44.000Z"),
        ("2040-07-01T12:00", "Europe/Berlin", "2040-07-01T10:00:00.000Z"),  # summer time past 2037
        ("2100-07-01T12:00", "America/New_York", "2100-07-01T16:00:00.000Z"),
    ],
)
def test_local_times_take_pythons_zone_rules(cell: str, tz: str, iso: str) -> None:
    # The column-wise path localizes with the ZoneInfo: with a zone's name pandas 2 used pytz
    # (no summer time after 2037, local mean time rounded to the minute).
    column = [cell] * 70 + [dt.datetime.fromisoformat(cell)] * 70
    c = conv("DateTime", column, timezone=tz)
    assert set(c.keys) == {iso}, set(c.keys)


@pytest.mark.parametrize(
    "live",
    ["0000-01-01T23:59:59,999Z", "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "-0001-01-01"],
)
def test_export_of_a_date_python_cannot_read_is_noted(live: str) -> None:
    from csvsync.convert.to_sheet import CellMaker

    for xlsx in (False, True):
        maker = CellMaker(field("DateTime"), FieldOptions(), xlsx=xlsx)
        assert maker.cell(live) == live
        assert maker.problems == {"is not an ISO 8601 date": 1}


def test_option_and_reference_names_match_in_composed_form() -> None:
    # "e" + a combining acute (as macOS may paste it) is the "é" of the option and the author.
    rules = {"options": [{"name": "Café", "id": "o1"}, {"name": "Thé", "id": "o2"}]}
    assert ok("Option", "CAFE\u0301", rules) == ("o1", "o1")
    assert error("Option", "Cafe", rules).startswith("'Cafe' is not an option of Field")
    target = RefTarget(ids=frozenset({A}), by_slug={"jose": A}, by_name={"josé garcía": A})
    refs = {AUTHORS: target}
    for kind, want in (("Reference", A), ("MultiReference", [A])):
        c = conv(kind, ["Jose\u0301 Garci\u0301a"], {"collectionId": AUTHORS}, refs=refs)
        assert c.values.iat[0] == want and c.errors.iat[0] is None
    c = conv("Reference", ["Jose\u0301"], {"collectionId": AUTHORS}, refs=refs, by="id")
    assert c.errors.iat[0] == "no item with id 'Jose\u0301' in the referenced collection"

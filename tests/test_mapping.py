"""The YAML mapping: strings stay strings, errors name the file and line, binding to a site."""

from __future__ import annotations

from pathlib import Path

import pytest

from csvsync.errors import MappingError
from csvsync.mapping.mapping import check_columns, load_mapping, match_locale, resolve
from csvsync.models import Locale, SchemaField

LOCALES = [
    Locale("l-en", "en-US", "English", True),
    Locale("l-fr", "fr-FR", "French", False),
    Locale("l-nb", "nb-NO", "Norwegian", False),
]
SCHEMA = [
    SchemaField("name", "PlainText", "Name", required=True),
    SchemaField("slug", "PlainText", "Slug", required=True),
    SchemaField("price", "Number", "Price"),
    SchemaField("featured", "Switch", "Featured"),
    SchemaField("photo", "Image", "Photo"),
    SchemaField("legacy", "ExtFileRef", "Legacy"),
]

BASE = """\
site: "64f0c0ffee0000000000aaaa"
collection: 64f0c0ffee0000000000bbbb
key:
  column: Item ID
locales:
  en: "{column}"
  fr: "{column} [fr]"
fields:
  name: {column: Name, localized: true}
  price: {column: Price, decimal: ","}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_scalars_stay_strings_except_true_false(tmp_path: Path) -> None:
    text = """\
site: 123456789012345678901234
collection: 000000000000000000000001
key: {column: Item ID}
locales:
  en: "{column}"
  no: "{column} [no]"
fields:
  featured: {column: Featured, true_values: [Ja, Yes], false_values: [Nein, No]}
  name: {column: 2024-01-01, localized: true}
"""
    m = load_mapping(write(tmp_path, text))
    assert m.site == "123456789012345678901234"
    assert m.collection == "000000000000000000000001"
    assert list(m.locales) == ["en", "no"]
    featured = m.fields[0]
    assert featured.options.true_values == ("Ja", "Yes")
    assert featured.options.false_values == ("Nein", "No")
    assert m.fields[1].column == "2024-01-01"
    assert m.fields[1].localized is True


def test_decimal_comma_option(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, BASE))
    assert m.fields[1].options.decimal == ","


@pytest.mark.parametrize(
    ("edit", "line", "needle"),
    [
        (
            ('  price: {column: Price, decimal: ","}', '  price: {column: Price, decimal: ";"}'),
            10,
            "decimal must be",
        ),
        (("key:", "kee:"), 3, "unknown key 'kee'"),
        (("  name: {column: Name, localized: true}", "  name: {colum: Name}"), 9, "colum"),
        (('  en: "{column}"', '  en: "nothing"'), 6, "{column}"),
        (("fields:", "fields: [a"), 9, "invalid YAML"),
        (
            ('  price: {column: Price, decimal: ","}', "  price: {column: Price, empty: wipe}"),
            10,
            "empty must be",
        ),
        (
            (
                '  price: {column: Price, decimal: ","}',
                "  price: {column: Price, timezone: Mars/Base}",
            ),
            10,
            "time zone",
        ),
    ],
)
def test_errors_name_file_and_line(
    tmp_path: Path, edit: tuple[str, str], line: int, needle: str
) -> None:
    path = write(tmp_path, BASE.replace(*edit))
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    text = str(err.value)
    assert f"{path}:{line}" in text or f"line {line}" in text
    assert needle in text
    assert "\n" not in text


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="appears twice"):
        load_mapping(write(tmp_path, BASE + "site: other\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not found"):
        load_mapping(tmp_path / "nope.yaml")


def test_yaml_tags_are_not_executed(tmp_path: Path) -> None:
    text = BASE + "x: !!python/object/apply:os.system ['echo hacked']\n"
    with pytest.raises(MappingError):
        load_mapping(write(tmp_path, text))


def test_locale_matching_rules() -> None:
    assert match_locale("fr", LOCALES) == LOCALES[1]
    assert match_locale("fr-FR", LOCALES) == LOCALES[1]
    assert match_locale("l-nb", LOCALES) == LOCALES[2]
    assert match_locale("de", LOCALES) is None
    two = [*LOCALES, Locale("l-fr-ca", "fr-CA", "Canadian French", False)]
    assert match_locale("fr", two) is None  # ambiguous prefix


def test_resolve_unknown_locale_lists_site_tags(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, BASE.replace('fr: "{column} [fr]"', 'de: "{column} [de]"')))
    with pytest.raises(MappingError) as err:
        resolve(m, LOCALES, SCHEMA)
    assert "locale 'de'" in str(err.value)
    assert "en-US, fr-FR, nb-NO" in str(err.value)
    assert ":7:" in str(err.value)


def test_resolve_unknown_field_suggests(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, BASE.replace("  price:", "  prise:")))
    with pytest.raises(MappingError, match="did you mean 'price'"):
        resolve(m, LOCALES, SCHEMA)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("  legacy: Legacy\n", "ExtFileRef"),
        ("  photo: {column: Photo, localized: true}\n", "does not localize images"),
    ],
)
def test_unmappable_fields_are_refused(tmp_path: Path, line: str, needle: str) -> None:
    m = load_mapping(write(tmp_path, BASE + line))
    with pytest.raises(MappingError, match=needle):
        resolve(m, LOCALES, SCHEMA)


def test_check_columns_did_you_mean_and_allow_missing(tmp_path: Path) -> None:
    r = resolve(load_mapping(write(tmp_path, BASE)), LOCALES, SCHEMA)
    header = ["Item ID", "Name", "Nmae [fr]", "Price"]
    with pytest.raises(MappingError) as err:
        check_columns(r, header, "s.csv", allow_missing=False)
    assert "column 'Name [fr]' is not in s.csv" in str(err.value)
    assert "did you mean 'Nmae [fr]'" in str(err.value)
    assert check_columns(r, header, "s.csv", allow_missing=True) == ["Name [fr]"]
    with pytest.raises(MappingError, match="Item ID"):
        check_columns(r, ["Name", "Name [fr]", "Price"], "s.csv", allow_missing=True)

"""The YAML column mapping: parsing it, and checking it against the site, collection and sheet.

``load_mapping`` turns the file into a ``Mapping`` (structure only, no network). ``resolve``
binds it to the live schema and locales (``ResolvedMapping``), and ``check_columns`` to a sheet's
header. Every error names the mapping file and the YAML line.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csvsync.convert.cells import check_date_format
from csvsync.convert.to_api import check_mappable
from csvsync.errors import MappingError
from csvsync.mapping.yamlload import LineDict, load_yaml
from csvsync.models import ALT_SUFFIX, TEXT_TYPES, FieldOptions, Locale, SchemaField, alt_of

TOP_KEYS = {
    "site",
    "collection",
    "sheet",
    "token_env",
    "token_file",
    "key",
    "layout",
    "locales",
    "locale_column",
    "empty",
    "timezone",
    "fields",
    "separator",
    "decimal",
}
FIELD_KEYS = {
    "column",
    "localized",
    "all_locales",
    "primary_only",
    "empty",
    "decimal",
    "true_values",
    "false_values",
    "date_format",
    "timezone",
    "separator",
    "by",
    "alt",
}
KEY_KEYS = {"column", "field", "create"}
EMPTY_MODES = ("skip", "clear")
_ID_RE = re.compile(r"^[0-9a-f]{24}$")


@dataclass(frozen=True)
class FieldMap:
    """One ``fields:`` entry: which column feeds which field slug, and how."""

    slug: str
    column: str
    localized: bool
    all_locales: bool
    empty: str
    options: FieldOptions
    line: int
    primary_only: bool = False  # written to (and compared in) the primary locale only
    # all_locales by default, not asked for: a field of a non-text type in a multi-locale
    # mapping, which Webflow stores per locale variant (so every locale's page shows it).
    default_all: bool = False
    alt: str | None = None  # Image: the column of its alt text (read per locale, like text)


@dataclass(frozen=True)
class Mapping:
    """The mapping file as written (locale keys not yet matched to the site)."""

    path: Path
    site: str
    collection: str
    sheet: str | None
    key_column: str | None
    key_field: str | None
    layout: str
    locales: dict[str, str]
    locale_column: str | None
    empty: str
    fields: tuple[FieldMap, ...]
    lines: dict[str, int] = field(default_factory=dict)
    # Which token this collection's site uses (tokens are per site; an agency's folder of
    # mappings spans sites): an environment variable's name, or a file (relative to the mapping).
    token_env: str | None = None
    token_file: Path | None = None
    locale_lines: dict[str, int] = field(default_factory=dict)
    # key: {field: slug, create: true}: a key value no item has is a new item (else not found).
    key_create: bool = False

    def where(self, key: str | None = None, line: int | None = None) -> str:
        """``path:line`` for error messages."""
        number = line if line is not None else self.lines.get(key or "", 0)
        return f"{self.path}:{number}" if number else str(self.path)


@dataclass(frozen=True)
class Binding:
    """A mapped field bound to its schema field."""

    map: FieldMap
    schema: SchemaField


@dataclass(frozen=True)
class ResolvedMapping:
    """A mapping bound to the live site locales and collection schema."""

    mapping: Mapping
    locales: tuple[tuple[str, Locale], ...]  # (mapping key, site locale), primary first
    bindings: tuple[Binding, ...]
    schema: tuple[SchemaField, ...]

    @property
    def primary(self) -> Locale:
        for _, loc in self.locales:
            if loc.primary:
                return loc
        return self.locales[0][1]

    def binding(self, slug: str) -> Binding | None:
        for b in self.bindings:
            if b.map.slug == slug:
                return b
        return None

    def columns_for(self, locale_key: str, locale: Locale) -> dict[str, str]:
        """Field slug -> sheet column for one locale (wide layout) or the bare column (long)."""
        m = self.mapping
        out: dict[str, str] = {}
        for b in self.bindings:
            fm = b.map
            if not (fm.localized or fm.all_locales or locale.primary):
                continue
            if m.layout == "long" or fm.all_locales:
                out[fm.slug] = fm.column
            else:
                out[fm.slug] = m.locales[locale_key].format(column=fm.column)
        return out

    def key_column_name(self) -> str:
        """The sheet column that identifies the item in every row."""
        m = self.mapping
        if m.key_column:
            return m.key_column
        b = self.binding(m.key_field or "")
        if b is None:  # checked in resolve()
            raise MappingError(f"{m.where('key')}: key field '{m.key_field}' is not mapped")
        primary_key = next(k for k, loc in self.locales if loc.primary)
        return self.columns_for(primary_key, self.primary)[b.map.slug]

    def required_columns(self) -> list[tuple[str, int]]:
        """Every column the mapping reads, with the YAML line that names it."""
        cols: dict[str, int] = {}
        key_col = self.key_column_name()
        cols[key_col] = self.mapping.lines.get("key", 0)
        if self.mapping.layout == "long" and self.mapping.locale_column:
            cols[self.mapping.locale_column] = self.mapping.lines.get("locale_column", 0)
        for key, loc in self.locales:
            for slug, col in self.columns_for(key, loc).items():
                b = self.binding(slug)
                cols.setdefault(col, b.map.line if b else 0)
        return list(cols.items())


def _err(m_path: Path, line: int, text: str, hint: str | None = None) -> MappingError:
    where = f"{m_path}:{line}" if line else str(m_path)
    return MappingError(f"{where}: {text}", hint)


def _unknown_keys(path: Path, d: LineDict, allowed: set[str], what: str) -> None:
    for key in d:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = (
                f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(sorted(allowed))}"
            )
            raise _err(path, d.lines.get(key, d.line), f"unknown key '{key}' in {what}", hint)


def _str(path: Path, d: LineDict, key: str, default: str | None = None) -> str | None:
    value = d.get(key, default)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise _err(path, d.lines.get(key, d.line), f"'{key}' must be text, not {value!r}")
    return value


def _bool(path: Path, d: LineDict, key: str) -> bool:
    value = d.get(key, False)
    if value == "":
        return False
    if not isinstance(value, bool):
        raise _err(path, d.lines.get(key, d.line), f"'{key}' must be true or false, not '{value}'")
    return value


def _words(path: Path, d: LineDict, key: str) -> tuple[str, ...]:
    value = d.get(key)
    if value is None or value == "":
        return ()
    if isinstance(value, str | bool):
        value = [value]
    if not isinstance(value, list):
        raise _err(path, d.lines.get(key, d.line), f"'{key}' must be a list of words")
    return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in value)


def _timezone(path: Path, line: int, name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _err(
            path,
            line,
            f"unknown time zone '{name}'",
            "use an IANA name such as Europe/Berlin or UTC",
        ) from None
    return name


def _date_format(path: Path, line: int, raw: LineDict) -> str | None:
    """A strptime format: a bad directive (``%Q``) or a repeated one is refused here, once,
    with the mapping's line, not on every cell (``convert.cells.check_date_format`` decides)."""
    fmt = _str(path, raw, "date_format")
    if fmt is None:
        return None
    try:
        check_date_format(fmt)
    except ValueError as exc:
        raise _err(path, line, str(exc)) from None
    return fmt


def _decimal(path: Path, line: int, value: str) -> str:
    if value not in (".", ","):
        raise _err(path, line, f'decimal must be "." or ",", not \'{value}\'')
    return value


def _parse_field(path: Path, slug: str, raw: Any, line: int, defaults: dict[str, str]) -> FieldMap:
    if isinstance(raw, str):
        raw_d = LineDict()
        raw_d["column"] = raw
        raw_d.line = line
        raw = raw_d
    if not isinstance(raw, LineDict):
        raise _err(path, line, f"field '{slug}' must be a column name or a mapping with 'column'")
    _unknown_keys(path, raw, FIELD_KEYS, f"field '{slug}'")
    column = _str(path, raw, "column")
    if not column:
        raise _err(path, line, f"field '{slug}' has no 'column'")
    empty = _str(path, raw, "empty", defaults["empty"]) or "skip"
    if empty not in EMPTY_MODES:
        raise _err(
            path, raw.lines.get("empty", line), f"empty must be skip or clear, not '{empty}'"
        )
    localized = _bool(path, raw, "localized")
    all_locales = _bool(path, raw, "all_locales")
    primary_only = _bool(path, raw, "primary_only")
    alt = _str(path, raw, "alt")
    if localized + all_locales + primary_only > 1:
        raise _err(
            path, line, f"field '{slug}' takes one of localized, all_locales and primary_only"
        )
    tz_line = raw.lines.get("timezone", line)
    by = _str(path, raw, "by")
    if by is not None and by not in ("id", "slug", "name"):
        raise _err(path, raw.lines.get("by", line), f"by must be id, slug or name, not '{by}'")
    options = FieldOptions(
        decimal=_decimal(
            path,
            raw.lines.get("decimal", line),
            _str(path, raw, "decimal", defaults["decimal"]) or ".",
        ),
        true_values=_words(path, raw, "true_values"),
        false_values=_words(path, raw, "false_values"),
        date_format=_date_format(path, raw.lines.get("date_format", line), raw),
        timezone=_timezone(
            path, tz_line, _str(path, raw, "timezone", defaults["timezone"]) or "UTC"
        ),
        separator=_str(path, raw, "separator", defaults["separator"]) or ";",
        by=by,
    )
    return FieldMap(
        slug, column, localized, all_locales, empty, options, line, primary_only=primary_only,
        alt=alt,
    )  # fmt: skip


def load_mapping(path: Path | str) -> Mapping:
    """Read and check the mapping file's structure (no network, no sheet)."""
    path = Path(path)
    data = load_yaml(path)
    if not isinstance(data, LineDict):
        raise MappingError(
            f"{path}: the mapping must be a YAML mapping of keys such as site, collection, fields"
        )
    _unknown_keys(path, data, TOP_KEYS, "the mapping")
    site = _str(path, data, "site")
    collection = _str(path, data, "collection")
    for name, value in (("site", site), ("collection", collection)):
        if not value:
            raise _err(path, data.line, f"'{name}' is missing", f"add '{name}: <{name} id>'")
    layout = _str(path, data, "layout", "wide") or "wide"
    if layout not in ("wide", "long"):
        raise _err(
            path, data.lines.get("layout", 0), f"layout must be wide or long, not '{layout}'"
        )
    empty = _str(path, data, "empty", "skip") or "skip"
    if empty not in EMPTY_MODES:
        raise _err(path, data.lines.get("empty", 0), f"empty must be skip or clear, not '{empty}'")
    defaults = {
        "empty": empty,
        "timezone": _timezone(
            path, data.lines.get("timezone", 0), _str(path, data, "timezone", "UTC") or "UTC"
        ),
        "separator": _str(path, data, "separator", ";") or ";",
        "decimal": _decimal(
            path, data.lines.get("decimal", 0), _str(path, data, "decimal", ".") or "."
        ),
    }
    key_column, key_field, key_create = _parse_key(path, data)
    locales, locale_lines = _parse_locales(path, data, layout)
    locale_column = _str(path, data, "locale_column")
    if layout == "long" and not locale_column:
        raise _err(
            path,
            data.lines.get("layout", 0),
            "a long layout needs 'locale_column'",
            "name the column that holds each row's locale",
        )
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, LineDict) or not raw_fields:
        raise _err(
            path, data.lines.get("fields", data.line), "'fields' must map field slugs to columns"
        )
    parsed = [
        _parse_field(path, slug, raw, raw_fields.lines.get(slug, 0), defaults)
        for slug, raw in raw_fields.items()
    ]
    fields = tuple(parsed + [_alt_field(fm) for fm in parsed if fm.alt])
    return Mapping(
        path=path,
        site=site or "",
        collection=collection or "",
        sheet=_str(path, data, "sheet"),
        key_column=key_column,
        key_field=key_field,
        key_create=key_create,
        layout=layout,
        locales=locales,
        locale_column=locale_column,
        empty=empty,
        fields=fields,
        lines=dict(data.lines),
        locale_lines=locale_lines,
        token_env=_str(path, data, "token_env"),
        token_file=_token_file(path, data),
    )


def _alt_field(fm: FieldMap) -> FieldMap:
    """``alt: COLUMN`` on an Image field: its alt text as a field of its own, read per locale
    (translators translate alt text; Webflow keeps it per locale variant)."""
    return FieldMap(
        f"{fm.slug}{ALT_SUFFIX}", fm.alt or "", True, False, fm.empty,
        replace(fm.options, by=None), fm.line,
    )  # fmt: skip


def _token_file(path: Path, data: LineDict) -> Path | None:
    name = _str(path, data, "token_file")
    if name is None:
        return None
    file = Path(name).expanduser()
    return file if file.is_absolute() else path.parent / file


def _parse_key(path: Path, data: LineDict) -> tuple[str | None, str | None, bool]:
    raw = data.get("key")
    line = data.lines.get("key", data.line)
    if isinstance(raw, str) and raw:
        return raw, None, False
    if not isinstance(raw, LineDict):
        raise _err(
            path, line, "'key' is missing", "add 'key: {column: Item ID}' or 'key: {field: slug}'"
        )
    _unknown_keys(path, raw, KEY_KEYS, "key")
    column = _str(path, raw, "column")
    key_field = _str(path, raw, "field")
    if column and key_field:
        raise _err(
            path, line, "key takes 'column' (item ids) or 'field' (match by a field), not both"
        )
    if not column and not key_field:
        raise _err(path, line, "key needs 'column' or 'field'")
    create = raw.get("create", False)
    if not isinstance(create, bool):
        raise _err(path, raw.lines.get("create", line), "key 'create' must be true or false")
    if create and column:
        raise _err(
            path,
            raw.lines.get("create", line),
            "key 'create' goes with 'field'; under 'column' an empty cell is already a new item",
        )
    return column, key_field, create


def _parse_locales(
    path: Path, data: LineDict, layout: str
) -> tuple[dict[str, str], dict[str, int]]:
    raw = data.get("locales")
    line = data.lines.get("locales", data.line)
    if raw is None or raw == "":
        return {}, {}
    if isinstance(raw, list) and layout == "long":
        return {str(v): "{column}" for v in raw}, {str(v): line for v in raw}
    if not isinstance(raw, LineDict):
        raise _err(path, line, "'locales' must map locale tags to column patterns")
    out: dict[str, str] = {}
    for key, pattern in raw.items():
        pattern = "{column}" if pattern in ("", None) else pattern
        where = raw.lines.get(key, line)
        example = f'e.g. "{{column}} [{key}]"'
        if not isinstance(pattern, str):
            raise _err(path, where, f"locale '{key}': the pattern must be text, {example}")
        fields = _pattern_fields(path, where, key, pattern)
        if layout == "wide" and "column" not in fields:
            raise _err(
                path, where, f"locale '{key}': the pattern must contain {{column}}, {example}"
            )
        out[key] = pattern
    return out, dict(raw.lines)


def _pattern_fields(path: Path, line: int, key: str, pattern: str) -> set[str]:
    """The placeholders of a column pattern: only a plain ``{column}`` is allowed, so that no
    pattern can name another value or build a huge string (``{column:>400000000}``)."""
    hint = 'write literal braces as {{ and }}, e.g. "{column} {{fr}}"'
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise _err(path, line, f"locale '{key}': pattern '{pattern}': {exc}", hint) from None
    found: set[str] = set()
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name != "column" or spec or conversion:
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise _err(
                path,
                line,
                f"locale '{key}': pattern '{pattern}' has {shown}; only {{column}} is replaced",
                hint,
            )
        found.add(name)
    return found


def match_locale(key: str, site_locales: Sequence[Locale]) -> Locale | None:
    """Match a mapping's locale key to a site locale: cmsLocaleId, exact tag, unique prefix."""
    for loc in site_locales:
        if key == loc.cms_locale_id or key.lower() == loc.tag.lower():
            return loc
    prefix = [loc for loc in site_locales if loc.tag.lower().split("-")[0] == key.lower()]
    return prefix[0] if len(prefix) == 1 else None


def resolve(
    mapping: Mapping, site_locales: Sequence[Locale], schema: Sequence[SchemaField]
) -> ResolvedMapping:
    """Bind the mapping to the site's locales and the collection's schema."""
    tags = ", ".join(loc.tag for loc in site_locales)
    locales: list[tuple[str, Locale]] = []
    if not mapping.locales:
        # No ``locales:``: the site's primary locale, read from the bare column names.
        primary_tag = next(loc.tag for loc in site_locales if loc.primary)
        mapping = replace(mapping, locales={primary_tag: "{column}"})
    keys = mapping.locales
    for key in keys:
        loc = match_locale(key, site_locales)
        if loc is None:
            raise _err(
                mapping.path,
                mapping.locale_lines.get(key, mapping.lines.get("locales", 0)),
                f"locale '{key}' is not a locale of site {mapping.site}",
                f"the site has: {tags}",
            )
        if any(loc == seen for _, seen in locales):
            raise _err(
                mapping.path,
                mapping.locale_lines.get(key, 0),
                f"locale '{key}' names {loc.tag} a second time",
            )
        locales.append((key, loc))
    if not any(loc.primary for _, loc in locales):
        primary = next(loc for loc in site_locales if loc.primary)
        raise _err(
            mapping.path,
            mapping.lines.get("locales", 0),
            f"the primary locale {primary.tag} is not mapped",
            f"add '{primary.tag.split('-')[0]}: \"{{column}}\"' under locales",
        )
    locales.sort(key=lambda pair: not pair[1].primary)
    by_slug = {f.slug: f for f in schema}
    bindings = []
    for fm in mapping.fields:
        image = alt_of(fm.slug)
        if image is not None and (by_slug.get(image) is None or by_slug[image].type != "Image"):
            raise _err(
                mapping.path, fm.line,
                f"alt: is for Image fields; '{image}' is not one",
                "MultiImage alt text is kept as it is, image by image",
            )  # fmt: skip
        sf = by_slug.get(fm.slug)
        if sf is None:
            close = difflib.get_close_matches(fm.slug, list(by_slug), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "run `csvsync init` to list them"
            raise _err(
                mapping.path,
                fm.line,
                f"field '{fm.slug}' is not in collection {mapping.collection}",
                hint,
            )
        reason = check_mappable(sf, fm.localized)
        if reason:
            raise _err(mapping.path, fm.line, f"field '{fm.slug}' ({sf.type}): {reason}")
        bindings.append(Binding(_locale_default(fm, sf, len(locales)), sf))
    if mapping.key_field and mapping.key_field not in {b.map.slug for b in bindings}:
        raise _err(
            mapping.path,
            mapping.lines.get("key", 0),
            f"key field '{mapping.key_field}' is not mapped under fields",
        )
    return ResolvedMapping(mapping, tuple(locales), tuple(bindings), tuple(schema))


def _locale_default(fm: FieldMap, sf: SchemaField, locales: int) -> FieldMap:
    """A field that says neither localized, all_locales nor primary_only: a non-text field of a
    multi-locale mapping goes to every locale (Webflow keeps a value per locale variant, and a
    price written to the primary alone leaves the other pages showing the old one); text stays
    with the primary locale, since each locale's words are its own."""
    if locales < 2 or fm.localized or fm.all_locales or fm.primary_only:
        return fm
    if sf.type in TEXT_TYPES:
        return fm
    return replace(fm, all_locales=True, default_all=True)


def check_columns(
    resolved: ResolvedMapping, header: Iterable[str], sheet_name: str, allow_missing: bool
) -> list[str]:
    """Columns the mapping names but the sheet lacks; an error unless ``allow_missing``.

    The key column (and a long layout's locale column) can never be missing. A missing column
    with a near miss among the sheet's unread columns (``Summray [fr]`` for ``Summary [fr]``)
    is an error even with ``allow_missing``: the sheet meant it, and leaving it alone would
    report the run ``unchanged``. The error lists every missing column, not only the first.
    """
    present = [str(c) for c in header]
    present_set = set(present)
    missing = [(c, line) for c, line in resolved.required_columns() if c not in present_set]
    if not missing:
        return []
    unused = unused_columns(resolved, present)
    path = resolved.mapping.path
    near = [(c, line, m) for c, line in missing if (m := near_miss(c, unused)) is not None]
    if near:
        column, line, match = near[0]
        others = "".join(f", '{c}' (sheet: '{m}')" for c, _, m in near[1:])
        raise _err(
            path,
            line,
            f"column '{column}' is not in {sheet_name}, but '{match}' is{others}",
            f"did you mean '{match}'? rename the sheet's column to '{column}'; a near miss is "
            "never left alone, not even with --allow-missing-columns",
        )
    essential = {resolved.key_column_name(), resolved.mapping.locale_column}
    hard = [(c, line) for c, line in missing if not allow_missing or c in essential]
    if hard:
        column, line = hard[0]
        close = difflib.get_close_matches(column, present, n=1, cutoff=0.6)
        if len(hard) == 1:
            text = f"column '{column}' is not in {sheet_name}"
        else:
            names = ", ".join(f"'{c}'" for c, _ in hard)
            text = f"{len(hard)} columns are not in {sheet_name}: {names}"
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else "use --allow-missing-columns to leave absent columns alone"
        )
        raise _err(path, line, text, hint)
    return [c for c, _ in missing]


def unused_columns(resolved: ResolvedMapping, header: Iterable[str]) -> list[str]:
    """The sheet's columns that no field, key or locale column of the mapping reads."""
    wanted = {c for c, _ in resolved.required_columns()}
    return [str(c) for c in header if str(c) not in wanted and not _blank_header(str(c))]


def near_miss(column: str, candidates: Iterable[str]) -> str | None:
    """A candidate that is a typo of ``column``: equal but for case, spaces and punctuation, or
    with the same locale suffix and a base a letter or two away (``Summray [fr]``). Another
    locale's column of the same field (``Price [de]`` for ``Price [fr]``) is not a near miss."""
    base, tag = _split_locale(column)
    for cand in candidates:
        if _squash(cand) == _squash(column):
            return cand
        cbase, ctag = _split_locale(cand)
        if _squash(ctag) != _squash(tag) or _squash(cbase) == _squash(base):
            continue
        ratio = difflib.SequenceMatcher(None, cbase.lower(), base.lower()).ratio()
        if ratio >= 0.8 and min(len(base), len(cbase)) >= 4:
            return cand
    return None


_LOCALE_SUFFIX = re.compile(r"^(.*?)\s*\[([^\[\]]*)\]\s*$")


def _split_locale(column: str) -> tuple[str, str]:
    m = _LOCALE_SUFFIX.match(column)
    return (m.group(1), m.group(2)) if m else (column, "")


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


def _blank_header(column: str) -> bool:
    """pandas' names for header cells left empty (``Unnamed: 3``): nobody's column."""
    return column.startswith("Unnamed: ") or not column.strip()


def is_item_id(value: str) -> bool:
    """A Webflow item id: 24 lowercase hex characters."""
    return bool(_ID_RE.match(value))

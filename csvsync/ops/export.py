"""``csvsync export``: the live items as an editable sheet, in exactly the layout the mapping reads.

This module owns the shape of an export: which rows (one per item in the wide layout, one per
item and mapped locale in the long one), which columns (the key column, the long layout's locale
column, then each mapped field's columns in mapping order, its locales side by side), and the
row order (by primary-locale slug, then item id). It reads the values from the state cache right
after refreshing it, so the sheet shows what ``plan`` compares against; the per-type cell
formats are ``convert/to_sheet.py``'s and the file writing ``sheets/write.py``'s.

The contract: ``export`` then ``plan`` on the untouched file finds no change. Values no cell can
carry exactly are counted and reported in ``ExportResult.notes`` rather than silently altered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csvsync.convert.to_sheet import Cell, CellMaker, RefNames
from csvsync.errors import ConfigError, MappingError
from csvsync.mapping.mapping import ResolvedMapping
from csvsync.models import RefTarget
from csvsync.ops.context import Job
from csvsync.options import Progress, RunOptions
from csvsync.sheets.write import check_sheet_name, write_table

DEFAULT_SHEET = "Items"
SUFFIXES = (".xlsx", ".csv")

Variants = dict[tuple[str, str], dict[str, Any]]  # (item id, cmsLocaleId) -> field -> live value


@dataclass(frozen=True)
class ExportResult:
    """What ``export`` wrote."""

    path: Path
    items: int
    rows: int
    columns: list[str]
    notes: list[str] = field(default_factory=list)


def export(options: RunOptions, out: Path, progress: Progress | None = None) -> ExportResult:
    """Refresh the cache, then write the live items to ``out`` (.xlsx or .csv)."""
    out = Path(out)
    if out.suffix.lower() not in SUFFIXES:
        raise ConfigError(f"{out}: cannot export to {out.suffix or 'a file without a suffix'}",
                          "name an .xlsx or .csv file")  # fmt: skip
    if out.is_dir():
        raise ConfigError(f"{out} is a folder", "name an .xlsx or .csv file")
    with Job(options, progress) as job:
        resolved = job.load_schema()
        sheet_name = job.mapping.sheet or DEFAULT_SHEET
        xlsx = out.suffix.lower() == ".xlsx"
        if xlsx and (why := check_sheet_name(sheet_name)):
            raise MappingError(f"{job.mapping.where('sheet')}: sheet '{sheet_name}': {why}")
        job.refresh_items()
        refs = job.ref_targets()
        variants = _load_variants(job, resolved)
        makers = cell_makers(job, resolved, refs, xlsx)
        header, rows, items, notes = _table(resolved, variants, makers)
        write_table(out, header, rows, sheet_name)
    return ExportResult(out, items, len(rows), header, notes)


def _load_variants(job: Job, resolved: ResolvedMapping) -> Variants:
    """Every cached variant's live values of the mapped fields (and the slug, for sorting)."""
    return job.cache.live_cells(sorted({b.map.slug for b in resolved.bindings} | {"slug"}))


def _ref_names(job: Job, collection_id: str, target: RefTarget) -> RefNames:
    scope = job.state.scope(job.api_base, "refs:" + collection_id)
    slugs, names = {}, {}
    for item, slug, name in job.state.ref_rows(scope):
        if slug:
            slugs[item] = str(slug)
        if name:
            names[item] = str(name)
    return RefNames(target, slugs, names)


def display_values(job: Job, refs: dict[str, RefTarget]) -> Callable[[str, Any], Any]:
    """(field slug, API value) -> the value as the sheet shows it (option names, slugs, its date
    format): how plans, workbooks and reverts show old and new values."""
    assert job.resolved is not None
    makers = cell_makers(job, job.resolved, refs, xlsx=False)

    def show(field: str, value: Any) -> Any:
        maker = makers.get(field)
        if maker is None or value is None:
            return value
        try:
            return maker.cell(value)
        except (TypeError, ValueError, KeyError, AttributeError):
            return value  # shown raw rather than not at all

    return show


def cell_makers(
    job: Job, resolved: ResolvedMapping, refs: dict[str, RefTarget], xlsx: bool
) -> dict[str, CellMaker]:
    """One cell maker per mapped field: live values as the sheet writes them (option names,
    slugs, the mapping's date format and decimal mark). Also used to show old/new values."""
    sources = job.cache.file_sources()
    names: dict[str, RefNames] = {}
    out = {}
    for b in resolved.bindings:
        target = str(b.schema.validations.get("collectionId") or "")
        ref = None
        if b.schema.type in ("Reference", "MultiReference") and target in refs:
            if target not in names:
                names[target] = _ref_names(job, target, refs[target])
            ref = names[target]
        out[b.map.slug] = CellMaker(b.schema, b.map.options, xlsx, ref, sources)
    return out


def _columns(resolved: ResolvedMapping) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Header, and (column, locale key, field slug) for each field column, in sheet order."""
    m = resolved.mapping
    key_col = resolved.key_column_name()
    header = [key_col]
    if m.layout == "long" and m.locale_column:
        header.append(m.locale_column)
    per_locale = {key: resolved.columns_for(key, loc) for key, loc in resolved.locales}
    sources: list[tuple[str, str, str]] = []
    for b in resolved.bindings:
        for key, _ in resolved.locales:
            column = per_locale[key].get(b.map.slug)
            if column is None or any(c == column for c, _, _ in sources):
                continue  # all_locales and long-layout columns are one column for every locale
            sources.append((column, key, b.map.slug))
            if column not in header:
                header.append(column)
    return header, sources


def _table(
    resolved: ResolvedMapping, variants: Variants, makers: dict[str, CellMaker]
) -> tuple[list[str], list[list[Cell]], int, list[str]]:
    m = resolved.mapping
    header, sources = _columns(resolved)
    position = {name: i for i, name in enumerate(header)}
    key_col = header[0]
    locale_ids = {key: loc.cms_locale_id for key, loc in resolved.locales}
    primary = resolved.primary.cms_locale_id
    items = sorted({item for item, loc in variants if loc in locale_ids.values()},
                   key=lambda item: _order(item, variants.get((item, primary))))  # fmt: skip
    rows: list[list[Cell]] = []
    differing: Counter[str] = Counter()
    for item in items:
        if m.layout == "long":
            for key, _ in resolved.locales:
                fields = variants.get((item, locale_ids[key]))
                if fields is None:
                    continue  # no variant in this locale: no row
                row: list[Cell] = [None] * len(header)
                row[position[m.locale_column or ""]] = key
                for column, slug in _long_columns(resolved, key):
                    row[position[column]] = makers[slug].cell(fields.get(slug))
                _set_key(row, key_col, item, m.key_column is not None)
                rows.append(row)
            continue
        row = [None] * len(header)
        for column, key, slug in sources:
            fields = variants.get((item, locale_ids[key]))
            if fields is not None:
                row[position[column]] = makers[slug].cell(fields.get(slug))
        _count_differing(resolved, variants, item, differing)
        _set_key(row, key_col, item, m.key_column is not None)
        rows.append(row)
    return header, rows, len(items), _notes(resolved, makers, differing)


def _long_columns(resolved: ResolvedMapping, key: str) -> list[tuple[str, str]]:
    loc = dict(resolved.locales)[key]
    return [(column, slug) for slug, column in resolved.columns_for(key, loc).items()]


def _set_key(row: list[Cell], key_col: str, item: str, by_id: bool) -> None:
    if by_id:
        row[0] = item
    # With `key: {field: …}` the key column is that field's own column, already filled.


def _order(item: str, primary_fields: dict[str, Any] | None) -> tuple[int, str, str]:
    slug = (primary_fields or {}).get("slug")
    return (0, str(slug), item) if slug else (1, item, item)


def _count_differing(
    resolved: ResolvedMapping, variants: Variants, item: str, differing: Counter[str]
) -> None:
    """all_locales in a wide sheet: one column, so a locale holding another value is lost."""
    primary = variants.get((item, resolved.primary.cms_locale_id)) or {}
    for b in resolved.bindings:
        if not b.map.all_locales:
            continue
        for _, loc in resolved.locales[1:]:
            other = variants.get((item, loc.cms_locale_id))
            if other is not None and other.get(b.map.slug) != primary.get(b.map.slug):
                differing[b.map.column] += 1


def _notes(
    resolved: ResolvedMapping, makers: dict[str, CellMaker], differing: Counter[str]
) -> list[str]:
    notes = []
    for b in resolved.bindings:
        for reason, count in sorted(makers[b.map.slug].problems.items()):
            notes.append(
                f"column '{b.map.column}': {count} value(s) {reason}; "
                "a plan on this sheet would report them"
            )
    for column, count in sorted(differing.items()):
        notes.append(
            f"column '{column}' (one value for every locale): {count} item(s) hold other "
            "values in other locales; the sheet shows the primary locale's, and a sync of it "
            "writes that to every locale"
        )
    m = resolved.mapping
    if m.layout == "long" and m.key_field:
        key_binding = resolved.binding(m.key_field)
        if key_binding is not None and key_binding.map.localized:
            notes.append(
                f"key field '{m.key_field}' is localized: in a long sheet its column holds each "
                "locale's own value, so rows of other locales will not match by it"
            )
    return notes

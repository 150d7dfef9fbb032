"""Rows -> drafts: apply a resolved mapping to a sheet, column-wise, for every locale.

The result is a long table with one line per (source row, locale, field): the API value to send,
its canonical key, and the variant's validity. All conversion is per column
(``convert/to_api.py``); the only per-row work is composing messages for the few invalid rows.
"""

from __future__ import annotations

from collections.abc import Mapping as TMapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from csvsync.convert.to_api import Converted, cleared_value, convert_column
from csvsync.mapping.mapping import ResolvedMapping, is_item_id, match_locale
from csvsync.models import Locale, RefTarget
from csvsync.sheets.read import Sheet

CELL_COLUMNS = [
    "row", "locale_id", "field", "column", "key", "value", "date_only", "vidx", "fpos"
]  # fmt: skip


@dataclass
class Drafts:
    """Everything the sheet asks for, before it meets the state.

    ``variants``: one line per (row, locale): row, locale_id, locale_tag, key_text, item_id
    (None until resolved), error (None or a message naming column and value).
    ``cells``: one line per (row, locale, field) that the sheet sets (empty cells under
    ``empty: skip`` are absent): row, locale_id, field, column, key, value, date_only, and two
    integer codes that spare the diff from joining on texts: ``vidx``, the position of the
    cell's line in ``variants``, and ``fpos``, the position of its field in ``fields``.
    """

    variants: pd.DataFrame
    cells: pd.DataFrame
    missing_columns: list[str]
    fields: list[str]


def _key_texts(frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    text = raw.map(_key_text) if raw.dtype == object else raw.astype(str)
    return text.astype(object)


def _key_text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        # A number cell in the key column is an id Excel mangled (it keeps 15 digits): show
        # it as Excel does, so the message names what the user sees in the sheet.
        if abs(value) >= 1e15:
            return f"{value:.6G}"
        return str(int(value)) if float(value).is_integer() else str(value)
    return str(value)


def id_problem(text: str) -> str | None:
    """Why a key cell is not a usable Webflow item id, or None."""
    if not text:
        return "the item id is empty"
    if is_item_id(text):
        return None
    if is_item_id(text.lower()):
        return None
    compact = (
        text.replace(".", "").replace(",", "").replace("+", "").replace("E", "").replace("e", "")
    )
    if compact.isdigit():
        return (
            f"item id '{text}' looks like a number: Excel turns long ids into numbers such "
            f"as 6.4E+23; format the column as Text and paste the ids again"
        )
    return f"item id '{text}' is not a Webflow item id (24 hexadecimal characters)"


def build_drafts(
    resolved: ResolvedMapping,
    sheet: Sheet,
    refs: TMapping[str, RefTarget],
    missing_columns: list[str],
) -> Drafts:
    """Turn every row of ``sheet`` into per-locale drafts (see ``Drafts``)."""
    frame = sheet.frame
    m = resolved.mapping
    key_col = resolved.key_column_name()
    key_text = _key_texts(frame, key_col)
    missing = set(missing_columns)
    variant_parts: list[pd.DataFrame] = []
    cell_parts: list[pd.DataFrame] = []
    errors: list[pd.Series] = []
    row_locale = _long_locales(resolved, frame) if m.layout == "long" else None
    fields = [b.map.slug for b in resolved.bindings]
    # Wide layout: every locale reads the same rows, so a column shared by all locales (a
    # field that is not localized) is converted once, not once per locale.
    shared: dict[tuple[str, str], Converted] | None = {} if row_locale is None else None
    offset = 0
    for loc_key, loc in resolved.locales:
        if row_locale is not None:
            rows = frame.index[row_locale == loc.cms_locale_id]
            sub = frame.loc[rows]
        else:
            rows, sub = frame.index, frame
        variant_parts.append(
            pd.DataFrame(
                {
                    "row": rows.to_numpy(),
                    "locale_id": loc.cms_locale_id,
                    "locale_tag": loc.tag,
                    "key_text": key_text.loc[rows].to_numpy(),
                }
            )
        )
        for slug, column in resolved.columns_for(loc_key, loc).items():
            if column in missing:
                continue
            piece, err = _convert(resolved, slug, column, sub, loc, refs, sheet, shared)
            piece["vidx"] += offset
            piece["fpos"] = fields.index(slug)
            cell_parts.append(piece)
            if err is not None:
                errors.append(err)
        offset += len(rows)
    variants = pd.concat(variant_parts, ignore_index=True)
    if row_locale is not None:
        variants = pd.concat(
            [variants, _bad_locale_rows(frame, row_locale, key_text, m.locale_column)],
            ignore_index=True,
        )
    variants["item_id"] = None
    preset = variants.pop("preset_error") if "preset_error" in variants else None
    variants["error"] = None
    if errors:
        _attach_errors(variants, pd.concat(errors))
    if preset is not None:
        variants["error"] = preset.where(preset.notna(), variants["error"]).astype(object)
    _refuse_rows(variants, sheet, [key_col, m.locale_column])
    cells = (
        pd.concat(cell_parts, ignore_index=True)
        if cell_parts
        else pd.DataFrame(columns=CELL_COLUMNS).astype({"vidx": np.int64, "fpos": np.int64})
    )
    return Drafts(variants=variants, cells=cells, missing_columns=missing_columns, fields=fields)


def _convert(
    resolved: ResolvedMapping,
    slug: str,
    column: str,
    sub: pd.DataFrame,
    loc: Locale,
    refs: TMapping[str, RefTarget],
    sheet: Sheet,
    shared: dict[tuple[str, str], Converted] | None,
) -> tuple[pd.DataFrame, pd.Series | None]:
    binding = resolved.binding(slug)
    assert binding is not None
    series = sub[column]
    refused = _refused(sheet, column, sub.index)
    if refused is not None:
        # The converter never sees a cell the reader refused (a NUL, 50 MB of text).
        series = series.where(refused.isna(), "")
    conv = shared.get((slug, column)) if shared is not None else None
    if conv is None:
        conv = convert_column(binding.schema, binding.map.options, series, refs)
        if shared is not None:
            shared[(slug, column)] = conv
    keys = conv.keys.copy()
    # A plain object array: pandas (3.x) turns None assigned into a Series into NaN, which
    # would then be sent as invalid JSON.
    values = conv.values.to_numpy(dtype=object).copy()
    empty = conv.empty.to_numpy(dtype=bool)
    err = conv.errors.copy()
    if sheet.error_cells is not None and column in sheet.error_cells.columns:
        bad = sheet.error_cells.loc[sub.index, column].to_numpy(dtype=bool)
        if bad.any():
            err = err.where(~bad, "Excel error value " + series.astype(str))
            empty = empty & ~bad
    if refused is not None:
        bad = refused.notna().to_numpy()
        err = err.where(~bad, refused)
        empty = empty & ~bad
    keep = ~empty
    if binding.map.empty == "clear" and empty.any():
        keys = keys.where(~empty, "")
        cleared = cleared_value(binding.schema)
        for i in np.flatnonzero(empty):
            values[i] = cleared
        keep = np.ones(len(keys), dtype=bool)
    bad_mask = err.notna().to_numpy()
    keep = keep & ~bad_mask
    date_only = (
        conv.date_only.to_numpy(dtype=bool)
        if conv.date_only is not None
        else np.zeros(len(keys), dtype=bool)
    )
    piece = pd.DataFrame(
        {
            "row": pd.Series(sub.index.to_numpy()[keep]),
            "locale_id": loc.cms_locale_id,
            "field": slug,
            "column": column,
            "key": keys.to_numpy(dtype=object)[keep],
            # dtype=object explicitly: pandas 3 would infer a string column and turn None to NaN.
            "value": pd.Series(values[keep], dtype=object),
            "date_only": date_only[keep],
            "vidx": np.flatnonzero(keep),  # the locale's offset is added by the caller
        }
    )
    err_out = None
    if bad_mask.any():
        msgs = err[bad_mask]
        err_out = pd.Series(
            [f"column '{column}': {msg}" for msg in msgs.to_numpy()],
            index=pd.MultiIndex.from_arrays(
                [msgs.index.to_numpy(), [loc.cms_locale_id] * len(msgs)]
            ),
            dtype=object,
        )
    return piece, err_out


def _refused(sheet: Sheet, column: str, rows: pd.Index) -> pd.Series | None:
    """The reader's messages for the cells of ``column`` it refused, on ``rows``; None if none."""
    problems = sheet.cell_problems
    if problems is None or column not in problems.columns:
        return None
    messages = problems.loc[rows, column]
    return messages if messages.notna().any() else None


def _refuse_rows(variants: pd.DataFrame, sheet: Sheet, columns: list[str | None]) -> None:
    """A refused cell in the key or locale column makes its row invalid in every locale."""
    for column in columns:
        if column is None:
            continue
        refused = _refused(sheet, column, sheet.frame.index)
        if refused is None:
            continue
        reason = variants["row"].map(refused.dropna())
        hit = reason.notna()
        mine = f"column '{column}': " + reason[hit].astype(str)
        # A row whose locale cell is refused has no locale: its preset error quotes the cell.
        keep = variants.loc[hit, "error"].where(variants.loc[hit, "locale_id"] != "")
        variants.loc[hit, "error"] = (mine + ("; " + keep).fillna("")).to_numpy(dtype=object)


def _attach_errors(variants: pd.DataFrame, errors: pd.Series) -> None:
    joined = errors.groupby(level=[0, 1]).agg("; ".join)
    idx = pd.MultiIndex.from_arrays([variants["row"], variants["locale_id"]])
    variants["error"] = joined.reindex(idx).to_numpy(dtype=object)
    variants["error"] = variants["error"].where(variants["error"].notna(), None)


def _long_locales(resolved: ResolvedMapping, frame: pd.DataFrame) -> pd.Series:
    """Per row, the cmsLocaleId its locale cell names ("" when it names none we map)."""
    column = resolved.mapping.locale_column or ""
    texts = frame[column].astype(str).str.strip()
    locs = [loc for _, loc in resolved.locales]
    lookup: dict[str, str] = {}
    for text in texts.unique():
        for key, loc in resolved.locales:
            if text == key:
                lookup[text] = loc.cms_locale_id
        if text not in lookup:
            found = match_locale(text, locs)
            lookup[text] = found.cms_locale_id if found else ""
    return texts.map(lookup)


def _bad_locale_rows(
    frame: pd.DataFrame, row_locale: pd.Series, key_text: pd.Series, column: str | None
) -> pd.DataFrame:
    bad = frame.index[row_locale == ""]
    if not len(bad):
        return pd.DataFrame(columns=["row", "locale_id", "locale_tag", "key_text"])
    values = frame.loc[bad, column or ""].astype(str)
    out = pd.DataFrame(
        {
            "row": bad.to_numpy(),
            "locale_id": "",
            "locale_tag": values.to_numpy(),
            "key_text": key_text.loc[bad].to_numpy(),
        }
    )
    out["preset_error"] = [
        f"column '{column}': '{v}' is not a locale of this mapping" for v in values
    ]
    return out

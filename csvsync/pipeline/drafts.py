"""Rows -> drafts: apply a resolved mapping to a sheet, column-wise, for every locale.

The result is a long table with one line per (source row, locale, field): the API value to send,
its canonical key, and the variant's validity. All conversion is per column
(``convert/to_api.py``); the only per-row work is composing messages for the few invalid rows.
"""

from __future__ import annotations

from collections.abc import Mapping as TMapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from csvsync.convert.to_api import cleared_value, convert_column
from csvsync.mapping.mapping import ResolvedMapping, is_item_id, match_locale
from csvsync.models import RefTarget
from csvsync.pipeline.hashing import key_hashes
from csvsync.sheets.read import Sheet

CELL_COLUMNS = [
    "row", "locale_id", "field", "column", "key", "value", "date_only", "vidx", "fpos", "key_hash"
]  # fmt: skip


@dataclass
class Drafts:
    """Everything the sheet asks for, before it meets the state.

    ``variants``: one line per (row, locale): row, locale_id, locale_tag, key_text, item_id
    (None until resolved), error (None or a message naming column and value).
    ``cells``: one line per (row, locale, field) that the sheet sets (empty cells under
    ``empty: skip`` are absent): row, locale_id, field, column, key, value, date_only, and two
    integer codes that spare the diff from joining on texts: ``vidx``, the position of the
    cell's line in ``variants``, and ``fpos``, the position of its field in ``fields``; and
    ``key_hash``, the key's hash (``pipeline/hashing.py``), which the diff compares.
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
    pieces: list[_Piece] = []
    errors: list[pd.Series] = []
    row_locale = _long_locales(resolved, frame) if m.layout == "long" else None
    fields = [b.map.slug for b in resolved.bindings]
    # Wide layout: every locale reads the same rows, so a column shared by all locales (a
    # field that is not localized) is converted and hashed once, not once per locale.
    shared: dict[tuple[str, str], _Piece] | None = {} if row_locale is None else None
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
            piece = shared.get((slug, column)) if shared is not None else None
            if piece is None:
                piece = _convert(resolved, slug, column, sub, refs, sheet)
                if shared is not None:
                    shared[(slug, column)] = piece
            pieces.append(replace(piece, locale_id=loc.cms_locale_id, offset=offset,
                                  fpos=fields.index(slug)))  # fmt: skip
            if piece.errors is not None:
                errors.append(_located(piece.errors, column, loc.cms_locale_id))
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
    return Drafts(variants=variants, cells=_assemble(pieces), missing_columns=missing_columns,
                  fields=fields)  # fmt: skip


@dataclass
class _Piece:
    """One column's cells for one locale, as arrays; ``_assemble`` stacks them into ``cells``.

    A shared column's piece is reused for every locale with only the scalars replaced, so its
    arrays are never written to after ``_convert``."""

    slug: str
    column: str
    rows: np.ndarray  # sheet row of each kept cell
    pos: np.ndarray  # position of each kept cell among the locale's rows (vidx - offset)
    keys: np.ndarray  # object
    values: np.ndarray  # object
    date_only: np.ndarray  # bool
    hashes: np.ndarray  # int64: key_hashes(keys)
    errors: pd.Series | None  # the column's short messages, by sheet row
    locale_id: str = ""
    offset: int = 0
    fpos: int = 0


def _object(values: np.ndarray) -> pd.Series:
    # dtype=object explicitly: pandas 3 would infer a string column (a scan of every cell)
    # and turn None into NaN, which would then be sent as invalid JSON.
    return pd.Series(values, dtype=object, copy=False)


def _assemble(pieces: list[_Piece]) -> pd.DataFrame:
    """The cells frame, one column at a time from the pieces' arrays (no frame per piece)."""
    if not pieces:
        return pd.DataFrame(columns=CELL_COLUMNS).astype(
            {"vidx": np.int64, "fpos": np.int64, "key_hash": np.int64}
        )
    sizes = np.array([len(p.rows) for p in pieces], dtype=np.int64)

    def each(name: str) -> np.ndarray:
        return np.repeat(np.array([getattr(p, name) for p in pieces], dtype=object), sizes)

    return pd.DataFrame(
        {
            "row": np.concatenate([p.rows for p in pieces]),
            "locale_id": _object(each("locale_id")),
            "field": _object(each("slug")),
            "column": _object(each("column")),
            "key": _object(np.concatenate([p.keys for p in pieces])),
            "value": _object(np.concatenate([p.values for p in pieces])),
            "date_only": np.concatenate([p.date_only for p in pieces]),
            "vidx": np.concatenate([p.pos + p.offset for p in pieces]),
            "fpos": np.repeat(np.array([p.fpos for p in pieces], dtype=np.int64), sizes),
            "key_hash": np.concatenate([p.hashes for p in pieces]),
        },
        copy=False,  # the arrays are fresh: no second copy of 900,000 cells into blocks
    )


def _located(errors: pd.Series, column: str, locale_id: str) -> pd.Series:
    """A piece's messages keyed by (sheet row, locale), naming the column."""
    return pd.Series(
        [f"column '{column}': {msg}" for msg in errors.to_numpy()],
        index=pd.MultiIndex.from_arrays([errors.index.to_numpy(), [locale_id] * len(errors)]),
        dtype=object,
    )


def _convert(
    resolved: ResolvedMapping,
    slug: str,
    column: str,
    sub: pd.DataFrame,
    refs: TMapping[str, RefTarget],
    sheet: Sheet,
) -> _Piece:
    binding = resolved.binding(slug)
    assert binding is not None
    series = sub[column]
    refused = _refused(sheet, column, sub.index)
    if refused is not None:
        # The converter never sees a cell the reader refused (a NUL, 50 MB of text).
        series = series.where(refused.isna(), "")
    conv = convert_column(binding.schema, binding.map.options, series, refs)
    keys = conv.keys.to_numpy(dtype=object)
    values = conv.values.to_numpy(dtype=object)
    empty = conv.empty.to_numpy(dtype=bool)
    err = conv.errors
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
        keys = np.where(empty, "", keys)
        values = values.copy()
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
    kept = keys[keep]
    return _Piece(
        slug=slug,
        column=column,
        rows=sub.index.to_numpy()[keep],
        pos=np.flatnonzero(keep),
        keys=kept,
        values=values[keep],
        date_only=date_only[keep],
        hashes=key_hashes(kept),
        errors=err[bad_mask] if bad_mask.any() else None,
    )


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

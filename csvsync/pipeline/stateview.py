"""What the diff and the preflight checks read from the state cache, each part on first use.

A plan that keeps every slug and names rows by item id never needs the cached slugs and names
as texts, nor the variants' flags: loading them lazily keeps those reads off the plan's path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from csvsync.pipeline.hashing import StateHashes

_NO_OFFLINE = pd.DataFrame(
    columns=["item_id", "locale_id", "reason", "since", "run_id", "slug"], dtype=object
)
CellTexts = Callable[[list[tuple[str, str, str]]], dict[tuple[str, str, str], tuple[str, str]]]


@dataclass
class StateView:
    """Loaders for the parts of the cache a plan may need; each loads once, when first read.

    ``hashes``: every cached cell's live and base hash (``StateHashes``). ``texts``: item_id,
    locale_id, field, live_key of the short fields that match rows and name items (slug, name,
    the key field). ``variants``: item_id, locale_id and flags of every live variant.
    ``cell_texts``: (live_key, base_key) of a few cells, on request. ``item_names``: every
    cached variant's name, (item_id, locale_id) -> name, on request (a scan beats many lookups).
    ``held``: (item_id, locale_id, field) -> the sheet's key hash where ``keep-live`` kept live.
    ``offline``: the variants dropped from the cache as not live (unpublished or archived in
    Webflow, or by csvsync), with why, since when and their slug.
    """

    load_hashes: Callable[[], StateHashes]
    load_texts: Callable[[], pd.DataFrame]
    load_variants: Callable[[], pd.DataFrame]
    cell_texts: CellTexts
    item_names: Callable[[], dict[tuple[str, str], str]]
    load_held: Callable[[], dict[tuple[str, str, str], int]] = field(default=dict)
    load_offline: Callable[[], pd.DataFrame] = field(default=lambda: _NO_OFFLINE)

    @cached_property
    def hashes(self) -> StateHashes:
        return self.load_hashes()

    @cached_property
    def texts(self) -> pd.DataFrame:
        return self.load_texts()

    @cached_property
    def held(self) -> dict[tuple[str, str, str], int]:
        return self.load_held()

    @cached_property
    def offline(self) -> pd.DataFrame:
        return self.load_offline()

    @cached_property
    def variants(self) -> pd.DataFrame:
        return self.load_variants()

    def texts_at(self, cells: pd.DataFrame, labels: pd.Index) -> tuple[pd.Series, pd.Series]:
        """Live and base text of the cells of ``cells`` (item_id, locale_id and field
        columns) at ``labels``, as two Series on those labels; "" where the cache has none."""
        keys = list(
            zip(
                cells.loc[labels, "item_id"],
                cells.loc[labels, "locale_id"],
                cells.loc[labels, "field"],
                strict=True,
            )
        )
        texts = self.cell_texts(keys)
        pairs = [texts.get(k, ("", "")) for k in keys]
        live = pd.Series([p[0] for p in pairs], index=labels, dtype=object)
        base = pd.Series([p[1] for p in pairs], index=labels, dtype=object)
        return live, base

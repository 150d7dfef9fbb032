"""Pure: field updates -> PATCH batches of at most ``batch_size`` item-variants.

Each variant carries its ``cmsLocaleId`` except the primary locale's, which omits the key: Webflow
refuses ``cmsLocaleId: null`` and treats an absent one as the primary locale. Only changed fields
go into ``fieldData`` (an unchanged slug re-sent can be refused as a duplicate).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

MAX_BATCH = 100


@dataclass(frozen=True)
class VariantWrite:
    """One item-variant to write: the request body entry and what the sheet meant by it."""

    row: int
    item_id: str
    locale_id: str
    field_data: dict[str, Any]
    keys: dict[str, str]
    # The fieldData as sent, where it is not ``field_data``: alt-text fields folded into their
    # images (``pipeline/alt.py``). ``field_data`` stays the diff's, field by field, for the
    # journal and the cache.
    wire: dict[str, Any] = field(default_factory=dict)

    def carries(self, param: str) -> bool:
        """Whether the request body holds field ``param`` (an alt text is in its image)."""
        return param in (self.wire or self.field_data)

    def without(self, params: set[str]) -> VariantWrite:
        """This write less the fields ``params`` (with their alt texts): what is left to send
        of a variant whose values Webflow refused for those fields."""

        def keep(f: str) -> bool:
            return f not in params and f.split("@", 1)[0] not in params

        return VariantWrite(
            self.row, self.item_id, self.locale_id,
            {f: v for f, v in self.field_data.items() if keep(f)},
            {f: k for f, k in self.keys.items() if keep(f)},
            {f: v for f, v in self.wire.items() if keep(f)},
        )  # fmt: skip

    def body(self, primary_locale: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.item_id, "fieldData": self.wire or self.field_data}
        if self.locale_id != primary_locale:
            entry["cmsLocaleId"] = self.locale_id
        return entry


@dataclass
class Batch:
    """Up to ``MAX_BATCH`` variants sent in one request."""

    number: int
    writes: list[VariantWrite] = field(default_factory=list)


def variant_writes(updates: pd.DataFrame) -> list[VariantWrite]:
    """Group update cells by variant, in sheet order."""
    out: list[VariantWrite] = []
    if updates.empty:
        return out
    ordered = updates.sort_values(["row", "locale_id"], kind="stable")
    current: VariantWrite | None = None
    for row, item, loc, fld, key, value in zip(
        ordered["row"],
        ordered["item_id"],
        ordered["locale_id"],
        ordered["field"],
        ordered["key"],
        ordered["value"],
        strict=True,
    ):
        if current is None or (current.row, current.locale_id) != (row, loc):
            current = VariantWrite(int(row), str(item), str(loc), {}, {})
            out.append(current)
        current.field_data[str(fld)] = value
        current.keys[str(fld)] = str(key)
    return out


def make_batches(writes: list[VariantWrite], batch_size: int = MAX_BATCH) -> list[Batch]:
    """Split writes into batches; ceil(len(writes) / batch_size) of them."""
    size = max(1, min(batch_size, MAX_BATCH))
    return [Batch(n, writes[i : i + size]) for n, i in enumerate(range(0, len(writes), size), 1)]


def halves(writes: list[VariantWrite]) -> Iterator[list[VariantWrite]]:
    """The two halves of a batch, for isolating a bad variant by bisection."""
    mid = len(writes) // 2
    yield writes[:mid]
    yield writes[mid:]

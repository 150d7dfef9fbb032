"""64-bit hashes of canonical keys and of (item, locale) pairs, column-wise.

The diff compares integers, not texts: a 1,000-character description and its hash compare the
same way, but the integers load from SQLite and merge in a fraction of the time and memory.
``pandas.util.hash_array`` is deterministic across processes (a fixed SipHash key), so hashes
stored by one run compare with hashes computed by the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd


def key_hashes(keys: Sequence[str] | np.ndarray | pd.Series) -> np.ndarray:
    """int64 hashes of canonical key strings (SQLite stores signed 64-bit integers)."""
    arr = np.asarray(keys, dtype=object)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    return pd.util.hash_array(arr, categorize=False).view(np.int64)


def variant_keys(
    item_ids: Sequence[str] | np.ndarray | pd.Series,
    locale_ids: Sequence[str] | np.ndarray | pd.Series,
) -> np.ndarray:
    """int64 hashes identifying (item id, cmsLocaleId) pairs: the hash of ``item\x1flocale``."""
    items = np.asarray(item_ids, dtype=object)
    if not len(items):
        return np.zeros(0, dtype=np.int64)
    locs = np.asarray(locale_ids, dtype=object)
    codes, locales = pd.factorize(locs)
    if not (codes < 0).any() and all(isinstance(loc, str) for loc in locales):
        # A site has a few locales: one text suffix per locale, added to the ids in numpy.
        out = np.empty(len(items), dtype=np.int64)
        try:
            for code, loc in enumerate(locales):
                at = codes == code
                out[at] = key_hashes(items[at] + ("\x1f" + loc))
            return out
        except TypeError:  # an id that is not text: pandas' addition below decides
            pass
    joined = pd.Series(items, dtype=object) + "\x1f" + pd.Series(locs, dtype=object)
    return key_hashes(joined.to_numpy(dtype=object))


EMPTY_HASH = int(key_hashes([""])[0])


def field_hashes(slugs: Sequence[str]) -> dict[str, int]:
    """slug -> the int64 that names the field inside a variant's hash BLOB."""
    return dict(zip(slugs, (int(h) for h in key_hashes(["\x1e" + s for s in slugs])), strict=True))


@dataclass
class StateHashes:
    """The cache's hashes as flat arrays: ``variants`` holds every cached variant's key once;
    ``vkey``, ``field``, ``live`` and ``base`` hold one entry per cached cell."""

    variants: np.ndarray
    vkey: np.ndarray
    field: np.ndarray
    live: np.ndarray
    base: np.ndarray

    def lookup(self, vkeys: np.ndarray, field: str) -> np.ndarray:
        """Positions of (vkey, field) cells in the flat arrays; -1 where the cache has none."""
        fh = field_hashes([field])[field]
        return self.positions(vkeys, np.full(len(vkeys), fh, dtype=np.int64))

    def rows(self, vkeys: np.ndarray) -> np.ndarray:
        """Each vkey's position in ``variants``; -1 for a variant the cache does not hold."""
        return self._index.get_indexer(vkeys) if len(self.variants) else np.full(len(vkeys), -1)

    def cell_positions(
        self, vkeys: np.ndarray, vidx: np.ndarray, fields: np.ndarray, fpos: np.ndarray
    ) -> np.ndarray:
        """``positions`` of the cells (``vkeys[vidx]``, ``fields[fpos]``): each variant and
        each field is looked up once (100,000 and 9), not once per cell (900,000)."""
        grid = self._grid
        if grid is None or not len(vidx):
            return self.positions(vkeys[vidx], fields[fpos] if len(fpos) else fpos)
        return _on_grid(self.rows(vkeys)[vidx], pd.Index(grid).get_indexer(fields)[fpos], grid)

    def positions(self, vkeys: np.ndarray, fields: np.ndarray) -> np.ndarray:
        """Positions of (vkey, field hash) pairs in the flat arrays; -1 where there is none."""
        out = np.full(len(vkeys), -1, dtype=np.int64)
        if not len(vkeys) or not len(self.vkey):
            return out
        grid = self._grid
        if grid is not None:
            # One lookup per pair into the variant index, one into the few field columns.
            return _on_grid(self.rows(vkeys), pd.Index(grid).get_indexer(fields), grid)
        for fh in np.unique(fields):  # mixed layouts: field by field
            at = np.flatnonzero(fields == fh)
            mine = np.flatnonzero(self.field == fh)
            if len(mine):
                found = pd.Index(self.vkey[mine]).get_indexer(vkeys[at])
                out[at] = np.where(found >= 0, mine[np.maximum(found, 0)], -1)
        return out

    @cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.variants)

    @cached_property
    def _grid(self) -> np.ndarray | None:
        """The field hashes of a variant, when every variant holds the same fields in the same
        order (one schema, the usual case): the flat arrays are then a variants x fields
        matrix and a cell's position is row * width + column."""
        n = len(self.variants)
        if not n or len(self.field) % n:
            return None
        width = len(self.field) // n
        first = self.field[:width]
        if len(np.unique(first)) != width:
            return None
        return first if bool((self.field.reshape(n, width) == first).all()) else None


def _on_grid(row: np.ndarray, col: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Flat positions of (variant row, field column) pairs of a variants x fields grid; -1
    where either is not in the cache."""
    return np.where((row >= 0) & (col >= 0), row * len(grid) + col, -1)

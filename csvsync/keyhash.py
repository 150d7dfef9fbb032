"""64-bit hashes of canonical keys and of (item, locale) pairs, column-wise.

The diff compares integers, not texts: a 1,000-character description and its hash compare the
same way, but the integers load from SQLite and merge in a fraction of the time and memory.
``pandas.util.hash_array`` is deterministic across processes (a fixed SipHash key), so hashes
stored by one run compare with hashes computed by the next.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    """int64 hashes identifying (item id, cmsLocaleId) pairs."""
    items = pd.Series(np.asarray(item_ids, dtype=object), dtype=object)
    if items.empty:
        return np.zeros(0, dtype=np.int64)
    locs = pd.Series(np.asarray(locale_ids, dtype=object), dtype=object)
    return key_hashes((items + "\x1f" + locs).to_numpy(dtype=object))


EMPTY_HASH = int(key_hashes([""])[0])

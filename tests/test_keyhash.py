"""The cache's hash arrays: a cell is found by (variant, field) in either storage layout."""

from __future__ import annotations

import numpy as np

from csvsync.pipeline.hashing import StateHashes, field_hashes, key_hashes


def hashes(layout: dict[int, list[str]]) -> StateHashes:
    """Variant key -> its fields, in stored order; live hash = a function of both."""
    variants = np.array(list(layout), dtype=np.int64)
    sizes = [len(f) for f in layout.values()]
    fh = field_hashes(sorted({f for fields in layout.values() for f in fields}))
    field = np.array([fh[f] for fields in layout.values() for f in fields], dtype=np.int64)
    vkey = np.repeat(variants, sizes)
    live = key_hashes([f"{v}/{f}" for v, fields in layout.items() for f in fields])
    return StateHashes(variants, vkey, field, live, live.copy())


def expected(layout: dict[int, list[str]], vkey: int, field: str) -> int | None:
    fields = layout.get(vkey)
    return int(key_hashes([f"{vkey}/{field}"])[0]) if fields and field in fields else None


def test_cells_are_found_in_the_uniform_and_the_mixed_layout() -> None:
    uniform = {v: ["name", "slug", "price"] for v in (11, 22, 33)}
    # A field added to the schema after some variants were cached: they lack it.
    mixed = {11: ["name", "slug"], 22: ["name", "slug", "price"], 33: ["price", "name"]}
    for layout in (uniform, mixed):
        h = hashes(layout)
        asks = [(v, f) for v in (11, 22, 33, 44) for f in ("name", "slug", "price", "color")]
        fh = field_hashes(["name", "slug", "price", "color"])
        pos = h.positions(
            np.array([v for v, _ in asks], dtype=np.int64),
            np.array([fh[f] for _, f in asks], dtype=np.int64),
        )
        got = [int(h.live[p]) if p >= 0 else None for p in pos]
        assert got == [expected(layout, v, f) for v, f in asks]
        slug = h.lookup(np.array([22, 44], dtype=np.int64), "slug")
        assert slug[1] == -1 and int(h.live[slug[0]]) == expected(layout, 22, "slug")

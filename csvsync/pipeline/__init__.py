"""The pure middle of a run, no SQL and no HTTP: rows -> per-locale drafts (``drafts``),
hashes (``hashing``), drafts vs the cache -> outcomes and changes (``diff``, with the
cross-row checks of ``preflight``), changes -> batches of at most 100 (``batches``), the items
no row names (``missing``), outcomes -> the workbook's frames (``report``). ``stateview`` is
the diff's read-only view of the cache, filled by ``ops`` with loaders from ``state``.
"""

"""Pure: ``--target both`` merges the diff against the live items with the diff against the
staged items (the Designer's version), so an edit on either side since its base is seen.

Per (variant, field), with each side's verdict from ``diff.compute`` (``""``: that side agrees):

========================================  ==========================================
live / staged                             merged
========================================  ==========================================
an edit on neither side, an update on one  ``update``: the sheet's value goes to both
an edit on one side, the sheet unchanged   ``changed in Webflow``, naming the side
an edit on one side, the sheet changed     ``conflict``, with both values
========================================  ==========================================

``--on-conflict overwrite`` and ``keep-live`` have already resolved each side's edits, so they
merge as updates (overwrite) or agreement (keep-live, whose base moves stay per side). Variants
come from the live diff (which items are found, invalid, new); a staged change of a variant the
live diff did not match is dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csvsync.outcomes import Outcome
from csvsync.pipeline.diff import CONFLICT, DRIFT, UPDATE, Diff, set_outcomes

_OPEN = {UPDATE, CONFLICT, DRIFT, Outcome.UNCHANGED.value}


def merge_sides(live: Diff, staged: Diff) -> Diff:
    """One diff for ``--target both`` (see the module docstring)."""
    v = live.variants.copy()
    open_ = v["outcome"].isin(_OPEN).to_numpy()
    lc = live.changes.assign(side="live")
    sc = staged.changes.assign(side="staged")
    if len(sc):
        vidx = sc["vidx"].to_numpy()
        same = open_[vidx] & (sc["item_id"].to_numpy() == v["item_id"].to_numpy()[vidx])
        sc = sc[same]
    keys = ["vidx", "field"]
    m = (
        lc[[*keys, "kind"]]
        .rename(columns={"kind": "kind_l"})
        .merge(
            sc[[*keys, "kind", "live_key", "base_key"]].rename(
                columns={"kind": "kind_s", "live_key": "live_key_s", "base_key": "base_key_s"}
            ),
            on=keys,
            how="outer",
        )
    )
    kl = m["kind_l"].fillna("").to_numpy(dtype=object)
    ks = m["kind_s"].fillna("").to_numpy(dtype=object)
    edit_l = (kl == CONFLICT) | (kl == DRIFT)
    edit_s = (ks == CONFLICT) | (ks == DRIFT)
    edited = edit_l | edit_s
    conflict = (
        (kl == CONFLICT) | (ks == CONFLICT) | (edit_l & (ks == UPDATE)) | (edit_s & (kl == UPDATE))
    )
    kind = np.where(edited, np.where(conflict, CONFLICT, DRIFT), np.where(
        (kl == UPDATE) | (ks == UPDATE), UPDATE, ""))  # fmt: skip
    side = np.where(edit_l & edit_s, "both", np.where(edit_s, "staged", "live"))
    verdict = pd.DataFrame(
        {
            "kind": kind,
            "side": side,
            "staged_key": m["live_key_s"].fillna("").to_numpy(dtype=object),
            "staged_base": m["base_key_s"].fillna("").to_numpy(dtype=object),
        },
        index=pd.MultiIndex.from_frame(m[keys]),
    )
    rows = pd.concat([lc, sc[~sc.set_index(keys).index.isin(lc.set_index(keys).index)]])
    rows = rows.drop(columns=["kind", "side"]).set_index(keys)
    rows = rows.join(verdict).reset_index()
    rows = rows[rows["kind"] != ""].sort_values(keys, kind="stable").reset_index(drop=True)
    at = np.flatnonzero(open_)
    v.loc[v.index[at], "outcome"] = ""
    v.loc[v.index[at], "message"] = None
    set_outcomes(v, rows)
    return Diff(
        variants=v,
        changes=rows,
        base_moves=live.base_moves,
        holds=live.holds,
        creates=live.creates,
        republish=live.republish,
    )

"""The journal's vocabulary: the field names of its publish-state rows.

Per run, item, locale and field the journal keeps the old and the new value, written before a
batch is sent and marked when Webflow confirms it (``State.journal_pending`` / ``journal_confirmed``
/ ``mark_batch``). Rows whose ``field`` is not a field slug record a change of publish state
instead; these are their names, defined once for sync, unpublish and revert.
"""

from __future__ import annotations

CREATED_MARK = "__created__"  # the run created and published the variant (revert unpublishes)
PUBLISHED_MARK = "__published__"  # a revert published it again (revert unpublishes it again)
UNPUBLISHED_MARK = "__unpublished__"  # the run unpublished it (revert publishes it again)
UNPUBLISH_MARKS = frozenset({CREATED_MARK, PUBLISHED_MARK})  # reverted by unpublishing
MARKS = UNPUBLISH_MARKS | {UNPUBLISHED_MARK}

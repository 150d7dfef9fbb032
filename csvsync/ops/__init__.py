"""The library API: one module per operation, what the CLI, the editor's page and programs call.

Each operation takes one ``RunOptions`` and returns a result object; none prints or exits.
``docs/library.md`` has an example per operation (tested by ``tests/test_library_docs.py``)::

    from csvsync.ops import RunOptions, plan, sync
    result = plan(RunOptions(mapping=Path("mappings/products.yaml"), sheet=Path("products.xlsx"),
                             token=os.environ["WEBFLOW_API_TOKEN"]))
"""

from csvsync.ops.context import Job
from csvsync.ops.export import ExportResult, export
from csvsync.ops.revert import RevertResult, list_runs, revert
from csvsync.ops.sync import (
    Applied,
    Planned,
    RunResult,
    apply_plan,
    build_plan,
    finish,
    plan,
    pull,
    sync,
)
from csvsync.options import RunOptions, SheetOptions

__all__ = [
    "Applied",
    "ExportResult",
    "Job",
    "Planned",
    "RevertResult",
    "RunOptions",
    "RunResult",
    "SheetOptions",
    "apply_plan",
    "build_plan",
    "export",
    "finish",
    "list_runs",
    "plan",
    "pull",
    "revert",
    "sync",
]

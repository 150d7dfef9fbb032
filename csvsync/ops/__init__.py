"""The library API: one module per operation, what the CLI, the editor's page and programs call.

Each operation takes one ``RunOptions`` (``csvsync.options``) and returns a result object; none
prints or exits. ``docs/library.md`` has an example per operation (run by
``tests/test_library_docs.py``)::

    from csvsync.ops.sync import plan, sync           # also pull, build_plan, apply_plan, finish
    from csvsync.ops.export import export
    from csvsync.ops.revert import list_runs, revert

The operations are imported from their modules, not re-exported here: a package attribute named
``sync`` would hide the module ``csvsync.ops.sync``.
"""

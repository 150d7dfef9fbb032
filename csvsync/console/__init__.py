"""What a person or a monitor reads: run text (``text``, ``revert``), ``--json`` objects
(``json``), progress bars and lines (``progress``), ``--log-file`` lines (``log``). Above ``ops``:
it renders the operations' results; nothing here decides anything.
"""

"""The editor's page: drop a sheet, see exactly what changes, confirm, get the results.

A Starlette app over the same ``ops/`` layer as the CLI (``create_app`` in ``app.py``); the core
never imports it. Install with ``pip install 'csvsync[web]'``; start with ``csvsync serve``.
"""

"""``python -m csvsync``: the same as the ``csvsync`` console script."""

from csvsync.cli import main

main()

"""``python -m csvsync``: the same as the ``csvsync`` console script."""

from .cli import main

main()

"""csvsync: keep a Webflow CMS collection in step with a spreadsheet.

The package is a library first (``csvsync.ops`` is its API; ``csvsync.webflow`` the client);
``csvsync.cli`` is a thin click shell over it and the only package that imports click.
"""

__version__ = "0.1.0"

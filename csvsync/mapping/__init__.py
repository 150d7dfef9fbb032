"""The YAML mapping: a loader that keeps strings strings and knows line numbers
(``yamlload``), and the mapping itself: parse, resolve against the schema and locales, check
the sheet's columns (``mapping``).
"""

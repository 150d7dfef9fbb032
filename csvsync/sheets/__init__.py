"""Spreadsheet files in and out: CSV/TSV/XLSX -> a ``Sheet`` with source row numbers
(``read``), the zip and XML guards (``xlsxguard``, with ``xlsxparts`` finding the parts calamine
reads), what a misnamed file really is (``filetype``), the atomic table writer (``write``), the
``--write-back`` copy (``writeback``) and the results workbook (``results``).
"""

"""Column-wise converters per Webflow field type, both ways: sheet cells -> API values and
comparison keys (``to_api``), API values -> sheet cells (``to_sheet``), and the cell kinds,
numbers and dates they share (``cells``). Pure: no I/O.
"""

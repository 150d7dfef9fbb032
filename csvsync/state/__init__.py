"""The only package that speaks SQL: the state file (``db``), the runs and their journal
(``journal``), the item cache of live values and bases (``cache``), and one collection's
scoped view of it (``collection``).
"""

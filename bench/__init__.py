"""Circle's benchmark: a load generator speaking the public contract, and a reference chat beside it.

Run `python -m bench --help` (docs/performance.md has the exact commands and the table).
"""

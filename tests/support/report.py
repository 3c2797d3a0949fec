"""Tables the tests measure (the fault table, the access sweep), printed at the end of the
pytest run by tests/conftest.py's terminal summary, so `make test` shows them."""

from __future__ import annotations

TABLES: dict[str, list[str]] = {}


def table(title: str, lines: list[str]) -> None:
    TABLES[title] = lines

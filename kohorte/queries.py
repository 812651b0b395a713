"""Named queries (``sql/queries/<topic>__<question>.sql``) shared by dashboard and analysts."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from kohorte.filters import ARGS, Filters

QUERY_DIR = Path(__file__).resolve().parent.parent / "sql" / "queries"


@cache
def query_text(name: str) -> str:
    """The SQL of a named query."""
    path = QUERY_DIR / f"{name}.sql"
    if not path.exists():
        raise KeyError(f"Unbekannte Abfrage: {name}")
    return path.read_text(encoding="utf-8")


def names() -> list[str]:
    """All named queries."""
    return sorted(p.stem for p in QUERY_DIR.glob("*.sql"))


def run(
    con: duckdb.DuckDBPyConnection,
    name: str,
    filters: Filters | None = None,
    **params: object,
) -> pd.DataFrame:
    """Run a named query with DuckDB parameters (never string formatting); small results only.

    A query reads a selection with ``marts.auswahl({filter_args})`` (or a macro built on
    it); ``{filter_args}`` becomes the filters as macro arguments (``kohorte.filters.ARGS``),
    and the filter values always travel as parameters.
    """
    sql = query_text(name)
    if "{filter_args}" in sql:
        sql = sql.replace("{filter_args}", ARGS)
        params = {**(filters or Filters()).params(), **params}
    cursor = con.cursor()  # one connection serves many threads; a cursor each
    try:
        return cursor.execute(sql, params or None).df()
    finally:
        cursor.close()

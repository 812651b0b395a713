"""Small helpers over DuckDB 2.0's streaming results."""

from __future__ import annotations

from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    """The single value of a query, with the result fully consumed.

    DuckDB 2.0 results stream and keep their connection busy until read to the end;
    ``fetchone()`` alone leaves it busy for ``register()`` and friends.
    """
    rows = (
        con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    )
    return rows[0][0] if rows else None

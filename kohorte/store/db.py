"""Small helpers over DuckDB 2.0's streaming results."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import duckdb


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted SQL string literal, for statements that take no parameters (COMMENT) and
    for SQL generated from the project's own constants."""
    return "'" + text.replace("'", "''") + "'"


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    """The single value of a query, with the result fully consumed.

    DuckDB 2.0 results stream and keep their connection busy until read to the end;
    ``fetchone()`` alone leaves it busy for ``register()`` and friends.
    """
    rows = (
        con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    )
    return rows[0][0] if rows else None


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Many statements with one commit: each statement on its own commits, which costs
    about a millisecond each in a file. On an error the open transaction is rolled back
    (a failed commit has ended it already) and the error goes on unchanged."""
    con.begin()
    try:
        yield con
        con.commit()
    except BaseException:
        with contextlib.suppress(duckdb.TransactionException):
            con.rollback()
        raise


# The project's SQL (staging, marts, checks, queries) ships inside the package and is read
# as a package resource, so an installed wheel finds it as a checkout does.
SQL: Traversable = resources.files("kohorte") / "sql"


def sql_files(folder: Traversable) -> dict[str, str]:
    """{name without ``.sql``: text} of the SQL files in one folder, sorted by name."""
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return {f.name.removesuffix(".sql"): f.read_text(encoding="utf-8") for f in files}

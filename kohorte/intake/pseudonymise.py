"""The fifth stage: customer numbers replaced by keyed pseudonyms before anything is stored."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from kohorte.define.contract import MERKMAL_PREFIX, Column, Kind
from kohorte.define.privacy import pseudonyms
from kohorte.store.db import ident, literal


def pseudonymise(
    con: duckdb.DuckDBPyConnection,
    key: bytes,
    kind: Kind,
    carry: tuple[str, ...] = (),
    present: frozenset[str] = frozenset(),
) -> None:
    """Create view ``accepted``: the good rows of ``checked`` with ``pid`` for
    ``kundennummer`` (and the ``carry`` columns); the attribute columns among ``present``
    (merkmal_<name>) as one map ``merkmale`` from name to value."""
    ids = [
        row[0]
        for row in con.execute(
            "select distinct kundennummer from checked where _errors is null"
        ).fetchall()
    ]
    mapping = pseudonyms(key, ids)
    table = pa.table({"kundennummer": list(mapping), "pid": list(mapping.values())})
    con.register("pseudonym_arrow", table)
    con.execute("create or replace temp table pseudonym_map as select * from pseudonym_arrow")
    con.unregister("pseudonym_arrow")
    other = ", ".join(ident(c.name) for c in kind.columns if c.name != "kundennummer")
    if kind.merkmale:
        other += f", {merkmale_map(kind.columns_for(set(present))[len(kind.columns) :])}"
    passed = "".join(f", c.{ident(c)}" for c in carry)
    # a view: the rows stream from the check straight into the Parquet writer
    con.execute(
        f"""create or replace temp view accepted as
        select ''::varchar as delivery_id, c._line as line, m.pid, {other}{passed}
        from checked c join pseudonym_map m using (kundennummer)
        where c._errors is null"""
    )


def merkmale_map(columns: tuple[Column, ...]) -> str:
    """SQL for the map of a row's attributes (name without the prefix: value), the empty
    values left out; NULL for a file without attribute columns."""
    if not columns:
        return "null::map(varchar, double) as merkmale"
    names = ", ".join(literal(c.name.removeprefix(MERKMAL_PREFIX)) for c in columns)
    values = ", ".join(f"c.{ident(c.name)}" for c in columns)
    return (
        f"map_from_entries(list_filter(list_zip([{names}], [{values}]), "
        f"lambda e: e[2] is not null)::struct(key varchar, value double)[]) as merkmale"
    )

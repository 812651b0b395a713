"""The fifth stage: customer numbers replaced by keyed pseudonyms before anything is stored."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from kohorte.define.contract import Kind
from kohorte.define.privacy import pseudonyms
from kohorte.store.db import ident


def pseudonymise(
    con: duckdb.DuckDBPyConnection, key: bytes, kind: Kind, carry: tuple[str, ...] = ()
) -> None:
    """Create view ``accepted``: the good rows of ``checked`` with ``pid`` for
    ``kundennummer`` (and the ``carry`` columns)."""
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
    passed = "".join(f", c.{ident(c)}" for c in carry)
    # a view: the rows stream from the check straight into the Parquet writer
    con.execute(
        f"""create or replace temp view accepted as
        select ''::varchar as delivery_id, c._line as line, m.pid, {other}{passed}
        from checked c join pseudonym_map m using (kundennummer)
        where c._errors is null"""
    )

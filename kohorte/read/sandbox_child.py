"""The analysts' query process (``python -m kohorte.read.sandbox_child``): kept to duckdb and
pyarrow, so a query pays little start-up. See ``kohorte.read.sandbox`` for the design."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import duckdb
import pyarrow as pa

MEMORY_LIMIT = "512MB"
THREADS = 1
OUT_OF_MEMORY = "Die Abfrage braucht mehr Arbeitsspeicher als erlaubt."


class Refused(ValueError):
    """A statement the sandbox does not run (the message says why, in German)."""


def connect(path: Path, memory_limit: str = MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """A locked, read-only connection to an analyst file."""
    con = duckdb.connect(
        str(path),
        read_only=True,
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "allow_community_extensions": False,
            "threads": THREADS,
            "memory_limit": memory_limit,
            "max_temp_directory_size": "0B",
        },
    )
    # the same file open in this process already is the same, locked instance
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("set lock_configuration = true")
    if not con.execute("select current_setting('lock_configuration')").fetchall()[0][0]:
        raise RuntimeError("the sandbox configuration could not be locked")
    return con


def check(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The single SELECT statement in ``sql``, or Refused with the reason."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as error:
        raise Refused(f"Die Abfrage ist kein gültiges SQL: {_first_line(error)}") from None
    if len(statements) != 1:
        raise Refused("Bitte genau eine Anweisung (ohne weitere nach einem Semikolon).")
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        raise Refused(
            f"Nur Abfragen (SELECT, WITH ... SELECT) sind erlaubt, nicht {statement.type.name}."
        )
    return statement.query


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def main(path: str, out: str, limit: int, memory_limit: str) -> None:
    """The query process: read the SQL from stdin, write the kept rows as Arrow to ``out``
    and a JSON summary line to stdout."""
    sql = sys.stdin.read()
    try:
        con = connect(Path(path), memory_limit=memory_limit)
        query = check(con, sql)
        reader = con.sql(query).to_arrow_reader(2048)  # streamed, not copied
        kept, total = [], 0
        for batch in reader:
            if total < limit:
                kept.append(batch.slice(0, limit - total))
            total += batch.num_rows
        table = pa.Table.from_batches(kept, schema=reader.schema)
        with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        print(json.dumps({"total": total}))
    except Refused as refused:
        print(json.dumps({"refused": str(refused)}))
    except duckdb.OutOfMemoryException:
        print(json.dumps({"refused": OUT_OF_MEMORY}))
    except duckdb.Error as error:
        print(json.dumps({"refused": _first_line(error)}))
    except MemoryError:
        print(json.dumps({"refused": OUT_OF_MEMORY}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])

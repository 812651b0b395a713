"""The analysts' query process (``python -m kohorte.read.sandbox_child``): kept to duckdb and
pyarrow, so a query pays little start-up. See ``kohorte.read.sandbox`` for the design.

Everything an analyst's text can make expensive happens here, under the process's time and
address-space limits: parsing, running, and turning the result into what the dashboard and
the command line can hold. The calling process gets a bounded Arrow file of plain columns.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

MEMORY_LIMIT = "512MB"
THREADS = 1
BATCH_ROWS = 2048
RESULT_BYTES = 50_000_000  # Arrow bytes of a result handed to the dashboard or the shell
ORIGINAL_CHARS = 2000  # of an original message shown below the sentence
MASK = "…"  # stands for a server folder in what an analyst sees
# every sentence an analyst reads, German and English: (de, en)
OUT_OF_MEMORY = (
    "Die Abfrage braucht mehr Arbeitsspeicher als erlaubt.",
    "The query needs more memory than allowed.",
)
UNEXPECTED = (
    "Die Abfrage ist an einem unerwarteten Fehler gescheitert.",
    "The query failed with an unexpected error.",
)

# DuckDB types that pandas and every output (table, CSV, XLSX, Parquet, JSON) hold as they
# are. Every other column (lists, structs, maps, unions, variants, intervals, times, time
# zones, blobs, ...) is shown as DuckDB's own text for it, which never fails to convert.
PLAIN_TYPES = frozenset(
    {
        "boolean", "tinyint", "smallint", "integer", "bigint", "hugeint",
        "utinyint", "usmallint", "uinteger", "ubigint", "uhugeint",
        "float", "double", "decimal", "varchar", "uuid", "enum",
        "date", "timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns",
    }
)  # fmt: skip

# sentences for DuckDB's errors, most specific first; the original follows below
SENTENCES = (
    (duckdb.OutOfMemoryException, OUT_OF_MEMORY),
    (
        duckdb.PermissionException,
        (
            "Das ist in der SQL-Sandbox nicht erlaubt: sie liest nur die Analyse-Tabellen, "
            "ohne Dateien, Datenbanken, Erweiterungen und Einstellungen.",
            "The SQL sandbox does not allow this: it reads the analyst tables only, no "
            "files, databases, extensions or settings.",
        ),
    ),
    (
        duckdb.ParserException,
        ("Die Abfrage ist kein gültiges SQL.", "The query is not valid SQL."),
    ),
    (
        duckdb.CatalogException,
        (
            "Diese Tabelle, Spalte oder Funktion gibt es in den Analyse-Tabellen nicht.",
            "The analyst tables have no such table, column or function.",
        ),
    ),
    (
        duckdb.BinderException,
        (
            "Die Abfrage passt nicht zu den Analyse-Tabellen: ein Name, ein Typ oder ihr "
            "Aufbau stimmt nicht.",
            "The query does not fit the analyst tables: a name, a type or its structure is wrong.",
        ),
    ),
    (
        (duckdb.ConversionException, duckdb.OutOfRangeException),
        (
            "Ein Wert lässt sich nicht umwandeln oder liegt außerhalb des erlaubten Bereichs.",
            "A value cannot be converted or is out of range.",
        ),
    ),
    (
        duckdb.Error,
        ("DuckDB konnte die Abfrage nicht ausführen.", "DuckDB could not run the query."),
    ),
)


class Failure(Exception):
    """A query that gave no result: ``reason``, a sentence (German, and ``english`` for an
    English page), and below it ``original``, the message it comes from (DuckDB's, server
    folders masked), so an analyst reads what went wrong and can still search for the
    exact message. The sentence may be given as a (de, en) pair."""

    def __init__(
        self, reason: str | tuple[str, str], original: str = "", english: str = ""
    ) -> None:
        if isinstance(reason, tuple):
            reason, english = reason
        super().__init__(reason, original)
        self.reason = reason
        self.english = english or reason
        self.original = original[:ORIGINAL_CHARS]

    def __str__(self) -> str:
        return f"{self.reason}\n{self.original}" if self.original else self.reason

    def sentence(self, lang: str) -> str:
        """The sentence in the UI language."""
        return self.english if lang == "en" else self.reason

    def summary(self) -> dict[str, object]:
        """The query process's report of it (``failure_from(summary)`` in the caller)."""
        return {
            "reason": self.reason,
            "english": self.english,
            "original": self.original,
            "refused": isinstance(self, Refused),
        }


class Refused(Failure, ValueError):
    """A statement the sandbox does not run: not one SELECT, or reaching beyond the
    analyst tables (files, databases, extensions, settings). ``kohorte sql`` exits 2."""


class QueryError(Failure, ValueError):
    """A statement DuckDB could not run: no valid SQL, a name that does not exist, a value
    out of range, too little memory. ``kohorte sql`` exits 1."""


def failure_from(summary: dict) -> Failure:
    """The failure the query process reported (``Failure.summary``)."""
    kind = Refused if summary.get("refused", True) else QueryError
    return kind(summary["reason"], summary.get("original", ""), summary.get("english", ""))


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
    """The single SELECT statement in ``sql``, or Refused with the reason (a text that is
    no SQL raises DuckDB's ParserException, see ``refusal``)."""
    statements = con.extract_statements(sql)
    if len(statements) != 1:
        raise Refused(
            (
                "Bitte genau eine Anweisung (ohne weitere nach einem Semikolon).",
                "Please send exactly one statement (none after a semicolon).",
            )
        )
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        kind = statement.type.name
        raise Refused(
            (
                f"Nur Abfragen (SELECT, WITH ... SELECT) sind erlaubt, nicht {kind}.",
                f"Only queries (SELECT, WITH ... SELECT) are allowed, not {kind}.",
            )
        )
    return statement.query


def server_folders(analyst_file: Path) -> tuple[str, ...]:
    """Folders whose absolute paths an analyst must not see, longest first (a folder inside
    another is masked whole): the analyst file's, the working and the home folder. DuckDB
    shows the file's folder (``duckdb_databases()``, ``allowed_paths``); the query process
    runs in, and with its home in, a temporary folder of its own, so the service's home
    never reaches DuckDB."""
    folders = {
        str(analyst_file.absolute().parent),
        str(analyst_file.resolve().parent),  # DuckDB shows the path with links resolved
        str(Path.cwd()),
        str(Path.home()),
    }
    return tuple(sorted((f for f in folders if f != "/"), key=len, reverse=True))


def mask(text: str, folders: Iterable[str]) -> str:
    """``text`` with every server folder replaced by MASK."""
    for folder in folders:
        text = text.replace(folder, MASK)
    return text


def refusal(error: duckdb.Error, folders: Iterable[str]) -> Failure:
    """DuckDB's error as a sentence with DuckDB's message, masked, below it: a
    refusal where the sandbox's limits stopped it, else an error in the query."""
    reason = next(sentence for kind, sentence in SENTENCES if isinstance(error, kind))
    kind = Refused if isinstance(error, duckdb.PermissionException) else QueryError
    return kind(reason, mask(str(error).strip(), folders))


def unique(names: list[str]) -> list[str]:
    """Column names made unique (``a, a`` becomes ``a, a_2``): pandas, JSON and the
    dashboard's table need one column per name; DuckDB allows the same name twice."""
    originals, taken, result = set(names), set(), []
    for name in names:
        candidate, number = name, 1
        while candidate in taken or (candidate != name and candidate in originals):
            number += 1
            candidate = f"{name}_{number}"
        taken.add(candidate)
        result.append(candidate)
    return result


def as_text(relation: duckdb.DuckDBPyRelation, positions: set[int]) -> duckdb.DuckDBPyRelation:
    """``relation`` with the columns at ``positions`` (from 1) cast to VARCHAR by DuckDB,
    whose text for any value (``infinity``, a union's member, a struct) is the one analysts
    know. Columns are named by position, so the projection holds no text of the query."""
    if not positions:
        return relation
    count = len(relation.columns)
    return relation.project(
        ", ".join(f"#{i}::varchar" if i in positions else f"#{i}" for i in range(1, count + 1))
    )


def not_plain(relation: duckdb.DuckDBPyRelation) -> set[int]:
    """Positions (from 1) of the columns whose DuckDB type is not in PLAIN_TYPES."""
    return {i for i, kind in enumerate(relation.types, 1) if kind.id not in PLAIN_TYPES}


def beyond_python(table: pa.Table) -> set[int]:
    """Positions (from 1) of date and timestamp columns holding a value Python's datetime
    cannot (``infinity``, before year 1, after 9999): pandas keeps dates as Python objects
    and the exports format them with ``strftime``. Nanoseconds never go beyond it. The
    bounds are compared as integers (days, or the timestamp's unit since 1970): an Arrow
    scalar made from Python would import pandas, a quarter of a second per query."""
    positions = set()
    for i, column in enumerate(table.columns, 1):
        bounds = _python_bounds(column.type)
        if bounds is not None:
            low, high = pc.min_max(column.cast(bounds[2])).values()
            if low.is_valid and not bounds[0] <= low.as_py() <= high.as_py() <= bounds[1]:
                positions.add(i)
    return positions


def _python_bounds(kind: pa.DataType) -> tuple[int, int, pa.DataType] | None:
    """The lowest and highest value of a date or timestamp column that Python's datetime
    holds, as integers of the integer type the column casts to; None for other columns."""
    if pa.types.is_date32(kind):
        epoch = dt.date(1970, 1, 1)
        return (dt.date.min - epoch).days, (dt.date.max - epoch).days, pa.int32()
    if pa.types.is_timestamp(kind) and kind.unit != "ns":
        per_second = {"s": 1, "ms": 1_000, "us": 1_000_000}[kind.unit]
        epoch = dt.datetime(1970, 1, 1)
        low, high = (
            (bound - epoch) // dt.timedelta(seconds=1)
            for bound in (dt.datetime.min, dt.datetime.max)
        )
        return low * per_second, (high + 1) * per_second - 1, pa.int64()
    return None


def collect(reader: pa.RecordBatchReader, limit: int, max_bytes: int) -> tuple[pa.Table, int]:
    """The first ``limit`` rows, but no further batch once ``max_bytes`` are kept, and the
    number of all rows: the rest is counted, not kept."""
    kept, rows, size, total = [], 0, 0, 0
    for batch in reader:
        if rows < limit and size <= max_bytes:
            part = batch.slice(0, limit - rows)
            kept.append(part)
            rows += part.num_rows
            size += part.nbytes
        total += batch.num_rows
    return pa.Table.from_batches(kept, schema=reader.schema), total


def fit(table: pa.Table, max_bytes: int) -> pa.Table:
    """The longest head of ``table`` within ``max_bytes`` (Arrow's count of the bytes a
    slice references), so the calling process never reads more."""
    rows = bisect.bisect_right(
        range(table.num_rows + 1), max_bytes, key=lambda n: table.slice(0, n).nbytes
    )
    return table.slice(0, max(rows - 1, 0))


def mask_table(table: pa.Table, folders: Iterable[str]) -> pa.Table:
    """``table`` with every server folder in its text columns replaced by MASK (nested
    values are text by then, see PLAIN_TYPES)."""
    for i, column in enumerate(table.columns):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            for folder in folders:
                column = pc.replace_substring(column, folder, MASK)
            table = table.set_column(i, table.field(i), column)
    return table


def answer(
    con: duckdb.DuckDBPyConnection, sql: str, limit: int, max_bytes: int, folders: tuple[str, ...]
) -> tuple[pa.Table, int]:
    """The kept rows of the one SELECT in ``sql`` as plain, masked, bounded Arrow, and the
    number of all rows."""
    relation = con.sql(check(con, sql))
    names = unique([mask(name, folders) for name in relation.columns])
    reader = as_text(relation, not_plain(relation)).to_arrow_reader(BATCH_ROWS)
    kept, total = collect(reader, limit, max_bytes)
    table = kept.rename_columns(names)
    late = beyond_python(table)
    if late:  # rare: DuckDB reads the kept rows back and writes those columns as text
        table = as_text(con.from_arrow(table), late).to_arrow_table().rename_columns(names)
    return fit(mask_table(table, folders), max_bytes), total


def report(path: Path, out: str, limit: int, memory_limit: str, max_bytes: int) -> dict:
    """Run the query read (as UTF-8) from stdin and write its kept rows as Arrow to ``out``;
    the summary for the calling process: the row count, or a Failure's two parts."""
    folders = server_folders(path)
    try:
        con = connect(path, memory_limit=memory_limit)
        table, total = answer(con, sys.stdin.buffer.read().decode(), limit, max_bytes, folders)
        with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    except Failure as failure:
        return failure.summary()
    except duckdb.Error as error:
        return refusal(error, folders).summary()
    except MemoryError:
        return QueryError(OUT_OF_MEMORY, "MemoryError").summary()
    except Exception as error:  # whatever else: still a sentence, never a silent death
        return QueryError(UNEXPECTED, mask(f"{type(error).__name__}: {error}", folders)).summary()
    return {"total": total}


if __name__ == "__main__":
    path, out, limit, memory_limit, max_bytes = sys.argv[1:]
    print(json.dumps(report(Path(path), out, int(limit), memory_limit, int(max_bytes))))

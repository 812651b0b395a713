"""SQL for analysts, safely: a separate, pseudonymised analyst file and a locked connection.

Security by construction rather than by filtering SQL text: every build writes, beside the
warehouse, an analyst file that holds *only* the documented analyst tables
(``kohorte.build.analyst``). An analyst's connection opens that file read-only with
external access off (no files, no ATTACH, no COPY, no INSTALL/LOAD), its configuration
locked, one thread and a memory limit; a query runs in its own process, which is killed at the time
limit. Only one SELECT statement is accepted. The result is streamed: the first ``limit`` rows are
kept, the rest only counted.

The calling process reads nothing of the query but its length and encoding: parsing, running
and the conversion to types every output holds (``sandbox_child.PLAIN_TYPES``) happen in the
query process, which hands back at most ``RESULT_BYTES``, with server folders masked.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from kohorte.read import fmt, queries
from kohorte.read.access import AGGREGATE, PARTICIPANT
from kohorte.read.sandbox_child import (
    MEMORY_LIMIT,
    RESULT_BYTES,
    UNEXPECTED,
    failure_from,
    mask,
    server_folders,
)
from kohorte.read.sandbox_child import OUT_OF_MEMORY as OUT_OF_MEMORY  # re-exported
from kohorte.read.sandbox_child import Failure as Failure
from kohorte.read.sandbox_child import QueryError as QueryError
from kohorte.read.sandbox_child import Refused as Refused
from kohorte.read.sandbox_child import connect as connect

TIMEOUT_S = 20.0
ROW_LIMIT = 10_000
MAX_SQL_CHARS = 100_000  # a longer text is refused before anything reads it
AUDIT_CHARS = 2000  # of a query's text in the audit log
log = logging.getLogger(__name__)

# The dashboard's named queries read the warehouse; where every name they use has an
# analyst table, the same query runs in the sandbox over the analyst tables (on the whole
# programme, with the parameters' defaults). Those are offered as examples.
ANALYST_NAMES = {
    "marts.auswahl({filter_args})": "teilnahmen",
    "marts.teilnahmen": "teilnahmen",
    "marts.monatszahlen": "monatszahlen",
    "marts.kennzahlen": "kennzahlen",
    "staging.stg_anwesenheit": "anwesenheit",
    "staging.stg_aktivitaeten": "aktivitaeten",
    "staging.stg_ergebnisse": "ergebnisse",
    "staging.stg_verbleib": "verbleib",
    "meta.build": "datenstand",
}
EXAMPLE_PARAMETERS = {"$raster": "'monat'"}
_WAREHOUSE_NAME = re.compile(r"\b(?:marts|staging|meta|raw)\.\w+|\$\w+")


@dataclass(frozen=True)
class Example:
    """A hand-written query the SQL page offers, named in both languages."""

    de: str
    en: str
    sql: str


EXAMPLES = (
    Example(
        "Anwesenheit und Ergebnisse je Teilnahme",
        "Attendance and outcomes per participation",
        """select t.teilnahme_id, t.eintritt, t.austritt,
       count(a.datum) as termine,
       avg(case when a.status = 'anwesend' then 1 else 0 end) as anwesenheit,
       string_agg(distinct e.art, ', ') as ergebnisse
from teilnahmen as t
left join anwesenheit as a
    on a.pid = t.pid and a.datum between t.eintritt and coalesce(t.austritt, a.datum)
left join ergebnisse as e
    on e.pid = t.pid and e.datum between t.eintritt and coalesce(t.austritt + 28, e.datum)
group by all
order by t.eintritt desc""",
    ),
    Example(
        "Integrationen je Eintrittsmonat",
        "Integrations by month of entry",
        """select kohorte_monat, count(*) as teilnahmen,
       count(*) filter (where integriert_bis_28_tage) as integriert
from teilnahmen
group by kohorte_monat
order by kohorte_monat""",
    ),
    Example(
        "Bewerbungen je Wochentag",
        "Applications by weekday",
        """select dayname(datum) as wochentag, sum(anzahl) as bewerbungen
from aktivitaeten
where art = 'bewerbung'
group by all
order by bewerbungen desc""",
    ),
)


def examples(lang: str = "de") -> dict[str, str]:
    """The hand-written examples by their name in the UI language."""
    return {(e.en if lang == "en" else e.de): e.sql for e in EXAMPLES}


def named_examples(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The dashboard's named queries that run over the analyst tables, as analyst SQL.

    A query qualifies when its access class is an analyst's, every warehouse name and
    parameter in it has an analyst equivalent, and the translated query binds against the
    analyst file (``describe`` binds without running, so coach names and other columns
    analysts do not get rule a query out).
    """
    examples = {}
    for name in queries.names():
        if queries.access_of(name) not in (AGGREGATE, PARTICIPANT):
            continue
        sql = "\n".join(
            line
            for line in queries.query_text(name).splitlines()
            if not line.startswith("-- access:")
        ).strip()
        for warehouse_name, analyst_name in {**ANALYST_NAMES, **EXAMPLE_PARAMETERS}.items():
            sql = sql.replace(warehouse_name, analyst_name)
        if _WAREHOUSE_NAME.search(sql):
            continue
        try:
            con.execute(f"describe {sql}").fetchall()
        except duckdb.Error:
            continue
        examples[f"Dashboard: {name}"] = sql
    return examples


class TimedOut(Failure, RuntimeError):
    """A query stopped at the time limit."""


@dataclass(frozen=True)
class Result:
    frame: pd.DataFrame  # at most ``limit`` rows and ``max_bytes`` of Arrow
    total_rows: int
    truncated: bool
    seconds: float
    limit: int = ROW_LIMIT  # the limits it was kept within
    max_bytes: int = RESULT_BYTES

    @property
    def notice(self) -> str:
        """Why not every row is shown, in German; empty when all are."""
        return self.notice_in("de")

    def notice_in(self, lang: str) -> str:
        """Why not every row is shown, in the UI language; empty when all are."""
        shown, total = len(self.frame), self.total_rows
        if shown == total:
            return ""
        n = {"shown": shown, "total": total, "limit": self.limit, "mb": self.max_bytes / 1e6}
        words = {key: fmt.number(value, lang) for key, value in n.items()}
        cut = "bytes" if shown < min(self.limit, total) else "rows"
        return NOTICES[cut][lang].format(**words)


def run(
    con: duckdb.DuckDBPyConnection | Path,
    sql: str,
    limit: int = ROW_LIMIT,
    timeout_s: float = TIMEOUT_S,
    memory_limit: str = MEMORY_LIMIT,
    max_bytes: int = RESULT_BYTES,
) -> Result:
    """Run one SELECT in a child process, with a row, a byte and a time limit.

    DuckDB's own interrupt and memory limit do not reach every operator (a huge
    ``list(range(...))`` neither stops nor counts against the limit), and parsing a crafted
    text can take minutes, so everything the analyst's text drives (parsing, running, the
    conversion of types pandas cannot hold) happens in its own process with an
    address-space limit, killed at the time limit: the query really stops, and the calling
    process (the dashboard's) never shares its fate nor reads more than ``max_bytes``.
    ``con`` is the analyst file's path (or a sandbox connection to it). Every failure is a
    Failure (Refused, QueryError, TimedOut) with a German sentence, for the caller to show
    and audit.
    """
    path = Path(con) if isinstance(con, (str, Path)) else _path_of(con)
    try:
        return _run(path, sql, limit, timeout_s, memory_limit, max_bytes)
    except Failure:
        raise
    except Exception as error:  # a bug or a full disk: still a sentence, and audited
        log.exception("a sandbox query failed unexpectedly")
        original = mask(f"{type(error).__name__}: {error}", server_folders(path))
        raise Failure(UNEXPECTED, original) from error


def _run(
    path: Path, sql: str, limit: int, timeout_s: float, memory_limit: str, max_bytes: int
) -> Result:
    text = _admitted(sql)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kohorte-sql-") as tmp:
        out = Path(tmp) / "result.arrow"
        command = [sys.executable, "-m", "kohorte.read.sandbox_child", str(path), str(out),
                   str(limit), memory_limit, str(max_bytes)]  # fmt: skip
        summary = _summary(_query_process(command, text, Path(tmp), timeout_s), path)
        frame = _frame(out)
    total = summary["total"]
    seconds = time.perf_counter() - started
    return Result(frame, total, total > len(frame), seconds, limit, max_bytes)


def _admitted(sql: str) -> bytes:
    """The query as UTF-8 for the query process, after the only checks made here, which
    are cheap and bounded: parsing, even of a text crafted to take minutes, happens in the
    query process under its limits."""
    if len(sql) > MAX_SQL_CHARS:
        allowed, has = MAX_SQL_CHARS, len(sql)
        raise Refused(
            (
                f"Die Abfrage ist zu lang: erlaubt sind {fmt.number(allowed)} Zeichen, "
                f"sie hat {fmt.number(has)}.",
                f"The query is too long: {fmt.number(allowed, 'en')} characters are allowed, "
                f"it has {fmt.number(has, 'en')}.",
            )
        )
    try:
        return sql.encode("utf-8")
    except UnicodeEncodeError as error:
        raise Refused(
            (
                f"Die Abfrage enthält an Stelle {error.start + 1} ein Zeichen, das kein "
                "gültiges UTF-8 ist (etwa aus einem Shell-Argument mit ungültigen Bytes).",
                f"The query holds a character at position {error.start + 1} that is not "
                "valid UTF-8 (from a shell argument with invalid bytes, say).",
            ),
            str(error),
        ) from None


def _query_process(
    command: list[str], text: bytes, folder: Path, timeout_s: float
) -> subprocess.CompletedProcess:
    """Run the query process in ``folder``, also its home, so DuckDB sees no server folder
    but the analyst file's (which the process masks)."""
    try:
        return subprocess.run(
            command,
            input=text,
            capture_output=True,
            timeout=timeout_s,
            cwd=folder,
            env={**os.environ, "HOME": str(folder)},
            start_new_session=True,  # killed as a group at the time limit
            preexec_fn=_limit_address_space,
            check=False,
        )
    except subprocess.TimeoutExpired:
        seconds = f"{timeout_s:g}"
        raise TimedOut(
            (
                f"Die Abfrage wurde nach {seconds.replace('.', ',')} s abgebrochen (Zeitlimit).",
                f"The query was stopped after {seconds} s (time limit).",
            )
        ) from None


def _summary(done: subprocess.CompletedProcess, path: Path) -> dict:
    """The query process's summary line, or Refused with what it reported instead."""
    lines = done.stdout.decode().strip().splitlines()
    if not lines:  # killed at the address-space limit before it could say so
        last = (done.stderr.decode(errors="replace").strip().splitlines() or [""])[-1]
        raise QueryError(
            (
                "Die Abfrage wurde beendet: sie braucht mehr Arbeitsspeicher als erlaubt.",
                "The query was ended: it needs more memory than allowed.",
            ),
            mask(last, server_folders(path)),
        )
    summary = json.loads(lines[-1])
    if "reason" in summary:
        raise failure_from(summary)
    return summary


def _frame(path: Path) -> pd.DataFrame:
    """The query process's Arrow file as pandas: plain columns within the byte limit (see
    ``sandbox_child.PLAIN_TYPES``), so this conversion is bounded and cannot fail on a type."""
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all().to_pandas()


NOTICES = {
    "bytes": {
        "de": "Das Ergebnis wurde nach {shown} von {total} Zeilen abgeschnitten: mehr als "
        "{mb} MB gibt die Sandbox nicht weiter. Bitte weniger oder kürzere Spalten oder "
        "Zeilen abfragen.",
        "en": "The result was cut after {shown} of {total} rows: the sandbox hands on no more "
        "than {mb} MB. Please ask for fewer or shorter columns or rows.",
    },
    "rows": {
        "de": "Gezeigt werden die ersten {shown} von {total} Zeilen (höchstens {limit} je "
        "Abfrage).",
        "en": "Showing the first {shown} of {total} rows (at most {limit} per query).",
    },
}


def audit_details(query: str, outcome: Result | Failure) -> dict[str, object]:
    """What the audit log keeps of one query, the same for the page and the command line:
    its text (shortened, and writable: a shell argument can hold bytes that are no UTF-8)
    and its row count or its failure."""
    text = query[:AUDIT_CHARS].encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(outcome, Failure):
        return {"abfrage": text, "fehler": str(outcome)}
    return {"abfrage": text, "zeilen": outcome.total_rows}


ADDRESS_SPACE = 4 * 1024**3  # bytes a query process may map (DuckDB's own limit is lower)


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _path_of(con: duckdb.DuckDBPyConnection) -> Path:
    rows = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    )
    return Path(rows.fetchall()[0][0])


def describe(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Tables, columns, types and descriptions of the analyst file (the schema browser)."""
    return con.execute(
        """select c.table_name as tabelle, c.column_name as spalte, c.data_type as typ,
                  coalesce(c.comment, '') as bedeutung
           from duckdb_columns() as c
           where c.database_name = current_database() and c.schema_name = 'main'
           order by c.table_name, c.column_index"""
    ).df()

"""SQL for analysts, safely: a separate, pseudonymised analyst file and a locked connection.

Security by construction rather than by filtering SQL text: every build writes, beside the
warehouse, an analyst file that holds *only* the documented analyst tables
(``kohorte.build.analyst``). An analyst's connection opens that file read-only with
external access off (no files, no ATTACH, no COPY, no INSTALL/LOAD), its configuration
locked, one thread and a memory limit; a query runs in its own process, which is killed at the time
limit. Only one SELECT statement is accepted. The result is streamed: the first ``limit`` rows are
kept, the rest only counted.
"""

from __future__ import annotations

import json
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

from kohorte.read import queries
from kohorte.read.access import AGGREGATE, PARTICIPANT
from kohorte.read.sandbox_child import MEMORY_LIMIT, check
from kohorte.read.sandbox_child import OUT_OF_MEMORY as OUT_OF_MEMORY  # re-exported
from kohorte.read.sandbox_child import Refused as Refused
from kohorte.read.sandbox_child import connect as connect

TIMEOUT_S = 20.0
ROW_LIMIT = 10_000

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


EXAMPLES = {
    "Anwesenheit und Ergebnisse je Teilnahme": """select t.teilnahme_id, t.eintritt, t.austritt,
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
    "Integrationen je Eintrittsmonat": """select kohorte_monat, count(*) as teilnahmen,
       count(*) filter (where integriert_bis_28_tage) as integriert
from teilnahmen
group by kohorte_monat
order by kohorte_monat""",
    "Bewerbungen je Wochentag": """select dayname(datum) as wochentag, sum(anzahl) as bewerbungen
from aktivitaeten
where art = 'bewerbung'
group by all
order by bewerbungen desc""",
}


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


class TimedOut(RuntimeError):
    """A query stopped at the time limit."""


@dataclass(frozen=True)
class Result:
    frame: pd.DataFrame  # at most ``limit`` rows
    total_rows: int
    truncated: bool
    seconds: float


def run(
    con: duckdb.DuckDBPyConnection | Path,
    sql: str,
    limit: int = ROW_LIMIT,
    timeout_s: float = TIMEOUT_S,
    memory_limit: str = MEMORY_LIMIT,
) -> Result:
    """Run one checked SELECT in a child process, with a row limit and a time limit.

    DuckDB's own interrupt and memory limit do not reach every operator (a huge
    ``list(range(...))`` neither stops nor counts against the limit), so the query runs in
    its own process with an address-space limit, and that process is killed at the time
    limit: the query really stops, and the dashboard's process never shares its fate.
    ``con`` is the analyst file's path (or a sandbox connection to it).
    """
    path = Path(con) if isinstance(con, (str, Path)) else _path_of(con)
    check(_PARSER, sql)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kohorte-sql-") as tmp:
        out = Path(tmp) / "result.arrow"
        try:
            done = subprocess.run(
                [sys.executable, "-m", "kohorte.read.sandbox_child", str(path), str(out),
                 str(limit), memory_limit],
                input=sql,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                start_new_session=True,  # killed as a group at the time limit
                preexec_fn=_limit_address_space,
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise TimedOut(
                f"Die Abfrage wurde nach {timeout_s:g} s abgebrochen (Zeitlimit)."
            ) from None
        lines = done.stdout.strip().splitlines()
        if not lines:
            raise Refused(
                "Die Abfrage wurde beendet: sie braucht mehr Arbeitsspeicher als erlaubt."
            )
        summary = json.loads(lines[-1])
        if "refused" in summary:
            raise Refused(summary["refused"])
        with pa.memory_map(str(out)) as source:
            frame = pa.ipc.open_file(source).read_all().to_pandas()
    total = summary["total"]
    return Result(frame, total, total > limit, time.perf_counter() - started)


_PARSER = duckdb.connect()  # parses only; never sees data
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

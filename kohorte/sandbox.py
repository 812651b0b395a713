"""SQL for analysts, safely: a separate, pseudonymised analyst file and a locked connection.

Security by construction rather than by filtering SQL text: every build writes, beside the
warehouse, an analyst file that holds *only* the documented analyst tables (``TABLES``,
also the data dictionary). Nothing else is in it: no raw store, no load log, no coach
names. An analyst's connection opens that file read-only with external access off (no
files, no ATTACH, no COPY, no INSTALL/LOAD), its configuration locked, one thread and a
memory limit; a query runs in its own process, which is killed at the time limit. Only
one SELECT statement is accepted. The result is streamed: the first ``limit`` rows are
kept, the rest only counted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from kohorte import queries
from kohorte.access import AGGREGATE, PARTICIPANT
from kohorte.sandbox_child import MEMORY_LIMIT, check
from kohorte.sandbox_child import OUT_OF_MEMORY as OUT_OF_MEMORY  # re-exported
from kohorte.sandbox_child import Refused as Refused
from kohorte.sandbox_child import connect as connect

ANALYST_PREFIX = "analyse-"
TIMEOUT_S = 20.0
ROW_LIMIT = 10_000
# Analysts' own tools lag behind the library: the newest DuckDB CLI on PyPI is 1.5, and so
# are many JDBC drivers (DBeaver) and Jupyter installations. Written in 1.5's storage
# format, the analyst file opens in all of them (tested with the CLI).
ANALYST_STORAGE_VERSION = "v1.5.0"


@dataclass(frozen=True)
class Table:
    """An analyst table: where it comes from, what it means, what its columns mean."""

    name: str
    description: str
    source: str  # SQL over the warehouse, run at build time
    columns: dict[str, str] = field(default_factory=dict)


TABLES: tuple[Table, ...] = (
    Table(
        "teilnahmen",
        "Eine Zeile je Teilnahme (pseudonymisiert), mit Anwesenheit, Aktivitäten und Ergebnis.",
        """select teilnahme_id, pid, eintritt, austritt, austrittsgrund, standort, geschlecht,
                  alter_bei_eintritt, langzeitleistungsbezug, berufsabschluss, kohorte_monat,
                  kohorte_woche, termine, termine_anwesend, termine_entschuldigt,
                  termine_unentschuldigt, stunden_anwesend, stunden_geplant, bewerbungen,
                  vorstellungsgespraeche, arbeitgeberkontakte, erste_integration_datum,
                  erste_integration_art, integriert_bis_28_tage, integrationsfenster_geschlossen,
                  beschaeftigt_bei_austritt, verbleib_faellig, verbleib_status
           from marts.teilnahmen""",
        {
            "teilnahme_id": "Pseudonym und Eintrittsdatum: eindeutig je Teilnahme",
            "pid": "Pseudonym der Person (HMAC der Kundennummer; nicht umkehrbar)",
            "eintritt": "Eintrittsdatum",
            "austritt": "Austrittsdatum; leer, solange die Teilnahme läuft",
            "austrittsgrund": "regulaer, arbeitsaufnahme, abbruch, sonstiges",
            "standort": "Standort des Programms",
            "geschlecht": "w, m, d",
            "alter_bei_eintritt": "Alter im Eintrittsjahr",
            "langzeitleistungsbezug": "Langzeitleistungsbezug (ja/nein)",
            "berufsabschluss": "Berufsabschluss vorhanden (ja/nein)",
            "kohorte_monat": "Eintrittsmonat YYYY-MM",
            "kohorte_woche": "ISO-Eintrittswoche YYYY-Www",
            "termine": "geplante Termine",
            "termine_anwesend": "Termine mit Status anwesend",
            "termine_entschuldigt": "Termine mit Status entschuldigt",
            "termine_unentschuldigt": "Termine mit Status unentschuldigt",
            "stunden_anwesend": "anwesende Stunden",
            "stunden_geplant": "geplante Stunden (Termine x Stunden je Termin)",
            "bewerbungen": "Bewerbungen in der Teilnahme",
            "vorstellungsgespraeche": "Vorstellungsgespräche in der Teilnahme",
            "arbeitgeberkontakte": "direkte Arbeitgeberkontakte in der Teilnahme",
            "erste_integration_datum": "Beginn der ersten Integration (bis 28 Tage nach Austritt)",
            "erste_integration_art": "svb_beschaeftigung, ausbildung, selbststaendigkeit",
            "integriert_bis_28_tage": "Integration zwischen Eintritt und 28 Tagen nach Austritt",
            "integrationsfenster_geschlossen": "28-Tage-Fenster nach Austritt ist abgelaufen",
            "beschaeftigt_bei_austritt": "ESF: letztes Ergebnis bis 28 Tage nach Austritt ist "
            "eine Beschäftigung",
            "verbleib_faellig": "Nachbefragung nach 6 Monaten ist fällig",
            "verbleib_status": "Status der Nachbefragung nächst 6 Monaten nach Austritt",
        },
    ),
    Table(
        "anwesenheit",
        "Ein Termin je Zeile (pseudonymisiert): Datum, Status, Stunden.",
        "select pid, datum, status, stunden from staging.stg_anwesenheit",
        {
            "pid": "Pseudonym der Person",
            "datum": "Termindatum",
            "status": "anwesend, entschuldigt, unentschuldigt",
            "stunden": "anwesende Stunden",
        },
    ),
    Table(
        "aktivitaeten",
        "Bewerbungen, Vorstellungsgespräche, Arbeitgeberkontakte, Beratungen je Tag.",
        "select pid, datum, art, anzahl from staging.stg_aktivitaeten",
        {
            "pid": "Pseudonym der Person",
            "datum": "Datum",
            "art": "bewerbung, vorstellungsgespraech, arbeitgeberkontakt, beratung",
            "anzahl": "Anzahl an diesem Tag",
        },
    ),
    Table(
        "ergebnisse",
        "Ergebnisse (Arbeitsaufnahme, Ausbildung, Praktikum, Weiterbildung, ...).",
        "select pid, datum, art, befristet, wochenstunden from staging.stg_ergebnisse",
        {
            "pid": "Pseudonym der Person",
            "datum": "Beginn",
            "art": "svb_beschaeftigung, ausbildung, selbststaendigkeit, minijob, "
            "gefoerderte_beschaeftigung, praktikum, weiterbildung",
            "befristet": "befristet (ja/nein), wo bekannt",
            "wochenstunden": "Wochenstunden, wo bekannt",
        },
    ),
    Table(
        "verbleib",
        "Nachbefragungen nach dem Austritt.",
        "select pid, stichtag, status from staging.stg_verbleib",
        {
            "pid": "Pseudonym der Person",
            "stichtag": "Stichtag der Nachbefragung",
            "status": "svb_beschaeftigt, ausbildung, selbststaendig, arbeitslos, ...",
        },
    ),
    Table(
        "monatszahlen",
        "Monatszahlen des ganzen Programms (Zähler und Nenner der Monatsquoten).",
        "select * from marts.monatszahlen",
        {
            "monat": "Kalendermonat (erster Tag)",
            "laufender_monat": "der Monat des Datenstands (unvollständig)",
            "eintritte": "Eintritte im Monat",
            "austritte": "Austritte im Monat",
            "abbrueche": "Austritte mit Grund abbruch",
            "austritte_integriert": "Austritte mit Integration bis 28 Tage danach",
            "austritte_beschaeftigt": "Austritte, beschäftigt bei Austritt (ESF)",
            "austritte_fenster_offen": "Austritte, deren 28-Tage-Fenster noch offen ist",
            "verbleib_beschaeftigt": "Austritte, beschäftigt 6 Monate danach",
            "verbleib_offen": "Austritte, deren Nachbefragung noch nicht fällig ist",
            "aktive_am_monatsende": "Teilnehmende am Monatsende",
            "termine": "geplante Termine",
            "termine_unentschuldigt": "unentschuldigt versäumte Termine",
            "stunden_anwesend": "anwesende Stunden",
            "stunden_geplant": "geplante Stunden",
        },
    ),
    Table(
        "kennzahlen",
        "Die Kennzahlen mit Zähler, Nenner und Zeitraum (aktuell und Vorjahr).",
        "select * from marts.kennzahlen",
        {
            "kennzahl": "Kennzahl (docs/kpis.md)",
            "periode": "aktuell oder vorjahr (dasselbe Fenster ein Jahr früher)",
            "zaehler": "Zähler",
            "nenner": "Nenner (leer bei Anzahlen)",
            "quote": "Zähler / Nenner",
            "fenster_von": "Beginn des Zeitraums",
            "fenster_bis": "Ende des Zeitraums (Datenstand)",
        },
    ),
    Table(
        "datenstand",
        "Eine Zeile: der Stand dieser Daten (welche Nacht, bis zu welchem Tag).",
        "select as_of, load_date, built_at from meta.build",
        {
            "as_of": "Datenstand: der letzte Tag, den die Daten abdecken",
            "load_date": "Tag der nächtlichen Ladung",
            "built_at": "Zeitpunkt, zu dem diese Version gebaut wurde",
        },
    ),
)

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


def render_markdown() -> str:
    """``docs/analyst-tables.md``: the data dictionary of the analyst tables."""
    lines = [
        "# Analyst tables (data dictionary)",
        "",
        "<!-- Generated by `kohorte docs` from kohorte/sandbox.py. Do not edit by hand. -->",
        "",
        "What analysts see on the *SQL* page, with `kohorte sql` and in their own tools: the",
        "analyst file `warehouse/versions/analyse-<published version>.duckdb`, pseudonymised,",
        "without coach names, load logs or the raw store; `kohorte analyst-file` prints its",
        "path. Types are shown in the page's schema browser.",
        "",
    ]
    for table in TABLES:
        lines += [f"## `{table.name}`", "", table.description, "", "| column | meaning |"]
        lines.append("| --- | --- |")
        lines += [f"| `{column}` | {text} |" for column, text in table.columns.items()]
        lines.append("")
    return "\n".join(lines)


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


def write_analyst_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Copy the analyst tables from the warehouse being built into a new file at ``path``."""
    path.unlink(missing_ok=True)
    con.execute(
        f"attach $path as analyst_file (storage_version '{ANALYST_STORAGE_VERSION}')",
        {"path": str(path)},
    )
    try:
        for table in TABLES:
            con.execute(f"create table analyst_file.main.{table.name} as {table.source}")
            # COMMENT takes no parameters; the texts are this module's own constants
            con.execute(
                f"comment on table analyst_file.main.{table.name} is {_literal(table.description)}"
            )
            for column, text in table.columns.items():
                con.execute(
                    f"comment on column analyst_file.main.{table.name}.{column} is {_literal(text)}"
                )
    finally:
        con.execute("detach analyst_file")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def analyst_path(warehouse_path: Path) -> Path:
    """The analyst file that belongs to a published warehouse version."""
    return warehouse_path.with_name(ANALYST_PREFIX + warehouse_path.name)


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
                [sys.executable, "-m", "kohorte.sandbox_child", str(path), str(out), str(limit),
                 memory_limit],
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


def today() -> dt.date:
    return dt.date.today()

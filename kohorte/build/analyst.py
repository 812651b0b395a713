"""The analyst file: what analysts may query, written beside every warehouse version.

Every build copies the documented analyst tables (``TABLES``, which are also the data
dictionary, ``docs/analyst-tables.md``) into a separate, pseudonymised DuckDB file. Nothing
else is in it: no raw store, no load log, no coach names. ``kohorte.read.sandbox`` runs the
analysts' queries against this file only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from kohorte.define.contract import markdown_table
from kohorte.store.db import literal, transaction

PREFIX = "analyse-"
# Analysts' own tools lag behind the library: the newest DuckDB CLI on PyPI is 1.5, and so
# are many JDBC drivers (DBeaver) and Jupyter installations. Written in 1.5's storage
# format, the analyst file opens in all of them (tested with the CLI).
STORAGE_VERSION = "v1.5.0"


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
        "Die Kennzahlen mit Zähler, Nenner und Zeitraum (12 Monate und Programmjahr, "
        "jeweils mit dem Vorjahr).",
        "select * from marts.kennzahlen",
        {
            "kennzahl": "Kennzahl (docs/kpis.md)",
            "periode": "aktuell (12 Monate bis Datenstand), programmjahr (Programmjahr bis "
            "Datenstand), vorjahr und programmjahr_vorjahr (dasselbe ein Jahr früher)",
            "zaehler": "Zähler",
            "nenner": "Nenner (leer bei Anzahlen)",
            "quote": "Zähler / Nenner",
            "fenster_von": "erster Tag, dessen Ereignisse zählen (bei Quoten nach Austritt "
            "früher als der Zeitraum)",
            "fenster_bis": "Ende des Zeitraums (Datenstand oder ein Jahr davor)",
            "zeitraum_von": "erster Tag des Zeitraums (12 Monate oder Programmjahr)",
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


def write_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Copy the analyst tables from the warehouse being built into a new file at ``path``."""
    path.unlink(missing_ok=True)
    con.execute(
        f"attach $path as analyst_file (storage_version '{STORAGE_VERSION}')",
        {"path": str(path)},
    )
    try:
        with transaction(con):  # the tables and their ~80 comments in one commit
            for table in TABLES:
                _copy(con, table)
    finally:
        con.execute("detach analyst_file")


def _copy(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    con.execute(f"create table analyst_file.main.{table.name} as {table.source}")
    # COMMENT takes no parameters; the texts are this module's own constants
    con.execute(f"comment on table analyst_file.main.{table.name} is {literal(table.description)}")
    for column, text in table.columns.items():
        con.execute(f"comment on column analyst_file.main.{table.name}.{column} is {literal(text)}")


def path_for(warehouse_path: Path) -> Path:
    """The analyst file that belongs to a published warehouse version."""
    return warehouse_path.with_name(PREFIX + warehouse_path.name)


def tables_markdown() -> str:
    """One section per analyst table (``docs/analyst-tables.md``, between cog markers)."""
    lines = []
    for table in TABLES:
        rows = [(f"`{column}`", text) for column, text in table.columns.items()]
        lines += [f"## `{table.name}`", "", table.description, ""]
        lines += [markdown_table(("column", "meaning"), rows)]
    return "\n".join(lines)

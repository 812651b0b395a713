"""The data contract: the one machine-readable definition of every delivery Kohorte accepts.

The loader validates against it, the generator writes it, and ``docs/data-contract.md`` is
rendered from it (``kohorte contract``), so the three can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["id", "date", "code", "yesno", "decimal", "integer", "text", "merkmal"]

# BA-Kundennummer: three digits, a letter, six digits (e.g. 012D345678). Read as text, so
# leading zeros survive; a number-formatted Excel cell can never match and is reported.
KUNDENNUMMER_PATTERN = r"^[0-9]{3}[A-Z][0-9]{6}$"

# Dates as German Excel writes them; a two-digit year is refused rather than guessed.
DATE_PATTERN = r"^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}$"
EARLIEST_DATE = "2000-01-01"

CSV_DELIMITER = ";"
CSV_DATE_FORMAT = "dd.mm.yyyy"

# No real programme delivers more than a few MB; 1 GiB is ~20 million attendance rows. A
# bigger file is refused before it is read (or even hashed: that alone costs ~10 s per GB).
MAX_FILE_BYTES = 1024**3
# The inbox: names of uploads in progress and editor leftovers are never taken and left
# where they are; markers say "this file is complete" where a Jobcenter switches them on;
# a file must keep size and mtime this many seconds (KOHORTE_SETTLE_SECONDS) to be taken.
TEMPORARY_PREFIXES = (".", "~$")
TEMPORARY_SUFFIXES = (".filepart", ".part", ".partial", ".tmp", ".crdownload", ".download")
MARKER_SUFFIXES = (".done", ".ok")
SETTLE_SECONDS = 10.0
# Text values starting like a formula are refused: opened in Excel they would run.
FORMULA_START = ("=", "+", "@")

# Every error the loader reports carries one of these categories (stable identifiers, in the
# quarantine reports and the run logs), with the German label the reports show.
ERROR_CATEGORIES: dict[str, tuple[str, str]] = {
    "file": ("Datei", "file name unknown, not a real XLSX, wrong number of sheets"),
    "encoding": ("Kodierung", "neither UTF-8 nor Windows-1252, mixed encodings, null bytes"),
    "structure": ("Aufbau", "empty file or header, wrong delimiter, quoting, column count"),
    "header": ("Kopfzeile", "a required column is missing or a column appears twice"),
    "value": ("Wert", "required value missing, not a number, out of range, bad text"),
    "code": ("Code", "a value outside the column's list of codes"),
    "date": ("Datum", "not DD.MM.YYYY, not in the calendar, in the future, before 2000"),
    "rule": ("Regel", "columns of one row contradict each other (exit before entry)"),
    "key": ("Schlüssel", "the natural key appears twice in one file"),
    "reference": ("Bezug", "rows that fit no participation (a warning of the data checks)"),
    "size": ("Größe", "file, unpacked XLSX or one line too big"),
    "security": ("Sicherheit", "macros, formulas, values that start like a formula"),
    "duplicate": ("Duplikat", "the same file was loaded before: not counted again"),
}


@dataclass(frozen=True)
class Column:
    """One column of a delivery."""

    name: str
    type: ColumnType
    description: str
    required: bool = True
    codes: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 200
    default: str | None = None
    not_after_as_of: bool = True
    # values that mean "no date" (SAP's and VerBIS's open end): read as empty, noted
    open_end: tuple[str, ...] = ()

    @property
    def sql_type(self) -> str:
        """DuckDB type of the parsed value in the raw store."""
        return {
            "id": "VARCHAR",
            "date": "DATE",
            "code": "VARCHAR",
            "yesno": "BOOLEAN",
            "decimal": "DECIMAL(9, 2)",
            "integer": "INTEGER",
            "text": "VARCHAR",
            "merkmal": "DOUBLE",
        }[self.type]


@dataclass(frozen=True)
class Rule:
    """A check across columns of one row; ``when`` is SQL over the parsed values."""

    column: str
    when: str
    reason: str


@dataclass(frozen=True)
class Kind:
    """One kind of delivery, recognised by its file-name prefix."""

    name: str
    prefix: str
    title: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    rules: tuple[Rule, ...] = ()
    merkmale: bool = False  # takes optional attribute columns merkmal_<name>

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        return next(c for c in self.columns_for({name}) if c.name == name)

    def accepts(self, name: str) -> bool:
        """Whether a file of this kind may carry a column called ``name``."""
        return any(c.name == name for c in self.columns) or (
            self.merkmale and re.fullmatch(MERKMAL_PATTERN, name) is not None
        )

    def columns_for(self, present: set[str]) -> tuple[Column, ...]:
        """The contract's columns and, for a kind that takes them, the attribute columns
        (merkmal_<name>) among ``present``, sorted by name."""
        extra = sorted(n for n in present if self.merkmale and self.accepts(n))
        return self.columns + tuple(merkmal(n) for n in extra if n.startswith(MERKMAL_PREFIX))

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the columns every file of this kind must have."""
        return tuple(c.name for c in self.columns if c.required)


YES_NO = ("ja", "nein")

# Attributes from the Jobcenter's records (schooling, months unemployed, income, children,
# ...) for the impact estimate: optional columns merkmal_<name> (lower case letters,
# digits, underscores) on participants and the comparison group, each a number with a
# decimal comma or ja/nein (stored as 1 and 0). Stored with the delivery's rows as a map
# ``merkmale`` from name (without the prefix) to value.
MERKMAL_PREFIX = "merkmal_"
MERKMAL_PATTERN = r"merkmal_[a-z][a-z0-9_]{0,39}"


def merkmal(name: str) -> Column:
    """The column of one attribute, ``merkmal_<name>``."""
    return Column(
        name,
        "merkmal",
        "Merkmal aus den Unterlagen des Jobcenters: eine Zahl (Dezimalkomma) oder ja/nein.",
        required=False,
    )


OPEN_END_DATES = ("31.12.9999", "00.00.0000")

# Retracting a row: ``storno`` = ja removes the row with this natural key (a correction of
# a key column, such as a participation's entry date, is a retraction of the old key plus
# the new row). Every other column may then be empty.
STORNO = Column(
    "storno",
    "yesno",
    "ja: die Zeile mit diesem Schlüssel wird zurückgenommen (Storno); die übrigen Spalten "
    "dürfen dann leer sein. Standard nein.",
    required=False,
    codes=YES_NO,
    default="nein",
)

KUNDENNUMMER = Column(
    "kundennummer",
    "id",
    "BA-Kundennummer (3 Ziffern, Buchstabe, 6 Ziffern). Ein Kleinbuchstabe wird "
    "angenommen und wie der Großbuchstabe behandelt (143d000001 ist 143D000001). Wird "
    "beim Einlesen durch ein Pseudonym (verschlüsselter Hash) ersetzt und nie im "
    "Klartext gespeichert.",
)

TEILNEHMENDE = Kind(
    name="teilnehmende",
    prefix="teilnehmende",
    title="Teilnehmende (Teilnahmen)",
    description="Eine Zeile je Teilnahme: Eintritt, Austritt und Merkmale der Person.",
    key=("kundennummer", "eintritt"),
    merkmale=True,
    rules=(
        Rule("austritt", "austritt < eintritt", "Austritt liegt vor dem Eintritt"),
        Rule(
            "austrittsgrund",
            "austritt is not null and austrittsgrund is null",
            "Austrittsgrund fehlt, obwohl ein Austritt angegeben ist",
        ),
        Rule(
            "austritt",
            "austritt is null and austrittsgrund is not null",
            "Austritt fehlt, obwohl ein Austrittsgrund angegeben ist",
        ),
    ),
    columns=(
        KUNDENNUMMER,
        Column("eintritt", "date", "Erster Tag der Teilnahme."),
        Column(
            "austritt",
            "date",
            "Letzter Tag der Teilnahme; leer, solange die Teilnahme läuft (das offene Ende "
            "aus SAP/VerBIS, 31.12.9999 oder 00.00.0000, gilt als leer).",
            required=False,
            open_end=OPEN_END_DATES,
        ),
        Column(
            "austrittsgrund",
            "code",
            "Grund des Austritts; leer, solange die Teilnahme läuft.",
            required=False,
            codes=(
                "regulaer",
                "arbeitsaufnahme",
                "ausbildung",
                "abbruch",
                "krankheit",
                "sonstiges",
            ),
        ),
        Column("coach", "text", "Name des zuständigen Jobcoaches.", max_length=80),
        Column("geschlecht", "code", "w, m oder d (divers).", codes=("w", "m", "d")),
        Column("geburtsjahr", "integer", "Geburtsjahr (vierstellig).", minimum=1940, maximum=2012),
        Column(
            "langzeitleistungsbezug",
            "yesno",
            "Langzeitleistungsbeziehend (mind. 21 der letzten 24 Monate hilfebedürftig).",
            codes=YES_NO,
        ),
        Column("berufsabschluss", "yesno", "Abgeschlossene Berufsausbildung.", codes=YES_NO),
        Column(
            "standort",
            "text",
            "Standort der Maßnahme; fehlt die Spalte oder ist sie leer, gilt der "
            "konfigurierte Standard (KOHORTE_DEFAULT_SITE).",
            required=False,
            max_length=80,
        ),
        STORNO,
    ),
)

ANWESENHEIT = Kind(
    name="anwesenheit",
    prefix="anwesenheit",
    title="Anwesenheit",
    description="Eine Zeile je geplantem Termin (3 Termine à 3 Stunden pro Woche).",
    key=("kundennummer", "datum"),
    columns=(
        KUNDENNUMMER,
        Column("datum", "date", "Datum des Termins."),
        Column(
            "status",
            "code",
            "Anwesenheitsstatus.",
            codes=("anwesend", "entschuldigt", "unentschuldigt"),
        ),
        Column(
            "stunden",
            "decimal",
            "Anwesende Stunden (Dezimalkomma), 0 bei Fehlen.",
            minimum=0,
            maximum=12,
        ),
        STORNO,
    ),
)

AKTIVITAETEN = Kind(
    name="aktivitaeten",
    prefix="aktivitaeten",
    title="Aktivitäten",
    description="Bewerbungen, Vorstellungsgespräche, Arbeitgeberkontakte und Beratungen.",
    key=("kundennummer", "datum", "art"),
    columns=(
        KUNDENNUMMER,
        Column("datum", "date", "Datum der Aktivität."),
        Column(
            "art",
            "code",
            "Art der Aktivität.",
            codes=("bewerbung", "vorstellungsgespraech", "arbeitgeberkontakt", "beratung"),
        ),
        Column(
            "anzahl",
            "integer",
            "Anzahl gleichartiger Aktivitäten an diesem Tag (Standard 1).",
            required=False,
            minimum=1,
            maximum=100,
            default="1",
        ),
        STORNO,
    ),
)

ERGEBNISSE = Kind(
    name="ergebnisse",
    prefix="ergebnisse",
    title="Ergebnisse",
    description="Aufnahmen von Arbeit, Ausbildung, Praktikum oder Weiterbildung.",
    key=("kundennummer", "datum", "art"),
    columns=(
        KUNDENNUMMER,
        Column("datum", "date", "Beginn (erster Arbeits-, Ausbildungs- oder Praktikumstag)."),
        Column(
            "art",
            "code",
            "Art des Ergebnisses.",
            codes=(
                "svb_beschaeftigung",
                "ausbildung",
                "selbststaendigkeit",
                "minijob",
                "gefoerderte_beschaeftigung",
                "praktikum",
                "weiterbildung",
            ),
        ),
        Column("befristet", "yesno", "Befristet (ja/nein).", required=False, codes=YES_NO),
        Column(
            "wochenstunden",
            "decimal",
            "Vereinbarte Wochenstunden (Dezimalkomma).",
            required=False,
            minimum=0,
            maximum=60,
        ),
        STORNO,
    ),
)

VERBLEIB = Kind(
    name="verbleib",
    prefix="verbleib",
    title="Verbleib",
    description="Status nach dem Austritt zu einem Stichtag (Nachbefragung, i. d. R. 6 Monate).",
    key=("kundennummer", "stichtag"),
    columns=(
        KUNDENNUMMER,
        Column("stichtag", "date", "Stichtag der Verbleibsfeststellung."),
        Column(
            "status",
            "code",
            "Status am Stichtag.",
            codes=(
                "svb_beschaeftigt",
                "ausbildung",
                "selbststaendig",
                "minijob",
                "arbeitslos",
                "massnahme",
                "unbekannt",
            ),
        ),
        STORNO,
    ),
)

# In work at a follow-up: the codes of verbleib.status (and vergleichsgruppe.verbleib_status)
# that count as employment, for the follow-up KPIs and the impact estimate alike.
IN_WORK_AT_FOLLOW_UP = ("svb_beschaeftigt", "ausbildung", "selbststaendig")

VERGLEICHSGRUPPE = Kind(
    name="vergleichsgruppe",
    prefix="vergleichsgruppe",
    title="Vergleichsgruppe",
    description="Eine Zeile je Vergleichsperson (nicht Teilnehmende) und Stichtag: ihre "
    "Merkmale am Stichtag und ihr Verbleib danach, für die Wirkungsschätzung. Eine Person, "
    "die auch teilnimmt, wird beim Vergleich nicht berücksichtigt.",
    key=("kundennummer", "stichtag"),
    merkmale=True,
    rules=(
        Rule(
            "verbleib_stichtag",
            "verbleib_stichtag <= stichtag",
            "Verbleib-Stichtag liegt nicht nach dem Stichtag",
        ),
    ),
    columns=(
        KUNDENNUMMER,
        Column(
            "stichtag",
            "date",
            "Tag, ab dem die Person verglichen wird (wie der Eintritt einer Teilnahme).",
        ),
        *(
            TEILNEHMENDE.column(name)
            for name in ("geschlecht", "geburtsjahr", "langzeitleistungsbezug", "berufsabschluss")
        ),
        TEILNEHMENDE.column("standort"),
        Column(
            "verbleib_stichtag",
            "date",
            "Stichtag der Verbleibsfeststellung (etwa so lange nach dem Stichtag wie bei "
            "Teilnehmenden die Nachbefragung nach dem Eintritt).",
        ),
        Column(
            "verbleib_status",
            "code",
            "Status am Verbleib-Stichtag, mit den Codes von verbleib.status.",
            codes=VERBLEIB.column("status").codes,
        ),
        STORNO,
    ),
)

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (TEILNEHMENDE, ANWESENHEIT, AKTIVITAETEN, ERGEBNISSE, VERBLEIB, VERGLEICHSGRUPPE)
}

# The codes an event of marts.ereignisse can have as its art, per source: a session's
# status, an activity's, an outcome's and a follow-up's kind. In this fixed order the
# timeline gives every code the same colour for every person and in every language.
EVENT_CODES: tuple[str, ...] = tuple(
    dict.fromkeys(
        code
        for kind, column in (
            (ANWESENHEIT, "status"),
            (AKTIVITAETEN, "art"),
            (ERGEBNISSE, "art"),
            (VERBLEIB, "status"),
        )
        for code in kind.column(column).codes
    )
)

FILE_SUFFIXES = (".csv", ".xlsx")


def kind_for_file(file_name: str) -> Kind | None:
    """The kind a delivery belongs to, by its (case-insensitive) file-name prefix."""
    lower = file_name.lower()
    if not lower.endswith(FILE_SUFFIXES):
        return None
    # Longest prefix first, so no kind's prefix can shadow another's.
    for kind in sorted(KINDS.values(), key=lambda k: -len(k.prefix)):
        if lower.startswith(kind.prefix):
            return kind
    return None


# The tables of docs/data-contract.md, generated between cog markers (``kohorte docs``);
# the prose around them is Markdown in the file itself.


def values_markdown() -> str:
    """The contract's values that the prose of the file-format and inbox sections names."""
    rows = [
        ("CSV delimiter", f"`{CSV_DELIMITER}`"),
        ("date format", f"`{CSV_DATE_FORMAT}`"),
        ("customer number (`kundennummer`)", f"`{KUNDENNUMMER_PATTERN}`"),
        ("earliest date", ".".join(reversed(EARLIEST_DATE.split("-")))),
        ("largest file", f"{MAX_FILE_BYTES // 2**20} MiB"),
        ("formula characters refused at the start of a text", _codes(FORMULA_START)),
        ("settle time (`KOHORTE_SETTLE_SECONDS`, default)", f"{SETTLE_SECONDS:g} s"),
        ("upload names left in place (ending)", _codes(TEMPORARY_SUFFIXES)),
        ("upload names left in place (start)", _codes(TEMPORARY_PREFIXES)),
        ("markers (`KOHORTE_INBOX_MARKERS=1`)", _codes(f"<name>{m}" for m in MARKER_SUFFIXES)),
    ]
    return markdown_table(("what", "value"), rows)


def error_categories_markdown() -> str:
    """Every error category with its label in reports."""
    rows = [(f"`{name}`", label, what) for name, (label, what) in ERROR_CATEGORIES.items()]
    return markdown_table(("category", "label in reports", "what"), rows)


def kinds_markdown() -> str:
    """One section per kind of delivery: prefix, title, key, columns, rules."""
    lines = []
    for kind in KINDS.values():
        rules, rows = kind.rules, []
        for col in kind.columns:
            allowed = _codes(col.codes)
            if col.minimum is not None or col.maximum is not None:
                allowed = f"{_num(col.minimum)} to {_num(col.maximum)}"
            if col.default:
                allowed += f" (default {col.default})"
            required = "yes" if col.required else "no"
            rows.append((f"`{col.name}`", col.type, required, allowed, col.description))
        header = ("column", "type", "required", "allowed values / range", "meaning")
        lines += [
            f"## `{kind.prefix}*`: {kind.title}",
            "",
            kind.description,
            "",
            f"Natural key: {_codes(kind.key)}.",
            "",
            markdown_table(header, rows).rstrip("\n"),
        ]
        if kind.merkmale:
            rows.append(
                (f"`{MERKMAL_PREFIX}<name>`", "merkmal", "no", "a number or `ja`/`nein`",
                 merkmal("x").description)
            )  # fmt: skip
            lines[-1] = markdown_table(header, rows).rstrip("\n")
        lines += [f"- Rule on `{r.column}`: {r.reason} (`{r.when}` is an error)." for r in rules]
        lines.append("")
    return "\n".join(lines)


def _codes(values) -> str:
    return ", ".join(f"`{value}`" for value in values)


def markdown_table(header: tuple[str, ...], rows: list[tuple]) -> str:
    """A Markdown table, for the generated parts of the docs (contract, KPIs, analyst tables)."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")

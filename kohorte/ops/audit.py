"""The audit log: who did what, when. Append-only, outside the published warehouse.

One JSON Lines file per month in ``KOHORTE_HOME/audit`` (0600). Each entry carries the
SHA-256 of the entry before it, so a changed or deleted line breaks the chain and
``verify`` finds it. Entries name the pseudonym of a participant viewed, never a customer
number. Whole months older than ``audit_days`` are deleted by ``prune``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from kohorte.config import Settings
from kohorte.read import fmt

# what is recorded
SIGN_IN = "anmeldung"
SIGN_IN_FAILED = "anmeldung_fehlgeschlagen"
LOCKED = "konto_gesperrt"
SIGN_OUT = "abmeldung"
VIEW_PARTICIPANT = "teilnehmende_angesehen"
SEARCH = "suche_kundennummer"
EXPORT = "export"
SQL = "sql"
DENIED = "zugriff_verweigert"
DELETE = "loeschfrist"
REPORT = "bericht_erstellt"
REPORT_MAILED = "bericht_versandt"
REPORT_DOWNLOAD = "bericht_heruntergeladen"
ACTIONS = (
    SIGN_IN, SIGN_IN_FAILED, LOCKED, SIGN_OUT, VIEW_PARTICIPANT, SEARCH, EXPORT, SQL, DENIED,
    DELETE, REPORT, REPORT_MAILED, REPORT_DOWNLOAD,
)  # fmt: skip

# what the Protokoll page calls each action and each detail (German, English)
ACTION_LABELS: dict[str, tuple[str, str]] = {
    SIGN_IN: ("Angemeldet", "Signed in"),
    SIGN_IN_FAILED: ("Anmeldung fehlgeschlagen", "Sign-in failed"),
    LOCKED: ("Konto gesperrt", "Account locked"),
    SIGN_OUT: ("Abgemeldet", "Signed out"),
    VIEW_PARTICIPANT: ("Teilnehmende angesehen", "Participant viewed"),
    SEARCH: ("Nach Kundennummer gesucht", "Searched by customer number"),
    EXPORT: ("Daten heruntergeladen", "Data downloaded"),
    SQL: ("SQL-Abfrage", "SQL query"),
    DENIED: ("Zugriff verweigert", "Access denied"),
    DELETE: ("Löschfrist angewandt", "Retention deletion"),
    REPORT: ("Bericht erstellt", "Report made"),
    REPORT_MAILED: ("Bericht versandt", "Report mailed"),
    REPORT_DOWNLOAD: ("Bericht heruntergeladen", "Report downloaded"),
}
DETAIL_LABELS: dict[str, tuple[str, str]] = {  # in the order shown
    "seite": ("Seite", "Page"),
    "datei": ("Datei", "File"),
    "pseudonym": ("Pseudonym", "Pseudonym"),
    "via": ("Anmeldung über", "Signed in via"),
    "grund": ("Grund", "Reason"),
    "abfrage": ("Abfrage", "Query"),
    "zeilen": ("Zeilen", "Rows"),
    "fehler": ("Fehler", "Error"),
    "personen": ("Personen gelöscht", "People deleted"),
    "bericht": ("Bericht", "Report"),
    "an": ("An", "To"),
}
# an export records the page's URL parameters (its filters), not its title
SELECTION_LABEL = ("Auswahl", "Selection")
VIA_LABELS = {
    "lokal": ("lokales Konto", "local account"),
    "oidc": ("Behördenkonto", "organisation account"),
}

GENESIS = "0" * 64
BERLIN = "Europe/Berlin"


def _file(settings: Settings, when: dt.datetime) -> Path:
    return settings.audit_dir / f"audit-{when:%Y-%m}.jsonl"


def record(settings: Settings, user: str, role: str, action: str, **detail: object) -> dict:
    """Append one entry (thread- and process-safe) and return it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    settings.audit_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.UTC)
    path = _file(settings, now)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            last = None
            for line in handle:
                last = line
            entry = {
                "zeit": now.isoformat(timespec="milliseconds"),
                "benutzer": user,
                "rolle": role,
                "aktion": action,
                "details": {k: v for k, v in detail.items() if v is not None},
                "vorher": _digest(last) if last else GENESIS,
            }
            handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


def _digest(line: str) -> str:
    return hashlib.sha256(line.rstrip("\n").encode("utf-8")).hexdigest()


def files(settings: Settings) -> list[Path]:
    return sorted(settings.audit_dir.glob("audit-*.jsonl")) if settings.audit_dir.exists() else []


def read(settings: Settings) -> pd.DataFrame:
    """All entries, newest first."""
    rows = []
    for path in files(settings):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            rows.append(
                {
                    "zeit": pd.Timestamp(entry["zeit"]),
                    "benutzer": entry["benutzer"],
                    "rolle": entry["rolle"],
                    "aktion": entry["aktion"],
                    "details": json.dumps(entry["details"], ensure_ascii=False, sort_keys=True),
                }
            )
    frame = pd.DataFrame(rows, columns=["zeit", "benutzer", "rolle", "aktion", "details"])
    # an empty log keeps its types: the page converts times without a special case
    frame["zeit"] = pd.to_datetime(frame["zeit"], utc=True)
    # newest first; entries of the same millisecond in the order they were written, last
    # first (a stable sort of the reversed file order)
    return frame.iloc[::-1].sort_values("zeit", ascending=False, kind="stable", ignore_index=True)


def _language(lang: str) -> int:
    return 1 if lang == "en" else 0


def action_label(action: str, lang: str = "de") -> str:
    """An action in words ("Teilnehmende angesehen"); an unknown code as it is."""
    labels = ACTION_LABELS.get(action)
    return labels[_language(lang)] if labels else action


def _value(key: str, value: object, lang: str) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return fmt.number(value, lang)
    if key == "via" and value in VIA_LABELS:
        return VIA_LABELS[value][_language(lang)]
    return str(value)


def details_text(details: str | dict, lang: str = "de") -> str:
    """An entry's details in words, "Seite: Überblick · Datei: kennzahlen.csv"; ``details``
    as ``read`` gives them (JSON) or as recorded."""
    if isinstance(details, str):
        details = json.loads(details) if details else {}
    order = list(DETAIL_LABELS)

    def position(key: str) -> tuple:  # a selection (the URL's parameters) comes last
        known = order.index(key) if key in order else len(order)
        return isinstance(details[key], dict), known, key

    parts = []
    for key in sorted(details, key=position):
        value = details[key]
        if value is None or value == {} or value == []:
            continue
        labels = SELECTION_LABEL if isinstance(value, dict) else DETAIL_LABELS.get(key)
        label = labels[_language(lang)] if labels else key
        parts.append(f"{label}: {_value(key, value, lang)}")
    return " · ".join(parts)


def select(
    entries: pd.DataFrame,
    since: dt.date,
    until: dt.date,
    users: list[str] | None = None,
    actions: list[str] | None = None,
) -> pd.DataFrame:
    """The entries of Berlin days ``since`` to ``until``, of those users and actions (none
    given: all)."""
    day = entries["zeit"].dt.tz_convert(BERLIN).dt.date
    chosen = (day >= since) & (day <= until)
    if users:
        chosen &= entries["benutzer"].isin(users)
    if actions:
        chosen &= entries["aktion"].isin(actions)
    return entries[chosen]


def readable(entries: pd.DataFrame, lang: str = "de") -> pd.DataFrame:
    """The entries as people read them: the time in Berlin as text (dd.mm.yyyy, HH:MM),
    actions and details in words; order and other columns kept."""
    return entries.assign(
        zeit=[fmt.datetime(moment.to_pydatetime(), lang) for moment in entries["zeit"]],
        aktion=[action_label(action, lang) for action in entries["aktion"]],
        details=[details_text(details, lang) for details in entries["details"]],
    )


def verify(settings: Settings) -> list[str]:
    """Problems of the hash chain (an empty list: every file is intact)."""
    problems = []
    for path in files(settings):
        previous = GENESIS
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if json.loads(line).get("vorher") != previous:
                problems.append(f"{path.name}, Zeile {number}: Kette unterbrochen")
            previous = _digest(line)
    return problems


def prune(settings: Settings, today: dt.date | None = None) -> list[Path]:
    """Delete the month files whose last day is older than ``audit_days``."""
    today = today or dt.date.today()
    cutoff = today - dt.timedelta(days=settings.audit_days)
    removed = []
    for path in files(settings):
        month = dt.date.fromisoformat(path.stem.removeprefix("audit-") + "-01")
        last_day = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        if last_day < cutoff:
            path.unlink()
            removed.append(path)
    return removed

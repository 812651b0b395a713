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
ACTIONS = (
    SIGN_IN, SIGN_IN_FAILED, LOCKED, SIGN_OUT, VIEW_PARTICIPANT, SEARCH, EXPORT, SQL, DENIED,
    DELETE,
)  # fmt: skip

GENESIS = "0" * 64


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
    return frame.sort_values("zeit", ascending=False, ignore_index=True)


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

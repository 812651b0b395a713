"""Making a report as a service does it: from the published warehouse, kept in
``KOHORTE_HOME/berichte/``, recorded in the audit log, and mailed where configured. The
command line, the monthly flow and the Berichte page all call ``make``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from kohorte.build import warehouse
from kohorte.config import Settings
from kohorte.ops import alerts, audit
from kohorte.present import bericht
from kohorte.store.db import scalar


@dataclass(frozen=True)
class Made:
    """A report written, and to whom it was mailed (empty: not mailed)."""

    path: Path
    title: str
    size: int
    mailed_to: tuple[str, ...]


def make(
    settings: Settings,
    span: bericht.Span | None = None,
    *,
    user: str = "system",
    role: str = "system",
    out: Path | None = None,
    mail: bool = False,
) -> Made:
    """The report of ``span`` (None: the last month ended by the as-of date) from the
    published version. Raises bericht.NoData without one or for a span without data; a
    failed mail raises after the report is kept and audited."""
    path = warehouse.current_path(settings)
    if path is None:
        raise bericht.NoData("Noch kein Warehouse veröffentlicht: erst `kohorte load`.")
    con = warehouse.connect_readonly(path)
    try:
        if span is None:
            span = bericht.last_month(scalar(con, "select as_of from meta.build"))
        pdf = bericht.make(con, settings, span)
    finally:
        con.close()
    written = bericht.save(settings, span, pdf, out)
    audit.record(settings, user, role, audit.REPORT, bericht=written.name)
    mailed: list[str] = []
    if mail:
        mailed = alerts.mail_report(settings, written, span.title)
        if mailed:
            audit.record(
                settings,
                user,
                role,
                audit.REPORT_MAILED,
                bericht=written.name,
                an=", ".join(mailed),
            )
    return Made(written, span.title, len(pdf), tuple(mailed))


def kept(settings: Settings) -> list[dict]:
    """The reports kept, newest first: file, title-like name, size and time written."""
    if not settings.reports.exists():
        return []
    files = [p for p in settings.reports.glob("*.pdf") if not p.name.startswith(".")]
    return [
        {
            "path": p,
            "name": p.name,
            "size": p.stat().st_size,
            "written": dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC),
        }
        for p in sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)
    ]

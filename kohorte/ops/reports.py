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
        as_of, run_id = con.execute("select as_of, run_id from meta.build").fetchone()
        if span is None:
            span = bericht.last_month(as_of)
        pdf = bericht.make(con, settings, span)
    finally:
        con.close()
    written = bericht.save(settings, span.file_name(as_of, str(run_id)), pdf, out)
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
    """The reports kept, newest first: file, title and as-of date (read from the name;
    None for a PDF put there by hand), size and time written."""
    if not settings.reports.exists():
        return []
    files = [p for p in settings.reports.glob("*.pdf") if not p.name.startswith(".")]
    found = []
    for p in files:
        named, info = bericht.read_name(p.name), p.stat()
        found.append(
            {
                "path": p,
                "name": p.name,
                "title": named[0].title if named else None,
                "as_of": named[1] if named else None,
                "size": info.st_size,
                "written": dt.datetime.fromtimestamp(info.st_mtime, dt.UTC),
            }
        )
    return sorted(found, key=lambda r: r["written"], reverse=True)

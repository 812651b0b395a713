"""The monthly report as a Prefect flow: on the first of each month at 06:00 Berlin time,
after the night (see prefect.yaml).

The work is ``kohorte.ops.reports.make`` (the calendar month before the run's day, kept in
KOHORTE_HOME/berichte/, audited, mailed to KOHORTE_BERICHT_EMAIL_TO); this module adds
scheduling, retries and an artifact. A mail that fails fails the run, and its retry makes
and mails the report again.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kohorte.config import apply_prefect_env, load_settings

apply_prefect_env(load_settings())  # before Prefect reads its settings: offline, PREFECT_HOME

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from kohorte.ops import reports
from kohorte.present import bericht


@flow(name="monatsbericht", retries=2, retry_delay_seconds=900, log_prints=False)
def monatsbericht(monat: str | None = None) -> dict | None:
    """Make the monthly report (``monat`` as 2026-11; default the calendar month before
    today in Berlin) and mail it where configured."""
    settings = load_settings()
    today = dt.datetime.now(ZoneInfo("Europe/Berlin")).date()
    span = bericht.month(monat) if monat else bericht.month_before(today)
    try:
        made = reports.make(settings, span, mail=True)
    except bericht.NoData as error:  # no warehouse yet, or a month without data
        get_run_logger().warning("Kein Monatsbericht: %s", error)
        return None
    mailed = ", ".join(made.mailed_to) or "niemandem (KOHORTE_BERICHT_EMAIL_TO nicht gesetzt)"
    get_run_logger().info("%s: %s, versandt an %s", made.title, made.path, mailed)
    create_markdown_artifact(
        key="monatsbericht",
        markdown=f"## {made.title}\n\n- Datei: `{made.path}` ({made.size // 1024} KiB)\n"
        f"- Versandt an: {mailed}\n",
        description="Monthly report: where it was written and to whom it was mailed",
    )
    return {"path": str(made.path), "title": made.title, "mailed_to": list(made.mailed_to)}


if __name__ == "__main__":
    monatsbericht()

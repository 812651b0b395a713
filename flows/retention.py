"""Retention as a Prefect flow: runs after the nightly load (see prefect.yaml).

The work is ``kohorte.run.retention.run``; this module adds scheduling, retries and an
artifact. A nightly load still running holds the lock: the flow then waits and retries.
"""

from __future__ import annotations

import datetime as dt

from kohorte.config import apply_prefect_env, load_settings

apply_prefect_env(load_settings())  # before Prefect reads its settings: offline, PREFECT_HOME

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from kohorte.ops import audit
from kohorte.run import retention as retention_rules


@flow(name="retention", retries=3, retry_delay_seconds=600, log_prints=False)
def retention(today: dt.date | None = None) -> dict:
    """Delete participant data past the retention period; keep the programme's totals."""
    settings = load_settings()
    summary = retention_rules.run(settings, today)
    audit.record(
        settings,
        "system",
        "system",
        audit.DELETE,
        personen=summary["persons_deleted"],
        quarantaene_dateien=summary["quarantine_files_deleted"],
    )
    get_run_logger().info(
        "Löschfrist bis %s: %s Personen, %s Quarantäne-Dateien gelöscht",
        summary["cutoff"],
        summary["persons_deleted"],
        summary["quarantine_files_deleted"],
    )
    rows = ", ".join(f"{kind} {n}" for kind, n in summary["rows_deleted"].items()) or "keine"
    create_markdown_artifact(
        key="retention",
        markdown=(
            f"## Löschfristen ({summary['today']})\n\n"
            f"- Austritt vor {summary['cutoff']}: **{summary['persons_deleted']} Personen** "
            f"gelöscht (Zeilen: {rows})\n"
            f"- Quarantäne: {summary['quarantine_files_deleted']} Dateien gelöscht\n"
            f"- Veröffentlicht: {summary['warehouse'] or 'unverändert'}\n"
        ),
        description="Retention: what was deleted (counts only)",
    )
    return summary


if __name__ == "__main__":
    retention()

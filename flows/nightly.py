"""The nightly load as a Prefect flow: sequencing, artifacts and logging only.

Every step is a plain function in ``kohorte.run.pipeline``; this module adds orchestration.
"""

from __future__ import annotations

import datetime as dt

from kohorte.config import apply_prefect_env, load_settings

apply_prefect_env(load_settings())  # before Prefect reads its settings: offline, PREFECT_HOME

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from kohorte.config import Settings
from kohorte.intake.admit import Arrival
from kohorte.intake.report import FileResult
from kohorte.ops import alerts
from kohorte.run import pipeline
from kohorte.store import runlog


@task(cache_policy=NO_CACHE)
def plan_inbox(settings: Settings, run_id: str) -> tuple[list[Arrival], list[pipeline.Work]]:
    """Find the inbox files, number them, spot duplicates before anything loads, and group
    them into units of work (batches of clean CSV files, and files taken one by one)."""
    return pipeline.prepare(settings, run_id)


@task(cache_policy=NO_CACHE, task_run_name="ingest {work.label}")
def ingest(
    work: pipeline.Work, settings: Settings, run_id: str, load_date: dt.date
) -> list[FileResult]:
    """Validate a batch of deliveries, keep their good rows, quarantine what is bad."""
    return pipeline.ingest_work(settings, work, run_id, load_date)


@task(cache_policy=NO_CACHE)
def build_and_publish(settings: Settings, run: dict, load_date: dt.date, full: bool) -> dict:
    """Build a new warehouse, run the data checks, publish atomically."""
    return pipeline.finish(settings, run, load_date, full)


def _alert(flow, flow_run, state) -> None:
    """A failed or crashed night: record it and notify (webhook, e-mail) right away."""
    message = str(state.message or state.name)
    alerts.nightly_failed(load_settings(), message, flow_run.start_time)


def task_runner(settings: Settings):
    """The configured task runner (``KOHORTE_TASK_RUNNER``): Prefect's default threads, or
    Dask (a temporary local cluster bound to 127.0.0.1 without its web dashboard, or an
    existing scheduler at ``KOHORTE_DASK_ADDRESS``)."""
    if settings.task_runner != "dask":
        return ThreadPoolTaskRunner()
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": settings.dask_workers,
            "threads_per_worker": 1,  # DuckDB parallelises inside each batch itself
            "processes": True,
            "host": "127.0.0.1",
            "dashboard_address": None,
        }
    )


@flow(name="nightly", log_prints=False, on_failure=[_alert], on_crashed=[_alert])
def nightly(load_date: dt.date | None = None, full: bool = False) -> dict:
    """Inbox -> validated raw store -> checked warehouse -> atomic publish -> summary.
    ``full``: rebuild the warehouse from the raw store instead of incrementally."""
    settings = load_settings()
    load_date = load_date or dt.date.today()
    logger = get_run_logger()
    with pipeline.run_lock(settings):
        started = dt.datetime.now(dt.UTC)
        run_id = runlog.new_run_id(started)
        planned, work = plan_inbox(settings, run_id)
        futures = ingest.map(
            work,
            settings=unmapped(settings),
            run_id=unmapped(run_id),
            load_date=unmapped(load_date),
        )
        results = pipeline.in_plan_order(planned, [r for f in futures for r in f.result()])
        summary = pipeline.summarise(run_id, started.timestamp(), results)
        run = build_and_publish(settings, summary, load_date, full)
    _artifacts(run, results)
    logger.info(
        "Published %s: %s files, %s rows accepted, %s rejected, as of %s",
        run["warehouse"],
        run["files_total"],
        run["rows_accepted"],
        run["rows_rejected"],
        run["as_of"],
    )
    return run


def _artifacts(run: dict, results: list[FileResult]) -> None:
    create_markdown_artifact(
        key="nightly-summary",
        markdown=pipeline.render_summary(run, results),
        description="Kohorte nightly load",
    )
    if results:
        create_table_artifact(
            key="nightly-files",
            table=[
                {
                    "Datei": r.file_name,
                    "Status": r.status,
                    "Zeilen geladen": r.rows_accepted,
                    "Zeilen abgelehnt": r.rows_rejected,
                    "Meldung": r.message,
                }
                for r in results
            ],
            description="Files of the nightly load",
        )


nightly = nightly.with_options(task_runner=task_runner(load_settings()))

if __name__ == "__main__":
    nightly()

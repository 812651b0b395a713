"""The nightly load as plain functions; ``flows/nightly.py`` only sequences them:
``recovery.recover``, ``inbox.plan_inbox``, ``split``, ``ingest_work`` per unit, ``finish``."""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kohorte import intake
from kohorte.build import warehouse
from kohorte.config import Settings
from kohorte.errors import AlreadyRunning, DiskFull, RawStoreDamaged, is_disk_full
from kohorte.intake import admit
from kohorte.intake.admit import Arrival
from kohorte.intake.report import FILE_STATUSES, FileResult
from kohorte.read import fmt
from kohorte.run import inbox, recovery
from kohorte.store import rawstore, runlog

REFUSED_PER_WORK = 25  # arrivals settled without reading them, per unit of work


@contextmanager
def run_lock(settings: Settings) -> Iterator[None]:
    """Only one load at a time per KOHORTE_HOME (the OS frees the lock if a run is killed)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    handle = (settings.home / ".nightly.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(
            f"Ein anderer Ladelauf arbeitet bereits in {settings.home}; bitte später erneut."
        ) from None
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@contextmanager
def _disk_full_reported(settings: Settings) -> Iterator[None]:
    """A full disk while ingesting fails the run as ``DiskFull`` (the next run cleans up
    what was half written, in ``recover``); any other error passes unchanged."""
    try:
        yield
    except Exception as error:
        if is_disk_full(error):
            raise DiskFull(settings.raw, error) from error
        raise


@dataclass(frozen=True)
class Work:
    """One unit of the ingest: a batch of files of one kind, format and header read together
    (a file that needs care is a batch of one), or arrivals settled without reading them
    (duplicates and refusals), or what stays in the inbox tonight."""

    batch: tuple[intake.Surveyed, ...] = ()
    refused: tuple[intake.Refused, ...] = ()
    waiting: tuple[tuple[str, FileResult], ...] = ()

    @property
    def label(self) -> str:
        """For logs and Prefect's task names."""
        if self.batch:
            return f"{self.batch[0].kind.name} ({len(self.batch)} Dateien)"
        if self.refused:
            return f"abgewiesen ({len(self.refused)} Dateien)"
        return f"wartend ({len(self.waiting)})"


def split(planned: list[Arrival], waiting: list[tuple[str, FileResult]] = ()) -> list[Work]:
    """Units of work for the planned files: batches first (largest first, so parallel
    workers finish together), then the arrivals settled without reading them."""
    surveyed, refused = [], []
    for arrival in planned:
        taken = intake.take(arrival)
        (refused if isinstance(taken, intake.Refused) else surveyed).append(taken)
    batches = sorted(intake.plan_batches(surveyed), key=lambda b: -sum(i.size for i in b))
    work = [Work(batch=tuple(b)) for b in batches if b]
    work += [
        Work(refused=tuple(refused[i : i + REFUSED_PER_WORK]))
        for i in range(0, len(refused), REFUSED_PER_WORK)
    ]
    if waiting:
        work.append(Work(waiting=tuple(waiting)))
    return work


def ingest_work(
    settings: Settings, work: Work, run_id: str, load_date: dt.date
) -> list[FileResult]:
    """Ingest one unit of work and log every file's outcome. What it returns and logs is
    the masked view (``FileResult.public``): the file log feeds the warehouse and the
    pages, the results the run summary, Prefect's artifacts and the CLI."""
    # (delivery_id, result, inbox path of a file that was read or settled)
    logged: list[tuple[str, FileResult, Path | None]] = [(s, r, None) for s, r in work.waiting]
    if work.batch:
        with _disk_full_reported(settings):
            results = intake.ingest(
                list(work.batch),
                raw=settings.raw,
                quarantine=settings.quarantine,
                work=settings.home / "work" / f"batch-{work.batch[0].arrival.delivery_id}",
                key=settings.pseudonym_key(),
                as_of=load_date,
                memory_limit=settings.load_memory_limit,
            )
        arrivals = {item.arrival.name: item.arrival for item in work.batch}
        for result in results:
            arrival = arrivals[result.file_name]
            logged.append((arrival.delivery_id, result, arrival.path))
    for refused in work.refused:
        result = intake.settle_refused(refused, settings.quarantine, settings.raw)
        logged.append((refused.arrival.delivery_id, result, refused.arrival.path))
    for _, result, path in logged:  # a taken file's markers go with it
        if path is not None and result.status != "deferred":
            for marker in admit.markers(path):
                marker.unlink(missing_ok=True)
    # from here on, only the masked view: file log, summary, artifacts, CLI, warehouse
    public = [(id_, result.public()) for id_, result, _ in logged]
    runlog.write_files(settings, run_id, [(id_, r.to_dict()) for id_, r in public])
    return [r for _, r in public]


def in_plan_order(planned: list[Arrival], results: list[FileResult]) -> list[FileResult]:
    """Results sorted as their files were planned (names are unique in the inbox), then
    what stays in the inbox."""
    place = {item.name: index for index, item in enumerate(planned)}
    return sorted(results, key=lambda r: place.get(r.file_name, len(place)))


def summarise(run_id: str, started: float, results: list[FileResult]) -> dict:
    """The run summary shared by the artifact, the run log and the warehouse's load log."""
    return {
        "run_id": run_id,
        "started_at": runlog.iso(started),
        "status": "running",
        **runlog.file_counts([r.to_dict() for r in results]),
        "seconds_ingest": round(time.time() - started, 3),
    }


def finish(settings: Settings, run: dict, load_date: dt.date, full: bool = False) -> dict:
    """Build (incrementally unless ``full``), check and publish a new warehouse; record the
    run's outcome either way."""
    runlog.write_run(settings, run)
    log = [r for r in runlog.read_runs(settings) if r["run_id"] != run["run_id"]]
    try:
        damage = rawstore.open_damage(settings.raw)
        if damage:
            raise RawStoreDamaged(damage, settings.raw / rawstore.DAMAGED_DIR)
        built = warehouse.build(
            settings,
            run["run_id"],
            [*log, {**run, "status": "published"}],
            load_date=load_date,
            full=full,
        )
        published = warehouse.publish(settings, built.path, run["run_id"])
    except Exception as error:
        failure = error
        if is_disk_full(error) and not isinstance(error, DiskFull):
            failure = DiskFull(settings.warehouse, error)  # e.g. while publishing
        run = {
            **run,
            "status": "failed",
            "message": str(failure),
            "finished_at": runlog.iso(time.time()),
        }
        runlog.write_run(settings, run)
        if failure is not error:
            raise failure from error
        raise
    run = {
        **run,
        "status": "published",
        "finished_at": runlog.iso(time.time()),
        "as_of": built.as_of.isoformat(),
        "warehouse": published.name,
        "seconds_build": built.seconds,
        "build_mode": built.mode,
        "build_reason": built.reason,
        "persons_rebuilt": built.persons,
        "checks": built.checks,
    }
    runlog.write_run(settings, run)
    return run


def prepare(settings: Settings, run_id: str) -> tuple[list[Arrival], list[Work]]:
    """Everything before the files load, under the run lock: repair what a killed run left
    (``recovery.recover``), plan the inbox, and group the files into units of work."""
    recovery.recover(settings)
    planned, waiting = inbox.plan_inbox(settings, run_id)
    return planned, split(planned, waiting)


def run_once(
    settings: Settings, load_date: dt.date | None = None, full: bool = False
) -> tuple[dict, list[FileResult]]:
    """The whole nightly load without an orchestrator (tests, and ``kohorte load --plain``);
    ``full`` rebuilds the warehouse from the raw store instead of incrementally."""
    load_date = load_date or dt.date.today()
    with run_lock(settings):
        started = time.time()
        run_id = runlog.new_run_id()
        planned, work = prepare(settings, run_id)
        results = [r for w in work for r in ingest_work(settings, w, run_id, load_date)]
        results = in_plan_order(planned, results)
        return finish(settings, summarise(run_id, started, results), load_date, full), results


STATUS_DE = {status: labels[0] for status, labels in FILE_STATUSES.items()}
RUN_STATUS_DE = {"published": "veröffentlicht", "failed": "fehlgeschlagen", "running": "läuft"}
NO_DELIVERIES = "keine neuen Lieferungen"


def summary_facts(run: dict, results: list[FileResult]) -> tuple[str, list[str], list[tuple]]:
    """What a run's summary says, once for both renderers: the title, the fact lines, and
    (file, status, message, report) of every file not loaded whole."""
    as_of = fmt.date(dt.date.fromisoformat(run["as_of"])) if run.get("as_of") else "–"
    status = RUN_STATUS_DE.get(run["status"], run["status"])
    n = functools.partial(fmt.number, lang="de")
    if run["files_total"]:
        files = (
            f"{fmt.count(run['files_total'], 'Datei', 'Dateien')}: geladen "
            f"{n(run['files_loaded'])}, teilweise {n(run['files_partial'])}, Quarantäne "
            f"{n(run['files_quarantined'])}, Duplikate {n(run['files_duplicate'])}, "
            f"zurückgestellt {n(run.get('files_deferred', 0))}"
        )
    else:
        files = f"Dateien: {NO_DELIVERIES}"
    facts = [
        f"Status: {status}, Datenstand {as_of}",
        files,
        f"Zeilen: {n(run['rows_accepted'])} angenommen, {n(run['rows_rejected'])} abgelehnt",
        f"Dauer: Einlesen {fmt.number(run.get('seconds_ingest', 0), 'de', 1)} s, Aufbau "
        f"{fmt.number(run.get('seconds_build', 0), 'de', 1)} s; Warehouse "
        f"{run.get('warehouse', '–')}",
    ]
    problems = [
        (r.file_name, STATUS_DE[r.status], r.message, r.report or "–")
        for r in results
        if r.status not in ("loaded", "duplicate")
    ]
    return f"Ladelauf {run['run_id']}", facts, problems


def render_summary(run: dict, results: list[FileResult]) -> str:
    """Markdown summary of a run (the Prefect artifact)."""
    title, facts, problems = summary_facts(run, results)
    lines = [f"# {title}", "", *(f"- {fact}" for fact in facts), ""]
    if problems:
        lines += ["| Datei | Status | Meldung | Bericht |", "| --- | --- | --- | --- |"]
        lines += [f"| {' | '.join(problem)} |" for problem in problems]
    return "\n".join(lines) + "\n"


def render_plain(run: dict, results: list[FileResult]) -> str:
    """The same summary as plain text for a terminal or a cron mail (``kohorte load``)."""
    title, facts, problems = summary_facts(run, results)
    lines = [title, *(f"  {fact}" for fact in facts)]
    if problems:
        lines += ["", "Nicht vollständig geladen:"]
        lines += [
            f"  {name}: {status}. {message} (Bericht: {report})"
            for name, status, message, report in problems
        ]
    return "\n".join(lines) + "\n"


def rejected_anything(run: dict) -> bool:
    """Were lines or whole files of this run rejected (``kohorte load`` exits 3)?"""
    return bool(run["rows_rejected"] or run["files_partial"] or run["files_quarantined"])

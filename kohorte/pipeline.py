"""The nightly load as plain functions; ``flows/nightly.py`` only sequences them."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kohorte import intake, rawstore, warehouse
from kohorte.config import Settings
from kohorte.intake import admit
from kohorte.intake.admit import Arrival
from kohorte.intake.report import FILE_STATUSES, FileResult, rows

GROWING = (
    "Die Datei wird noch geschrieben (Größe oder Änderungszeit nicht stabil): bleibt im "
    "Eingang und wird im nächsten Lauf geladen."
)
UNMARKED = "Ohne Fertig-Markierung (.done/.ok): bleibt im Eingang."
REFUSED_PER_WORK = 25  # arrivals settled without reading them, per unit of work
EXPORT_DATE = re.compile(r"(?<!\d)(20\d\d)-?([01]\d)-?([0-3]\d)(?!\d)")


class AlreadyRunning(Exception):
    """Another nightly run holds the lock on this KOHORTE_HOME."""


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


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable id of a run: its UTC start time to the microsecond."""
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def delivery_order(path: Path) -> tuple[str, float, str]:
    """Sort key of files arriving in the same run: the export date in the name
    (``_20261124`` or ``_2026-11-24``) if there is one, else the modification date;
    then modification time, then name. Copies and checkouts reset modification times,
    an export date in the name survives them."""
    try:
        mtime = os.lstat(path).st_mtime  # a link is described, not followed (it may dangle)
    except FileNotFoundError:  # gone since the scan: planning skips it
        mtime = 0.0
    match = EXPORT_DATE.search(path.name)
    day = "".join(match.groups()) if match else dt.date.fromtimestamp(mtime).strftime("%Y%m%d")
    return day, mtime, path.name


def discover(settings: Settings) -> list[Path]:
    """Files waiting in the inbox, in delivery order (see ``delivery_order``), as far as
    they are complete (``intake.admit.scan``)."""
    return _scan(settings, settle=False).files


def _scan(settings: Settings, *, settle: bool = True) -> admit.Inbox:
    settings.ensure_dirs()
    inbox = admit.scan(
        settings.inbox,
        settle_seconds=settings.settle_seconds if settle else 0,
        use_markers=settings.inbox_markers,
    )
    inbox.files.sort(key=delivery_order)
    return inbox


def plan(settings: Settings, run_id: str) -> list[Arrival]:
    """Number the inbox files and find duplicates up front, so files can load in parallel
    and the same content is still loaded exactly once."""
    return plan_inbox(settings, run_id)[0]


def plan_inbox(
    settings: Settings, run_id: str
) -> tuple[list[Arrival], list[tuple[str, FileResult]]]:
    """``plan``, and what stays in the inbox tonight, reported: files still being written
    (or without their marker) and subfolders, which are not read. The latter as (log
    slot, result)."""
    settings.pseudonym_key()  # created here, once, before files load in parallel
    inbox = _scan(settings)
    known = rawstore.known_hashes(settings.raw)
    damaged = rawstore.damaged_hashes(settings.raw)
    planned = []
    for index, path in enumerate(inbox.files, start=1):
        try:
            info = os.lstat(path)  # before hashing: a change while hashing is a change
            sha = admit.sha256_file(path)
        except FileNotFoundError:  # removed from the inbox since the scan
            continue
        delivery_id = damaged.pop(sha, None) or f"{run_id}-{index:05d}"  # a damaged one's
        planned.append(admit.arrive(path, delivery_id, known.get(sha), sha, info))  # place
        known.setdefault(sha, delivery_id)
    return planned, _waiting(run_id, inbox)


def _waiting(run_id: str, inbox: admit.Inbox) -> list[tuple[str, FileResult]]:
    found = []
    waiting = [(path, GROWING) for path in inbox.growing]
    waiting += [(path, UNMARKED) for path in inbox.unmarked]
    for index, (path, message) in enumerate(waiting, start=1):
        result = FileResult(admit.stored_name(path.name), None, "", 0, "deferred")
        result.message = message
        found.append((f"{run_id}-w{index:04d}", result))
    for index, path in enumerate(inbox.folders, start=1):
        inside = sum(1 for _ in path.rglob("*"))
        content = {0: "leer", 1: "1 Eintrag"}.get(inside, f"{inside} Einträge")
        result = FileResult(admit.stored_name(path.name) + "/", None, "", 0, "ignored")
        result.message = (
            f"Unterordner ({content}): wird nicht gelesen. Lieferungen bitte direkt in den "
            "Eingangsordner legen."
        )
        found.append((f"{run_id}-o{index:04d}", result))
    return found


def recover(settings: Settings) -> list[str]:
    """Check the raw store and repair what a killed run left behind, before anything loads:
    damaged deliveries set aside (``rawstore.verify``), Parquet files the manifest never
    recorded, temporary files, unfinished builds, deliveries without a file-log entry, and
    runs that never recorded their end. Returns what was done, one line each."""
    done = []
    damaged, repaired = rawstore.verify(settings.raw)
    done += [f"beschädigt, beiseitegelegt: {d.delivery_id} ({d.reason})" for d in damaged]
    done += [f"Manifest ergänzt: {delivery_id}" for delivery_id in repaired]
    leftovers = [
        *rawstore.orphans(settings.raw),
        *settings.raw.glob("*/.*.tmp"),
        *settings.raw.glob("*/.*.retention"),
    ]
    for path in leftovers:
        path.unlink()
    if (settings.home / "work").exists():  # unpacked inbox files of a killed ingest
        leftovers += list((settings.home / "work").iterdir())
        shutil.rmtree(settings.home / "work")
    leftovers += warehouse.discard_unfinished(settings)
    done += [str(path.relative_to(settings.home)) for path in leftovers]
    done += _reconcile_file_log(settings)
    done += _close_killed_runs(settings, done)
    return done


def _run_of(delivery_id: str) -> str:
    return delivery_id.rsplit("-", 1)[0]


def _reconcile_file_log(settings: Settings) -> list[str]:
    """Every delivery in the manifest has its entry in the file log. A run killed between
    the two either still has the file in the inbox (the delivery is rolled back and loads
    again, with its report) or has taken it in (the entry is written from the manifest)."""
    done = []
    logged = {p.stem for p in (settings.state / "files").glob("*.json")}
    waiting = {admit.sha256_file(p) for p in discover(settings)}
    for delivery in rawstore.deliveries(settings.raw):
        if delivery.delivery_id in logged:
            continue
        if delivery.sha256 in waiting:
            rawstore.roll_back(settings.raw, delivery)
            done.append(f"zurückgenommen, wird neu geladen: {delivery.delivery_id}")
            continue
        report = f"{delivery.delivery_id}__{delivery.file_name}.report.txt"
        entry = {
            "file_name": delivery.file_name,
            "kind": delivery.kind,
            "sha256": delivery.sha256,
            "size_bytes": delivery.size_bytes,
            "status": "partial" if delivery.rows_rejected else "loaded",
            "delivery_id": delivery.delivery_id,
            "file_format": delivery.file_format,
            "encoding": delivery.encoding,
            "rows_accepted": delivery.rows_accepted,
            "rows_rejected": delivery.rows_rejected,
            "message": f"{rows(delivery.rows_accepted)} geladen (Protokoll nach Abbruch "
            "aus dem Manifest nachgetragen).",
            "report": report if (settings.quarantine / report).exists() else None,
        }
        warehouse.write_file_log(
            settings, delivery.delivery_id, _run_of(delivery.delivery_id), entry
        )
        done.append(f"Dateiprotokoll nachgetragen: {delivery.delivery_id}")
    return done


def _close_killed_runs(settings: Settings, repairs: list[str]) -> list[str]:
    """Record the end of runs that were killed: ``aborted``, or ``published`` if the pointer
    already names their warehouse (killed between publishing and recording it)."""
    runs = {r["run_id"]: r for r in warehouse.read_run_log(settings)}
    files = warehouse.read_file_log(settings)
    killed = {r for r, run in runs.items() if run["status"] == "running"}
    killed |= {f["run_id"] for f in files} - set(runs)
    current = warehouse.current_path(settings)
    done = []
    for run_id in sorted(killed):
        mine = [f for f in files if f["run_id"] == run_id]
        published = current is not None and current.name == f"kohorte-{run_id}.duckdb"
        run = {
            "run_id": run_id,
            "started_at": _iso(_started(run_id)),
            **file_counts(mine),
            **runs.get(run_id, {}),
            "status": "published" if published else "aborted",
            "message": "Lauf abgebrochen (Prozess beendet); der nächste Lauf hat aufgeräumt"
            + (f": {'; '.join(repairs)}" if repairs else "."),
        }
        warehouse.write_run_log(settings, run)
        done.append(f"Lauf als {run['status']} vermerkt: {run_id}")
    return done


def _started(run_id: str) -> float:
    moment = dt.datetime.strptime(run_id, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=dt.UTC)
    return moment.timestamp()


@contextmanager
def _disk_full_reported(settings: Settings) -> Iterator[None]:
    """A full disk while ingesting fails the run as ``DiskFull`` (the next run cleans up
    what was half written, in ``recover``); any other error passes unchanged."""
    try:
        yield
    except Exception as error:
        if warehouse.is_disk_full(error):
            raise warehouse.DiskFull(settings.raw, error) from error
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
    # (log slot, result, inbox path of a file that was read or settled)
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
    public = [(slot, result.public()) for slot, result, _ in logged]
    warehouse.write_file_logs(settings, run_id, [(slot, r.to_dict()) for slot, r in public])
    return [r for _, r in public]


def in_plan_order(planned: list[Arrival], results: list[FileResult]) -> list[FileResult]:
    """Results sorted as their files were planned (names are unique in the inbox), then
    what stays in the inbox."""
    place = {item.name: index for index, item in enumerate(planned)}
    return sorted(results, key=lambda r: place.get(r.file_name, len(place)))


def file_counts(files: list[dict]) -> dict:
    """Files by outcome and rows of a run, from its file results (``FileResult.to_dict``
    or the file log): the one count the run log, the summary and recovery share. Left in
    the inbox (deferred, or a subfolder not read) counts as deferred; a duplicate's rows
    count once, at its original."""
    by = Counter(f["status"] for f in files)
    fresh = [f for f in files if f["status"] != "duplicate"]
    return {
        "files_total": len(files),
        "files_loaded": by["loaded"],
        "files_partial": by["partial"],
        "files_quarantined": by["quarantined"],
        "files_duplicate": by["duplicate"],
        "files_deferred": by["deferred"] + by["ignored"],
        "rows_accepted": sum(f["rows_accepted"] for f in fresh),
        "rows_rejected": sum(f["rows_rejected"] for f in fresh),
        "bytes_read": sum(f.get("size_bytes") or 0 for f in fresh),
    }


def summarise(run_id: str, started: float, results: list[FileResult]) -> dict:
    """The run summary shared by the artifact, the run log and the warehouse's load log."""
    return {
        "run_id": run_id,
        "started_at": _iso(started),
        "status": "running",
        **file_counts([r.to_dict() for r in results]),
        "seconds_ingest": round(time.time() - started, 3),
    }


def finish(settings: Settings, run: dict, load_date: dt.date) -> dict:
    """Build, check and publish a new warehouse; record the run's outcome either way."""
    warehouse.write_run_log(settings, run)
    log = [r for r in warehouse.read_run_log(settings) if r["run_id"] != run["run_id"]]
    try:
        damage = rawstore.open_damage(settings.raw)
        if damage:
            raise warehouse.RawStoreDamaged(damage, settings.raw)
        built = warehouse.build(
            settings, run["run_id"], [*log, {**run, "status": "published"}], load_date=load_date
        )
        published = warehouse.publish(settings, built.path, run["run_id"])
    except Exception as error:
        failure = error
        if warehouse.is_disk_full(error) and not isinstance(error, warehouse.DiskFull):
            failure = warehouse.DiskFull(settings.warehouse, error)  # e.g. while publishing
        run = {
            **run,
            "status": "failed",
            "message": str(failure),
            "finished_at": _iso(time.time()),
        }
        warehouse.write_run_log(settings, run)
        if failure is not error:
            raise failure from error
        raise
    run = {
        **run,
        "status": "published",
        "finished_at": _iso(time.time()),
        "as_of": built.as_of.isoformat(),
        "warehouse": published.name,
        "seconds_build": built.seconds,
        "checks": built.checks,
    }
    warehouse.write_run_log(settings, run)
    return run


def run_once(settings: Settings, load_date: dt.date | None = None) -> tuple[dict, list[FileResult]]:
    """The whole nightly load without an orchestrator (tests, and ``kohorte load --plain``)."""
    load_date = load_date or dt.date.today()
    with run_lock(settings):
        started = time.time()
        run_id = new_run_id()
        recover(settings)
        planned, waiting = plan_inbox(settings, run_id)
        work = split(planned, waiting)
        results = [r for w in work for r in ingest_work(settings, w, run_id, load_date)]
        results = in_plan_order(planned, results)
        return finish(settings, summarise(run_id, started, results), load_date), results


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


STATUS_DE = {status: labels[0] for status, labels in FILE_STATUSES.items()}


def render_summary(run: dict, results: list[FileResult]) -> str:
    """Markdown summary of a run (Prefect artifact and ``kohorte load`` output)."""
    lines = [
        f"# Ladelauf {run['run_id']}",
        "",
        f"- Status: **{run['status']}**, Datenstand {run.get('as_of', '-')}",
        f"- Dateien: {run['files_total']} (geladen {run['files_loaded']}, teilweise "
        f"{run['files_partial']}, Quarantäne {run['files_quarantined']}, Duplikate "
        f"{run['files_duplicate']}, zurückgestellt {run.get('files_deferred', 0)})",
        f"- Zeilen: {run['rows_accepted']} angenommen, {run['rows_rejected']} abgelehnt",
        f"- Dauer: Einlesen {run.get('seconds_ingest', 0):.1f} s, Aufbau "
        f"{run.get('seconds_build', 0):.1f} s; Warehouse `{run.get('warehouse', '-')}`",
        "",
    ]
    problems = [r for r in results if r.status not in ("loaded", "duplicate")]
    if problems:
        lines += ["| Datei | Status | Meldung | Bericht |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {r.file_name} | {STATUS_DE[r.status]} | {r.message} | {r.report or '-'} |"
            for r in problems
        ]
    return "\n".join(lines) + "\n"

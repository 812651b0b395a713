"""Before a night loads anything: check the raw store and repair what a killed run left
behind, so every later step starts from a consistent state."""

from __future__ import annotations

import shutil

from kohorte.build import warehouse
from kohorte.config import Settings
from kohorte.intake import admit
from kohorte.intake.report import rows
from kohorte.run.inbox import discover
from kohorte.store import rawstore, runlog


def recover(settings: Settings) -> list[str]:
    """Check the raw store and repair what a killed run left behind, before anything loads:
    damaged deliveries set aside (``rawstore.verify``), Parquet files the manifest never
    recorded, temporary files, unfinished builds, deliveries without a file-log entry, and
    runs that never recorded their end. Returns what was done, one line each."""
    done = rawstore.migrate(settings.raw)
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
        runlog.write_files(
            settings, runlog.run_of(delivery.delivery_id), [(delivery.delivery_id, entry)]
        )
        done.append(f"Dateiprotokoll nachgetragen: {delivery.delivery_id}")
    return done


def _close_killed_runs(settings: Settings, repairs: list[str]) -> list[str]:
    """Record the end of runs that were killed: ``aborted``, or ``published`` if the pointer
    already names their warehouse (killed between publishing and recording it)."""
    runs = {r["run_id"]: r for r in runlog.read_runs(settings)}
    files = runlog.read_files(settings)
    killed = {r for r, run in runs.items() if run["status"] == "running"}
    killed |= {f["run_id"] for f in files} - set(runs)
    current = warehouse.current_path(settings)
    done = []
    for run_id in sorted(killed):
        mine = [f for f in files if f["run_id"] == run_id]
        published = current is not None and current.name == f"kohorte-{run_id}.duckdb"
        run = {
            "run_id": run_id,
            "started_at": runlog.iso(runlog.run_started(run_id)),
            **runlog.file_counts(mine),
            **runs.get(run_id, {}),
            "status": "published" if published else "aborted",
            "message": "Lauf abgebrochen (Prozess beendet); der nächste Lauf hat aufgeräumt"
            + (f": {'; '.join(repairs)}" if repairs else "."),
        }
        runlog.write_run(settings, run)
        done.append(f"Lauf als {run['status']} vermerkt: {run_id}")
    return done

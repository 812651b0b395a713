"""The run log: one JSON file per nightly run (``state/runs/``) and one per file a run
saw (``state/files/``, named by the file's ``delivery_id``). Written by the run as it goes,
so a killed run leaves what it did; read by the build (``meta.load_*``), the alerts, the
status command and the Datenstand page. Each column is declared once, here."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

from kohorte.config import Settings
from kohorte.store.files import atomic_write_many, atomic_write_text

RUN_ID_FORMAT = "%Y%m%dT%H%M%S%fZ"
RUN_COLUMNS = {
    "run_id": "varchar",
    "started_at": "varchar",
    "finished_at": "varchar",
    "status": "varchar",
    "message": "varchar",
    "files_total": "bigint",
    "files_loaded": "bigint",
    "files_partial": "bigint",
    "files_quarantined": "bigint",
    "files_duplicate": "bigint",
    "files_deferred": "bigint",
    "rows_accepted": "bigint",
    "rows_rejected": "bigint",
    "bytes_read": "bigint",
    "as_of": "varchar",
    "warehouse": "varchar",
    "seconds_ingest": "double",
    "seconds_build": "double",
    "build_mode": "varchar",
    "persons_rebuilt": "bigint",
}
FILE_COLUMNS = {
    "run_id": "varchar",
    "delivery_id": "varchar",
    "file_name": "varchar",
    "kind": "varchar",
    "sha256": "varchar",
    "size_bytes": "bigint",
    "status": "varchar",
    "file_format": "varchar",
    "encoding": "varchar",
    "rows_accepted": "bigint",
    "rows_rejected": "bigint",
    "message": "varchar",
    "seconds": "double",
    "report": "varchar",
}
ERROR_COLUMNS = {
    "delivery_id": "varchar",
    "file_name": "varchar",
    "line": "bigint",
    "column": "varchar",
    "reason": "varchar",
}


def read_runs(settings: Settings) -> list[dict]:
    """Every recorded run of the nightly flow, oldest first."""
    return _read_folder(settings.state / "runs")


def read_files(settings: Settings) -> list[dict]:
    """Every file result ever recorded, in delivery order."""
    return _read_folder(settings.state / "files")


def write_run(settings: Settings, run: dict) -> None:
    """Record one run (atomically; a killed run leaves the previous state)."""
    folder = settings.state / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(*_entry(folder, run["run_id"], run))


def write_files(settings: Settings, run_id: str, results: list[tuple[str, dict]]) -> None:
    """Record what happened to files, as soon as it happened: (delivery_id, result) each,
    with one flush for all."""
    folder = settings.state / "files"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_many([_entry(folder, id_, {"run_id": run_id, **r}) for id_, r in results])


# Run ids are the run log's keys: a run's UTC start to the microsecond; a file's delivery
# id is its run's id and its place in that run (``<run_id>-00001``).
def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable id of a run: its UTC start time to the microsecond."""
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime(RUN_ID_FORMAT)


def run_started(run_id: str) -> float:
    """When a run started (its id), as a timestamp."""
    return dt.datetime.strptime(run_id, RUN_ID_FORMAT).replace(tzinfo=dt.UTC).timestamp()


def run_of(delivery_id: str) -> str:
    """The run a delivery id was given in."""
    return delivery_id.rsplit("-", 1)[0]


def iso(timestamp: float) -> str:
    """A run log time: UTC, to the second."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


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


def _read_folder(folder: Path) -> list[dict]:
    if not folder.exists():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def _entry(folder: Path, name: str, data: dict) -> tuple[Path, str]:
    return folder / f"{name}.json", json.dumps(data, ensure_ascii=False, default=str)

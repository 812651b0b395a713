"""Recorded intake results: what the intake gave for the corpus inbox, to compare against.

``snapshot`` reduces one ingested inbox to what must not change by accident: every file's
verdict and report, the manifest, a digest of the rows stored per delivery and the
quarantine's reports. ``recorded.json`` holds the snapshot of the reviewed behaviour; it is
rewritten (``python tests/corpus/recorded.py``) only together with a deliberate change of a
verdict, and the diff is part of that change's review.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "recorded.json"
AS_OF = "2026-06-30"
RUN_ID = "r1"
FIXED_MTIME = 1_780_000_000  # 2026-05-28


def _digest(rows: list[tuple]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def snapshot(settings, results) -> dict:
    """The comparable part of one ingest of the corpus inbox (content hashes, and the sizes of
    workbooks, are left out: workbooks built at run time carry their creation time)."""
    from kohorte.store import rawstore

    files = {}
    for result in results:
        data = result.to_dict()
        for volatile in ("seconds", "sha256"):
            data.pop(volatile)
        # a workbook's zip holds a creation time; a link's size is its target's path
        if result.file_name.lower().endswith(".xlsx") or result.sha256.startswith("unhashed"):
            data.pop("size_bytes")
        files[result.file_name] = data
    con = duckdb.connect()
    manifest, stored = {}, {}
    for delivery in rawstore.deliveries(settings.raw):
        entry = dict(delivery.__dict__)
        for volatile in ("received_at", "parquet_sha256", "sha256"):
            entry.pop(volatile)
        if delivery.file_format == "xlsx":
            entry.pop("size_bytes")
        manifest[delivery.delivery_id] = entry
        path = rawstore.parquet_path(settings.raw, delivery.kind, delivery.delivery_id)
        rows = con.execute(
            "select * from read_parquet($p, hive_partitioning = false) order by all",
            {"p": str(path)},
        ).fetchall()
        stored[delivery.delivery_id] = {"rows": len(rows), "digest": _digest(rows)}
    reports = {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(settings.quarantine.glob("*.report.txt"))
    }
    kept = sorted(p.name for p in settings.quarantine.iterdir())
    return {
        "files": files,
        "manifest": manifest,
        "stored": stored,
        "reports": reports,
        "quarantine": kept,
    }


def ingest_corpus_inbox(home: Path):
    """The corpus inbox (sample, KPI fixture, every case but the 2 GB one) ingested by the
    nightly pipeline's intake with fixed delivery ids: (settings, results)."""
    import datetime as dt

    sys.path.insert(0, str(HERE.parent))
    from conftest import FIXTURES, SAMPLE, deliver, make_settings
    from corpus.cases import CASES

    from kohorte.run import inbox, pipeline

    settings = make_settings(home)
    deliver(settings, *sorted(SAMPLE.iterdir()), *sorted((FIXTURES / "kpi").glob("*.csv")))
    for case in CASES:
        if case.id != "k60":  # refused unread whatever the path; it costs 2 GB of disk
            case.write(settings.inbox)
    for path in settings.inbox.iterdir():  # a checkout's times would decide the order
        os.utime(path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
    as_of = dt.date.fromisoformat(AS_OF)
    planned = inbox.plan(settings, RUN_ID)
    work = pipeline.split(planned)
    results = [r for w in work for r in pipeline.ingest_work(settings, w, RUN_ID, as_of)]
    return settings, pipeline.in_plan_order(planned, results)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        settings, results = ingest_corpus_inbox(Path(tmp) / "home")
        RECORDED.write_text(
            json.dumps(snapshot(settings, results), ensure_ascii=False, indent=1, sort_keys=True)
            + "\n",
            encoding="utf-8",
        )
    print(f"{RECORDED}: {len(results)} files")

"""Batched ingest (``kohorte.batch``) gives exactly what checking each file alone gives.

The same inbox (the committed sample, the KPI fixture and every bad-input corpus case) is
ingested twice with the same slots: file by file (``pipeline.ingest_one``) and in units of
work (``pipeline.split`` / ``pipeline.ingest_work``). Results, manifest, stored rows,
quarantine and reports must be equal.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, SAMPLE, deliver, make_settings
from corpus.cases import CASES

from kohorte import batch, pipeline, rawstore
from kohorte.config import Settings

AS_OF = dt.date(2026, 6, 30)


def _inbox(home: Path, like: Settings | None = None) -> Settings:
    """An inbox with every kind of file; ``like``: the same bytes as that one's inbox (some
    corpus files are built at run time, and an XLSX carries its creation time)."""
    settings = make_settings(home)
    if like is not None:
        deliver(settings, *sorted(like.inbox.iterdir()))
        return settings
    deliver(settings, *sorted(SAMPLE.iterdir()), *sorted((FIXTURES / "kpi").glob("*.csv")))
    for case in CASES:
        if case.id != "k60":  # the 2 GB file is refused unread either way; it costs 2 GB
            case.write(settings.inbox)
    return settings


def _stored(settings: Settings) -> dict[str, list[tuple]]:
    con = duckdb.connect()
    out = {}
    for delivery in rawstore.deliveries(settings.raw):
        path = rawstore.parquet_path(settings.raw, delivery.kind, delivery.delivery_id)
        out[delivery.delivery_id] = con.execute(
            "select * from read_parquet($p, hive_partitioning = false) order by all",
            {"p": str(path)},
        ).fetchall()
    return out


def _comparable(result) -> dict:
    data = result.to_dict()
    data.pop("seconds")
    return data


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory):
    """The same inbox ingested file by file and batched: (settings, results, work) each."""
    one = _inbox(tmp_path_factory.mktemp("one-by-one") / "home")
    many = _inbox(tmp_path_factory.mktemp("batched") / "home", like=one)
    planned = pipeline.plan(one, "r1")
    alone = [pipeline.ingest_one(one, item, "r1", AS_OF) for item in planned]
    planned = pipeline.plan(many, "r1")
    work = pipeline.split(planned)
    batched = [r for w in work for r in pipeline.ingest_work(many, w, "r1", AS_OF)]
    return (one, alone), (many, pipeline.in_plan_order(planned, batched)), work


def test_batches_really_form(both) -> None:
    """Not vacuous: most clean CSV files go through batches of several files."""
    *_, work = both
    in_batches = sum(len(w.batch) for w in work)
    assert in_batches >= 20
    assert max(len(w.batch) for w in work) >= 5
    assert any(w.single for w in work)  # XLSX and broken files take the per-file path


def test_every_file_gets_the_same_verdict_and_report(both) -> None:
    (_, alone), (_, batched), _ = both
    assert [r.file_name for r in alone] == [r.file_name for r in batched]
    assert {r.status for r in batched} >= {"loaded", "partial", "quarantined"}
    for a, b in zip(alone, batched, strict=True):
        assert _comparable(a) == _comparable(b), a.file_name


def test_the_raw_store_holds_the_same_rows(both) -> None:
    (one, _), (many, _), _ = both
    manifest = [
        {**d.__dict__, "received_at": None, "parquet_sha256": None}
        for d in rawstore.deliveries(one.raw)
    ]
    assert manifest == [
        {**d.__dict__, "received_at": None, "parquet_sha256": None}
        for d in rawstore.deliveries(many.raw)
    ]
    assert _stored(one) == _stored(many)
    assert sum(len(rows) for rows in _stored(many).values()) > 1000


def test_quarantine_and_file_log_match(both) -> None:
    (one, _), (many, _), _ = both
    names = sorted(p.name for p in one.quarantine.iterdir())
    assert names == sorted(p.name for p in many.quarantine.iterdir())
    for name in names:
        if name.endswith(".report.txt"):
            assert (one.quarantine / name).read_text() == (many.quarantine / name).read_text()
    files = sorted(p.name for p in (one.state / "files").glob("*.json"))
    assert files == sorted(p.name for p in (many.state / "files").glob("*.json"))
    assert not list(many.inbox.iterdir())


def test_an_open_quote_at_the_end_of_a_file_is_not_batched(tmp_path: Path) -> None:
    """Read together with other files, DuckDB 2.0 drops a value cut off inside quotes at
    the end of a file without a reject; such a file takes the per-file path."""
    cut = tmp_path / "anwesenheit_cut.csv"
    cut.write_bytes(b'kundennummer;datum;status;stunden\r\n900D000001;02.06.2026;"anwes')
    whole = tmp_path / "anwesenheit_whole.csv"
    whole.write_bytes(b'kundennummer;datum;status;stunden\r\n900D000001;02.06.2026;"a;b";3\r\n')
    assert batch.survey(batch.Delivery(cut, "d1", "x")) is None
    assert batch.survey(batch.Delivery(whole, "d2", "y")) is not None

"""A Jobcenter upload still being written while the night runs: nothing of it is lost,
nothing counted twice. The loader takes a file only once it kept its size and modification
time for the settle interval (``intake.admit.scan``) and unchanged until it is stored
(``Arrival.changed``); anything else stays in the inbox for the next night.

One test races a real writer against a real ``kohorte load --plain``; the others make the
same situations happen at a chosen moment, without timing luck.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT

from kohorte.build import warehouse
from kohorte.config import Settings
from kohorte.define.privacy import pseudonym
from kohorte.intake import admit
from kohorte.run import pipeline
from kohorte.store import rawstore, runlog

LOAD_DATE = dt.date(2026, 6, 30)
ROWS = 400
HEADER = "kundennummer;datum;status;stunden\r\n"
NAME = "anwesenheit_20260630_nachlieferung.csv"


def _row(i: int) -> str:
    """Row ``i`` (1-based): its own customer number, a day of June 2026 (never after the
    load date)."""
    return f"900D{i:06d};{(i - 1) % 30 + 1:02d}.06.2026;anwesend;{1 + i % 3}\r\n"


def _content(rows: range = range(1, ROWS + 1)) -> bytes:
    return (HEADER + "".join(_row(i) for i in rows)).encode("utf-8")


def _kohorte() -> list[str]:
    """The ``kohorte`` command of this virtual environment."""
    return [str(Path(sys.executable).with_name("kohorte"))]


def _load_cli(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_kohorte(), "load", "--plain", "--load-date", LOAD_DATE.isoformat()],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


class Writer(threading.Thread):
    """Writes the file in small appends, cut anywhere (mid-line too, as a copy tool
    does), with short pauses: ``seconds`` from the first byte to the last."""

    def __init__(self, path: Path, data: bytes, pieces: int = 60, seconds: float = 3.0):
        super().__init__(daemon=True)
        self.path, self.data, self.pieces, self.pause = path, data, pieces, seconds / pieces
        self.first_byte = threading.Event()
        self.error: BaseException | None = None
        self.finished_at = 0.0

    def run(self) -> None:
        try:
            step = -(-len(self.data) // self.pieces)
            with self.path.open("ab", buffering=0) as handle:
                for start in range(0, len(self.data), step):
                    handle.write(self.data[start : start + step])
                    self.first_byte.set()
                    time.sleep(self.pause)
            self.finished_at = time.monotonic()
        except BaseException as error:  # reported by the test
            self.error = error
            self.first_byte.set()


@pytest.fixture(autouse=True)
def _no_leftover_writer():
    """A writer thread that outlives its test would write into the next test's inbox."""
    yield
    assert not [t for t in threading.enumerate() if isinstance(t, Writer) and t.is_alive()]


def _raw_rows(settings: Settings) -> list[tuple[str, dt.date, str]]:
    """(pid, datum, delivery_id) of every anwesenheit row in the published raw layer."""
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    try:
        return con.execute("select pid, datum, delivery_id from raw.anwesenheit").fetchall()
    finally:
        con.close()


def _expected(settings: Settings) -> set[tuple[str, dt.date]]:
    key = settings.pseudonym_key()
    return {
        (pseudonym(key, f"900D{i:06d}"), dt.date(2026, 6, (i - 1) % 30 + 1))
        for i in range(1, ROWS + 1)
    }


def _assert_loaded_exactly_once(settings: Settings) -> None:
    """Every row of the file in the raw store exactly once, in one delivery, and exactly
    once among the marts' events; the inbox and the quarantine empty."""
    expected = _expected(settings)
    raw = _raw_rows(settings)
    assert len(raw) == ROWS, f"{len(raw)} raw rows for {ROWS} delivered"
    assert {(pid, datum) for pid, datum, _ in raw} == expected
    [delivery] = [d for d in rawstore.deliveries(settings.raw) if d.file_name == NAME]
    assert (delivery.rows_accepted, delivery.rows_rejected) == (ROWS, 0)
    assert delivery.sha256 == hashlib.sha256(_content()).hexdigest()  # the whole file
    assert {d for _, _, d in raw} == {delivery.delivery_id}
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    try:
        events = con.execute(
            "select pid, datum from marts.ereignisse where quelle = 'anwesenheit'"
        ).fetchall()
        staged = con.execute("select count(*) from staging.stg_anwesenheit").fetchall()[0][0]
    finally:
        con.close()
    assert len(events) == ROWS and set(events) == expected
    assert staged == ROWS
    assert list(settings.inbox.iterdir()) == []
    assert [p for p in settings.quarantine.rglob("*") if p.is_file()] == []


def _result_of(results):
    """This file's result in a run's results; it must have one, whatever happened."""
    found = [r for r in results if r.file_name == NAME]
    assert len(found) == 1, f"{NAME}: not reported; the run: {[r.file_name for r in results]}"
    return found[0]


def _statuses(settings: Settings) -> list[str]:
    """This file's outcome in every run so far, oldest first."""
    return [f["status"] for f in runlog.read_files(settings) if f["file_name"] == NAME]


@pytest.mark.slow  # a real writer racing a real `kohorte load`: make test, not make check
def test_a_file_written_while_kohorte_load_runs_arrives_once(settings, env_home):
    """A real writer appends 400 rows over ~3 s while ``kohorte load --plain`` runs (settle
    interval 2 s), then the next night runs: each row is stored exactly once in total,
    none lost, none doubled in the marts, and the inbox is empty."""
    env = {**env_home, "KOHORTE_SETTLE_SECONDS": "2"}
    writer = Writer(settings.inbox / NAME, _content())
    writer.start()
    assert writer.first_byte.wait(10)
    launched = time.monotonic()
    during = _load_cli(env)  # the writer is still writing while it starts and scans
    writer.join(30)
    assert not writer.is_alive() and writer.error is None, writer.error
    assert during.returncode == 0, during.stderr[-3000:]
    assert "Status: veröffentlicht" in during.stdout, during.stdout
    first = _statuses(settings)
    # tonight the file was either left for the next night or (if the load came late to a
    # file that had settled) taken whole; never taken in part
    assert first in (["deferred"], ["loaded"]), first
    if first == ["deferred"]:
        assert (settings.inbox / NAME).exists()
        assert "zurückgestellt 1" in during.stdout, during.stdout
    assert writer.finished_at > launched  # the load really started mid-write
    after = _load_cli(env)  # the next night, with the file complete
    assert after.returncode == 0, after.stderr[-3000:]
    assert _statuses(settings) in (["deferred", "loaded"], ["loaded"])
    _assert_loaded_exactly_once(settings)


def _settling(settings: Settings, seconds: float = 0.5) -> Settings:
    return dataclasses.replace(settings, settle_seconds=seconds)


class _Clock:
    """``admit``'s view of the ``time`` module, with something happening in its sleep."""

    def __init__(self, during_sleep) -> None:
        self.during_sleep, self.sleeps = during_sleep, 0

    @staticmethod
    def time_ns() -> int:
        return time.time_ns()

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.during_sleep()
        time.sleep(seconds)


def test_a_file_that_grows_during_the_settle_interval_is_deferred(settings, monkeypatch):
    """Deterministic: a file modified just now grows while the loader waits for it to
    settle: it is deferred (left in the inbox, nothing of it stored) and loads whole on
    the next run."""
    path = settings.inbox / NAME
    path.write_bytes(_content(range(1, 201)) + _row(201).encode()[:7])  # cut mid-line
    tail = _row(201).encode()[7:] + _content(range(202, ROWS + 1))[len(HEADER) :]

    def grow() -> None:
        with path.open("ab") as handle:
            handle.write(tail)

    clock = _Clock(grow)
    with monkeypatch.context() as patch:
        patch.setattr(admit, "time", clock)
        run, results = pipeline.run_once(_settling(settings), LOAD_DATE)
    assert clock.sleeps == 1
    result = _result_of(results)
    assert result.status == "deferred", (result.status, result.message)
    assert "noch geschrieben" in result.message
    assert (run["files_deferred"], run["rows_accepted"], run["rows_rejected"]) == (1, 0, 0)
    assert path.read_bytes() == _content()  # still in the inbox, untouched
    assert rawstore.deliveries(settings.raw) == []
    assert list(settings.raw.glob("anwesenheit/*.parquet")) == []
    assert [p for p in settings.quarantine.rglob("*") if p.is_file()] == []
    run, results = pipeline.run_once(_settling(settings), LOAD_DATE)
    result = _result_of(results)
    assert (result.status, result.rows_accepted, result.rows_rejected) == ("loaded", ROWS, 0)
    assert _statuses(settings) == ["deferred", "loaded"]
    _assert_loaded_exactly_once(settings)


def test_a_file_that_grows_right_after_it_was_hashed_is_deferred(settings, monkeypatch):
    """Deterministic: the writer appends right after the night hashed a settled file (it
    had paused longer than the settle interval). The file changed between hashing and
    storing, so it must be deferred, and load whole, with the hash of what was stored, on
    the next run."""
    path = settings.inbox / NAME
    half = _content(range(1, 201))
    path.write_bytes(half)
    old = time.time() - 60
    os.utime(path, (old, old))  # settled: the writer paused
    real_arrive, appended = admit.arrive, []

    def append_then_arrive(target: Path, *args, **kwargs):
        # the night has hashed the file (the hash is passed on) and now looks at its size
        # and modification time: the writer resumes in between
        if target == path and path.stat().st_size == len(half):
            with path.open("ab") as handle:
                handle.write(_content()[len(half) :])
            appended.append(args)
        return real_arrive(target, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(admit, "arrive", append_then_arrive)
        run, results = pipeline.run_once(settings, LOAD_DATE)
    assert appended, "the night did not look at the file after hashing it"
    result = _result_of(results)
    stored = {d.file_name: d for d in rawstore.deliveries(settings.raw)}
    assert result.status == "deferred", (
        f"taken as {result.status} with {result.rows_accepted} rows of {len(_content())} "
        f"bytes; its manifest sha256 {stored[NAME].sha256[:12] if NAME in stored else '-'} "
        f"(the first {len(half)} bytes: {hashlib.sha256(half).hexdigest()[:12]}; the whole "
        f"file: {hashlib.sha256(_content()).hexdigest()[:12]})"
    )
    assert path.read_bytes() == _content()
    assert rawstore.deliveries(settings.raw) == []
    pipeline.run_once(settings, LOAD_DATE)
    _assert_loaded_exactly_once(settings)


def test_rows_appended_while_the_file_is_being_stored_are_not_lost(settings, monkeypatch):
    """Deterministic: the writer appends while the night stores the file's rows (after the
    last check that it is unchanged, before the original leaves the inbox). The appended
    rows must not be lost: stored now, or left in the inbox for the next night."""
    path = settings.inbox / NAME
    half = _content(range(1, 201))
    path.write_bytes(half)
    old = time.time() - 60
    os.utime(path, (old, old))
    real_record, appended = rawstore.record_many, []

    def record_then_append(raw: Path, entries) -> None:
        real_record(raw, entries)
        if path.exists() and path.stat().st_size == len(half):
            with path.open("ab") as handle:
                handle.write(_content()[len(half) :])
            appended.append(entries)

    with monkeypatch.context() as patch:
        patch.setattr(rawstore, "record_many", record_then_append)
        pipeline.run_once(settings, LOAD_DATE)
    assert appended, "the night recorded no delivery of the file"
    pipeline.run_once(settings, LOAD_DATE)  # the next night
    stored = {(pid, datum) for pid, datum, _ in _raw_rows(settings)}
    lost = _expected(settings) - stored
    waiting = path.read_bytes() if path.exists() else b""
    assert not lost, (
        f"{len(lost)} of {ROWS} rows neither stored nor in the inbox "
        f"(inbox file: {len(waiting)} bytes; raw rows: {len(stored)})"
    )

"""The intake's stages on their own: admission of what an inbox holds, batching."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from kohorte import intake
from kohorte.build import warehouse
from kohorte.intake.admit import arrive
from kohorte.run import inbox, pipeline
from kohorte.store import rawstore, runlog


def _surveyed(path: Path, delivery_id: str):
    return intake.take(arrive(path, delivery_id, None))


def test_an_open_quote_at_the_end_of_a_file_is_a_batch_of_its_own(tmp_path: Path) -> None:
    """Read together with other files, DuckDB 2.0 drops a value cut off inside quotes at
    the end of a file without a reject; such a file is staged alone."""
    cut = tmp_path / "anwesenheit_cut.csv"
    cut.write_bytes(b'kundennummer;datum;status;stunden\r\n900D000001;02.06.2026;"anwes')
    whole = tmp_path / "anwesenheit_whole.csv"
    whole.write_bytes(b'kundennummer;datum;status;stunden\r\n900D000001;02.06.2026;"a;b";3\r\n')
    other = tmp_path / "anwesenheit_other.csv"
    other.write_bytes(b"kundennummer;datum;status;stunden\r\n900D000002;02.06.2026;anwesend;3\r\n")
    files = [_surveyed(p, f"d{i}") for i, p in enumerate((cut, whole, other))]
    assert [f.alone for f in files] == [True, False, False]
    batches = intake.plan_batches(files)
    assert sorted(len(b) for b in batches) == [1, 2]
    assert [b for b in batches if len(b) == 1][0][0].arrival.path == cut


PERSON = "kundennummer;eintritt;austritt;austrittsgrund;coach;geschlecht;geburtsjahr;"
PERSON += "langzeitleistungsbezug;berufsabschluss"


def _night(settings, name: str, text: str, day: dt.date) -> dict:
    (settings.inbox / name).write_text(text, encoding="utf-8")
    run, _ = pipeline.run_once(settings, day)
    return run


def _participations(settings) -> list[tuple]:
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    try:
        return con.execute("select pid, eintritt from marts.teilnahmen order by all").fetchall()
    finally:
        con.close()


def test_a_corrected_entry_date_leaves_one_participation(settings) -> None:
    """The entry date is part of a participation's key: correcting it is a retraction of
    the old key (storno = ja) plus the new row. Without the retraction both stay."""
    first = f"{PERSON}\r\n012D000001;05.01.2026;;;Anja;w;1980;ja;nein\r\n"
    _night(settings, "teilnehmende_20260110.csv", first, dt.date(2026, 1, 10))
    [(pid, eintritt)] = _participations(settings)
    assert eintritt == dt.date(2026, 1, 5)
    correction = (
        f"{PERSON};storno\r\n012D000001;05.01.2026;;;;;;;;ja\r\n"
        "012D000001;12.01.2026;;;Anja;w;1980;ja;nein;nein\r\n"
    )
    run = _night(settings, "teilnehmende_20260115.csv", correction, dt.date(2026, 1, 15))
    assert (run["rows_accepted"], run["rows_rejected"]) == (2, 0)
    assert _participations(settings) == [(pid, dt.date(2026, 1, 12))]


def test_without_a_retraction_the_old_key_stays(settings) -> None:
    """The counter-check: a new entry date alone is a second participation."""
    first = f"{PERSON}\r\n012D000001;05.01.2026;;;Anja;w;1980;ja;nein\r\n"
    _night(settings, "teilnehmende_20260110.csv", first, dt.date(2026, 1, 10))
    second = f"{PERSON}\r\n012D000001;12.01.2026;;;Anja;w;1980;ja;nein\r\n"
    _night(settings, "teilnehmende_20260115.csv", second, dt.date(2026, 1, 15))
    assert len(_participations(settings)) == 2


ATTENDANCE = "kundennummer;datum;status;stunden\r\n900D000001;02.06.2026;anwesend;3\r\n"


def test_with_markers_a_file_waits_for_its_done_marker(settings) -> None:
    marked = dataclasses.replace(settings, inbox_markers=True)
    (settings.inbox / "anwesenheit_a.csv").write_text(ATTENDANCE, encoding="utf-8")
    run, results = pipeline.run_once(marked, dt.date(2026, 6, 30))
    [waiting] = results
    assert (waiting.status, run["files_deferred"]) == ("deferred", 1)
    assert "Fertig-Markierung" in waiting.message
    assert (settings.inbox / "anwesenheit_a.csv").exists()
    (settings.inbox / "anwesenheit_a.csv.done").write_text("", encoding="utf-8")
    run, [result] = pipeline.run_once(marked, dt.date(2026, 6, 30))
    assert (result.status, result.rows_accepted) == ("loaded", 1)
    assert list(settings.inbox.iterdir()) == []  # the marker goes with its file


def test_a_file_changed_after_hashing_is_not_stored_and_stays(settings) -> None:
    path = settings.inbox / "anwesenheit_a.csv"
    path.write_text(ATTENDANCE, encoding="utf-8")
    run_id = runlog.new_run_id()
    planned = inbox.plan(settings, run_id)
    with path.open("a", encoding="utf-8") as handle:  # the upload goes on
        handle.write("900D000002;02.06.2026;anwesend;3\r\n")
    results = [
        r
        for w in pipeline.split(planned)
        for r in pipeline.ingest_work(settings, w, run_id, dt.date(2026, 6, 30))
    ]
    [result] = results
    assert (result.status, result.rows_accepted) == ("deferred", 0)
    assert path.exists() and rawstore.deliveries(settings.raw) == []
    run, [again] = pipeline.run_once(settings, dt.date(2026, 6, 30))
    assert (again.status, again.rows_accepted) == ("loaded", 2)


def test_a_young_file_that_grows_during_the_settle_interval_waits(settings) -> None:
    path = settings.inbox / "anwesenheit_a.csv"
    path.write_text(ATTENDANCE, encoding="utf-8")
    slow = dataclasses.replace(settings, settle_seconds=1.0)

    def append_later() -> None:
        time.sleep(0.3)
        with path.open("a", encoding="utf-8") as handle:
            handle.write("900D000002;02.06.2026;anwesend;3\r\n")

    writer = threading.Thread(target=append_later)
    writer.start()
    run, [result] = pipeline.run_once(slow, dt.date(2026, 6, 30))
    writer.join()
    assert result.status == "deferred" and "noch geschrieben" in result.message
    run, [result] = pipeline.run_once(slow, dt.date(2026, 6, 30))
    assert (result.status, result.rows_accepted) == ("loaded", 2)


def test_a_night_that_fails_after_storing_is_repaired_by_the_next(settings, monkeypatch):
    """A failure between the manifest entry and the file log (today: any error while the
    original is moved to the quarantine) fails the run; the next night's recovery takes the
    delivery back, loads the file again, and it counts once, with its file log."""
    from kohorte.intake import report

    path = settings.inbox / "anwesenheit_a.csv"
    path.write_text(ATTENDANCE + "900D000002;31.02.2026;anwesend;3\r\n", encoding="utf-8")

    def too_long(*args, **kwargs):
        raise OSError(36, "File name too long")

    with monkeypatch.context() as patch:
        patch.setattr(report, "quarantine_file", too_long)
        with pytest.raises(OSError):
            pipeline.run_once(settings, dt.date(2026, 6, 30))
    assert len(rawstore.deliveries(settings.raw)) == 1 and path.exists()
    assert not list((settings.state / "files").glob("*.json"))
    run, [result] = pipeline.run_once(settings, dt.date(2026, 6, 30))
    assert (result.status, result.rows_accepted, result.rows_rejected) == ("partial", 1, 1)
    [delivery] = rawstore.deliveries(settings.raw)
    assert delivery.delivery_id == result.delivery_id
    logged = [p.stem for p in (settings.state / "files").glob("*.json")]
    assert logged == [result.delivery_id] and not path.exists()


def test_what_leaves_the_intake_is_masked(settings) -> None:
    """A customer number in a file name or a message reaches no output: the results the
    night hands on (summary, artifacts, CLI) and its file log are the masked view."""
    (settings.inbox / "anwesenheit_143D000001.csv").write_text(
        "143D000002;02.06.2026;anwesend;3\r\n", encoding="utf-8"
    )
    run, [result] = pipeline.run_once(settings, dt.date(2026, 6, 30))
    assert result.status == "quarantined"
    shown = pipeline.render_summary(run, [result]) + repr(result)
    logged = "".join(p.read_text() for p in (settings.state / "files").glob("*.json"))
    for text in (shown, logged):
        assert "143D00000" not in text and "[Kundennummer]" in text
    assert result.file_name.startswith("anwesenheit_[Kundennummer]~")
    [report] = settings.quarantine.glob("*.report.txt")
    assert report.name == result.report  # the page finds it under the name it shows
    original = settings.quarantine / f"{result.delivery_id}__{result.file_name}"
    assert "143D000002" in original.read_text(encoding="utf-8")  # kept in clear, inside


def test_deliveries_stored_before_the_storno_column_still_build(settings) -> None:
    """An installation upgraded to the contract with ``storno`` keeps its stored Parquet
    files, which lack the column: the build reads them as not retracted."""
    import duckdb

    _night(settings, "anwesenheit_20260602.csv", ATTENDANCE, dt.date(2026, 6, 30))
    [old] = rawstore.deliveries(settings.raw)
    path = rawstore.parquet_path(settings.raw, old.kind, old.delivery_id)
    duckdb.execute(
        f"copy (select * exclude (storno) from read_parquet('{path}')) to '{path}.new' "
        "(format parquet)"
    )
    Path(f"{path}.new").replace(path)
    rawstore.record(settings.raw, dataclasses.replace(old, parquet_sha256=None))
    run = _night(
        settings,
        "verbleib_20260630.csv",
        "kundennummer;stichtag;status\r\n900D000001;01.06.2026;arbeitslos\r\n",
        dt.date(2026, 6, 30),
    )
    assert run["status"] == "published"
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    try:
        assert con.execute("select count(*) from staging.stg_anwesenheit").fetchone() == (1,)
    finally:
        con.close()


def test_a_copy_of_a_file_that_was_not_stored_stays(settings) -> None:
    """Two files of the same content; the first changes after hashing and is not stored.
    Its copy is no duplicate of anything stored: it stays too, and nothing is lost."""
    first, copy = settings.inbox / "anwesenheit_a.csv", settings.inbox / "anwesenheit_b.csv"
    for path in (first, copy):
        path.write_text(ATTENDANCE, encoding="utf-8")
    run_id = runlog.new_run_id()
    planned = inbox.plan(settings, run_id)
    assert planned[1].duplicate_of == planned[0].delivery_id
    with first.open("a", encoding="utf-8") as handle:
        handle.write("900D000002;02.06.2026;anwesend;3\r\n")
    day = dt.date(2026, 6, 30)
    results = [
        r for w in pipeline.split(planned) for r in pipeline.ingest_work(settings, w, run_id, day)
    ]
    assert [r.status for r in results] == ["deferred", "deferred"]
    assert first.exists() and copy.exists()
    run, results = pipeline.run_once(settings, day)
    assert sorted((r.status, r.rows_accepted) for r in results) == [("loaded", 1), ("loaded", 2)]


def test_names_that_differ_only_in_their_bytes_stay_two_files(settings) -> None:
    """NFC and NFD spellings of one name are two inbox files: two stored names, two
    results, both loaded."""
    import unicodedata

    for number, form in enumerate(("NFC", "NFD"), start=1):
        name = unicodedata.normalize(form, "anwesenheit_Müller.csv")
        text = ATTENDANCE.replace("900D000001", f"900D00000{number}")
        (settings.inbox / name).write_text(text, encoding="utf-8")
    run, results = pipeline.run_once(settings, dt.date(2026, 6, 30))
    assert len({r.file_name for r in results}) == 2
    assert sorted(r.status for r in results) == ["loaded", "loaded"]
    assert list(settings.inbox.iterdir()) == []


def test_retention_deletes_a_person_whose_rows_were_all_retracted(settings) -> None:
    """A retracted participation leaves the marts but its rows stay in the raw store;
    retention still deletes them once they are old enough."""
    from kohorte.run import retention

    old = f"{PERSON}\r\n012D000001;05.01.2020;10.03.2020;regulaer;Anja;w;1980;ja;nein\r\n"
    _night(settings, "teilnehmende_20200401.csv", old, dt.date(2020, 4, 1))
    retract = f"{PERSON};storno\r\n012D000001;05.01.2020;;;;;;;;ja\r\n"
    _night(settings, "teilnehmende_20200501.csv", retract, dt.date(2020, 5, 1))
    assert _participations(settings) == []
    summary = retention.run(settings, dt.date(2026, 1, 1))
    assert summary["persons_deleted"] == 1
    assert sum(d.rows_accepted - d.rows_deleted for d in rawstore.deliveries(settings.raw)) == 0

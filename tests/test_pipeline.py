"""The nightly steps end to end without Prefect: quarantine, idempotency, corrections, privacy."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, KPI_LOAD_DATE, SAMPLE, SAMPLE_LOAD_DATE, deliver, load
from openpyxl import Workbook

from kohorte import errors
from kohorte.build import warehouse
from kohorte.run import inbox, pipeline, recovery
from kohorte.store import rawstore

KPI_FILES = sorted((FIXTURES / "kpi").glob("*.csv"))


def _query(settings, sql: str) -> list[tuple]:
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _write_broken_files(folder: Path) -> dict[str, str]:
    """One file per kind of breakage; returns file name -> expected status."""
    header = "kundennummer;datum;status;stunden\r\n"
    (folder / "anwesenheit_a_encoding.csv").write_bytes(
        header.encode() + b"012D000001;05.01.2026;anwesend;3\r\n012D000001;\x81\x8d\x9d\r\n"
    )
    (folder / "anwesenheit_b_missing_column.csv").write_text(
        "kundennummer;datum;stunden\r\n012D000001;05.01.2026;3\r\n"
    )
    (folder / "anwesenheit_c_bad_date.csv").write_text(
        header + "012D000001;07.01.2026;anwesend;3\r\n012D000001;32.01.2026;anwesend;3\r\n"
    )
    (folder / "anwesenheit_d_unknown_code.csv").write_text(
        header + "012D000005;15.06.2026;anwesend;3\r\n012D000005;16.06.2026;vielleicht;3\r\n"
    )
    (folder / "anwesenheit_e_empty.csv").write_bytes(b"")
    (folder / "anwesenheit_f_garbage.csv").write_bytes(bytes(range(256)) * 8)
    book = Workbook()
    book.active.append(["kundennummer", "datum", "status", "stunden"])
    book.create_sheet("Zweites Blatt")
    book.save(folder / "anwesenheit_g_two_sheets.xlsx")
    (folder / "unbekannt.csv").write_text(header)
    return {
        "anwesenheit_a_encoding.csv": "quarantined",
        "anwesenheit_b_missing_column.csv": "quarantined",
        "anwesenheit_c_bad_date.csv": "partial",
        "anwesenheit_d_unknown_code.csv": "partial",
        "anwesenheit_e_empty.csv": "quarantined",
        "anwesenheit_f_garbage.csv": "quarantined",
        "anwesenheit_g_two_sheets.xlsx": "quarantined",
        "unbekannt.csv": "quarantined",
    }


def test_broken_files_get_one_report_each_and_good_files_still_load(settings, tmp_path):
    deliver(settings, *KPI_FILES)
    expected = _write_broken_files(settings.inbox)
    run, results = pipeline.run_once(settings, KPI_LOAD_DATE)
    status = {r.file_name: r.status for r in results}
    assert {name: status[name] for name in expected} == expected
    assert all(status[f.name] == "loaded" for f in KPI_FILES)
    assert run["status"] == "published"
    reports = sorted(p.name for p in settings.quarantine.glob("*.report.txt"))
    assert len(reports) == len(expected)
    for result in results:
        if result.status in ("partial", "quarantined"):
            text = (settings.quarantine / result.report).read_text()
            assert result.file_name in text and result.errors
            assert (settings.quarantine / result.report.replace(".report.txt", "")).exists()
    # the good lines of partly bad files were loaded: 6 + 1 + 1 attendance rows
    assert _query(settings, "select count(*) from raw.anwesenheit") == [(8,)]
    assert list(settings.inbox.iterdir()) == []
    logged = _query(settings, "select count(*) from meta.load_errors where line is not null")
    assert logged[0][0] >= 4
    # reports and logs of bad lines name no customer number outside the quarantine
    numbers = _kundennummern(FIXTURES / "kpi")
    _assert_no_kundennummer(settings.home, numbers)


def test_report_names_file_line_column_and_reason(settings):
    (settings.inbox / "anwesenheit_x.csv").write_text(
        "kundennummer;datum;status;stunden\r\n012D000001;31.02.2026;anwesend;3\r\n"
    )
    _, [result] = pipeline.run_once(settings, KPI_LOAD_DATE)
    report = (settings.quarantine / result.report).read_text()
    assert re.search(r"^2\s+datum\s+ungültiges Datum.*31\.02\.2026", report, re.M)
    assert "anwesenheit_x.csv" in report


@pytest.fixture
def loaded_sample(sample_home):
    """The sample delivered and loaded (a copy of the worker's load)."""
    return sample_home


def _snapshot(settings) -> dict:
    return {
        "kpis": _query(settings, "select * from marts.kennzahlen order by kennzahl, periode"),
        "teilnahmen": _query(settings, "select * from marts.teilnahmen order by teilnahme_id"),
        "raw": _query(
            settings,
            "select (select count(*) from raw.anwesenheit), "
            "(select count(*) from raw.teilnehmende)",
        ),
    }


def test_delivering_the_same_files_again_changes_no_number(loaded_sample):
    before = _snapshot(loaded_sample)
    deliver(loaded_sample, *sorted(SAMPLE.iterdir()))
    run, results = pipeline.run_once(loaded_sample, SAMPLE_LOAD_DATE)
    assert {r.status for r in results} == {"duplicate"}
    assert run["files_duplicate"] == len(list(SAMPLE.iterdir()))
    assert _snapshot(loaded_sample) == before


def test_a_corrected_delivery_changes_exactly_the_corrected_rows(kpi_home):
    settings = kpi_home  # the KPI fixture delivered and loaded
    before_parts = _query(settings, "select * from marts.teilnahmen order by teilnahme_id")
    before_att = _query(settings, "select pid, datum, status, stunden from staging.stg_anwesenheit")
    (settings.inbox / "teilnehmende_20260701_korrektur.csv").write_text(
        "kundennummer;eintritt;austritt;austrittsgrund;coach;geschlecht;geburtsjahr;"
        "langzeitleistungsbezug;berufsabschluss\r\n"
        "012D000004;02.02.2026;20.02.2026;krankheit;Jörg Weiß;m;1990;ja;nein\r\n"
    )
    (settings.inbox / "anwesenheit_20260701_korrektur.csv").write_text(
        "kundennummer;datum;status;stunden\r\n012D000001;08.01.2026;anwesend;3\r\n"
    )
    load(settings, dt.date(2026, 7, 1))
    after_parts = _query(settings, "select * from marts.teilnahmen order by teilnahme_id")
    changed = [(b, a) for b, a in zip(before_parts, after_parts, strict=True) if a != b]
    assert len(changed) == 2  # P4's reason; P1's attended sessions and hours
    after_att = _query(settings, "select pid, datum, status, stunden from staging.stg_anwesenheit")
    assert len(set(after_att) - set(before_att)) == 1
    assert len(after_att) == len(before_att)
    dropouts = (
        "select zaehler from marts.kennzahlen "
        "where kennzahl = 'abbruchquote' and periode = 'aktuell'"
    )
    assert _query(settings, dropouts) == [(0,)]


def _kundennummern(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.glob("*.csv"):
        found |= set(re.findall(r"\d{3}D\d{6}", path.read_bytes().decode("cp1252")))
    return found


def test_no_kundennummer_outside_the_quarantine(loaded_sample):
    numbers = _kundennummern(SAMPLE)
    assert len(numbers) > 50
    _assert_no_kundennummer(loaded_sample.home, numbers)


def _assert_no_kundennummer(home: Path, numbers: set[str]) -> None:
    pattern = re.compile("|".join(numbers).encode())
    checked = 0
    for path in home.rglob("*"):
        if not path.is_file() or "quarantine" in path.parts or "secrets" in path.parts:
            continue
        if path.suffix in (".parquet", ".duckdb"):
            assert not _strings_in_database(path, numbers), path
        else:
            assert not pattern.search(path.read_bytes()), path
        checked += 1
    assert checked > 10


def _strings_in_database(path: Path, numbers: set[str]) -> list[str]:
    """Search every text column (compressed on disk, so bytes would not show them)."""
    con = duckdb.connect()
    if path.suffix == ".parquet":
        tables = [f"read_parquet('{path}')"]
    else:
        con.execute(f"attach '{path}' as w (read_only)")
        tables = [
            f'w."{s}"."{t}"'
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = 'w'"
            ).fetchall()
        ]
    con.execute("create temp table numbers as select unnest($n) as n", {"n": sorted(numbers)})
    hits = []
    for table in tables:
        columns = [row[0] for row in con.execute(f"describe select * from {table}").fetchall()]
        for column in columns:
            hits += con.execute(
                f'select distinct "{column}"::varchar from {table} '
                f'where "{column}"::varchar in (select n from numbers)'
            ).fetchall()
    con.close()
    return hits


def test_orphans_of_a_killed_run_are_removed(loaded_sample):
    orphan = rawstore.parquet_path(loaded_sample.raw, "anwesenheit", "zz-killed")
    orphan.write_bytes(b"PAR1 half written")
    assert recovery.recover(loaded_sample) == [str(orphan.relative_to(loaded_sample.home))]
    assert not orphan.exists()


def test_a_store_of_an_older_version_keeps_its_archive_and_set_aside_files(settings):
    """The store's folders were once named in German (_archiv, _defekt/erledigt); the next
    night renames them, merging into folders retention may have created meanwhile."""
    raw = settings.raw
    (raw / "_archiv").mkdir(parents=True)
    (raw / "_archiv" / "monatszahlen-old.parquet").write_bytes(b"old")
    (raw / rawstore.ARCHIVE_DIR).mkdir()
    (raw / rawstore.ARCHIVE_DIR / "monatszahlen-new.parquet").write_bytes(b"new")
    (raw / "_defekt" / "erledigt").mkdir(parents=True)
    (raw / "_defekt" / "erledigt" / "x.damage.json").write_text("{}")
    done = recovery.recover(settings)
    assert "Ordner umbenannt: _archiv -> _archive" in done
    archive = sorted(p.name for p in (raw / rawstore.ARCHIVE_DIR).iterdir())
    assert archive == ["monatszahlen-new.parquet", "monatszahlen-old.parquet"]
    repaired = raw / rawstore.DAMAGED_DIR / rawstore.REPAIRED_DIR / "x.damage.json"
    assert repaired.exists()
    assert not (raw / "_archiv").exists() and not (raw / "_defekt").exists()
    assert rawstore.migrate(raw) == []  # once


def test_only_one_run_at_a_time(settings):
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with pipeline.run_lock(settings):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(10)
    try:
        with pytest.raises(errors.AlreadyRunning):
            pipeline.run_once(settings, KPI_LOAD_DATE)
    finally:
        release.set()
        holder.join()


def test_files_are_ordered_by_export_date_in_the_name(settings):
    for name in ("anwesenheit_20260110.csv", "anwesenheit_2026-01-03.csv", "anwesenheit_x.csv"):
        (settings.inbox / name).write_text("x")
    names = [p.name for p in inbox.discover(settings)]
    assert names[:2] == ["anwesenheit_2026-01-03.csv", "anwesenheit_20260110.csv"]

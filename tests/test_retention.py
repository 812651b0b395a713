"""Retention: participant data deleted after exit, everywhere; programme totals unchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time

import duckdb
import pytest
from conftest import KPI_LOAD_DATE, TEST_KEY, load

from kohorte.build import warehouse
from kohorte.define.privacy import pseudonym
from kohorte.run import retention
from kohorte.store import rawstore

# the KPI fixture: P6 left on 25.07.2025, P7 on 29.08.2025, everyone else in 2026
P6 = pseudonym(TEST_KEY.encode(), "012D000006")
P7 = pseudonym(TEST_KEY.encode(), "012D000007")
P1 = pseudonym(TEST_KEY.encode(), "012D000001")


@pytest.fixture
def loaded(kpi_home):
    """The KPI fixture (delivered and loaded in this test's home) with a retention of 6
    months, as if today were 30.06.2026: exits before 30.12.2025 are past it."""
    return dataclasses.replace(kpi_home, retention_months=6, quarantine_days=30)


def _totals(path):
    con = warehouse.connect_readonly(path)
    try:
        months = con.execute(
            "select * exclude (laufender_monat) from marts.monatszahlen"
        ).fetchall()
        persons = con.execute(
            "select periode, zaehler, nenner from marts.kennzahlen "
            "where kennzahl = 'in_arbeit_seit_start' order by periode"
        ).fetchall()
    finally:
        con.close()
    return months, persons


def _pids_in(path) -> set[str]:
    """Every pseudonym in any text column of a DuckDB or Parquet file."""
    found: set[str] = set()
    if path.suffix == ".parquet":
        con = duckdb.connect()
        found |= {r[0] for r in con.execute(f"select pid from read_parquet('{path}')").fetchall()}
        con.close()
        return found
    con = duckdb.connect(str(path), read_only=True)
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR'"
    ).fetchall():
        rows = con.execute(f'select distinct "{column}" from "{schema}"."{table}"').fetchall()
        found |= {str(r[0]) for r in rows}
    con.close()
    return found


def test_retention_deletes_people_everywhere_and_keeps_the_totals(loaded):
    before = _totals(warehouse.current_path(loaded))
    summary = retention.run(loaded, today=KPI_LOAD_DATE)
    assert summary["cutoff"] == "2025-12-30"
    assert summary["persons_deleted"] == 2  # P6, P7
    assert summary["rows_deleted"]["teilnehmende"] == 2
    # gone from the raw store and from every warehouse version that still exists
    raw_files = list(loaded.raw.glob("*/*.parquet"))
    deliveries = [p for p in raw_files if p.parent.name != rawstore.ARCHIVE_DIR]
    assert deliveries and not any({P6, P7} & _pids_in(p) for p in deliveries)
    versions = sorted(warehouse.versions_dir(loaded).glob("*.duckdb"))
    # the published warehouse and its analysts' file, nothing older
    assert [v.name for v in versions] == ["analyse-" + summary["warehouse"], summary["warehouse"]]
    for version in versions:
        assert not {P6, P7} & _pids_in(version)
        assert P1 in _pids_in(version)  # the others are still there
    # the programme's monthly figures and persons in work are what they were
    assert _totals(warehouse.current_path(loaded)) == before
    # the manifest knows what retention removed, so the raw-store check still holds
    assert sum(d.rows_deleted for d in rawstore.deliveries(loaded.raw)) == sum(
        summary["rows_deleted"].values()
    )
    # nothing left to delete on the next run, and the next load keeps the archive
    assert retention.run(loaded, today=KPI_LOAD_DATE)["persons_deleted"] == 0
    load(loaded, KPI_LOAD_DATE)
    assert _totals(warehouse.current_path(loaded)) == before


def test_quarantine_and_old_audit_months_are_deleted_after_their_days(loaded):
    old = loaded.quarantine / "alt.csv"
    new = loaded.quarantine / "neu.csv"
    old.write_text("kundennummer\n012D000001\n")
    new.write_text("kundennummer\n012D000002\n")
    long_ago = time.time() - 31 * 86400
    os.utime(old, (long_ago, long_ago))
    loaded.audit_dir.mkdir(exist_ok=True)
    old_audit = loaded.audit_dir / "audit-2023-01.jsonl"
    old_audit.write_text("")
    summary = retention.run(loaded, today=dt.date(2025, 1, 1))  # nobody is due yet
    assert summary["quarantine_files_deleted"] == 1 and summary["persons_deleted"] == 0
    assert not old.exists() and new.exists()
    assert summary["audit_files_deleted"] == 1 and not old_audit.exists()


def test_a_comparison_person_is_deleted_when_her_follow_up_is_past_retention(loaded):
    """Comparison persons have no participation: they age by their latest date (the
    follow-up), as other rows of unknown persons do. Cut-off 30.12.2025: the one followed
    up in 2025 goes from every file, the one followed up in 2026 stays."""
    from conftest import deliver

    comparison = loaded.home / "vergleichsgruppe_alt.csv"
    comparison.write_text(
        "kundennummer;stichtag;geschlecht;geburtsjahr;langzeitleistungsbezug;"
        "berufsabschluss;verbleib_stichtag;verbleib_status\n"
        "901D000001;06.01.2025;w;1980;ja;nein;01.09.2025;arbeitslos\n"
        "901D000002;05.01.2026;m;1985;nein;ja;01.06.2026;svb_beschaeftigt\n",
        encoding="utf-8",
    )
    deliver(loaded, comparison)
    load(loaded, KPI_LOAD_DATE)
    old, recent = (pseudonym(TEST_KEY.encode(), n) for n in ("901D000001", "901D000002"))
    assert {old, recent} <= _pids_in(warehouse.current_path(loaded))
    retention.run(loaded, today=KPI_LOAD_DATE)
    path = warehouse.current_path(loaded)
    pids = _pids_in(path)
    assert old not in pids and recent in pids
    for delivery in rawstore.deliveries(loaded.raw):
        stored = rawstore.parquet_path(loaded.raw, delivery.kind, delivery.delivery_id)
        assert old not in _pids_in(stored)

"""Publishing: immutable versions behind one pointer, checks that block, readers undisturbed."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from conftest import FIXTURES, KPI_LOAD_DATE, load

from kohorte import errors
from kohorte.build import warehouse
from kohorte.run import pipeline
from kohorte.store import runlog

KPI_FILES = sorted((FIXTURES / "kpi").glob("*.csv"))


@pytest.fixture
def published(kpi_home):
    """The KPI fixture delivered and loaded (a copy of the worker's load)."""
    return kpi_home


def test_publish_swaps_the_pointer_and_keeps_old_readers_working(published):
    first = warehouse.current_path(published)
    reader = warehouse.connect_readonly(first)
    load(published, KPI_LOAD_DATE)
    second = warehouse.current_path(published)
    assert second != first
    # the reader that opened the old version keeps reading it, without errors
    assert reader.execute("select count(*) from marts.teilnahmen").fetchall() == [(8,)]
    reader.close()
    assert (published.warehouse / "current.duckdb").is_symlink()
    assert not second.with_name(second.name + ".wal").exists()


def test_old_versions_are_pruned(published):
    for _ in range(published.warehouse_keep + 1):
        load(published, KPI_LOAD_DATE)
    versions = list(warehouse.versions_dir(published).glob("kohorte-*.duckdb"))
    assert len(versions) == published.warehouse_keep
    assert warehouse.current_path(published) in versions


def test_a_failing_check_blocks_the_publish(published, tmp_path, monkeypatch):
    before = warehouse.current_path(published)
    sql_dir = tmp_path / "sql"
    shutil.copytree(warehouse.SQL_DIR, sql_dir)
    (sql_dir / "checks" / "assert_always_fails.sql").write_text("select 1 as offending_row\n")
    monkeypatch.setattr(warehouse, "SQL_DIR", sql_dir)
    original = warehouse.build
    monkeypatch.setattr(
        warehouse,
        "build",
        lambda *a, **k: original(*a, **{**k, "sql_dir": sql_dir}),
    )
    with pytest.raises(errors.ChecksFailed, match="assert_always_fails"):
        load(published, KPI_LOAD_DATE)
    assert warehouse.current_path(published) == before
    runs = runlog.read_runs(published)
    assert runs[-1]["status"] == "failed"
    assert "assert_always_fails" in runs[-1]["message"]
    assert not list(warehouse.versions_dir(published).glob(".building-*"))


def test_as_of_is_the_latest_delivered_date_capped_at_the_load_date(published):
    con = warehouse.connect_readonly(warehouse.current_path(published))
    assert con.execute("select as_of, load_date from meta.build").fetchall() == [
        (dt.date(2026, 6, 30), dt.date(2026, 6, 30))
    ]
    con.close()


def test_load_log_and_manifest_agree(published):
    con = warehouse.connect_readonly(warehouse.current_path(published))
    files = con.execute(
        "select delivery_id, rows_accepted from meta.load_files where status = 'loaded' order by 1"
    ).fetchall()
    deliveries = con.execute(
        "select delivery_id, rows_accepted from meta.deliveries order by 1"
    ).fetchall()
    con.close()
    assert files == deliveries
    assert len(files) == len(KPI_FILES)


def test_sql_files_run_after_what_they_reference():
    order = [name for name, _ in warehouse._sql_files(warehouse.SQL_DIR / "marts")]
    assert order.index("teilnahmen") < order.index("kennzahlen")
    assert order.index("teilnahmen") < order.index("monatszahlen")


def test_no_warehouse_before_the_first_publish(settings):
    assert warehouse.current_path(settings) is None
    run, _ = pipeline.run_once(settings, KPI_LOAD_DATE)  # an empty inbox still publishes
    assert run["files_total"] == 0
    assert warehouse.current_path(settings) is not None

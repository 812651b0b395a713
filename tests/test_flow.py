"""The Prefect flow end to end (temporary Prefect server), and publishing under readers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, KPI_LOAD_DATE, ROOT, SAMPLE, SAMPLE_LOAD_DATE, deliver

from kohorte import warehouse

READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from kohorte import warehouse
    from kohorte.kpis import CATALOGUE
    from kohorte.config import Settings

    settings, stop, out = Settings(Path(sys.argv[1])), Path(sys.argv[2]), Path(sys.argv[3])
    reads, errors, versions, incomplete = 0, [], set(), 0
    deadline = time.time() + 300
    while not stop.exists() and time.time() < deadline:
        try:
            path = warehouse.current_path(settings)
            con = warehouse.connect_readonly(path)
            kpis = con.execute("select count(distinct kennzahl) from marts.kennzahlen")
            kpis = kpis.fetchall()[0][0]
            checks = con.execute("select count(*) from meta.checks").fetchall()[0][0]
            parts = con.execute("select count(*) from marts.teilnahmen").fetchall()[0][0]
            con.close()
            versions.add(path.name)
            if kpis != len(CATALOGUE) or checks == 0 or parts == 0:
                incomplete += 1
            reads += 1
        except Exception as error:
            errors.append(repr(error))
    out.write_text(json.dumps({"reads": reads, "errors": errors[:5], "error_count": len(errors),
                               "versions": len(versions), "incomplete": incomplete}))
    """
)


@pytest.fixture(scope="module")
def harness(prefect_server):
    """Flows of this module report to the session's real Prefect server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_server.api_url}):
        yield


@pytest.fixture(scope="module")
def nightly(harness):
    from flows.nightly import nightly

    return nightly


def test_flow_loads_the_sample_and_publishes(settings, nightly, monkeypatch):
    # as on a new server: no key configured, so the first run generates one while its
    # files load in parallel tasks
    monkeypatch.delenv("KOHORTE_PSEUDONYM_KEY")
    deliver(settings, *sorted(SAMPLE.iterdir()))
    run = nightly(load_date=SAMPLE_LOAD_DATE)
    assert run["status"] == "published"
    assert run["files_loaded"] == len(list(SAMPLE.iterdir()))
    assert run["rows_rejected"] == 0
    assert (settings.home / "secrets" / "pseudonym.key").exists()
    path = warehouse.current_path(settings)
    con = warehouse.connect_readonly(path)
    assert con.execute("select run_id from meta.build").fetchall() == [(run["run_id"],)]
    logged = con.execute("select status from meta.load_log where run_id = ?", [run["run_id"]])
    assert logged.fetchall() == [("published",)]
    con.close()


def test_flow_writes_a_summary_artifact(settings, nightly):
    from prefect.artifacts import Artifact

    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    (settings.inbox / "anwesenheit_kaputt.csv").write_bytes(b"\x00\x01garbage")
    run = nightly(load_date=KPI_LOAD_DATE)
    artifact = Artifact.get("nightly-summary")
    assert artifact is not None
    assert run["run_id"] in artifact.data
    assert "anwesenheit_kaputt.csv" in artifact.data  # problems are listed in the summary


def test_publishing_ten_times_while_another_process_reads(settings, nightly, tmp_path):
    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    nightly(load_date=KPI_LOAD_DATE)
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.home), str(stop), str(out)], cwd=ROOT
    )
    try:
        time.sleep(1)
        runs = [nightly(load_date=KPI_LOAD_DATE) for _ in range(10)]
    finally:
        stop.touch()
        reader.wait(60)
    result = json.loads(out.read_text())
    assert all(run["status"] == "published" for run in runs)
    assert result["error_count"] == 0, result["errors"]
    assert result["incomplete"] == 0
    assert result["reads"] > 20
    assert result["versions"] >= 5  # the reader really saw the publishes happen


CUSTOMER_NUMBER = r"[0-9]{3}[A-Z][0-9]{6}"


def _customer_numbers_in(paths) -> set[str]:
    """Every customer number in the delivered CSV files (the sample's xlsx repeat them)."""
    import re

    found: set[str] = set()
    for path in paths:
        if path.suffix == ".csv":
            text = path.read_bytes().decode("utf-8", errors="replace")
            found |= set(re.findall(CUSTOMER_NUMBER, text))
    return found


def _leaks(home, numbers: set[str], extra=()) -> list[str]:
    """Files under ``home`` (quarantine aside) that contain one of ``numbers``. Parquet and
    DuckDB compress strings, so they are read through DuckDB, not grepped as bytes."""
    import duckdb

    leaks = []
    pattern = "|".join(sorted(numbers))
    files = [p for p in home.rglob("*") if p.is_file() and "quarantine" not in p.parts]
    for path in [*files, *extra]:
        if path.suffix == ".parquet":
            con = duckdb.connect()
            rows = con.execute(
                f"select count(*) from read_parquet('{path}') as t "
                "where regexp_matches(cast(columns(*) as varchar), ?)",
                [pattern],
            ).fetchall()
            con.close()
            hit = any(r[0] for r in rows)
        elif path.suffix == ".duckdb" and not path.is_symlink():
            con = duckdb.connect(str(path), read_only=True)
            hit = False
            for schema, table, column in con.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where data_type = 'VARCHAR'"
            ).fetchall():
                count = con.execute(
                    f'select count(*) from "{schema}"."{table}" '
                    f'where regexp_matches("{column}", ?)',
                    [pattern],
                ).fetchall()[0][0]
                hit = hit or count > 0
            con.close()
        else:
            data = path.read_bytes().decode("latin-1")
            hit = any(number in data for number in numbers)
        if hit:
            leaks.append(str(path))
    return leaks


def test_no_customer_number_outside_the_quarantine_after_a_night(
    settings, nightly, tmp_path, prefect_server
):
    """Done-criterion of the access issue: after a load, nothing under KOHORTE_HOME but the
    quarantine holds a customer number from the input files: not the raw store, the
    warehouse, the run logs, the audit log; nor Prefect's database with its logs and
    artifacts."""
    broken = tmp_path / "anwesenheit_20260330.csv"
    broken.write_text(
        "kundennummer;datum;status;stunden\n123A456789;32.03.2026;anwesend;3\n",
        encoding="utf-8",
    )
    inputs = sorted(SAMPLE.iterdir())
    numbers = _customer_numbers_in([*inputs, broken])
    assert len(numbers) > 50 and "123A456789" in numbers
    deliver(settings, *inputs, broken)
    run = nightly(load_date=SAMPLE_LOAD_DATE)
    assert run["status"] == "published" and run["files_quarantined"] == 1
    # the server's SQLite database holds the flow's logs, states and artifacts
    database = Path(prefect_server.env["PREFECT_HOME"]) / "prefect.db"
    extra = [p for p in [database] if p.exists()]
    assert extra, f"Prefect's database not found: {database}"
    assert _leaks(settings.home, numbers, extra) == []
    # the scan finds what it looks for, and the quarantine keeps the original
    assert _leaks(tmp_path, {"123A456789"}) == [str(broken)]
    quarantined = [p for p in settings.quarantine.rglob("*") if p.is_file()]
    assert any("123A456789" in p.read_text(errors="replace") for p in quarantined)


def test_retention_flow_deletes_and_records_it(settings, harness, monkeypatch):
    from flows.retention import retention
    from kohorte import audit
    from kohorte.config import load_settings

    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    from conftest import load

    load(settings, KPI_LOAD_DATE)
    monkeypatch.setenv("KOHORTE_RETENTION_MONTHS", "6")
    summary = retention(today=KPI_LOAD_DATE)
    assert summary["persons_deleted"] == 2
    entries = audit.read(load_settings())
    assert entries.iloc[0]["aktion"] == audit.DELETE
    assert '"personen": 2' in entries.iloc[0]["details"]


def test_a_failed_night_notifies_by_webhook_and_mail_right_away(settings, nightly, receivers):
    """The flow's failure hook reports at once, without waiting for the 06:00 deadline."""
    from kohorte import alerts

    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    settings.warehouse.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(settings.warehouse / "versions", ignore_errors=True)
    (settings.warehouse / "versions").write_text("kein Ordner")  # the build cannot write
    with pytest.raises(OSError):
        nightly(load_date=KPI_LOAD_DATE)
    assert [post["kind"] for post in receivers.posts] == ["failed"]
    assert "versions" in receivers.posts[0]["detail"]
    assert len(receivers.mails) == 1
    standing = alerts.check(settings)
    assert standing is not None and standing.kind == alerts.FAILED


def test_ingest_runs_on_dask_when_configured(settings, nightly, sample_settings, monkeypatch):
    """KOHORTE_TASK_RUNNER=dask: the ingest tasks run on a Dask cluster's workers (here one
    started beside the test, reached by KOHORTE_DASK_ADDRESS) and the night publishes the
    same numbers as the plain pipeline."""
    from distributed import Client, LocalCluster, get_task_stream

    from flows.nightly import task_runner
    from kohorte.config import load_settings

    deliver(settings, *sorted(SAMPLE.iterdir()))
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        monkeypatch.setenv("KOHORTE_TASK_RUNNER", "dask")
        monkeypatch.setenv("KOHORTE_DASK_ADDRESS", cluster.scheduler_address)
        runner = task_runner(load_settings())
        with get_task_stream(client) as stream:
            run = nightly.with_options(task_runner=runner)(load_date=SAMPLE_LOAD_DATE)
        ran = [task["key"] for task in stream.data]
    assert type(runner).__name__ == "DaskTaskRunner"
    assert sum("ingest" in str(key) for key in ran) >= 2  # units of work, on the workers
    assert run["status"] == "published"
    mine = warehouse.connect_readonly(warehouse.current_path(settings))
    plain = warehouse.connect_readonly(warehouse.current_path(sample_settings))
    query = "select kennzahl, periode, zaehler, nenner from marts.kennzahlen order by all"
    assert mine.execute(query).fetchall() == plain.execute(query).fetchall()
    mine.close()
    plain.close()

"""The Prefect flow end to end (temporary Prefect server), and publishing under readers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

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
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
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

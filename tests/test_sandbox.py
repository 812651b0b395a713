"""The analysts' sandbox: escapes and abuses are refused or stopped, normal queries work."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, TEST_KEY
from typer.testing import CliRunner

from kohorte.build import analyst, warehouse
from kohorte.cli import app
from kohorte.read import sandbox


@pytest.fixture(scope="module")
def published(kpi_settings):
    return warehouse.current_path(kpi_settings)


@pytest.fixture(scope="module")
def con(published):
    con = sandbox.connect(analyst.path_for(published))
    yield con
    con.close()


def _escapes(settings, published) -> dict[str, str]:
    raw = next(settings.raw.glob("teilnehmende/*.parquet"))
    return {
        "read_csv of a local file": "select * from read_csv('/etc/passwd')",
        "read_text": "select * from read_text('/etc/hostname')",
        "read_blob": "select * from read_blob('/etc/passwd')",
        "read_parquet of the raw store": f"select * from read_parquet('{raw}')",
        "replacement scan of a file": f"select * from '{raw}'",
        "read_json of the audit log": f"select * from read_json('{settings.home}/audit/*.jsonl')",
        "glob over the disk": "select * from glob('/*')",
        "sniff_csv": "select * from sniff_csv('/etc/passwd')",
        "ATTACH the full warehouse": f"attach '{published}' as w",
        "ATTACH in memory": "attach ':memory:' as m",
        "COPY TO a file": "copy (select 1) to '/tmp/kohorte-escape.csv'",
        "EXPORT DATABASE": "export database '/tmp/kohorte-escape'",
        "INSTALL an extension": "install httpfs",
        "LOAD an extension": "load httpfs",
        "SET a limit": "set memory_limit = '20GB'",
        "RESET a setting": "reset threads",
        "unlock the configuration": "set lock_configuration = false",
        "PRAGMA": "pragma database_list",
        "the raw store by name": "select * from raw.teilnehmende",
        "the load log": "select * from meta.load_log",
        "the staging layer": "select * from staging.stg_anwesenheit",
        "query() around the catalogue": "select * from query('select * from raw.teilnehmende')",
        "query_table()": "select * from query_table('meta.build')",
        "getenv": "select getenv('HOME')",
        "two statements": "select 1; drop table teilnahmen",
        "DDL": "create table x as select 1",
        "DML": "delete from teilnahmen",
        "DETACH": "detach analyst",
        "USE another catalog": "use system",
    }


def test_at_least_25_escapes_are_refused_with_a_clear_message(con, kpi_settings, published):
    escapes = _escapes(kpi_settings, published)
    assert len(escapes) >= 25
    for name, sql in escapes.items():
        with pytest.raises(sandbox.Refused) as refused:
            sandbox.run(con, sql, timeout_s=5)
        message = str(refused.value)
        assert message and "Traceback" not in message, name
    # and nothing of them had an effect
    assert sandbox.run(con, "select count(*) as n from teilnahmen").frame["n"][0] == 8
    assert sandbox.run(con, "select current_setting('threads') as t").frame["t"][0] == 1


@pytest.mark.parametrize(
    "sql",
    [
        "with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r",
        "select count(*) from range(100000000) a, range(100000000) b",
        # neither interruptible nor counted by DuckDB's memory limit: only a process stops it
        "select len(list(range(100000000)))",
    ],
    ids=["endless recursive CTE", "huge cross join", "one giant list"],
)
def test_runaway_queries_are_stopped(con, sql):
    """At the time limit, or earlier at the memory limit: either way with a clear message."""
    with pytest.raises((sandbox.TimedOut, sandbox.Refused), match="abgebrochen|Arbeitsspeicher"):
        sandbox.run(con, sql, timeout_s=1.5)
    assert sandbox.run(con, "select 42 as x").frame["x"][0] == 42  # still usable


def test_memory_hungry_query_is_refused(published):
    with pytest.raises(sandbox.Refused, match="Arbeitsspeicher"):
        sandbox.run(
            analyst.path_for(published),
            "select count(*) from (select distinct x from range(50000000) as t(x))",
            timeout_s=30,
            memory_limit="64MB",
        )


def test_millions_of_rows_are_limited_but_counted(con):
    result = sandbox.run(con, "select * from range(3000000)", limit=1000)
    assert len(result.frame) == 1000 and result.total_rows == 3_000_000 and result.truncated


def test_a_join_over_attendance_and_outcomes(con):
    result = sandbox.run(
        con,
        """select t.pid, count(a.datum) as termine, any_value(e.art) as ergebnis
           from teilnahmen as t
           left join anwesenheit as a using (pid)
           left join ergebnisse as e using (pid)
           group by t.pid order by t.pid""",
    )
    assert result.total_rows == 8 and not result.truncated
    assert all(re.fullmatch(r"[0-9a-f]{16}", pid) for pid in result.frame["pid"])


def test_the_analyst_file_holds_only_documented_pseudonymised_tables(con):
    schema = sandbox.describe(con)
    assert set(schema["tabelle"]) == {t.name for t in analyst.TABLES}
    assert not schema["spalte"].str.contains("kundennummer|coach").any()
    detail = schema[schema["tabelle"].isin(["teilnahmen", "anwesenheit", "ergebnisse"])]
    assert (detail["bedeutung"] != "").all()  # every column says what it means
    values = sandbox.run(con, "select * from teilnahmen").frame.astype(str).to_string()
    assert "012D000001" not in values and TEST_KEY not in values


def test_kohorte_sql_from_the_shell(kpi_settings, monkeypatch):
    monkeypatch.setenv("KOHORTE_HOME", str(kpi_settings.home))
    runner = CliRunner()
    ok = runner.invoke(app, ["sql", "select count(*) as n from teilnahmen", "--format", "csv"])
    assert ok.exit_code == 0 and ok.output == "n\n8\n"
    as_json = runner.invoke(app, ["sql", "select 1 as a", "--format", "json"])
    assert as_json.output.strip() == '[{"a":1}]'
    refused = runner.invoke(app, ["sql", "select * from read_csv('/etc/passwd')"])
    assert refused.exit_code == 2 and "Abgelehnt" in refused.output


def test_sql_page_runs_a_join_keeps_the_history_and_is_closed_to_management(kpi_env):
    from conftest import run_app as page

    from kohorte.read.access import Principal

    analyst = Principal("ana", "analyse")
    at = page(analyst)
    at.switch_page("views/sql.py").run()
    assert not at.exception and not at.error
    example = next(iter(sandbox.EXAMPLES))
    at.selectbox(key="sql_example").set_value(example).run()
    assert not at.error, [e.value for e in at.error]
    assert any(re.match(r"\d+ Zeilen, \d+ gezeigt", c.value) for c in at.caption)
    assert len(at.dataframe[0].value) > 0
    # typing into the editor (a browser component) is what put_into_editor does
    at.session_state["sql_text"] = "select * from read_csv('/etc/passwd')"
    at.session_state["sql_editor"] += 1
    at.run()
    assert "file system operations are disabled" in at.error[0].value
    again = page(analyst)
    again.switch_page("views/sql.py").run()
    history = again.selectbox(key="sql_past").options
    assert any("read_csv" in option for option in history)  # the history keeps both
    assert any(option.startswith("select t.teilnahme_id") for option in history)
    with pytest.raises(ValueError):  # not registered for management
        page(Principal("chef", "leitung")).switch_page("views/sql.py")


@pytest.fixture
def kpi_env(settings):
    from conftest import FIXTURES, KPI_LOAD_DATE, deliver, load

    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    load(settings, KPI_LOAD_DATE)
    return settings


def test_the_dashboards_queries_offered_as_examples_give_the_dashboards_answer(kpi_env):
    """A named query translated to analyst tables answers as the dashboard does over the
    whole programme: the analyst tables and the warehouse tell the same story."""
    from kohorte.define.dimensions import Filters
    from kohorte.read import queries

    path = warehouse.current_path(kpi_env)
    examples = sandbox.named_examples(sandbox.connect(analyst.path_for(path)))
    assert {"Dashboard: kohorten__trichter", "Dashboard: kohorten__dreieck"} <= set(examples)
    assert not any("coach" in sql for sql in examples.values())  # no staff names in reach
    with warehouse.connect_readonly(path) as con:
        for label, sql in examples.items():
            name = label.removeprefix("Dashboard: ")
            params = {"raster": "monat"} if "$raster" in queries.query_text(name) else {}
            expected = queries.run(con, name, Filters(), **params)
            got = sandbox.run(analyst.path_for(path), sql).frame
            pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=name)


def test_every_analyst_column_is_in_the_data_dictionary(con):
    schema = sandbox.describe(con)
    for table in analyst.TABLES:
        columns = set(schema[schema["tabelle"] == table.name]["spalte"])
        assert columns == set(table.columns), table.name
    docs = (ROOT / "docs" / "analyst-tables.md").read_text(encoding="utf-8")
    assert analyst.tables_markdown() in docs, "run `make docs`"


def test_the_readme_recipe_for_the_duckdb_command_line_reads_the_analyst_file(kpi_env):
    """README: ``duckdb -readonly "$(kohorte analyst-file)"``. The CLI (duckdb-cli from
    PyPI, a release behind the library) opens the file, reads it, and cannot write it."""
    import shutil
    import subprocess
    import sys

    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    assert cli, "duckdb-cli is a dev dependency"
    printed = CliRunner().invoke(app, ["analyst-file"])
    path = printed.output.strip()
    assert path == str(analyst.path_for(warehouse.current_path(kpi_env)))

    def duckdb_cli(sql: str) -> subprocess.CompletedProcess:
        command = [cli, "-readonly", "-csv", "-noheader", path, "-c", sql]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    read = duckdb_cli("select count(*) from teilnahmen join datenstand on true")
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == "8"
    write = duckdb_cli("create table mine as select 1")
    assert write.returncode != 0 and "read-only" in (write.stdout + write.stderr)


def test_an_analyst_connection_open_all_night_neither_blocks_nor_breaks_publishing(settings):
    """DuckDB, Python or DBeaver holding the analyst file open while the nightly load
    publishes three times: every publish succeeds, the open connection keeps reading its
    own (immutable) version, a new connection sees the newest."""
    import duckdb
    from conftest import FIXTURES, KPI_LOAD_DATE, deliver, load

    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    load(settings, KPI_LOAD_DATE)
    first = analyst.path_for(warehouse.current_path(settings))
    held = duckdb.connect(str(first), read_only=True)  # as the DuckDB CLI or DBeaver would
    for _ in range(3):
        assert load(settings, KPI_LOAD_DATE)["status"] == "published"
        assert held.execute("select count(*) from teilnahmen").fetchall() == [(8,)]
    newest = analyst.path_for(warehouse.current_path(settings))
    assert newest != first
    assert sandbox.run(newest, "select count(*) as n from teilnahmen").frame["n"][0] == 8
    held.close()

"""The analysts' sandbox: escapes and abuses are refused or stopped, normal queries work."""

from __future__ import annotations

import json
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
    kinds = {}
    for name, sql in escapes.items():
        # refused by the sandbox, or (a table analysts do not have) an error in the query
        with pytest.raises((sandbox.Refused, sandbox.QueryError)) as refused:
            sandbox.run(con, sql, timeout_s=5)
        message = str(refused.value)
        assert message and "Traceback" not in message, name
        kinds[name] = type(refused.value).__name__
    # what reaches beyond the analyst tables is refused, not merely an error
    reaching = [n for n in escapes if n.startswith(("read_", "ATTACH", "COPY", "INSTALL", "SET"))]
    assert {kinds[name] for name in reaching} == {"Refused"}, kinds
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
    with pytest.raises((sandbox.TimedOut, sandbox.QueryError), match="abgebrochen|Arbeitsspeicher"):
        sandbox.run(con, sql, timeout_s=1.5)
    assert sandbox.run(con, "select 42 as x").frame["x"][0] == 42  # still usable


def test_memory_hungry_query_is_refused(published):
    with pytest.raises(sandbox.QueryError, match="Arbeitsspeicher"):
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
    # a mistake in the SQL is an error (1), told apart from a refused statement (2)
    for mistake in ("select nichts from teilnahmen",):
        wrong = runner.invoke(app, ["sql", mistake])
        assert wrong.exit_code == 1 and wrong.output.startswith("Fehler: "), mistake
    for refusal in ("select 1; select 2",):
        assert runner.invoke(app, ["sql", refusal]).exit_code == 2, refusal


def test_sql_page_runs_a_join_keeps_the_history_and_is_closed_to_management(kpi_env):
    from conftest import run_app as page

    from kohorte.read.access import Principal

    analyst = Principal("ana", "analyse")
    at = page(analyst, page="views/sql.py")
    assert not at.exception and not at.error
    example = next(iter(sandbox.examples("de")))
    at.selectbox(key="sql_example").set_value(example).run()
    assert not at.error, [e.value for e in at.error]
    assert any(re.match(r"[\d.]+ Zeilen, [\d.]+ gezeigt", c.value) for c in at.caption)
    assert len(at.dataframe[0].value) > 0
    # typing into the editor (a browser component) is what put_into_editor does; typed
    # text waits for the button
    at.session_state["sql_text"] = "select * from read_csv('/etc/passwd')"
    at.session_state["sql_editor"] += 1
    at.run()
    assert not at.error  # not run while being typed
    at.button(key="sql_run").click().run()
    assert "file system operations are disabled" in at.error[0].value
    again = page(analyst, page="views/sql.py")
    history = again.selectbox(key="sql_past").options
    assert any("read_csv" in option for option in history)  # the history keeps both
    assert any(option.startswith("select t.teilnahme_id") for option in history)
    with pytest.raises(ValueError):  # not registered for management
        page(Principal("chef", "leitung")).switch_page("views/sql.py")


def test_a_result_of_one_row_says_so_and_its_dates_read_german(kpi_env):
    from conftest import run_app as page

    from kohorte.read.access import Principal

    at = page(Principal("ana", "analyse"), page="views/sql.py")
    at.session_state["sql_text"] = (
        "select date '2026-03-26' as tag, timestamp '2026-03-26 08:15:00' as zeit, 1 as n"
    )
    at.session_state["sql_editor"] = 1  # a new editor, holding the text
    at.run()
    at.button(key="sql_run").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any(c.value.startswith("1 Zeile, 1 gezeigt") for c in at.caption)
    columns = at.dataframe[0].proto.columns
    assert '"DD.MM.YYYY"' in columns and '"DD.MM.YYYY HH:mm:ss"' in columns, columns


@pytest.fixture
def kpi_env(kpi_home):
    """This test's own home with the KPI fixture loaded: a copy of the worker's load."""
    return kpi_home


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


def test_an_analyst_connection_open_all_night_neither_blocks_nor_breaks_publishing(kpi_home):
    """DuckDB, Python or DBeaver holding the analyst file open while the nightly load
    publishes three times: every publish succeeds, the open connection keeps reading its
    own (immutable) version, a new connection sees the newest."""
    import duckdb
    from conftest import KPI_LOAD_DATE, load

    settings = kpi_home
    first = analyst.path_for(warehouse.current_path(settings))
    held = duckdb.connect(str(first), read_only=True)  # as the DuckDB CLI or DBeaver would
    for _ in range(3):
        assert load(settings, KPI_LOAD_DATE)["status"] == "published"
        assert held.execute("select count(*) from teilnahmen").fetchall() == [(8,)]
    newest = analyst.path_for(warehouse.current_path(settings))
    assert newest != first
    assert sandbox.run(newest, "select count(*) as n from teilnahmen").frame["n"][0] == 8
    held.close()


def _last_sql_entry(settings) -> dict:
    import json

    from kohorte.ops import audit

    entries = audit.read(settings)
    return json.loads(entries[entries["aktion"] == audit.SQL]["details"].iloc[0])


def test_dates_and_timestamps_beyond_pythons_range_come_back_as_text(con):
    """Python's datetime ends at year 9999, DuckDB's at ``infinity``: such a column is
    DuckDB's text for it, an ordinary one stays a date."""
    import datetime as dt

    frame = sandbox.run(
        con,
        """select 'infinity'::date as ende, '-infinity'::timestamp as anfang,
                  date '10000-01-01' as fern, date '2026-01-05' as heute""",
    ).frame
    assert frame.iloc[0][["ende", "anfang", "fern"]].tolist() == [
        "infinity",
        "-infinity",
        "10000-01-01",
    ]
    assert frame["heute"][0] == dt.date(2026, 1, 5)
    edges = sandbox.run(
        con,
        """select date '0001-01-01' as erster, date '9999-12-31' as letzter,
                  timestamp '9999-12-31 23:59:59.999999' as spaet""",
    ).frame
    assert edges.iloc[0].tolist() == [
        dt.date(1, 1, 1),
        dt.date(9999, 12, 31),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
    ]


def test_the_query_process_does_not_import_pandas(published, tmp_path):
    """A query pays the start of its process each time: duckdb and pyarrow, but not pandas,
    which would add a quarter of a second. Arrow imports pandas as soon as it makes a
    scalar from a Python value, so a date column's check must not make one."""
    import subprocess
    import sys

    child = (
        "import runpy, sys; sys.argv = ['child', *sys.argv[1:]]; "
        "runpy.run_module('kohorte.read.sandbox_child', run_name='__main__'); "
        "print('pandas' in sys.modules)"
    )
    args = [str(analyst.path_for(published)), str(tmp_path / "out.arrow"), "10", "512MB", "1000000"]
    done = subprocess.run(
        [sys.executable, "-c", child, *args],
        input=b"select eintritt, austritt from teilnahmen",
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    summary, imported = done.stdout.decode().splitlines()
    assert "total" in json.loads(summary) and imported == "False", done.stdout


def test_types_pandas_cannot_hold_come_back_as_text(con):
    """Unions, variants, lists, intervals, times with a zone: every DuckDB type gives a
    result that every output writes (a union is DuckDB's text for its member)."""
    import io

    union = sandbox.run(con, "select union_value(zahl := 7) as u").frame
    assert union["u"][0] == "7"
    result = sandbox.run(con, "select * from test_all_types()")
    assert result.total_rows == 3 and len(result.frame.columns) > 50
    assert result.frame["union"].tolist()[:2] == ["Frank", "5"]
    result.frame.to_json(orient="records", date_format="iso")
    result.frame.to_parquet(io.BytesIO())


def test_duplicate_column_names_are_made_unique_for_every_format(con, kpi_settings, monkeypatch):
    frame = sandbox.run(con, "select 1 as a, 2 as a, 3 as a_2").frame
    assert frame.columns.tolist() == ["a", "a_3", "a_2"]
    monkeypatch.setenv("KOHORTE_HOME", str(kpi_settings.home))
    runner = CliRunner()
    as_json = runner.invoke(app, ["sql", "select 1 as a, 2 as a", "--format", "json"])
    assert as_json.exit_code == 0 and as_json.output.strip() == '[{"a":1,"a_2":2}]'
    as_csv = runner.invoke(app, ["sql", "select 1 as a, 2 as a", "--format", "csv"])
    assert as_csv.output == "a,a_2\n1,2\n"


def test_text_that_is_no_utf8_is_refused_in_german_and_audited(con, kpi_settings, monkeypatch):
    """A shell argument with bad bytes reaches Python as a lone surrogate."""
    with pytest.raises(sandbox.Refused) as refused:
        sandbox.run(con, "select '\udcff' as x")
    assert "kein gültiges UTF-8" in refused.value.reason
    assert "surrogates not allowed" in refused.value.original
    monkeypatch.setenv("KOHORTE_HOME", str(kpi_settings.home))
    shell = CliRunner().invoke(app, ["sql", "select '\udcff' as x"])
    assert shell.exit_code == 2 and "Abgelehnt: Die Abfrage enthält" in shell.output
    assert _last_sql_entry(kpi_settings)["abfrage"] == "select '\\udcff' as x"


def test_every_failure_is_a_german_sentence_over_duckdbs_message(con):
    with pytest.raises(sandbox.QueryError) as refused:
        sandbox.run(con, "select nichts from teilnahmen")
    assert refused.value.reason.startswith("Die Abfrage passt nicht")
    assert str(refused.value) == f"{refused.value.reason}\n{refused.value.original}"
    assert refused.value.original.startswith("Binder Error: Referenced column")


def test_an_unexpected_error_is_a_failure_the_shell_audits(con, kpi_settings, monkeypatch):
    def broken(path):
        raise OSError(f"Datenträger voll: {path}")

    monkeypatch.setattr(sandbox, "_frame", broken)
    with pytest.raises(sandbox.Failure) as failed:
        sandbox.run(con, "select 1 as x")
    assert (failed.value.reason, failed.value.english) == sandbox.UNEXPECTED
    assert "OSError: Datenträger voll" in failed.value.original
    monkeypatch.setenv("KOHORTE_HOME", str(kpi_settings.home))
    shell = CliRunner().invoke(app, ["sql", "select 1 as x"])
    assert shell.exit_code == 1 and sandbox.UNEXPECTED[0] in shell.output
    entry = _last_sql_entry(kpi_settings)
    assert entry["abfrage"] == "select 1 as x" and "OSError" in entry["fehler"]


def test_parsing_happens_in_the_query_process_within_its_time_limit(con, monkeypatch):
    """30,000 CTEs take DuckDB's parser about 20 s: that text is refused unread for its
    length, and even allowed it costs the calling process nothing but the time limit."""
    import resource
    import time

    ctes = "with " + ", ".join(f"c{i} as (select {i})" for i in range(30_000)) + " select 1"
    started = time.perf_counter()
    with pytest.raises(sandbox.Refused, match="zu lang: erlaubt sind 100.000 Zeichen"):
        sandbox.run(con, ctes)
    assert time.perf_counter() - started < 0.5
    monkeypatch.setattr(sandbox, "MAX_SQL_CHARS", len(ctes))
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with pytest.raises(sandbox.TimedOut):
        sandbox.run(con, ctes, timeout_s=2)
    after = resource.getrusage(resource.RUSAGE_SELF)
    assert time.perf_counter() - started < 5
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    assert cpu < 0.5  # the parse ran in the killed process, not here


def test_a_result_is_cut_by_bytes_with_a_german_notice(con):
    """1,000 rows of 10 kB are 10 MB; with 1 MB allowed fewer than 100 reach the caller."""
    result = sandbox.run(
        con, "select repeat('x', 10000) as s from range(1000)", max_bytes=1_000_000
    )
    assert 0 < len(result.frame) < 100 and result.total_rows == 1000 and result.truncated
    assert result.frame["s"].str.len().sum() <= 1_000_000
    assert result.notice.startswith(f"Das Ergebnis wurde nach {len(result.frame)} von 1.000")
    assert "mehr als 1 MB" in result.notice
    by_rows = sandbox.run(con, "select * from range(50)", limit=10)
    assert by_rows.notice == "Gezeigt werden die ersten 10 von 50 Zeilen (höchstens 10 je Abfrage)."
    assert sandbox.run(con, "select 1 as x").notice == ""
    assert by_rows.notice_in("en") == "Showing the first 10 of 50 rows (at most 10 per query)."
    assert result.notice_in("en").startswith(
        f"The result was cut after {len(result.frame)} of 1,000"
    )


@pytest.mark.parametrize(
    ("query", "german", "english"),
    [
        ("select * from nope", "Diese Tabelle, Spalte", "The analyst tables have no such"),
        ("select nope from teilnahmen", "Die Abfrage passt nicht", "The query does not fit"),
        ("select 1; select 2", "Bitte genau eine Anweisung", "Please send exactly one statement"),
        ("create table x (a int)", "Nur Abfragen", "Only queries (SELECT, WITH ... SELECT) are"),
        ("select 'a'::integer", "Ein Wert lässt sich nicht", "A value cannot be converted"),
    ],
)
def test_every_failure_has_its_sentence_in_english_too(con, query, german, english):
    """The query process's sentence comes back in both languages; German is the default
    (command line, audit log), an English page shows the English one."""
    with pytest.raises(sandbox.Failure) as failed:
        sandbox.run(con, query)
    assert failed.value.reason.startswith(german) and failed.value.sentence("de").startswith(german)
    assert failed.value.sentence("en").startswith(english)
    assert str(failed.value).startswith(german)


def test_server_folders_are_masked_in_results_and_messages(con, kpi_settings, published):
    """DuckDB shows the analyst file's folder and, in messages, its home; the query process
    masks the one and has a temporary folder of its own as the other, so a service's home
    (``/root`` when run as root) never shows."""
    folders = [str(analyst.path_for(published).parent), str(kpi_settings.home), str(Path.home())]
    shown = []
    for sql in (
        "select * from duckdb_settings()",
        "select * from duckdb_databases()",
        "select current_setting('allowed_paths') as p, current_setting('temp_directory') as t",
    ):
        shown.append(sandbox.run(con, sql).frame.astype(str).to_csv())
    with pytest.raises(sandbox.Refused) as secrets:
        sandbox.run(con, "select * from duckdb_secrets()")
    shown.append(str(secrets.value))
    for text in shown:
        assert "…/" in text and not any(folder in text for folder in folders), text
    assert '"…/.duckdb/stored_secrets"' in str(secrets.value)


def test_the_service_runs_as_an_unprivileged_user():
    unit = (ROOT / "deploy" / "kohorte.service").read_text(encoding="utf-8")
    assert re.search(r"^User=kohorte$", unit, re.M) and re.search(r"^Group=kohorte$", unit, re.M)
    readme = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    assert "useradd --system" in readme and "nologin" in readme


def test_the_sql_page_shows_and_audits_every_failure(kpi_env, monkeypatch):
    """A refusal, a result that converts only as text, and one that a download cannot
    hold: the page shows each in German and the audit log has each."""
    import itertools

    from conftest import run_app as page

    from kohorte.read import export
    from kohorte.read.access import Principal

    at = page(Principal("ana", "analyse"), page="views/sql.py")

    editors = itertools.count(1)

    def run(query: str) -> dict:  # typing into the editor is what put_into_editor does
        at.session_state["sql_text"] = query
        at.session_state["sql_editor"] = next(editors)
        at.run()
        at.button(key="sql_run").click().run()
        assert not at.exception
        return _last_sql_entry(kpi_env)

    entry = run("select * from nirgends")
    assert at.error[0].value.startswith("Diese Tabelle, Spalte oder Funktion gibt es")
    assert "Catalog Error: Table with name nirgends" in at.error[0].value
    assert entry["abfrage"] == "select * from nirgends" and "Catalog Error" in entry["fehler"]
    entry = run("select 'infinity'::date as d, 1 as d")
    assert not at.error and entry["zeilen"] == 1
    assert at.dataframe[0].value.columns.tolist() == ["d", "d_2"]
    entry = run("select 'a' || chr(0) as steuerzeichen")  # XLSX shows it as U+FFFD
    assert not at.warning and entry["zeilen"] == 1

    def refuse(frame, sheet="Kohorte"):
        raise ValueError("kaputt")

    monkeypatch.setattr(export, "to_xlsx", refuse)  # any value an export library refuses
    entry = run("select 'b' as wert")
    assert "keine Downloads" in at.warning[0].value and "ValueError: kaputt" in entry["fehler"]
    assert len(at.dataframe[0].value) == 1


def test_the_sql_page_in_english_offers_english_examples_and_sentences(kpi_env):
    """?lang=en: the examples are named in English, and a failing query's sentence is the
    English one, with DuckDB's original below it. (One run: AppTest formats a selectbox's
    value outside the page, in German, when it sends the widgets' state again.)"""
    from conftest import ROOT
    from streamlit.testing.v1 import AppTest

    from kohorte.read.access import Principal

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.session_state["principal"] = Principal("ana", "analyse")
    at.session_state["sql_text"] = "select * from nope"  # as choosing an example does
    at.session_state["sql_editor"] = 1
    at.session_state["sql_pending"] = True
    at.query_params["lang"] = "en"
    at.switch_page("views/sql.py")
    at.run()
    assert not at.exception
    offered = at.selectbox(key="sql_example").options
    assert "Applications by weekday" in offered and "Bewerbungen je Wochentag" not in offered
    assert [e.value.split("\n")[0] for e in at.error] == [
        "The analyst tables have no such table, column or function."
    ]
    assert "Catalog Error" in at.error[0].value

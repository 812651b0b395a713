"""The Prefect flow end to end (temporary Prefect server), and publishing under readers."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, KPI_LOAD_DATE, ROOT, SAMPLE, SAMPLE_LOAD_DATE, deliver

from kohorte.build import warehouse

READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from kohorte.build import warehouse
    from kohorte.define.kpis import CATALOGUE
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
    DuckDB compress strings, so they are read through DuckDB, not grepped as bytes (see
    ``_leak_sites``, which also names the table and column)."""
    private = [str(q.relative_to(home)) for q in home.rglob("quarantine") if q.is_dir()]
    sites = _leak_sites(home, numbers, extra, private=private)
    return list(dict.fromkeys(site.split(" [", 1)[0] for site in sites))


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


# --- a privacy scan that reads inside compressed storage ---

NUMBER_BYTES = re.compile(rb"[0-9]{3}[A-Za-z][0-9]{6}")
NUMBER_UTF16 = (  # Excel's "Unicode text": every character two bytes
    re.compile(rb"(?:[0-9]\x00){3}[A-Za-z]\x00(?:[0-9]\x00){6}"),
    re.compile(rb"(?:\x00[0-9]){3}\x00[A-Za-z](?:\x00[0-9]){6}"),
)
MEMBER_LIMIT = 64 * 2**20  # unpacked bytes read of one zip member (the corpus has a bomb)


def _numbers_in_bytes(data: bytes) -> set[str]:
    """Customer numbers (upper case) in bytes of any ASCII-compatible encoding or UTF-16."""
    found = {m.group().decode("ascii").upper() for m in NUMBER_BYTES.finditer(data)}
    for pattern in NUMBER_UTF16:
        found |= {
            m.group().replace(b"\x00", b"").decode("ascii").upper() for m in pattern.finditer(data)
        }
    return found


def _zip_members(data: bytes) -> list[bytes]:
    """The unpacked members of a zip archive (an XLSX); of a truncated one, what its local
    headers still give, each stream inflated as far as it goes."""
    import struct
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [
                archive.read(info) for info in archive.infolist() if info.file_size <= MEMBER_LIMIT
            ]
    except zipfile.BadZipFile:
        pass
    members = []
    for match in re.finditer(rb"PK\x03\x04", data):
        header = data[match.start() : match.start() + 30]
        if len(header) < 30:
            continue
        *_, method, _, _, _, csize, _, nlen, xlen = struct.unpack("<IHHHHHIIIHH", header)
        start = match.start() + 30 + nlen + xlen
        if method == 0:
            members.append(data[start : start + csize])
        elif method == 8:
            try:
                members.append(zlib.decompressobj(-15).decompress(data[start:], MEMBER_LIMIT))
            except zlib.error:
                continue
    return members


def _workbook_cells(path: Path) -> list[str]:
    """Every cell value of every sheet, as text (calamine; openpyxl if calamine fails)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            if sum(i.file_size for i in archive.infolist()) > MEMBER_LIMIT:
                return []  # the zip bomb: its members are scanned (as far as sane) instead
    except zipfile.BadZipFile:
        return []
    try:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        return [
            str(value)
            for name in book.sheet_names
            for row in book.get_sheet_by_name(name).to_python()
            for value in row
            if value is not None
        ]
    except Exception:
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True)
        except Exception:
            return []
        return [
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ]


def _customer_numbers_by_file(paths, root: Path | None = None) -> dict[str, set[str]]:
    """Every customer number (upper case) in the input files, with the files that hold it
    (names relative to ``root``): CSV bytes in any encoding (UTF-8, Windows-1252, UTF-16,
    mixed), workbook cells, and the unpacked members of anything that is a zip archive
    (also of a truncated one)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        data = path.read_bytes()
        numbers = _numbers_in_bytes(data)
        if data[:4] == b"PK\x03\x04":
            for member in _zip_members(data):
                numbers |= _numbers_in_bytes(member)
            for cell in _workbook_cells(path):
                numbers |= {n.upper() for n in re.findall(CUSTOMER_NUMBER, cell, re.I)}
        for number in numbers:
            found.setdefault(number, set()).add(str(path.relative_to(root)) if root else path.name)
    return found


def _hits(text: str, wanted: set[str]) -> set[str]:
    return {n.upper() for n in re.findall(CUSTOMER_NUMBER, text, re.I)} & wanted


def _duckdb_sites(con, label: str, relations, pattern: str, wanted: set[str]) -> list[str]:
    """Columns of ``relations`` ((name, sql, columns) each) holding a wanted number. Every
    column is cast to VARCHAR (lists, structs, JSON too) and searched after DuckDB has
    decompressed it."""
    sites = []
    for name, relation, columns in relations:
        if not columns:
            continue
        counts = ", ".join(
            f"count(*) filter (where regexp_matches(cast({_ident(c)} as varchar), $p, 'i'))"
            for c in columns
        )
        row = con.execute(f"select {counts} from {relation}", {"p": pattern}).fetchone()
        for column, count in zip(columns, row, strict=True):
            if not count:
                continue
            values = con.execute(
                f"select cast({_ident(column)} as varchar) from {relation} "
                f"where regexp_matches(cast({_ident(column)} as varchar), $p, 'i') limit 50",
                {"p": pattern},
            ).fetchall()
            numbers = set().union(*(_hits(v, wanted) for (v,) in values))
            sites.append(f"{label} [{name}.{column}: {count} rows]: {sorted(numbers)}")
    return sites


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scan_duckdb_file(path: Path, pattern: str, wanted: set[str]) -> list[str]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        relations = []
        for database, schema, table in con.execute(
            "select database_name, schema_name, table_name from duckdb_tables() "
            "where not temporary order by all"
        ).fetchall():
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where database_name = $d and "
                    "schema_name = $s and table_name = $t order by column_index",
                    {"d": database, "s": schema, "t": table},
                ).fetchall()
            ]
            relation = ".".join(_ident(part) for part in (database, schema, table))
            relations.append((f"{schema}.{table}", relation, columns))
        sites = _duckdb_sites(con, str(path), relations, pattern, wanted)
        # names and definitions in the catalogue (views, macros, comments) are text too
        for (text,) in con.execute(
            "select coalesce(sql, '') || ' ' || coalesce(comment, '') from duckdb_views() "
            "where not internal union all select coalesce(comment, '') from duckdb_tables()"
        ).fetchall():
            if _hits(text, wanted):
                sites.append(f"{path} [catalogue]: {sorted(_hits(text, wanted))}")
        return sites
    finally:
        con.close()


def _scan_parquet_file(path: Path, pattern: str, wanted: set[str]) -> list[str]:
    import duckdb

    con = duckdb.connect()
    try:
        source = "read_parquet('" + str(path).replace("'", "''") + "')"
        columns = [row[0] for row in con.execute(f"describe select * from {source}").fetchall()]
        sites = _duckdb_sites(con, str(path), [("parquet", source, columns)], pattern, wanted)
        metadata = con.execute(
            f"select cast(key as varchar) || ' ' || cast(value as varchar) "
            f"from parquet_kv_metadata('{str(path).replace(chr(39), chr(39) * 2)}')"
        ).fetchall()
        for (text,) in metadata:
            if _hits(text, wanted):
                sites.append(f"{path} [key-value metadata]: {sorted(_hits(text, wanted))}")
        return sites
    finally:
        con.close()


def _scan_sqlite_file(path: Path, wanted: set[str]) -> list[str]:
    """Every column of every table of an SQLite database (Prefect's: logs, artifacts,
    events, states), read through SQLite, so a value spread over overflow pages counts."""
    import sqlite3

    def hit(value) -> int:
        if value is None:
            return 0
        data = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
        return int(bool(_numbers_in_bytes(data) & wanted))

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.create_function("kohorte_hit", 1, hit, deterministic=True)
    sites = []
    try:
        tables = con.execute("select name from sqlite_master where type = 'table'").fetchall()
        for (table,) in tables:
            columns = [row[1] for row in con.execute(f"pragma table_info({_ident(table)})")]
            if not columns:
                continue
            sums = ", ".join(f"sum(kohorte_hit({_ident(c)}))" for c in columns)
            row = con.execute(f"select {sums} from {_ident(table)}").fetchone()
            for column, count in zip(columns, row, strict=True):
                if not count:
                    continue
                values = con.execute(
                    f"select {_ident(column)} from {_ident(table)} "
                    f"where kohorte_hit({_ident(column)}) limit 50"
                ).fetchall()
                numbers = set()
                for (value,) in values:
                    data = value if isinstance(value, bytes) else str(value).encode()
                    numbers |= _numbers_in_bytes(data) & wanted
                sites.append(f"{path} [{table}.{column}: {count} rows]: {sorted(numbers)}")
    finally:
        con.close()
    return sites


def _leak_sites(root: Path, numbers, extra=(), private=("quarantine",), ignore=()) -> list[str]:
    """Where under ``root`` (its ``private`` folders, relative paths, and the ``ignore``
    files aside) and in the ``extra`` files one of ``numbers`` (case-insensitive) is found:
    in a file or folder name, in a file's bytes (any ASCII-compatible encoding or UTF-16;
    zip and gzip unpacked), in any column of any table of a DuckDB database, in any column
    of a Parquet file (both decompressed by DuckDB), in any column of an SQLite database.
    One line per site: the file, for a database its table and column, and the numbers
    found there. Only regular files are read (a FIFO would block), links not followed."""
    import gzip

    wanted = {n.upper() for n in numbers}
    pattern = "|".join(sorted(wanted))
    hidden = [Path(folder).parts for folder in private]
    skipped = {Path(p) for p in ignore}
    paths = [
        p
        for p in root.rglob("*")
        if not any(p.relative_to(root).parts[: len(h)] == h for h in hidden)
        and not p.is_symlink()
        and p not in skipped
    ]
    sites = []
    for path in paths:
        named = _hits(str(path.relative_to(root)), wanted)
        if named:
            sites.append(f"{path} [name]: {sorted(named)}")
    for path in [*(p for p in paths if p.is_file()), *extra]:
        data = path.read_bytes()
        found = _numbers_in_bytes(data) & wanted
        if data[:2] == b"\x1f\x8b":
            found |= _numbers_in_bytes(gzip.decompress(data)) & wanted
        if data[:4] == b"PK\x03\x04":
            for member in _zip_members(data):
                found |= _numbers_in_bytes(member) & wanted
        if found:
            sites.append(f"{path} [bytes]: {sorted(found)}")
        if data[:4] == b"PAR1" and data[-4:] == b"PAR1":
            sites += _scan_parquet_file(path, pattern, wanted)
        elif data[8:12] == b"DUCK":
            sites += _scan_duckdb_file(path, pattern, wanted)
        elif data[:16] == b"SQLite format 3\x00":
            sites += _scan_sqlite_file(path, wanted)
    return sites


def test_the_privacy_scan_reads_inside_duckdb_parquet_and_sqlite(tmp_path):
    """The scan is not vacuous: a number planted in a compressed DuckDB table (also inside
    a struct), a zstd Parquet file (not in its first column) and an SQLite database is
    found by querying them, named with its table and column."""
    import sqlite3

    import duckdb

    planted, other = "987x654321", "987X000000"  # lower case: the scan ignores case
    folder = tmp_path / "home"
    (folder / "quarantine").mkdir(parents=True)
    (folder / "quarantine" / f"{planted}.csv").write_text(planted)  # private: not a leak
    con = duckdb.connect(str(folder / "warehouse.duckdb"))
    con.execute("create schema marts")
    con.execute(
        "create table marts.t as select range as n, 'pid' || (range % 7) as pid, "
        "case when range = 77777 then $p else 'leer' || (range % 5) end as note, "
        "{'inner': case when range = 5 then upper($p) end} as nested "
        "from range(200000)",
        {"p": planted},
    )
    con.execute("checkpoint")
    con.execute(
        "copy (select range as n, 'x' || (range % 3) as a, "
        "case when range = 4242 then $p else 'y' end as b from range(100000)) "
        "to $out (format parquet, compression zstd)",
        {"p": planted, "out": str(folder / "raw.parquet")},
    )
    con.close()
    lite = sqlite3.connect(folder / "prefect.db")
    lite.execute("create table log (id integer, message text)")
    lite.execute("insert into log values (1, ?)", ["x" * 9000 + f"gefunden: {planted}"])
    lite.commit()
    lite.close()
    sites = _leak_sites(folder, {planted.upper(), other})
    assert any(
        "warehouse.duckdb [marts.t.note: 1 rows]" in s and planted.upper() in s for s in sites
    ), sites
    assert any("warehouse.duckdb [marts.t.nested: 1 rows]" in s for s in sites), sites
    assert any("raw.parquet [parquet.b: 1 rows]" in s for s in sites), sites
    assert any("prefect.db [log.message: 1 rows]" in s for s in sites), sites
    assert not any("quarantine" in s or other in s for s in sites), sites
    # and the number is found in a file name, in UTF-16 text and inside a zip member
    (folder / f"report_{planted}.txt").write_text("nichts")
    (folder / "utf16.txt").write_bytes(f"\ufeff{planted};x".encode("utf-16-le"))
    sites = _leak_sites(folder, {planted})
    assert any(s.endswith(f"report_{planted}.txt [name]: ['{planted.upper()}']") for s in sites)
    assert any("utf16.txt [bytes]" in s for s in sites), sites


def test_no_customer_number_of_the_whole_corpus_outside_the_quarantine(
    settings, nightly, prefect_server
):
    """The privacy done-criterion over the bad-input corpus: every case (but the 2 GB
    file) beside the KPI fixture in one Prefect night; no customer number of any input, in
    any case, is found outside the quarantine: not in the raw store, the warehouses, the
    state logs, the audit log, reports; nor in Prefect's databases (logs, artifacts,
    events) or result storage. Files the night leaves in the inbox unread (uploads in
    progress, a subfolder) are the Jobcenter's, not leaks, as long as they are unchanged."""
    from corpus.cases import CASES

    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    case_of = {}
    for case in CASES:
        if case.id != "k60":  # 2 GiB of nothing: refused unread, and slow to write
            target = case.write(settings.inbox)
            case_of[target.name] = case.id
    inputs = {  # regular files only: not the link to a system file, not the pipe
        path: path.read_bytes()
        for path in sorted(settings.inbox.rglob("*"))
        if stat.S_ISREG(os.lstat(path).st_mode)
    }
    origin = _customer_numbers_by_file(inputs, settings.inbox)

    def cause(file: str) -> str:
        top = file.split("/", 1)[0]
        return f"{case_of.get(top, 'KPI fixture')} ({file[:60]})"

    # the collection sees every kind of input: UTF-16, workbooks (also a sheet that is
    # hidden, a truncated one), a CSV named .xlsx
    for number, file in [
        ("900D000101", "anwesenheit_k01_utf16.csv"),
        ("900D005401", "anwesenheit_k54_two_sheets.xlsx"),
        ("900D005702", "anwesenheit_k57_formulas.xlsx"),
        ("900D005201", "anwesenheit_k52_csv_named_xlsx.xlsx"),
        ("012D000001", "anwesenheit_20260630.csv"),
    ]:
        assert file in origin.get(number, set()), (number, file, sorted(origin))
    assert any("anwesenheit_k53_truncated.xlsx" in files for files in origin.values())
    assert len(origin) > 60
    run = nightly(load_date=KPI_LOAD_DATE)
    assert run["status"] == "published"
    left = [path for path, data in inputs.items() if path.exists() and path.read_bytes() == data]
    _flush_prefect()
    prefect_homes = [Path(prefect_server.env["PREFECT_HOME"]), Path(os.environ["PREFECT_HOME"])]
    database = prefect_homes[0] / "prefect.db"
    assert database.exists(), f"Prefect's database not found: {database}"
    sites = _leak_sites(settings.home, set(origin), ignore=left)
    for home in prefect_homes:  # the server's database; the client's result storage
        if home.exists() and not home.resolve().is_relative_to(settings.home.resolve()):
            sites += _leak_sites(home, set(origin))
    wanted = set(origin)
    report = [
        f"{site}\n    from: {sorted({cause(f) for n in _hits(site, wanted) for f in origin[n]})}"
        for site in sites
    ]
    assert sites == [], "\n".join(report)
    # the quarantine keeps what it must: the refused originals, numbers and all
    assert _leak_sites(settings.quarantine, set(origin), private=())


def _flush_prefect() -> None:
    """Let Prefect's client send what it buffers (logs, events) before the scan."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)
    EventsWorker.drain_all(timeout=30)
    time.sleep(2)  # the server persists events from its in-memory queue


def test_retention_flow_deletes_and_records_it(settings, harness, monkeypatch):
    from flows.retention import retention
    from kohorte.config import load_settings
    from kohorte.ops import audit

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
    from kohorte.ops import alerts

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

"""Build a fresh DuckDB warehouse from the raw store, check it, publish it atomically.

Readers never share a file with the writer: every build is a new file
``warehouse/versions/kohorte-<run>.duckdb``; publishing swaps the symlink
``warehouse/current.duckdb`` with one ``rename``. A reader resolves the link once and opens
that exact, immutable file read-only, so it never sees a half-built warehouse, never gets a
lock error, and never hits DuckDB's per-process cache of an older file under the same path.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
import re
import shutil
import time
from dataclasses import dataclass
from graphlib import TopologicalSorter
from importlib.resources.abc import Traversable
from pathlib import Path

import duckdb
import pyarrow as pa

from kohorte import __version__
from kohorte.build import analyst, wirkung
from kohorte.config import Settings
from kohorte.define import dimensions, kpis, periods
from kohorte.define.contract import IN_WORK_AT_FOLLOW_UP, KINDS
from kohorte.define.kpis import CATALOGUE, monthly_columns
from kohorte.errors import ChecksFailed, DiskFull, is_disk_full
from kohorte.store import rawstore, runlog
from kohorte.store.db import SQL, scalar, sql_files, transaction

SQL_DIR: Traversable = SQL
POINTER = "current.duckdb"
SCHEMAS = ("raw", "staging", "marts", "meta")
# a mart whose rows belong to one person each and depend on nothing but that person's rows
# (and meta.build): an incremental build recomputes only the persons touched tonight
PER_PERSON = re.compile(r"^--\s*incremental:\s*per person\b", re.M)
CREATE = re.compile(r"^create or replace table ([\w.]+) as\s*$", re.M)
FULL = "full"
INCREMENTAL = "incremental"


@dataclass(frozen=True)
class BuildResult:
    """What a build produced."""

    path: Path
    as_of: dt.date
    checks: list[dict]
    tables: dict[str, int]
    seconds: float
    mode: str = FULL  # FULL or INCREMENTAL
    reason: str = ""  # why a build was full ("" when incremental)
    persons: int | None = None  # persons recomputed by an incremental build


def versions_dir(settings: Settings) -> Path:
    """Folder of immutable warehouse versions."""
    return settings.warehouse / "versions"


def current_path(settings: Settings) -> Path | None:
    """The exact file of the published warehouse, or None before the first publish."""
    pointer = settings.warehouse / POINTER
    try:
        target = os.readlink(pointer)
    except (FileNotFoundError, OSError):
        return None
    path = (pointer.parent / target).resolve()
    return path if path.exists() else None


def connect_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to one published version (never the pointer itself)."""
    return duckdb.connect(str(path), read_only=True)


def template_values() -> dict[str, str]:
    """What the marts' templates are filled with: the dimensions' macro parameters and
    predicate (``kohorte.define.dimensions``) and the KPIs' SQL (``kohorte.define.kpis``),
    each generated from its one definition; the rows per delivery of every kind's raw
    table, from the contract's kinds."""
    values = dimensions.macro_sql()
    values["whole_programme_args"] = ", ".join("null" for _ in dimensions.DIMENSIONS)
    values["kpi_selects"] = kpis.kpi_selects()
    values.update(kpis.monthly_sql())
    values["span_current"], values["span_baseline"] = periods.SPAN.current, periods.SPAN.baseline
    values["median_kpis"] = ", ".join(f"'{k.id}'" for k in kpis.CATALOGUE if k.unit == "days")
    values["in_work_at_follow_up"] = ", ".join(f"'{code}'" for code in IN_WORK_AT_FOLLOW_UP)
    values["raw_rows_per_delivery"] = "\n    union all\n    ".join(
        f"select delivery_id, count(*) as rows_in_raw from raw.{kind.name} group by 1"
        for kind in KINDS.values()
    )
    return values


def render(sql: str) -> str:
    """A mart's SQL with its ``{placeholders}`` filled (see ``template_values``)."""
    for name, value in template_values().items():
        sql = sql.replace("{" + name + "}", value)
    return sql


def _sql_files(folder: Traversable) -> list[tuple[str, str]]:
    """(name, sql) of a layer's files, ordered so that each runs after what it references."""
    files = {name: render(sql) for name, sql in sql_files(folder).items()}
    layer = folder.name
    graph = {
        name: {ref for ref in re.findall(rf"\b{layer}\.(\w+)", sql) if ref != name and ref in files}
        for name, sql in files.items()
    }
    return [(name, files[name]) for name in TopologicalSorter(graph).static_order()]


def key_columns(kind) -> str:
    """A kind's natural key in the warehouse: the contract's key, with the pseudonym ``pid``
    in place of ``kundennummer``."""
    return ", ".join("pid" if column == "kundennummer" else column for column in kind.key)


def staging_tables(sql_dir: Traversable = SQL_DIR, incremental: bool = False) -> list[str]:
    """``staging.stg_<kind>`` for every kind, from one template and the contract's keys.
    Incremental: for each kind, the rows of the keys in ``delta_<kind>`` (the keys delivered
    or changed tonight) are deleted and computed again from ``raw``; nothing else moves."""
    template = (sql_dir / "staging" / "latest_delivery_wins.sql").read_text(encoding="utf-8")
    statements = []
    for kind in KINDS.values():
        key = key_columns(kind)
        sql = template.replace("{kind}", kind.name).replace("{key}", key)
        if not incremental:
            statements.append(sql.replace("{source_filter}", ""))
            continue
        keys = f"({key}) in (select {key} from delta_{kind.name})"
        sql = sql.replace("{source_filter}", f" where {keys}")
        statements.append(f"delete from staging.stg_{kind.name} where {keys}")
        statements.append(_insert(sql))
    return statements


def _insert(sql: str) -> str:
    """A ``create or replace table t as <query>`` file as ``insert into t <query>``."""
    match = CREATE.search(sql)
    assert match, "a mart or staging file creates its table"
    body = sql[match.end() :].strip().rstrip(";")
    return f"insert into {match.group(1)} by name select * from (\n{body}\n)"


def _raw_schema(kind) -> list[tuple[str, str]]:
    """A raw table's columns: where each row came from, the pseudonym, then the contract's
    columns (the customer number never reaches the warehouse)."""
    stored = [(c.name, c.sql_type) for c in kind.columns if c.name != "kundennummer"]
    if kind.merkmale:
        stored.append(("merkmale", "map(varchar, double)"))
    return [("delivery_id", "varchar"), ("line", "bigint"), ("pid", "varchar"), *stored]


def _raw_columns(kind) -> str:
    return ", ".join(f"{name} {sql_type}" for name, sql_type in _raw_schema(kind))


def _files(settings: Settings, kind, deliveries: list[rawstore.Delivery]) -> list[str]:
    """The stored Parquet files of a kind's deliveries."""
    return [
        str(rawstore.parquet_path(settings.raw, kind.name, d.delivery_id))
        for d in deliveries
        if d.kind == kind.name
    ]


def _insert_parquet(con: duckdb.DuckDBPyConnection, table: str, kind, files: list[str]) -> None:
    """Append the rows of a kind's stored files to ``table`` (with the raw table's columns)."""
    if not files:
        return
    # deliveries stored before a contract column existed lack it: it stays empty
    stored = {
        row[0]
        for row in con.execute(
            "describe select * from read_parquet($files, union_by_name = true)",
            {"files": files},
        ).fetchall()
    }
    names = ", ".join(name for name, _ in _raw_schema(kind) if name in stored)
    con.execute(
        f"insert into {table} by name select {names} from read_parquet($files, "
        f"union_by_name = true) order by delivery_id, line",
        {"files": files},
    )


def _load_raw(
    con: duckdb.DuckDBPyConnection, settings: Settings, deliveries: list[rawstore.Delivery]
) -> None:
    """Copy the accepted rows of every delivery in the manifest into ``raw.<kind>``."""
    for kind in KINDS.values():
        con.execute(f"create table raw.{kind.name} ({_raw_columns(kind)})")
        _insert_parquet(con, f"raw.{kind.name}", kind, _files(settings, kind, deliveries))
    _write_deliveries(con, deliveries)
    _load_archive(con, settings)


def _apply_deliveries(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    deliveries: list[rawstore.Delivery],
    previous: set[str],
) -> None:
    """Add the rows of tonight's new deliveries to ``raw.<kind>`` of the previous version;
    the natural keys they carry go to ``delta_<kind>`` (a temporary table)."""
    new = [d for d in deliveries if d.delivery_id not in previous]
    for kind in KINDS.values():
        con.execute(f"create temp table neu_{kind.name} ({_raw_columns(kind)})")
        _insert_parquet(con, f"neu_{kind.name}", kind, _files(settings, kind, new))
        con.execute(f"insert into raw.{kind.name} by name select * from neu_{kind.name}")
        con.execute(
            f"create temp table delta_{kind.name} as "
            f"select distinct {key_columns(kind)} from neu_{kind.name}"
        )
        con.execute(f"drop table neu_{kind.name}")
    _write_deliveries(con, deliveries)
    _load_archive(con, settings)


def _write_deliveries(con: duckdb.DuckDBPyConnection, deliveries: list[rawstore.Delivery]) -> None:
    """``meta.deliveries``: the manifest the warehouse was built from."""
    table = pa.Table.from_pylist([d.__dict__ for d in deliveries]) if deliveries else None
    if table is not None:
        con.register("manifest", table)
        con.execute("create table meta.deliveries as select * from manifest order by delivery_id")
        con.unregister("manifest")
    else:
        con.execute(
            "create table meta.deliveries (delivery_id varchar, kind varchar, file_name varchar, "
            "sha256 varchar, size_bytes bigint, file_format varchar, encoding varchar, "
            "rows_accepted bigint, rows_rejected bigint, received_at varchar, "
            "rows_deleted bigint, parquet_sha256 varchar)"
        )


# The additive monthly figures (marts.monatszahlen) kept for participations retention
# deleted, so the programme's totals do not change when its oldest people are forgotten.
ARCHIVE_COLUMNS = (*monthly_columns(), "aktive_am_monatsende")


def _load_archive(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """``meta.archive_monatszahlen`` and ``meta.archive_personen`` (deleted persons by month
    of their first entry and of their first integration) from the retention archive;
    empty if nothing was deleted yet."""
    folder = settings.raw / rawstore.ARCHIVE_DIR
    months = sorted(str(p) for p in folder.glob("monatszahlen-*.parquet"))
    persons = sorted(str(p) for p in folder.glob("personen-*.parquet"))
    sums = ", ".join(f"sum({c})::decimal(14, 2) as {c}" for c in ARCHIVE_COLUMNS)
    if months:
        con.execute(
            f"create table meta.archive_monatszahlen as select monat::date as monat, {sums} "
            "from read_parquet($files) group by 1 order by 1",
            {"files": months},
        )
    else:
        columns = ", ".join(f"{c} decimal(14, 2)" for c in ARCHIVE_COLUMNS)
        con.execute(f"create table meta.archive_monatszahlen (monat date, {columns})")
    if persons:
        con.execute(
            "create table meta.archive_personen as select monat::date as monat, "
            "sum(eingetreten)::bigint as eingetreten, sum(integriert)::bigint as integriert "
            "from read_parquet($files) group by 1 order by 1",
            {"files": persons},
        )
    else:
        con.execute(
            "create table meta.archive_personen (monat date, eingetreten bigint, integriert bigint)"
        )


def _as_of(con: duckdb.DuckDBPyConnection, load_date: dt.date) -> dt.date:
    """The data's as-of date: the latest date of any kind delivered (participations,
    sessions, activities, outcomes, follow-ups), never after the load date. Every mart
    ignores what lies after it (``marts.fenster``)."""
    latest = scalar(
        con,
        """select greatest(
            (select max(datum) from raw.anwesenheit),
            (select max(datum) from raw.aktivitaeten),
            (select max(datum) from raw.ergebnisse),
            (select max(stichtag) from raw.verbleib),
            (select max(greatest(eintritt, coalesce(austritt, eintritt)))
             from raw.teilnehmende)
        )""",
    )
    return min(latest, load_date) if latest else load_date


def _write_meta(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    as_of: dt.date,
    load_date: dt.date,
    run_log: list[dict],
    mode: str,
    fingerprint: str,
) -> None:
    con.execute(
        "create table meta.build as select $run_id as run_id, now() as built_at, "
        "$load_date::date as load_date, $as_of::date as as_of, $hours::decimal(4, 2) as "
        "session_hours, $site as default_site, $version as kohorte_version, "
        "$programme_year_month::integer as programme_year_month, $mode as build_mode, "
        "$fingerprint as fingerprint",
        {
            "run_id": run_id,
            "load_date": load_date,
            "as_of": as_of,
            "hours": settings.session_hours,
            "site": settings.default_site,
            "version": __version__,
            "programme_year_month": settings.programme_year_month,
            "mode": mode,
            "fingerprint": fingerprint,
        },
    )
    catalogue = pa.Table.from_pylist(
        [
            {"position": i, "kennzahl": k.id, "bezeichnung": k.label_de, "einheit": k.unit}
            for i, k in enumerate(CATALOGUE, start=1)
        ]
    )
    con.register("catalogue", catalogue)
    con.execute("create table meta.kpi_catalogue as select * from catalogue")
    con.unregister("catalogue")
    spans = pa.Table.from_pylist(periods.rows())  # the KPIs' periods (kohorte/define/periods.py)
    con.register("spans", spans)
    con.execute("create table meta.kpi_periods as select * from spans")
    con.unregister("spans")
    files = runlog.read_files(settings)
    errors = [
        {"delivery_id": f["delivery_id"], "file_name": f["file_name"], **e}
        for f in files
        for e in f.get("errors", [])
    ]
    files = [{k: v for k, v in f.items() if k not in ("errors", "error_counts")} for f in files]
    for error in errors:
        error.pop("value", None)  # values of bad lines stay in the quarantine report
    _table(con, "meta.load_log", run_log, runlog.RUN_COLUMNS)
    _table(con, "meta.load_files", files, runlog.FILE_COLUMNS)
    _table(con, "meta.load_errors", errors, runlog.ERROR_COLUMNS)


def _table(
    con: duckdb.DuckDBPyConnection, name: str, rows: list[dict], columns: dict[str, str]
) -> None:
    """Create a meta table with a fixed schema from a list of dicts (missing keys = null)."""
    ddl = ", ".join(f'"{column}" {sql_type}' for column, sql_type in columns.items())
    con.execute(f"create table {name} ({ddl})")
    if rows:
        schema = pa.schema([pa.field(c, pa.string()) for c in columns])
        table = pa.Table.from_pylist(
            [{c: None if row.get(c) is None else str(row[c]) for c in columns} for row in rows],
            schema=schema,
        )
        con.register("meta_rows", table)
        casts = ", ".join(f'"{c}"::{t} as "{c}"' for c, t in columns.items())
        con.execute(f"insert into {name} select {casts} from meta_rows")
        con.unregister("meta_rows")


def run_checks(con: duckdb.DuckDBPyConnection, sql_dir: Traversable = SQL_DIR) -> list[dict]:
    """Run every ``sql/checks/assert_*.sql``; each returns offending rows (none = pass)."""
    results = []
    for name, sql in sql_files(sql_dir / "checks").items():
        sql = render(sql)
        severity = "warn" if re.search(r"^--\s*severity:\s*warn", sql, re.M) else "error"
        failing = scalar(con, f"select count(*) from ({sql.strip().rstrip(';')})")
        results.append(
            {
                "name": name,
                "severity": severity,
                "failing_rows": failing,
                "passed": failing == 0,
            }
        )
    return results


@functools.cache
def check_descriptions(sql_dir: Traversable = SQL_DIR) -> dict[str, dict[str, str]]:
    """What each check asserts, in words: ``{name: {"de": ..., "en": ...}}`` from its
    ``-- de:`` and ``-- en:`` header lines, the one place a check is described. Read once
    per process: the files ship inside the package and do not change while it runs."""
    described = {}
    for name, sql in sql_files(sql_dir / "checks").items():
        described[name] = {}
        for lang in ("de", "en"):
            match = re.search(rf"^--\s*{lang}:\s*(.+?)\s*$", sql, re.M)
            if match:
                described[name][lang] = match.group(1)
    return described


def fingerprint(settings: Settings, sql_dir: Traversable = SQL_DIR) -> str:
    """What a warehouse follows from besides the deliveries: Kohorte's version, the
    contract, every SQL file as rendered from the definitions, the analyst tables, the
    settings the marts read and the pseudonym key (as a keyed hash, never the key). An
    incremental build starts from the previous version only when it is the same."""
    digest = hashlib.sha256()
    parts = [
        __version__,
        repr(tuple(KINDS.values())),
        repr(analyst.TABLES),
        repr(periods.rows()),
        repr((settings.session_hours, settings.default_site, settings.programme_year_month)),
        hmac.new(settings.pseudonym_key(), b"kohorte-warehouse", hashlib.sha256).hexdigest(),
        *staging_tables(sql_dir),
        *(sql for _name, sql in _sql_files(sql_dir / "marts")),
        *sql_files(sql_dir / "checks").values(),
    ]
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _base(
    settings: Settings, wanted: str, deliveries: list[rawstore.Delivery]
) -> tuple[Path | None, str]:
    """The published version an incremental build may start from, or why there is none."""
    current = current_path(settings)
    if current is None:
        return None, "no published version yet"
    try:
        con = connect_readonly(current)
        try:
            found = scalar(con, "select fingerprint from meta.build")
            before = con.execute("select delivery_id, parquet_sha256 from meta.deliveries")
            before = before.fetchall()
        finally:
            con.close()
    except duckdb.Error:
        return None, "the published version predates incremental builds"
    if found != wanted:
        return None, "the contract, the SQL, the settings or the pseudonym key changed"
    now = {d.delivery_id: d.parquet_sha256 for d in deliveries}
    if any(now.get(delivery, "-") != sha for delivery, sha in before):
        # retention rewrote a delivery: a deleted row must leave no trace in the new file,
        # and a copy would keep the old rows in its free blocks
        return None, "retention deleted rows"
    return current, ""


def build(
    settings: Settings,
    run_id: str,
    run_log: list[dict],
    load_date: dt.date | None = None,
    sql_dir: Traversable = SQL_DIR,
    full: bool = False,
) -> BuildResult:
    """Build a new warehouse file; raise ChecksFailed if a check fails. Incremental by
    default: a copy of the published version, in which only tonight's deliveries and the
    persons they touch are recomputed (and every aggregate in full). ``full``, or a changed
    fingerprint, builds everything from the raw store."""
    started = time.perf_counter()
    folder = versions_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".building-{run_id}.duckdb"
    path.unlink(missing_ok=True)
    load_date = load_date or dt.date.today()
    wanted = fingerprint(settings, sql_dir)
    deliveries = rawstore.deliveries(settings.raw)  # the manifest, read once
    if full:
        base, reason = None, "a full build was asked for"
    else:
        base, reason = _base(settings, wanted, deliveries)
    persons = None
    mode = FULL if base is None else INCREMENTAL
    # this run's own line of the load log says how it builds
    run_log = [{**r, "build_mode": mode} if r.get("run_id") == run_id else r for r in run_log]
    try:
        if base is not None:
            shutil.copyfile(base, path)  # published versions never change: a safe copy
            os.chmod(path, 0o644)
        con = duckdb.connect(str(path), config={"memory_limit": settings.load_memory_limit})
    except BaseException as error:
        discard(path)
        if is_disk_full(error):
            raise DiskFull(folder, error) from error
        raise
    try:
        with transaction(con):  # ~70 statements, one commit
            night = _Night(settings, deliveries, run_id, run_log, load_date, sql_dir, wanted)
            if base is None:
                as_of, checks = _fill(con, night)
            else:
                as_of, checks, persons = _fill_incremental(con, night)
        analyst.write_file(con, analyst.path_for(path))
        tables = dict(
            con.execute(
                "select schema_name || '.' || table_name, estimated_size from duckdb_tables() "
                "where not temporary order by 1"
            ).fetchall()
        )
        con.execute("checkpoint")
    except BaseException as error:
        con.close()
        discard(path)
        if is_disk_full(error):
            raise DiskFull(folder, error) from error
        raise
    con.close()
    failures = [c for c in checks if c["severity"] == "error" and not c["passed"]]
    if failures:
        discard(path)
        raise ChecksFailed(failures)
    seconds = round(time.perf_counter() - started, 3)
    return BuildResult(path, as_of, checks, tables, seconds, mode, reason, persons)


@dataclass(frozen=True)
class _Night:
    """What one build works from, besides the file it writes."""

    settings: Settings
    deliveries: list[rawstore.Delivery]  # the manifest, read once
    run_id: str
    run_log: list[dict]
    load_date: dt.date
    sql_dir: Traversable
    fingerprint: str

    def meta(self, con: duckdb.DuckDBPyConnection, as_of: dt.date, mode: str) -> None:
        _write_meta(
            con, self.settings, self.run_id, as_of, self.load_date, self.run_log, mode,
            self.fingerprint,
        )  # fmt: skip


def _fill(con: duckdb.DuckDBPyConnection, night: _Night) -> tuple[dt.date, list[dict]]:
    """Raw, meta, staging and marts into the new file, then the checks over them; returns
    the as-of date and the checks' results."""
    for schema in SCHEMAS:
        con.execute(f"create schema {schema}")
    _load_raw(con, night.settings, night.deliveries)
    as_of = _as_of(con, night.load_date)
    night.meta(con, as_of, FULL)
    for sql in staging_tables(night.sql_dir):
        con.execute(sql)
    for _name, sql in _sql_files(night.sql_dir / "marts"):
        con.execute(sql)
    wirkung.store(con)
    return as_of, _checks(con, night.sql_dir)


def _fill_incremental(
    con: duckdb.DuckDBPyConnection, night: _Night
) -> tuple[dt.date, list[dict], int]:
    """The copy of the previous version brought up to tonight: the raw rows of new
    deliveries; staging for the keys they carry; the per-person marts for the
    persons of those keys and for everybody whose facts still move with the as-of date
    (``marts.fenster.aenderbar_bis``); every other mart in full. Returns the as-of date,
    the checks' results and how many persons were recomputed."""
    previous = {row[0] for row in con.execute("select delivery_id from meta.deliveries").fetchall()}
    previous_as_of = scalar(con, "select as_of from meta.build")
    con.execute("drop schema meta cascade")
    con.execute("create schema meta")
    _apply_deliveries(con, night.settings, night.deliveries, previous)
    as_of = _as_of(con, night.load_date)
    night.meta(con, as_of, INCREMENTAL)
    keys = " union ".join(f"select pid from delta_{kind}" for kind in KINDS)
    con.execute(
        f"create temp table betroffen as {keys} union select pid from marts.fenster "
        "where aenderbar_bis is null or aenderbar_bis >= $since",
        {"since": min(previous_as_of, as_of)},
    )
    for sql in staging_tables(night.sql_dir, incremental=True):
        con.execute(sql)
    marts = _sql_files(night.sql_dir / "marts")
    per_person = [name for name, sql in marts if PER_PERSON.search(sql)]
    # each table a per-person mart reads, as a temporary view of the persons only
    views = {
        table: table.replace(".", "__")
        for table in [f"staging.stg_{kind}" for kind in KINDS] + [f"marts.{n}" for n in per_person]
    }
    for table, view in views.items():
        con.execute(
            f"create temp view {view} as select * from {table} "
            "where pid in (select pid from betroffen)"
        )
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in views) + r")\b")
    for name, sql in marts:
        if name not in per_person:
            con.execute(sql)
            continue
        con.execute(f"delete from marts.{name} where pid in (select pid from betroffen)")
        insert = _insert(sql)
        head, body = insert.split("\n", 1)  # the target stays; its sources are the persons'
        con.execute(head + "\n" + pattern.sub(lambda m: views[m.group(1)], body))
    wirkung.store(con)  # a model over everybody: cheap next to a night, and in full
    persons = scalar(con, "select count(*) from betroffen")
    for kind in KINDS:
        con.execute(f"drop table delta_{kind}")
    for view in views.values():
        con.execute(f"drop view {view}")
    con.execute("drop table betroffen")
    return as_of, _checks(con, night.sql_dir), persons


def _checks(con: duckdb.DuckDBPyConnection, sql_dir: Traversable) -> list[dict]:
    """Run the checks and keep their results in ``meta.checks``."""
    checks = run_checks(con, sql_dir)
    con.register("checks", pa.Table.from_pylist(checks))
    con.execute("create table meta.checks as select * from checks")
    con.unregister("checks")
    return checks


def discard(built: Path) -> None:
    """Remove an unpublished build with everything DuckDB wrote beside it."""
    for path in (built, analyst.path_for(built)):
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
        shutil.rmtree(f"{path}.tmp", ignore_errors=True)  # DuckDB's spill folder


def discard_unfinished(settings: Settings) -> list[Path]:
    """Remove builds (with WAL, spill folder, analyst file) and pointer links a killed run
    left behind; call only under the run lock, when no build can be running."""
    folder = versions_dir(settings)
    found = [
        *sorted(folder.glob(".building-*")),
        *sorted(folder.glob(f"{analyst.PREFIX}.building-*")),
        *sorted(settings.warehouse.glob(f".{POINTER}.*")),
    ]
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


def publish(settings: Settings, built: Path, run_id: str) -> Path:
    """Make a built file the current warehouse with one atomic rename of the pointer."""
    folder = versions_dir(settings)
    final = folder / f"kohorte-{run_id}.duckdb"
    copy = analyst.path_for(built)
    if copy.exists():  # the analysts' file first: the pointer then names a complete pair
        os.replace(copy, analyst.path_for(final))
        os.chmod(analyst.path_for(final), 0o444)
    os.replace(built, final)
    Path(f"{final}.wal").unlink(missing_ok=True)  # a stale WAL would make the file unopenable
    os.chmod(final, 0o444)  # published versions are immutable
    pointer = settings.warehouse / POINTER
    tmp = settings.warehouse / f".{POINTER}.{run_id}"
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(final, settings.warehouse), tmp)
    os.replace(tmp, pointer)
    _prune(settings, keep=final)
    return final


def _prune(settings: Settings, keep: Path) -> None:
    """Delete all but the newest versions; a reader holding an old file keeps its handle."""
    versions = sorted(versions_dir(settings).glob("kohorte-*.duckdb"))
    for old in versions[: -settings.warehouse_keep]:
        if old != keep:
            old.unlink(missing_ok=True)
            analyst.path_for(old).unlink(missing_ok=True)
    for stale in versions_dir(settings).glob(".building-*.duckdb"):
        if time.time() - stale.stat().st_mtime > 24 * 3600:
            stale.unlink(missing_ok=True)  # left by a build that was killed

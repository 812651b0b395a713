"""Fault tests: the nightly load killed with SIGKILL, the disk full while
the warehouse is built, a damaged file in the raw store. Figures go to
``test-artifacts/faults.json`` and are summarised in ``docs/reliability.md``."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES, ROOT, SAMPLE, SAMPLE_LOAD_DATE, TEST_KEY, deliver, make_settings
from test_incremental import assert_same_content

from kohorte import errors
from kohorte.build import analyst, warehouse
from kohorte.config import Settings
from kohorte.run import inbox, pipeline
from kohorte.store import rawstore, runlog
from kohorte.store.files import sha256_file

pytestmark = pytest.mark.fault

ARTIFACT = ROOT / "test-artifacts" / "faults.json"
KPI_FILES = sorted((FIXTURES / "kpi").glob("*.csv"))
KILLS_PER_BATCH = 4
MIN_KILLS = 20
SEED = 20260602
# steps where a kill lands by chance only rarely: after a delivery's Parquet file is in place
# but before its manifest entry; after the manifest entry but before the file log; with the
# new warehouse complete but not renamed; after the pointer swap but before the run log
EXACT_KILLS = ("ingest:manifest#2", "ingest:file-log#3", "publish#1", "publish:prune#1")


def _record(section: str, figures: dict) -> None:
    """Merge one test's figures into the artifact (the file's tests run on one worker)."""
    ARTIFACT.parent.mkdir(exist_ok=True)
    data = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    data[section] = figures
    ARTIFACT.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n")


# --- SIGKILL -------------------------------------------------------------------------------

# A zygote imports Kohorte once and forks one process per run, so a run costs only its own
# work (imports take seconds on a busy machine). Each forked run is the real plain load
# (``pipeline.run_once``, the steps the Prefect flow sequences); it appends the step it
# enters to a trace file, which is how we know where a kill landed. The zygote itself never
# opens DuckDB, so forking it is safe.
ZYGOTE = textwrap.dedent(
    """
    import datetime as dt, functools, json, os, sys, time
    from kohorte.run import inbox, pipeline, recovery
    from kohorte.store import rawstore
    from kohorte.build import analyst
    from kohorte.read import sandbox
    from kohorte.build import warehouse
    from kohorte.store import runlog
    from kohorte.config import load_settings

    TRACE, KILL_AT, SEEN = None, None, {}

    def mark(step):
        os.write(TRACE, f"{time.monotonic():.4f} {step}\\n".encode())
        name = step.split(" ")[0]
        SEEN[name] = SEEN.get(name, 0) + 1
        if KILL_AT == f"{name}#{SEEN[name]}":  # a kill at an exact step, for narrow windows
            os.kill(os.getpid(), 9)

    def traced(module, name, step):
        original = getattr(module, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            mark(step(*args) if callable(step) else step)
            return original(*args, **kwargs)

        setattr(module, name, wrapper)

    traced(recovery, "recover", "recover")
    traced(inbox, "plan_inbox", "plan")
    traced(pipeline, "ingest_work", lambda s, work, *a: f"ingest {work.label}")
    traced(rawstore, "record", "ingest:manifest")
    traced(rawstore, "record_many", "ingest:manifest")
    traced(runlog, "write_files", "ingest:file-log")
    traced(pipeline, "finish", "build:start")
    traced(warehouse, "_load_raw", "build:raw")
    traced(warehouse, "_base", "build:base")  # an incremental build: the copy follows
    traced(warehouse, "_apply_deliveries", "build:raw")  # its raw step
    traced(warehouse, "staging_tables", "build:staging+marts")
    traced(warehouse, "run_checks", "build:checks")
    traced(analyst, "write_file", "build:analyst-file")
    traced(warehouse, "publish", "publish")
    traced(warehouse, "_prune", "publish:prune")

    print("ready", flush=True)
    for line in sys.stdin:
        trace_path, load_date, KILL_AT = line.split()
        pid = os.fork()
        if pid == 0:
            TRACE = os.open(trace_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            mark("start")
            code = 0
            try:
                run, _ = pipeline.run_once(load_settings(), dt.date.fromisoformat(load_date))
                mark("done " + run["status"])
            except BaseException as error:
                mark("error " + repr(error)[:200])
                code = 3
            os._exit(code)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(status, flush=True)
    """
)


class Zygote:
    """Start loads as forked children; kill them with SIGKILL at a chosen moment."""

    def __init__(self, settings: Settings, trace_dir: Path) -> None:
        env = dict(os.environ)
        env.update(KOHORTE_HOME=str(settings.home), KOHORTE_PSEUDONYM_KEY=TEST_KEY)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert self.proc.stdout.readline().strip() == "ready"
        self.trace_dir = trace_dir
        trace_dir.mkdir()
        self.runs = 0

    def run(self, kill_after: float | None, kill_at: str = "-") -> dict:
        """One load; SIGKILL it ``kill_after`` seconds after it started, or when it enters
        step ``kill_at`` (``name#n``: the n-th time); neither: let it end."""
        self.runs += 1
        trace = self.trace_dir / f"run-{self.runs:03d}.trace"
        self.proc.stdin.write(f"{trace} {SAMPLE_LOAD_DATE.isoformat()} {kill_at}\n")
        self.proc.stdin.flush()
        pid = int(self.proc.stdout.readline())
        if kill_after is not None:
            while not trace.exists():  # the child's clock starts when it is running
                time.sleep(0.002)
            time.sleep(kill_after)
            with contextlib.suppress(ProcessLookupError):  # unreaped, so never a reused pid
                os.kill(pid, signal.SIGKILL)
        status = int(self.proc.stdout.readline())
        steps = [line.split(" ", 1) for line in trace.read_text().splitlines()]
        landed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        return {
            "killed": landed,
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status),
            "phase": steps[-1][1].split(" ", 1)[0] if landed else steps[-1][1],
            "last_step_after": round(float(steps[-1][0]) - float(steps[0][0]), 3),
        }

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _batches() -> list[list[Path]]:
    """The sample's deliveries grouped by export date (one night each), then all of them
    again (a night of nothing but duplicates)."""
    by_date: dict[str, list[Path]] = {}
    for path in sorted(SAMPLE.iterdir()):
        by_date.setdefault(inbox.EXPORT_DATE.search(path.name).group(0), []).append(path)
    return [*(by_date[d] for d in sorted(by_date)), sorted(SAMPLE.iterdir())]


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() union all "
        "select schema_name || '.' || view_name from duckdb_views() where not internal"
    ).fetchall()
    return {row[0] for row in rows}


def _marts(path: Path) -> dict[str, list[tuple]]:
    """Every mart's full content: what the dashboard shows."""
    con = warehouse.connect_readonly(path)
    try:
        names = [t for t in sorted(_tables(con)) if t.startswith("marts.")]
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in names}
    finally:
        con.close()


def _assert_published_is_complete(settings: Settings, tables: set[str]) -> str | None:
    """The published warehouse (if any) opens read-only, has every table, passed its checks,
    holds exactly the rows its manifest lists, and its analyst file opens beside it."""
    path = warehouse.current_path(settings)
    if path is None:
        return None
    con = warehouse.connect_readonly(path)
    try:
        assert _tables(con) == tables
        run_id = con.execute("select run_id from meta.build").fetchone()[0]
        assert path.name == f"kohorte-{run_id}.duckdb"
        failed = con.execute(
            "select name from meta.checks where severity = 'error' and not passed"
        ).fetchall()
        assert failed == []
        raw = sum(
            con.execute(f"select count(*) from raw.{kind}").fetchone()[0]
            for kind in ("teilnehmende", "anwesenheit", "aktivitaeten", "ergebnisse", "verbleib")
        )
        listed = con.execute(
            "select coalesce(sum(rows_accepted - rows_deleted), 0) from meta.deliveries"
        ).fetchone()[0]
        assert raw == listed
        status = con.execute(
            "select status from meta.load_log where run_id = $r", {"r": run_id}
        ).fetchall()
        assert status == [("published",)]
    finally:
        con.close()
    copy = duckdb.connect(str(analyst.path_for(path)), read_only=True)
    try:
        assert {t.name for t in analyst.TABLES} <= {
            row[0] for row in copy.execute("select table_name from duckdb_tables()").fetchall()
        }
    finally:
        copy.close()
    return path.name


def _assert_store_and_log_agree(settings: Settings, delivered: set[str]) -> None:
    """Nothing lost, nothing counted twice: every delivered file is in the manifest once, its
    Parquet rows equal its accepted rows, and the file log says the same."""
    deliveries = rawstore.deliveries(settings.raw)
    assert {d.sha256 for d in deliveries} == delivered
    assert len({d.sha256 for d in deliveries}) == len(deliveries)  # no delivery twice
    stored_logs = [f for f in runlog.read_files(settings) if f["status"] in ("loaded", "partial")]
    logged = {f["delivery_id"]: f for f in stored_logs}
    assert len(logged) == len(stored_logs)  # one entry per delivery
    for d in deliveries:
        stored = rawstore.parquet_path(settings.raw, d.kind, d.delivery_id)
        assert pq.read_metadata(stored).num_rows == d.rows_accepted - d.rows_deleted
        entry = logged[d.delivery_id]
        assert (entry["rows_accepted"], entry["sha256"]) == (d.rows_accepted, d.sha256)
    assert set(logged) == {d.delivery_id for d in deliveries}
    assert list(settings.inbox.iterdir()) == []
    assert rawstore.orphans(settings.raw) == []
    assert rawstore.verify(settings.raw) == ([], [])
    assert not list(warehouse.versions_dir(settings).glob("*.building-*"))
    assert not list(settings.raw.glob("*/.*.tmp"))
    assert not [p for p in (settings.home / "work").glob("*")]
    assert {r["status"] for r in runlog.read_runs(settings)} <= {"published", "aborted"}


def _delivered_hashes(paths: list[Path]) -> set[str]:
    return {sha256_file(path) for path in paths}


def test_sigkill_at_random_points_never_breaks_the_published_warehouse(tmp_path):
    """At least 20 loads killed with SIGKILL after a random delay (seeded), spread over the
    measured length of a run; after each kill the published warehouse is complete, and the
    next run publishes with raw store, manifest and load log in agreement. At the end the
    warehouse equals an uninterrupted load of the same deliveries."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    batches = _batches()
    # the reference: the same deliveries loaded without faults, one night per batch is
    # equivalent to one night with all of them (files load in export-date order)
    reference = make_settings(tmp_path / "reference")
    deliver(reference, *sorted(SAMPLE.iterdir()))
    ref_zygote = Zygote(reference, tmp_path / "reference-traces")
    ref_run = ref_zygote.run(None)
    ref_zygote.close()
    assert ref_run["phase"] == "done published"
    ref_path = warehouse.current_path(reference)
    con = warehouse.connect_readonly(ref_path)
    tables = _tables(con)
    con.close()
    expected = _marts(ref_path)

    settings = make_settings(tmp_path / "home")
    zygote = Zygote(settings, tmp_path / "traces")
    estimate = ref_run["last_step_after"]  # the length of a run, updated from each completed run
    delivered: set[str] = set()
    kills, completed, recoveries, exact = [], [], [], []
    published = None
    try:
        for number, batch in enumerate(batches, start=1):
            deliver(settings, *batch)
            delivered |= _delivered_hashes(batch)
            if number <= len(EXACT_KILLS):  # a kill in a window too narrow to hit by chance
                step = EXACT_KILLS[number - 1]
                outcome = zygote.run(None, step)
                assert outcome["killed"] and outcome["phase"] == step.split("#")[0], outcome
                exact.append(step)
                now = _assert_published_is_complete(settings, tables)
                assert published is None or (now is not None and now >= published)
                published = now
            landed = 0
            for _attempt in range(3 * KILLS_PER_BATCH):
                if landed == KILLS_PER_BATCH:
                    break
                delay = rng.uniform(0, estimate)
                outcome = zygote.run(delay)
                now = _assert_published_is_complete(settings, tables)
                assert published is None or (now is not None and now >= published)
                published = now
                if outcome["killed"]:
                    landed += 1
                    kills.append({"batch": number, "delay": round(delay, 3), **outcome})
                else:  # the run ended before the kill: it must have published
                    assert outcome["phase"] == "done published", outcome
                    completed.append({"batch": number, **outcome})
                    estimate = outcome["last_step_after"]
            recovery = zygote.run(None)
            assert recovery["phase"] == "done published", recovery
            published = _assert_published_is_complete(settings, tables)
            _assert_store_and_log_agree(settings, delivered)
            recoveries.append({"batch": number, "seconds": recovery["last_step_after"]})
            estimate = recovery["last_step_after"]
    finally:
        zygote.close()
    assert len(kills) >= MIN_KILLS
    final = warehouse.current_path(settings)
    assert _marts(final) == expected
    # built incrementally on top of killed nights, it equals a full build of the same store
    full = warehouse.build(settings, "after-the-kills", [], SAMPLE_LOAD_DATE, full=True)
    try:
        assert_same_content(final, full.path)
    finally:
        warehouse.discard(full.path)
    runs = runlog.read_runs(settings)
    modes = [r.get("build_mode") for r in runs if r["status"] == "published"]
    assert modes.count(warehouse.INCREMENTAL) >= len(batches) - 1, modes
    phases: dict[str, int] = {}
    for kill in kills:
        phases[kill["phase"]] = phases.get(kill["phase"], 0) + 1
    _record(
        "sigkill",
        {
            "seed": SEED,
            "batches": len(batches),
            "runs": zygote.runs,
            "kills": len(kills),
            "runs_completed_before_the_kill": len(completed),
            "kills_by_phase": dict(sorted(phases.items())),
            "runs_aborted_in_log": sum(r["status"] == "aborted" for r in runs),
            "runs_published_in_log": sum(r["status"] == "published" for r in runs),
            "exact_kills": exact,
            "reference_run_seconds": ref_run["last_step_after"],
            "recovery_run_seconds": [r["seconds"] for r in recoveries],
            "final_equals_uninterrupted_reference": True,
            "final_equals_a_full_build": True,
            "published_builds_by_mode": {str(m): modes.count(m) for m in set(modes)},
            "test_seconds": round(time.perf_counter() - started, 1),
            "kill_log": kills,
        },
    )


# --- disk full -----------------------------------------------------------------------------

# Runs in its own mount namespace (``unshare``, as root or as a user with user namespaces),
# with KOHORTE_HOME on a small tmpfs: writes fail with the kernel's real ENOSPC. Without
# namespaces it falls back to a file-size limit (RLIMIT_FSIZE with SIGXFSZ ignored: writes
# past the limit fail with EFBIG), which hits the same code paths.
DISK_FULL = textwrap.dedent(
    """
    import datetime as dt, json, os, resource, shutil, signal, subprocess, sys
    from pathlib import Path

    home, mode, fixtures, extra = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    if mode == "tmpfs":
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(home)], check=True)
    os.environ["KOHORTE_HOME"] = str(home)
    from kohorte.run import inbox, pipeline, recovery
    from kohorte.build import warehouse
    from kohorte.store import runlog
    from kohorte.config import Settings

    settings = Settings(home=home, pseudonym_key_env=os.environ["KOHORTE_PSEUDONYM_KEY"])
    settings.ensure_dirs()
    out = {"mode": mode}
    for path in sorted(Path(fixtures).glob("*.csv")):
        shutil.copy2(path, settings.inbox / path.name)
    day = dt.date(2026, 6, 30)
    pipeline.run_once(settings, day)
    first = warehouse.current_path(settings)
    out["first"] = first.name
    out["warehouse_bytes"] = first.stat().st_size
    shutil.copy2(extra, settings.inbox / Path(extra).name)  # tonight's delivery
    filler = home / "filler"
    if mode == "tmpfs":
        with filler.open("wb") as handle:  # leave 1 MiB: enough to ingest, not to build
            while shutil.disk_usage(home).free > 2**20:
                handle.write(b"\\0" * min(2**20, shutil.disk_usage(home).free - 2**20 + 4096))
        out["free_bytes_before"] = shutil.disk_usage(home).free
    else:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, resource.RLIM_INFINITY))
    try:
        pipeline.run_once(settings, day)
        out["error"] = None
    except Exception as error:
        out["error"] = f"{type(error).__name__}: {error}"
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    out["runs_after_failure"] = runlog.read_runs(settings)
    out["current_after_failure"] = warehouse.current_path(settings).name
    versions = warehouse.versions_dir(settings)
    out["versions_after_failure"] = sorted(p.name for p in versions.iterdir())
    out["manifest_after_failure"] = len(list((settings.raw / "_manifest").glob("*.json")))
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    out["kpis_after_failure"] = [
        [str(v) for v in row]
        for row in con.execute("select * from marts.kennzahlen order by all").fetchall()
    ]
    con.close()
    filler.unlink(missing_ok=True)
    run, _ = pipeline.run_once(settings, day)
    out["next_run"] = run["status"]
    out["current_after_next_run"] = warehouse.current_path(settings).name
    con = warehouse.connect_readonly(warehouse.current_path(settings))
    out["deliveries_after_next_run"] = con.execute(
        "select count(*) from meta.deliveries").fetchone()[0]
    con.close()
    print(json.dumps(out, default=str))
    """
)


def _namespaces_work() -> bool:
    try:
        probe = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "true"],
            capture_output=True,
            timeout=10,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _kpis(path: Path) -> list[list[str]]:
    con = warehouse.connect_readonly(path)
    try:
        rows = con.execute("select * from marts.kennzahlen order by all").fetchall()
    finally:
        con.close()
    return [[str(value) for value in row] for row in rows]


def test_disk_full_while_building_keeps_the_previous_warehouse(tmp_path):
    """The disk fills up while tonight's warehouse is built: the run fails saying the disk is
    full, the previous warehouse stays published with the same data, nothing it wrote is
    left behind, and the next run, with space again, publishes."""
    started = time.perf_counter()
    home = tmp_path / "home"
    home.mkdir()
    extra = tmp_path / "anwesenheit_20260701_nachtrag.csv"
    extra.write_text("kundennummer;datum;status;stunden\r\n012D000001;08.01.2026;anwesend;3\r\n")
    mode = "tmpfs" if _namespaces_work() else "rlimit"
    command = [sys.executable, "-c", DISK_FULL, str(home), mode, str(FIXTURES / "kpi"), str(extra)]
    if mode == "tmpfs":
        command = ["unshare", "--user", "--map-root-user", "--mount", *command]
    env = {**os.environ, "KOHORTE_PSEUDONYM_KEY": TEST_KEY}
    child = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert child.returncode == 0, child.stderr[-3000:]
    out = json.loads(child.stdout.strip().splitlines()[-1])
    error = out["error"]
    assert error and error.startswith("DiskFull: Kein Speicherplatz mehr"), error
    assert "der bisherige bleibt veröffentlicht" in error and "Disk full" in error
    last = out["runs_after_failure"][-1]
    assert last["status"] == "failed" and last["message"].startswith("Kein Speicherplatz")
    assert out["current_after_failure"] == out["first"]
    # no half-built file stays beside the published versions
    assert out["versions_after_failure"] == sorted([out["first"], analyst.PREFIX + out["first"]])
    assert out["manifest_after_failure"] == len(KPI_FILES) + 1  # tonight's file was taken in
    assert out["next_run"] == "published"
    assert out["current_after_next_run"] != out["first"]
    assert out["deliveries_after_next_run"] == len(KPI_FILES) + 1
    # the published data did not change while the disk was full
    reference = make_settings(tmp_path / "reference")
    deliver(reference, *KPI_FILES)
    pipeline.run_once(reference, dt.date(2026, 6, 30))
    assert out["kpis_after_failure"] == _kpis(warehouse.current_path(reference))
    _record(
        "disk_full",
        {
            "simulation": (
                "KOHORTE_HOME on a 48 MiB tmpfs in a private mount namespace (unshare), "
                "filled to 1 MiB free before the night's run: real ENOSPC"
                if mode == "tmpfs"
                else "RLIMIT_FSIZE 1 MiB with SIGXFSZ ignored: writes fail with EFBIG"
            ),
            "free_bytes_before_run": out.get("free_bytes_before"),
            "warehouse_bytes": out["warehouse_bytes"],
            "message": error,
            "previous_warehouse_kept": True,
            "next_run": out["next_run"],
            "test_seconds": round(time.perf_counter() - started, 1),
        },
    )


# --- a damaged raw store -------------------------------------------------------------------


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:  # a run of bytes in the middle overwritten, length unchanged
        middle = len(data) // 2
        data[middle : middle + 64] = bytes(64)
        path.write_bytes(bytes(data))


def test_a_damaged_raw_file_is_reported_and_blocks_only_the_publish(settings, tmp_path):
    """Two stored deliveries are damaged (one truncated, one overwritten in the middle). The
    next run finds both by their checksums, sets them aside with a report, still takes in
    tonight's delivery, and refuses to publish totals that would lack them: the previous
    warehouse stays published. Delivering the same files again repairs the store; the
    warehouse then equals a load that never saw the damage."""
    started = time.perf_counter()
    day = dt.date(2026, 6, 30)
    deliver(settings, *KPI_FILES)
    pipeline.run_once(settings, day)
    before = warehouse.current_path(settings)
    kpis_before = _kpis(before)
    stored = {d.file_name: d for d in rawstore.deliveries(settings.raw)}
    damaged = {"teilnehmende_20260630.csv": "truncated", "anwesenheit_20260630.csv": "overwritten"}
    for name, how in damaged.items():
        d = stored[name]
        _damage(rawstore.parquet_path(settings.raw, d.kind, d.delivery_id), how)
    extra = tmp_path / "anwesenheit_20260701_nachtrag.csv"
    extra.write_text("kundennummer;datum;status;stunden\r\n012D000001;08.01.2026;anwesend;3\r\n")
    deliver(settings, extra)

    with pytest.raises(errors.RawStoreDamaged) as failure:
        pipeline.run_once(settings, day)
    message = str(failure.value)
    for name in damaged:
        assert name in message and stored[name].delivery_id in message
    assert message.count("Parquet-Datei unlesbar") + message.count("Prüfsumme") == len(damaged)
    assert "erneut in den Posteingang" in message
    assert runlog.read_runs(settings)[-1]["status"] == "failed"
    assert warehouse.current_path(settings) == before and _kpis(before) == kpis_before
    folder = settings.raw / rawstore.DAMAGED_DIR
    assert len(list(folder.glob("*.damage.json"))) == len(damaged)
    # the rest was not taken down: tonight's file is in the store, the others untouched
    names = {d.file_name for d in rawstore.deliveries(settings.raw)}
    assert extra.name in names and not names & set(damaged)
    assert rawstore.verify(settings.raw) == ([], [])

    # a night without the files again: still refused, never wrong totals published
    with pytest.raises(errors.RawStoreDamaged):
        pipeline.run_once(settings, day)
    assert warehouse.current_path(settings) == before

    source = {p.name: p for p in KPI_FILES}
    deliver(settings, *(source[name] for name in damaged))
    run, results = pipeline.run_once(settings, day)
    assert run["status"] == "published"
    assert {r.delivery_id for r in results} == {stored[n].delivery_id for n in damaged}
    assert list(folder.glob("*.damage.json")) == []
    assert len(list((folder / rawstore.REPAIRED_DIR).glob("*.damage.json"))) == len(damaged)

    reference = make_settings(tmp_path / "reference")
    deliver(reference, *KPI_FILES)
    pipeline.run_once(reference, day)
    deliver(reference, extra)
    pipeline.run_once(reference, day)
    assert _marts(warehouse.current_path(settings)) == _marts(warehouse.current_path(reference))
    _record(
        "damaged_raw_file",
        {
            "damaged": damaged,
            "detected_by": "checksum of each Parquet file in the manifest, then a full read",
            "message": message,
            "policy": "set aside in raw/_damaged, publish blocked until the same file is "
            "delivered again (it takes its old delivery id) or an operator gives it up",
            "test_seconds": round(time.perf_counter() - started, 1),
        },
    )

"""The incremental nightly build against the full one: random histories delivered over
random nights (new rows, corrections of old keys, retractions, a file delivered twice, a
retention deletion), each night built incrementally and published, then built again in
full from the same raw store. Both must hold the same raw rows, staging, marts and analyst
tables: the incremental build is an optimisation, never a second definition."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import TEST_KEY, deliver, make_settings
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_reference import HEADERS, _dedupe, programmes

from kohorte.build import analyst, warehouse
from kohorte.run import pipeline, retention

FIRST_NIGHT = dt.date(2025, 4, 1)
# the columns of a row that a correction changes (never part of the natural key)
CORRECTABLE = {"teilnehmende": 4, "anwesenheit": 2, "aktivitaeten": 3, "ergebnisse": 4,
               "verbleib": 2}  # fmt: skip
NEW_VALUE = {"teilnehmende": "Coach C", "anwesenheit": "unentschuldigt", "aktivitaeten": "7",
             "ergebnisse": "20", "verbleib": "arbeitslos"}  # fmt: skip
KEY_WIDTH = {"teilnehmende": 2, "anwesenheit": 2, "aktivitaeten": 3, "ergebnisse": 3,
             "verbleib": 2}  # fmt: skip


@dataclasses.dataclass
class Night:
    load_date: dt.date
    files: dict[str, list[str]]  # kind -> CSV lines (header added when written)
    retractions: list[str]  # attendance keys ("kundennummer;datum") retracted tonight
    again: bool  # the previous night's files are delivered once more (duplicates)
    retention_today: dt.date | None  # retention runs after the load, as of this day


@st.composite
def histories(draw) -> list[Night]:
    files = draw(programmes())
    count = draw(st.integers(2, 4))
    nights = []
    for _ in range(count):
        gap = draw(st.integers(20, 240))
        day = (nights[-1].load_date if nights else FIRST_NIGHT) + dt.timedelta(days=gap)
        nights.append(Night(day, {kind: [] for kind in files}, [], False, None))
    # each person's rows arrive on one or two nights: on the others she is not delivered
    # at all, and only the as-of date moves her facts (a running participation ages)
    persons = sorted({line.split(";")[0] for lines in files.values() for line in lines})
    when = {
        person: sorted(draw(st.sets(st.integers(0, count - 1), min_size=1, max_size=2)))
        for person in persons
    }
    for kind, lines in files.items():
        for line in _dedupe(kind, lines):
            nights[draw(st.sampled_from(when[line.split(";")[0]]))].files[kind].append(line)
    for number, night in enumerate(nights[1:], start=1):
        earlier = [
            (kind, line)
            for before in nights[:number]
            for kind, lines in before.files.items()
            for line in lines
        ]
        for kind, line in draw(st.lists(st.sampled_from(earlier), max_size=4)) if earlier else []:
            fields = line.split(";")
            fields[CORRECTABLE[kind]] = NEW_VALUE[kind]
            night.files[kind].append(";".join(fields))
        sessions = [line for kind, line in earlier if kind == "anwesenheit"]
        if sessions:
            for line in draw(st.lists(st.sampled_from(sessions), max_size=2, unique=True)):
                night.retractions.append(";".join(line.split(";")[:2]))
        night.again = draw(st.booleans())
        if draw(st.integers(0, 3)) == 0:
            night.retention_today = night.load_date + dt.timedelta(days=draw(st.integers(0, 500)))
    return nights


def _write(folder: Path, night: Night, number: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (dt.date(2030, 1, 1) + dt.timedelta(days=number)).strftime("%Y%m%d")
    paths = []
    for kind, lines in night.files.items():
        # a correction and the row it corrects may arrive in one night: one line per key
        lines = _dedupe(kind, list(reversed(lines)))
        if lines:
            path = folder / f"{kind}_{stamp}.csv"
            path.write_text("\n".join([HEADERS[kind], *lines]) + "\n", encoding="utf-8")
            paths.append(path)
    if night.retractions:
        path = folder / f"anwesenheit_storno_{stamp}.csv"
        lines = [f"{key};;;ja" for key in night.retractions]
        header = HEADERS["anwesenheit"] + ";storno"
        path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[str]:
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where schema_name in (select unnest($schemas::varchar[])) order by 1",
        {"schemas": list(schemas)},
    ).fetchall()
    return [row[0] for row in rows]


def _content(path: Path, schemas: tuple[str, ...], leave_out=frozenset()) -> dict:
    """Every table's rows in a fixed order (DuckDB's own sort over all columns)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        frames = {}
        for table in _tables(con, schemas):
            frame = con.execute(f"select * from {table} order by all").df()
            frames[table] = frame.drop(columns=[c for c in frame if c in leave_out])
        return frames
    finally:
        con.close()


def assert_same_content(incremental: Path, full: Path) -> None:
    """Raw rows, staging, marts and the analyst tables of two builds are the same."""
    schemas = ("raw", "staging", "marts")
    for source, leave_out in ((lambda p: p, set()), (analyst.path_for, {"built_at"})):
        want = _content(source(full), schemas + ("main",), leave_out)
        got = _content(source(incremental), schemas + ("main",), leave_out)
        assert list(got) == list(want)
        for table, frame in want.items():
            pd.testing.assert_frame_equal(
                got[table].reset_index(drop=True),
                frame.reset_index(drop=True),
                check_exact=False,
                rtol=1e-9,
                obj=table,
            )


def _full_build_beside(config, published: dict) -> Path:
    """A full build from the same raw store and load date, not published."""
    load_date = dt.date.fromisoformat(published["load_date"])
    built = warehouse.build(config, f"{published['run_id']}-full", [], load_date, full=True)
    return built.path


HISTORIES = settings(  # three histories of up to four nights, each night built twice
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # each example is several loads: no shrinking
)


@pytest.mark.slow
@HISTORIES
@given(histories())
def test_every_night_built_incrementally_equals_the_full_build(nights):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = dataclasses.replace(make_settings(root / "home"), pseudonym_key_env=TEST_KEY)
        modes = []
        for number, night in enumerate(nights):
            paths = _write(root / f"night-{number}", night, number)
            deliver(config, *paths)
            if night.again and number:
                deliver(config, *sorted((root / f"night-{number - 1}").iterdir()))
            run, _ = pipeline.run_once(config, night.load_date)
            assert run["status"] == "published", run
            modes.append(run["build_mode"])
            published = {**run, "load_date": night.load_date.isoformat()}
            full = _full_build_beside(config, published)
            assert_same_content(warehouse.current_path(config), full)
            warehouse.discard(full)
            if night.retention_today:
                deleted = retention.run(config, night.retention_today)
                if deleted["persons_deleted"]:
                    modes.append("retention")
        # the first night builds in full, every later one incrementally (retention builds
        # in full: a copy would keep the deleted rows in its free blocks)
        nightly = [m for m in modes if m != "retention"]
        assert nightly == [warehouse.FULL] + [warehouse.INCREMENTAL] * (len(nightly) - 1)


def test_a_changed_definition_or_full_asks_for_a_full_build(settings, tmp_path):
    """The fingerprint: a changed SQL file makes the next build full by itself, and
    ``full=True`` (``kohorte load --full``) always does; otherwise nights are incremental."""
    from conftest import FIXTURES, load

    deliver(settings, *sorted((FIXTURES / "kpi").glob("*.csv")))
    assert load(settings, dt.date(2026, 6, 30))["build_mode"] == warehouse.FULL
    run, _ = pipeline.run_once(settings, dt.date(2026, 7, 1))
    assert (run["build_mode"], run["build_reason"]) == (warehouse.INCREMENTAL, "")
    run, _ = pipeline.run_once(settings, dt.date(2026, 7, 2), full=True)
    assert (run["build_mode"], run["build_reason"]) == (
        warehouse.FULL,
        "a full build was asked for",
    )
    changed = tmp_path / "sql"
    shutil.copytree(Path(warehouse.SQL_DIR), changed)
    mart = changed / "marts" / "monatszahlen.sql"
    mart.write_text(mart.read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
    built = warehouse.build(settings, "probe", [], dt.date(2026, 7, 3), sql_dir=changed)
    assert built.mode == warehouse.FULL
    assert built.reason == "the contract, the SQL, the settings or the pseudonym key changed"
    warehouse.discard(built.path)
    other_key = dataclasses.replace(settings, pseudonym_key_env="another key")
    built = warehouse.build(other_key, "probe", [], dt.date(2026, 7, 3))
    assert built.mode == warehouse.FULL
    warehouse.discard(built.path)

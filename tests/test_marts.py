"""Unit tests of single SQL models on a few hand-written rows (dbt's ``unit_tests`` style):
one model's SQL, as the build renders it, run on just the tables it reads, against rows
computed by hand. Faster and more pointed than a full load; the full loads in
test_kpis.py and test_reference.py check that the models fit together."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kohorte.build import warehouse
from kohorte.define.contract import KINDS
from kohorte.store.db import SQL, sql_files

D = dt.date


def _model(layer: str, name: str) -> str:
    return warehouse.render(sql_files(SQL / layer)[name])


def _staging(kind: str) -> str:
    return warehouse.staging_tables()[list(KINDS).index(kind)]


@pytest.fixture
def con():
    con = duckdb.connect()
    for schema in warehouse.SCHEMAS:
        con.execute(f"create schema {schema}")
    yield con
    con.close()


def _given(con, table: str, columns: str, rows: list[tuple]) -> None:
    con.execute(f"create table {table} ({columns})")
    if rows:
        marks = ", ".join("?" for _ in rows[0])
        con.executemany(f"insert into {table} values ({marks})", rows)


def test_fenster_gives_each_participation_its_windows(con):
    """Person a: a closed participation and, 30 days later, a running one; person b: a
    participation whose next entry comes 10 days after exit, which cuts the outcome and
    follow-up windows of the first. As of 30.06.2026."""
    _given(con, "meta.build", "as_of date", [(D(2026, 6, 30),)])
    _given(
        con,
        "staging.stg_teilnehmende",
        "pid varchar, eintritt date, austritt date",
        [
            ("a", D(2026, 1, 5), D(2026, 2, 27)),
            ("a", D(2026, 3, 30), None),
            ("b", D(2026, 1, 12), D(2026, 3, 6)),
            ("b", D(2026, 3, 16), D(2026, 5, 8)),
        ],
    )
    con.execute(_model("marts", "fenster"))
    got = con.execute(
        "select pid, eintritt, termine_bis, ergebnisse_bis, verbleib_von, verbleib_bis "
        "from marts.fenster order by pid, eintritt"
    ).fetchall()
    assert got == [
        # closed: sessions to exit; outcomes to exit + 28 (27.03.), before the next entry
        ("a", D(2026, 1, 5), D(2026, 2, 27), D(2026, 3, 27), D(2026, 7, 27), D(2026, 3, 29)),
        # running: sessions and outcomes to the as-of date; no exit, no follow-up window
        ("a", D(2026, 3, 30), D(2026, 6, 30), D(2026, 6, 30), None, D(2026, 6, 30)),
        # the next entry on 16.03. ends every window of the first on 15.03.
        ("b", D(2026, 1, 12), D(2026, 3, 6), D(2026, 3, 15), D(2026, 8, 3), D(2026, 3, 15)),
        # exit 08.05.: outcomes to 05.06.; follow-up from 05.10., cut at the as-of date
        ("b", D(2026, 3, 16), D(2026, 5, 8), D(2026, 6, 5), D(2026, 10, 5), D(2026, 6, 30)),
    ]


def test_staging_keeps_the_latest_delivery_per_key_and_drops_retractions(con):
    """Three deliveries of sessions: the second corrects one row, the third retracts
    another; a key delivered once stays as it was."""
    _given(
        con,
        "raw.anwesenheit",
        "delivery_id varchar, line bigint, pid varchar, datum date, status varchar, "
        "stunden decimal(4, 2), storno boolean",
        [
            ("r1-00001", 2, "a", D(2026, 2, 2), "anwesend", 3, None),
            ("r1-00001", 3, "a", D(2026, 2, 4), "anwesend", 3, None),
            ("r1-00001", 4, "b", D(2026, 2, 2), "anwesend", 3, None),
            ("r2-00001", 2, "a", D(2026, 2, 4), "entschuldigt", 0, False),
            ("r3-00001", 2, "b", D(2026, 2, 2), None, None, True),
        ],
    )
    con.execute(_staging("anwesenheit"))
    got = con.execute(
        "select pid, datum, status, stunden::double, delivery_id from staging.stg_anwesenheit "
        "order by pid, datum"
    ).fetchall()
    assert got == [
        ("a", D(2026, 2, 2), "anwesend", 3.0, "r1-00001"),
        ("a", D(2026, 2, 4), "entschuldigt", 0.0, "r2-00001"),
    ]
    columns = [row[0] for row in con.execute("describe staging.stg_anwesenheit").fetchall()]
    assert "storno" not in columns and "recency" not in columns


def test_a_check_returns_exactly_the_offending_rows(con):
    """``assert_austritt_not_before_eintritt``: an exit before its entry is the only row."""
    _given(
        con,
        "marts.teilnahmen",
        "teilnahme_id varchar, eintritt date, austritt date",
        [
            ("a-20260105", D(2026, 1, 5), D(2026, 2, 27)),
            ("b-20260302", D(2026, 3, 2), D(2026, 3, 1)),
            ("c-20260302", D(2026, 3, 2), None),
            ("d-20260302", D(2026, 3, 2), D(2026, 3, 2)),  # a one-day participation is fine
        ],
    )
    check = sql_files(SQL / "checks")["assert_austritt_not_before_eintritt"]
    rows = con.execute(check.strip().rstrip(";")).fetchall()
    assert rows == [("b-20260302", D(2026, 3, 2), D(2026, 3, 1))]


def test_ereignisse_gives_each_event_to_the_participation_that_owns_it(con):
    """marts.fenster's windows decide: a session on the day of the next entry belongs to the
    new participation, an outcome 20 days after exit to the old one, a session between two
    participations to none; hours count up to the session length; of two integrations in
    one month only the first is a K2 integration."""
    _given(con, "meta.build", "as_of date, session_hours decimal(4, 2)", [(D(2026, 6, 30), 3)])
    _given(
        con,
        "marts.fenster",
        "teilnahme_id varchar, pid varchar, eintritt date, termine_bis date, "
        "ergebnisse_bis date, verbleib_von date, verbleib_bis date",
        [
            ("a-1", "a", D(2026, 1, 5), D(2026, 2, 27), D(2026, 3, 27), D(2026, 7, 27),
             D(2026, 3, 29)),
            ("a-2", "a", D(2026, 3, 30), D(2026, 6, 30), D(2026, 6, 30), None, D(2026, 6, 30)),
        ],
    )  # fmt: skip
    _given(
        con,
        "staging.stg_anwesenheit",
        "pid varchar, datum date, status varchar, stunden decimal(4, 2)",
        [
            ("a", D(2026, 2, 27), "anwesend", 4),  # last day of a-1, 4 h on a 3 h session
            ("a", D(2026, 3, 16), "anwesend", 3),  # between the two: nobody's
            ("a", D(2026, 3, 30), "anwesend", 3),  # first day of a-2
        ],
    )
    _given(con, "staging.stg_aktivitaeten", "pid varchar, datum date, art varchar, anzahl int", [])
    _given(
        con,
        "staging.stg_ergebnisse",
        "pid varchar, datum date, art varchar, wochenstunden decimal(4, 1)",
        [
            ("a", D(2026, 3, 19), "svb_beschaeftigung", 30),  # 20 days after exit: a-1
            ("a", D(2026, 3, 26), "ausbildung", None),  # same month, also a-1, not K2
            ("a", D(2026, 4, 6), "minijob", 10),  # a-2, a job upon leaving, no integration
        ],
    )
    _given(con, "staging.stg_verbleib", "pid varchar, stichtag date, status varchar", [])
    con.execute(_model("marts", "ereignisse"))
    got = con.execute(
        "select datum, quelle, art, teilnahme_id, stunden_angerechnet, ist_integration, "
        "ist_beschaeftigung, k2_integration from marts.ereignisse order by datum"
    ).fetchall()
    assert got == [
        (D(2026, 2, 27), "anwesenheit", "anwesend", "a-1", 3.0, False, False, False),
        (D(2026, 3, 16), "anwesenheit", "anwesend", None, 3.0, False, False, False),
        (D(2026, 3, 19), "ergebnis", "svb_beschaeftigung", "a-1", None, True, True, True),
        (D(2026, 3, 26), "ergebnis", "ausbildung", "a-1", None, True, False, False),
        (D(2026, 3, 30), "anwesenheit", "anwesend", "a-2", 3.0, False, False, False),
        (D(2026, 4, 6), "ergebnis", "minijob", "a-2", None, False, True, False),
    ]


EVENT_COLUMNS = (
    "teilnahme_id varchar, datum date, quelle varchar, art varchar, "
    "stunden_angerechnet decimal(5, 2), wert integer, k2_integration boolean"
)


def _months_back(day: dt.date, n: int) -> dt.date:
    """``day`` n calendar months earlier, the day clamped to the month's end (as DuckDB)."""
    month = day.month - 1 - n
    year, month = day.year + month // 12, month % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _parts(con, as_of: dt.date, days: list[dt.date]) -> list[tuple]:
    con.execute("drop table if exists meta.build")
    con.execute("drop table if exists marts.ereignisse")
    _given(con, "meta.build", "as_of date", [(as_of,)])
    rows = [("t1", day, "anwesenheit", "anwesend", 3, None, False) for day in days]
    _given(con, "marts.ereignisse", EVENT_COLUMNS, rows)
    con.execute(_model("marts", "teilnahme_monate"))
    return con.execute(
        "select monat, abschnitt_ende, termine from marts.teilnahme_monate order by all"
    ).fetchall()


def test_teilnahme_monate_cuts_each_month_at_the_as_of_day(con):
    """As of 15.03.2026 a month's sessions fall in two parts, to the 15th and after it; in
    February 2028 (29 days) as of 29.02.2028 the second part is empty."""
    days = [D(2025, 3, 15), D(2025, 3, 16), D(2025, 3, 31), D(2026, 3, 1)]
    assert _parts(con, D(2026, 3, 15), days) == [
        (D(2025, 3, 1), D(2025, 3, 15), 1),  # the 12 months' baseline ends here …
        (D(2025, 3, 1), D(2025, 3, 31), 2),  # … and the current 12 months start on the 16th
        (D(2026, 3, 1), D(2026, 3, 15), 1),
    ]
    assert _parts(con, D(2028, 2, 29), [D(2027, 2, 28), D(2028, 2, 29)]) == [
        (D(2027, 2, 1), D(2027, 2, 28), 1),
        (D(2028, 2, 1), D(2028, 2, 29), 1),
    ]


@given(
    as_of=st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)),
    offsets=st.lists(st.integers(0, 800), min_size=1, max_size=30),
    start_month=st.integers(1, 12),
)
@settings(deadline=None, max_examples=60)
def test_every_kpi_window_lies_on_whole_parts_of_months(as_of, offsets, start_month):
    """Whatever the as-of date (a 31st, 29.02.) and the programme year's start month, a
    part of a month lies wholly inside or outside each KPI window: the 12 months to the
    as-of date and to a year before it, and the programme year to either. So counting a
    part by its last day counts exactly the sessions whose own date is in the window."""
    days = [as_of - dt.timedelta(days=n) for n in offsets]
    with duckdb.connect() as con:
        for schema in warehouse.SCHEMAS:
            con.execute(f"create schema {schema}")
        parts = _parts(con, as_of, days)
    for stichtag in (as_of, _months_back(as_of, 12)):
        year = stichtag.year - (stichtag.month < start_month)
        for start in (_months_back(stichtag, 12), dt.date(year, start_month, 1) - D.resolution):
            by_day = sum(start < day <= stichtag for day in days)
            by_part = sum(n for _, end, n in parts if start < end <= stichtag)
            assert by_part == by_day, (stichtag, start)

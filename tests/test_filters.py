"""The shared filters: URL form and the SQL clause, against the hand-computed fixture."""

from __future__ import annotations

import datetime as dt

import pytest

from kohorte.build import warehouse
from kohorte.define.dimensions import Filters
from kohorte.read import queries


def test_url_round_trip():
    chosen = Filters(von=dt.date(2026, 1, 1), standort="Süd", lzb=False, kohorte="2026-01")
    assert Filters.from_query(chosen.to_query()) == chosen
    assert chosen.to_query()["lzb"] == "nein"
    assert Filters.from_query({}) == Filters()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), 8),
        (Filters(geschlecht="w"), 4),  # P1, P3, P6, P8
        (Filters(lzb=True), 5),  # P1, P2, P4, P6, P7
        (Filters(coach="Jörg Weiß"), 4),  # P3, P4, P6, P8
        (Filters(kohorte="2026-01"), 3),  # P1, P2, P3
        (Filters(von=dt.date(2026, 1, 1), bis=dt.date(2026, 2, 28)), 4),
        (Filters(geschlecht="w", lzb=True), 2),  # P1, P6
    ],
)
def test_filters_select_the_expected_participations(kpi_settings, filters, expected):
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    try:
        frame = queries.run(con, "kohorten__teilnehmende", filters)
        funnel = queries.run(con, "kohorten__trichter", filters)
    finally:
        con.close()
    assert len(frame) == expected
    assert int(funnel["eintritt"].iloc[0]) == expected


def test_kpis_of_a_selection_come_from_the_same_definition(kpi_settings):
    """Women only (P1, P3, P6, P8), hand-counted from tests/fixtures/kpi/README.md."""
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    try:
        women = queries.run(con, "ueberblick__kennzahlen", Filters(geschlecht="w"))
        everyone = queries.run(con, "ueberblick__kennzahlen")
        mart = con.execute(
            "select kennzahl, zaehler, nenner from marts.kennzahlen where periode = 'aktuell'"
        ).fetchall()
    finally:
        con.close()
    kpi = women.set_index("kennzahl")
    assert kpi.loc["aktive_teilnehmende", "zaehler"] == 0  # P5 (d) is the only active one
    assert kpi.loc["eintritte_12m", "zaehler"] == 3  # P1, P3, P8
    assert (kpi.loc["integrationsquote", "zaehler"], kpi.loc["integrationsquote", "nenner"]) == (
        2,
        3,
    )  # closed windows P1, P3, P6; integrated P1, P3
    assert kpi.loc["in_arbeit_seit_start", "zaehler"] == 3  # P1, P3, P8 of 4 women
    # without filters the query equals the published mart
    unfiltered = {
        (row.kennzahl, float(row.zaehler), None if row.nenner is None else float(row.nenner))
        for row in everyone.itertuples()
    }
    published = {(k, float(z), None if n is None else float(n)) for k, z, n in mart}
    assert _without_nan(unfiltered) == _without_nan(published)


def _without_nan(rows: set[tuple]) -> set[tuple]:
    return {(k, z, None if n is None or n != n else n) for k, z, n in rows}

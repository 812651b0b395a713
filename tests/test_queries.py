"""Named queries: the whole programme read from the build's stored tables gives exactly
what the macros compute (``kohorte.read.queries.MATERIALISED``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kohorte.build import warehouse
from kohorte.define import periods
from kohorte.define.dimensions import ARGS, Filters
from kohorte.read import queries

USING_STORED = [
    name
    for name in queries.names()
    if any(call in queries.query_text(name) for call in queries.MATERIALISED)
]
PARAMS = {"ueberblick__monatszahlen": {"start": dt.date(2020, 1, 1)}}
PARAMS["ueberblick__monatsquoten"] = PARAMS["ueberblick__monatszahlen"]
# each query once with its parameters, the KPIs for each of their periods
CASES = [
    (name, params)
    for name in USING_STORED
    for params in (
        [p.params() for p in periods.PERIODS]
        if name == "ueberblick__kennzahlen"
        else [PARAMS.get(name, {})]
    )
]


def test_the_overview_reads_stored_tables() -> None:
    assert {"ueberblick__kennzahlen", "ueberblick__monatszahlen"} <= set(USING_STORED)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_stored_whole_programme_equals_the_macro(kpi_settings, name: str, params) -> None:
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    try:
        stored = queries.run(con, name, Filters(), **params)
        sql = queries.query_text(name).replace("{filter_args}", ARGS).replace("{span_args}", "")
        computed = con.execute(sql, {**Filters().params(), **params}).df()
    finally:
        con.close()
    assert len(stored) > 0
    pd.testing.assert_frame_equal(stored, computed)


def test_a_filter_still_computes(kpi_settings) -> None:
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    try:
        everyone = queries.run(con, "ueberblick__kennzahlen", Filters())
        nobody = queries.run(con, "ueberblick__kennzahlen", Filters(standort="gibt-es-nicht"))
    finally:
        con.close()
    active = "aktive_teilnehmende"
    assert everyone.set_index("kennzahl").loc[active, "zaehler"] > 0
    assert nobody.set_index("kennzahl").loc[active, "zaehler"] == 0

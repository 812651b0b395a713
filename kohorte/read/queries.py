"""Named queries (``sql/queries/<topic>__<question>.sql``) shared by dashboard and analysts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from functools import cache

import duckdb
import pandas as pd

from kohorte.config import load_settings
from kohorte.define import attention, periods
from kohorte.define.dimensions import ARGS, Filters
from kohorte.define.kpis import monthly_rates_sql
from kohorte.read.access import PARTICIPANT, AccessDenied, Principal
from kohorte.store.db import SQL, sql_files

# The whole programme (no filter set) is what the team lead opens every day, and the
# build has computed it already: each of these macros, called with every argument null,
# is stored as the table beside it (sql/marts/). A filtered view computes.
MATERIALISED = {
    "marts.kennzahlen_fuer({filter_args}{span_args})": "marts.kennzahlen",
    "marts.monatszahlen_fuer({filter_args})": "marts.monatszahlen",
}


@cache
def _query_files() -> dict[str, str]:
    return sql_files(SQL / "queries")


@cache
def query_text(name: str) -> str:
    """The SQL of a named query."""
    if name not in _query_files():
        raise KeyError(f"Unbekannte Abfrage: {name}")
    # the monthly rates come from the KPI catalogue, like the KPIs' own SQL, and the
    # attention list's measures from its rules
    sql = _query_files()[name].replace("{monthly_rates}", monthly_rates_sql())
    for placeholder, generated in attention.query_sql().items():
        sql = sql.replace("{" + placeholder + "}", generated)
    return sql


@cache
def access_of(name: str) -> str:
    """The query's access class from its first line, ``-- access: <class>``."""
    match = re.match(r"-- access: (\w+)", query_text(name))
    if match is None:
        raise ValueError(f"Abfrage {name} sagt nicht, wer sie sehen darf (-- access: ...)")
    return match.group(1)


def names() -> list[str]:
    """All named queries."""
    return list(_query_files())


def run(
    con: duckdb.DuckDBPyConnection,
    name: str,
    filters: Filters | None = None,
    principal: Principal | None = None,
    span: tuple[dt.date, dt.date] | None = None,
    **params: object,
) -> pd.DataFrame:
    """Run a named query with DuckDB parameters (never string formatting); small results only.

    With a ``principal`` (every dashboard request has one) the query's access class must
    be allowed for its role, and a coach's participant-level queries are narrowed to the
    own caseload whatever the filters say; a person asked for by ``pid`` must be in it.
    Without one (command line, nightly flow) nothing is narrowed.

    A query reads a selection with ``marts.auswahl({filter_args})`` (or a macro built on
    it); ``{filter_args}`` becomes the filters as macro arguments
    (``kohorte.define.dimensions.ARGS``), and the filter values always travel as parameters. Without
    filters, a macro the build has stored for the whole programme is read from its table
    (``MATERIALISED``). A KPI query given a ``span`` (first and last day) computes that
    calendar span and the same span a year earlier (``periods.SPAN``).
    """
    sql = query_text(name)
    if principal is not None:
        principal.require(access_of(name))
        if principal.role == "coach" and access_of(name) == PARTICIPANT:
            filters = replace(filters or Filters(), coach=principal.coach)
            if "pid" in params and not in_caseload(con, str(params["pid"]), principal):
                raise AccessDenied("Diese Person gehört nicht zur eigenen Fallzuständigkeit")
        # the staff gate belongs to the dimension: no query can forget it
        principal.gate(filters or Filters(), load_settings().coach_views)
    filters = filters or Filters()
    if span is not None:  # a calendar span (periods.SPAN): computed, never stored
        sql = sql.replace("{span_args}", ", span_start := $span_start, span_end := $span_end")
        params = {**params, **periods.SPAN.params(), "span_start": span[0], "span_end": span[1]}
    elif filters == Filters():
        for call, table in MATERIALISED.items():
            sql = sql.replace(call, table)
    sql = sql.replace("{span_args}", "")
    if "{filter_args}" in sql:
        sql = sql.replace("{filter_args}", ARGS)
        params = {**filters.params(), **params}
    if "$periode" in sql:  # a KPI query: the rolling 12 months unless a period is asked for
        params = {**periods.DEFAULT.params(), **params}
    cursor = con.cursor()  # one connection serves many threads; a cursor each
    try:
        frame = cursor.execute(sql, params or None).df()
    finally:
        cursor.close()
    if principal is not None:
        frame = frame.drop(columns=[c for c in frame.columns if c in principal.hidden_columns])
    return frame


def in_caseload(con: duckdb.DuckDBPyConnection, pid: str, principal: Principal) -> bool:
    """Has the coach ever had this person in a participation?"""
    cursor = con.cursor()
    try:
        rows = cursor.execute(
            "select 1 from marts.teilnahmen where pid = $pid and coach = $coach limit 1",
            {"pid": pid, "coach": principal.coach},
        ).fetchall()
    finally:
        cursor.close()
    return bool(rows)

"""Überblick: headline KPIs with as-of date, monthly trends."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import auth, data, notices, sections, vega
from dashboard.filters import filter_bar
from dashboard.i18n import lang, t
from dashboard.tables import chart_downloads, download_buttons
from kohorte.define.dimensions import Filters
from kohorte.define.kpis import BY_ID, MONTHLY
from kohorte.read import monthly as by_month
from kohorte.read import targets as goals
from kohorte.read.access import CASELOAD


def _label(kpi_id: str) -> str:
    return BY_ID[kpi_id].label(lang())


def trends(selection: Filters) -> None:
    """Monthly charts of the selection for the last 24 months of data."""
    version = data.current_version()
    if version is None:
        return
    as_of = data.build_info(version)["as_of"]
    start = dt.date(as_of.year - 2, as_of.month, 1)
    left, right = st.columns([3, 2])
    with left:
        _entries_exits(version, start, selection)
    with right:
        _monthly_rates(version, start, selection)


def _labels(*keys: str) -> dict[str, str]:
    return {key: t(key) for key in ("month", *keys)}


def _entries_exits(version: str, start: dt.date, selection: Filters) -> None:
    frame = data.monthly(version, start, selection)  # protected in the read layer
    st.subheader(t("monthly_title"))
    chart = vega.show(
        "entries_exits",
        frame,
        _labels("entries", "exits", "count", "active_month_end"),
        lang(),
        width="stretch",
    )
    chart_downloads(chart, "eintritte-austritte", "chart_entries", title=t("monthly_title"))
    st.caption(t("line_is_active") + " · " + t("small_counts", n=data.min_count()))


RATES = tuple(kpi.id for kpi in MONTHLY)


@st.fragment
def _monthly_rates(version: str, start: dt.date, selection: Filters) -> None:
    """One rate by month against the same month a year earlier, provisional months marked;
    only rates whose denominator reaches the threshold leave the server. A fragment: choosing
    another rate redraws this chart alone, not the page."""
    threshold = data.min_count()
    st.subheader(t("rates_title"))
    kennzahl = st.selectbox(
        t("rate_choice"),
        RATES,
        format_func=_label,
        key="rate_choice",
        label_visibility="collapsed",
        placeholder=t("choose"),
    )
    labels = _labels(
        "rate", "this_year", "rolling", "previous_year", "final", "provisional", "status", "count",
        "of", "withheld",
    )  # fmt: skip
    shown, table = data.monthly_rate(version, start, selection, kennzahl, labels, lang())
    labels["rate"] = _label(kennzahl)
    target = data.targets(version)[0].get(kennzahl)
    if target is not None:
        labels["target"] = f"{t('target')} {goals.target_value(target, 'rate', lang())}"
    goal = None if target is None else target.value
    chart = vega.show("monthly_rate", shown, labels, lang(), goal, width="stretch")
    chart_downloads(
        chart,
        f"monatsquote-{kennzahl}",
        "chart_rates",
        title=f"{t('rates_title')}: {labels['rate']}",
    )
    download_buttons(
        table,
        f"monatsquote-{kennzahl}",
        "rates",
        title=f"{t('rates_title')}: {labels['rate']}",
        kinds={t(s): "percent" for s in by_month.SERIES},
    )
    st.caption(t("rates_note", n=threshold))


version = data.page_version()
selection = filter_bar(version)
notices.last_night_notice(version)  # the last load's rejected deliveries
if not auth.require_principal().may(CASELOAD):  # a coach has it on her own start page
    sections.attention(version, selection)
sections.kpi_cards(selection)
trends(selection)

"""Überblick: headline KPIs with as-of date, monthly trends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import charts, data
from dashboard.filters import filter_bar
from dashboard.i18n import lang, t
from dashboard.tables import chart_downloads, download_buttons
from kohorte import disclosure, fmt
from kohorte.filters import Filters
from kohorte.kpis import BY_ID

CARDS_PER_ROW = 4
CARD_HEIGHT = 180  # equal cards, with room for value, trend and detail line


def _label(kpi_id: str) -> str:
    kpi = BY_ID[kpi_id]
    return kpi.label_de if lang() == "de" else kpi.label_en


def _value(row: dict, threshold: int) -> str:
    """The card's value, or the small-count label when it must not be shown."""
    if row["einheit"] == "days":
        if not row["nenner"]:
            return "–"
        if disclosure.is_small(row["nenner"], threshold):
            return f"<{threshold}"
        if row["zaehler"] is None or pd.isna(row["zaehler"]):
            return t("not_reached")
        return t("days_value", n=fmt.number(row["zaehler"], lang()))
    if row["einheit"] == "rate":
        rate = disclosure.protect_rate(row["zaehler"], row["nenner"], threshold)
        return fmt.percent(rate, lang())
    if row["einheit"] == "ratio":
        ratio = disclosure.protect_rate(row["zaehler"], row["nenner"], threshold)
        return fmt.number(ratio, lang(), 1)
    if disclosure.is_small(row["zaehler"], threshold):
        return f"<{threshold}"
    return fmt.number(row["zaehler"], lang())


# For these KPIs a rise is bad news; st.metric shows their increase in red.
LOWER_IS_BETTER = {"abbruchquote", "unentschuldigt_quote", "tage_bis_integration"}


def _signed(change: float, suffix: str, places: int = 0) -> str:
    """A change with its sign, rounded as shown: "+3", "-1,2 Pp.", "±0"."""
    change = round(float(change), places)
    text = fmt.number(abs(change), lang(), places)
    sign = "±" if change == 0 else ("+" if change > 0 else "-")
    return f"{sign}{text} {suffix}"


def _delta(row: dict, threshold: int) -> str | None:
    """Change against the same window a year earlier, when both values may be shown and the
    programme already ran through the whole earlier window."""
    if not row["vorjahr_vollstaendig"]:
        return None
    if row["einheit"] == "days":
        now, before = row["zaehler"], row["vorjahr_zaehler"]
        observed = (row["nenner"], row["vorjahr_nenner"])
        if any(disclosure.is_small(n, threshold) for n in observed):
            return None
        if pd.isna(now) or pd.isna(before):
            return None
        return _signed(now - before, f"{t('days_delta')} {t('vs_last_year')}")
    if row["einheit"] in ("rate", "ratio"):
        now = disclosure.protect_rate(row["zaehler"], row["nenner"], threshold)
        before = disclosure.protect_rate(row["vorjahr_zaehler"], row["vorjahr_nenner"], threshold)
        if now is None or before is None:
            return None
        if row["einheit"] == "ratio":
            return _signed(now - before, t("vs_last_year"), 1)
        return _signed((now - before) * 100, f"{t('points')} {t('vs_last_year')}", 1)
    now, before = row["zaehler"], row["vorjahr_zaehler"]
    if before is None or any(disclosure.is_small(v, threshold) for v in (now, before)):
        return None
    return _signed(now - before, t("vs_last_year"))


def _window(row: dict) -> str:
    return f"{fmt.date(row['fenster_von'], lang())} – {fmt.date(row['fenster_bis'], lang())}"


def _help(row: dict) -> str:
    kpi = BY_ID[row["kennzahl"]]
    parts = [
        f"**{t('window')}:** {_window(row)} ({kpi.text('window', lang())})",
        f"**{t('numerator')}:** {kpi.text('numerator', lang())}",
    ]
    if kpi.unit in ("rate", "ratio"):
        parts.append(f"**{t('denominator')}:** {kpi.text('denominator', lang())}")
    return "  \n".join(parts)


@st.fragment(run_every="60s")
def kpi_cards(selection: Filters) -> None:
    """KPI cards; refreshed every minute so a new publish shows without reloading the page."""
    version = data.current_version()
    if version is None:
        st.info(t("no_data"))
        return
    info = data.build_info(version)
    st.caption(
        f"{t('as_of')}: **{fmt.date(info['as_of'], lang())}** · {t('last_load')}: "
        f"{fmt.datetime(info['built_at'], lang())}"
    )
    rows = data.kpis(version, selection).to_dict("records")
    threshold = data.min_count()
    _cards([r for r in rows if BY_ID[r["kennzahl"]].section == "kern"], threshold)
    st.subheader(t("more_kpis"))
    _cards([r for r in rows if BY_ID[r["kennzahl"]].section != "kern"], threshold)
    download_buttons(
        pd.DataFrame(
            {
                t("kpi"): [_label(row["kennzahl"]) for row in rows],
                t("value"): [_value(row, threshold) for row in rows],
                t("window"): [_window(row) for row in rows],
            }
        ),
        "kennzahlen",
        "kpis",
    )
    if info["warnungen"]:
        st.warning(t("warnings", n=int(info["warnungen"])))


def _cards(rows: list[dict], threshold: int) -> None:
    """KPI cards, four to a row, each with its detail line inside the card."""
    for start in range(0, len(rows), CARDS_PER_ROW):
        cards = rows[start : start + CARDS_PER_ROW]
        for column, row in zip(st.columns(CARDS_PER_ROW), cards, strict=False):
            detail = None
            shown = disclosure.protect_rate(row["zaehler"], row["nenner"], threshold)
            if row["einheit"] == "days":
                detail = (
                    None
                    if disclosure.is_small(row["nenner"], threshold)
                    else t("observed", n=fmt.number(row["nenner"], lang()))
                )
            elif row["einheit"] == "rate" and shown is None:
                detail = t("suppressed", n=threshold)
            elif row["einheit"] == "rate" and row["nenner"]:
                detail = (
                    f"{fmt.number(row['zaehler'], lang())} {t('of')} "
                    f"{fmt.number(row['nenner'], lang())}"
                )
            card = column.container(border=True, height=CARD_HEIGHT)
            delta = _delta(row, threshold)
            unchanged = delta is not None and delta.startswith("±")
            if unchanged:
                colour = "off"
            elif row["kennzahl"] in LOWER_IS_BETTER:
                colour = "inverse"
            else:
                colour = "normal"
            card.metric(
                _label(row["kennzahl"]),
                _value(row, threshold),
                delta=delta,
                delta_color=colour,
                delta_arrow="off" if unchanged else "auto",
                help=_help(row),
            )
            card.caption(detail or "&nbsp;")


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
    frame = data.monthly(version, start, selection).set_index("monat")
    counts = ["eintritte", "austritte", "aktive_am_monatsende"]
    # monthly counts add up to the 12-month cards: protect them as columns with totals
    hidden = disclosure.protect_table(
        frame[counts], data.min_count(), row_totals=False, column_totals=True
    ).hidden
    frame = frame[counts].astype("Float64").mask(hidden).reset_index()
    st.subheader(t("monthly_title"))
    chart = charts.entries_exits(
        frame, _labels("entries", "exits", "count", "active_month_end"), lang()
    )
    st.altair_chart(chart, width="stretch")
    chart_downloads(chart, "eintritte-austritte", "chart_entries")
    st.caption(t("line_is_active") + " · " + t("small_counts", n=data.min_count()))


RATES = (
    "integrationsquote",
    "beschaeftigt_bei_austritt",
    "verbleibsquote_6m",
    "anwesenheitsquote",
    "abbruchquote",
    "unentschuldigt_quote",
)


def _monthly_rates(version: str, start: dt.date, selection: Filters) -> None:
    """One rate by month against the same month a year earlier, provisional months marked;
    only rates whose denominator reaches the threshold leave the server."""
    threshold = data.min_count()
    st.subheader(t("rates_title"))
    kennzahl = st.selectbox(
        t("rate_choice"), RATES, format_func=_label, key="rate_choice", label_visibility="collapsed"
    )
    frame = data.monthly_rates(version, start, selection)
    frame = frame[frame["kennzahl"] == kennzahl]
    rows = []
    for row in frame.itertuples():
        for series, numerator, denominator, provisional in (
            ("this_year", row.zaehler, row.nenner, row.vorlaeufig),
            ("previous_year", row.vorjahr_zaehler, row.vorjahr_nenner, row.vorjahr_vorlaeufig),
        ):
            rate = disclosure.protect_rate(numerator, denominator, threshold)
            if rate is None:
                continue
            rows.append(
                {
                    "monat": row.monat,
                    "reihe": t(series),
                    "quote": rate,
                    "stand": t("provisional" if provisional else "final"),
                }
            )
    shown = pd.DataFrame(rows, columns=["monat", "reihe", "quote", "stand"])
    labels = _labels("rate", "this_year", "previous_year", "final", "provisional", "status")
    labels["rate"] = _label(kennzahl)
    chart = charts.monthly_rate(shown, labels, lang())
    st.altair_chart(chart, width="stretch")
    chart_downloads(chart, f"monatsquote-{kennzahl}", "chart_rates")
    table = shown.pivot_table(
        index="monat", columns="reihe", values="quote", aggfunc="first"
    ).reset_index()
    status = shown[shown["reihe"] == t("this_year")].set_index("monat")["stand"]
    table[t("status")] = table["monat"].map(status)
    table = table.rename(columns={"monat": t("month")})
    download_buttons(table, f"monatsquote-{kennzahl}", "rates")
    st.caption(t("rates_note", n=threshold))


version = data.page_version()
selection = filter_bar(version)
kpi_cards(selection)
trends(selection)

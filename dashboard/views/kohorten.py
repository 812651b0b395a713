"""Kohorten: entry cohorts, the cohort triangle, time-to-integration curves, the funnel,
and the participations of the selection."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, data, vega
from dashboard.filters import filter_bar
from dashboard.i18n import lang, t
from dashboard.tables import chart_downloads, download_buttons, show_table
from kohorte.present import charts
from kohorte.read import cohorts, disclosure, export
from kohorte.read.access import PARTICIPANT

STEPS = ["eintritt", "regelmaessig", "bewerbung", "vorstellungsgespraech", "integration"]
LABEL_KEYS = (
    "week", "cohort", "share_integrated", "days_since_entry", "count",
)  # fmt: skip


def _labels(raster: str = "monat") -> dict[str, str]:
    labels = {key: t(key) for key in LABEL_KEYS}
    if raster == "woche":
        labels["cohort"] = t("cohort_week")
    return labels


RASTERS = ("monat", "woche")
WEEK_COHORTS = 26  # the last half year of week cohorts keeps the triangle readable


def _raster() -> str:
    """Cohorts by entry month or ISO entry week, kept in the URL (?raster=woche)."""
    current = st.query_params.get("raster", "monat")
    raster = st.segmented_control(
        t("raster"),
        RASTERS,
        default=current if current in RASTERS else "monat",
        format_func=lambda r: t(f"raster_{r}"),
        key="raster",
    )
    raster = raster or "monat"
    if raster == "monat":
        st.query_params.pop("raster", None)
    else:
        st.query_params["raster"] = raster
    return raster


def _pick_cohort() -> None:
    """A click in the triangle chooses that cohort for the filter (and so the URL and the
    list below); a callback runs before the rerun draws the filter widget."""
    picked = st.session_state["triangle_chart"].selection.get(charts.COHORT_PICK) or []
    if picked and picked[0].get("kohorte"):
        st.session_state["f_cohort"] = picked[0]["kohorte"]
        st.query_params["kohorte"] = picked[0]["kohorte"]


def _cells(version: str, filters, threshold: int, raster: str) -> pd.DataFrame:
    frame = data.cohort_triangle(version, filters, raster)
    if raster == "woche":
        recent = sorted(frame["kohorte"].unique())[-WEEK_COHORTS:]
        frame = frame[frame["kohorte"].isin(recent)]
    return cohorts.triangle(frame, threshold, lang(), t("suppressed", n=threshold))


def _triangle(version: str, filters, threshold: int, raster: str) -> None:
    frame = _cells(version, filters, threshold, raster)
    if raster == "woche" and disclosure.mostly_withheld(frame["anteil"]):
        raster = "monat"  # a grid of "<3" tells nothing: months have larger cells
        frame = _cells(version, filters, threshold, raster)
        st.info(t("weeks_fallback", n=threshold), icon=":material/info:")
    st.subheader(t("triangle_title"))
    if frame.empty:  # a cohort without a finished week yet, or a selection of nobody
        st.markdown("–")
        return
    chart = vega.show(
        "cohort_triangle",
        frame,
        _labels(raster),
        lang(),
        width="stretch",
        on_select=_pick_cohort,
        key="triangle_chart",
    )
    st.caption(t("triangle_pick"))
    chart_downloads(chart, "kohorten-dreieck", "chart_triangle", title=t("triangle_title"))
    # the export: a share as a number (in whole percent, as labelled), a hidden one as "<3"
    cells = frame["anteil"].astype(object).where(frame["anteil"].notna(), frame["text"])
    table = frame.assign(zelle=cells).pivot(index="kohorte", columns="woche", values="zelle")
    weeks = [f"{t('week')} {w}" for w in table.columns]
    table = table.reset_index().set_axis([_labels(raster)["cohort"], *weeks], axis=1)
    kinds = dict.fromkeys(weeks, export.Kind("percent", 0))
    download_buttons(table, "kohorten-dreieck", "triangle", title=t("triangle_title"), kinds=kinds)


def _curves(version: str, filters, raster: str) -> None:
    offered = data.filter_options(version)["kohorten" if raster == "monat" else "wochen"]
    chosen = [filters.kohorte] if filters.kohorte else offered[-6:]
    curves = data.integration_curves(version, tuple([*chosen, "gesamt"]))
    frame = cohorts.curves(curves, chosen, data.min_count(), lang(), t("all_cohorts"))
    st.subheader(t("curves_title"))
    chart = vega.show("integration_curves", frame, _labels(raster), lang(), width="stretch")
    chart_downloads(chart, "integrationsverlauf", "chart_curves", title=t("curves_title"))
    st.caption(t("curves_note"))


def _funnel(version: str, filters, threshold: int) -> None:
    counts = data.funnel(version, filters).iloc[0]
    steps = [(t(f"step_{step}"), int(counts[step])) for step in STEPS]
    reasons = {"small": t("suppressed", n=threshold), "protected": t("protected")}
    rows = cohorts.funnel(steps, threshold, lang(), reasons)
    st.subheader(t("funnel_title"))
    if steps[0][1] == 0:  # nobody entered in the selection: a dash, not a funnel of zeros
        st.markdown("–")
        return
    chart = vega.show("funnel", rows, _labels(), lang(), width="stretch")
    chart_downloads(chart, "trichter", "chart_funnel", title=t("funnel_title"))
    st.caption(t("share_previous"))


def _participants(version: str, selection) -> None:
    show_table(
        data.participations(version, selection),
        {
            "pid": "col_pid",
            "eintritt": "col_entry",
            "austritt": "col_exit",
            "austrittsgrund": "col_exit_reason",
            "coach": "coach",
            "standort": "site",
            "anwesenheit_anteil": "attendance_rate",
            "bewerbungen": "col_applications",
            "vorstellungsgespraeche": "col_interviews",
            "erste_integration_datum": "col_first_integration",
            "erste_integration_art": "col_integration_kind",
        },
        percents={"anwesenheit_anteil"},
        codes={"austrittsgrund", "erste_integration_art"},
    )


version = data.page_version()

selection = filter_bar(version)
threshold = data.min_count()
raster = _raster()
left, right = st.columns([3, 2])
with left:
    _triangle(version, selection, threshold, raster)
with right:
    _funnel(version, selection, threshold)
    _curves(version, selection, raster)

if auth.require_principal().may(PARTICIPANT):  # management sees aggregates only
    st.subheader(t("participants_title"))
    _participants(version, selection)

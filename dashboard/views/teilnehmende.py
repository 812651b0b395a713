"""Teilnehmende: the pseudonymised list of the selection; one person's timeline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, data, vega
from dashboard.filters import filter_bar
from dashboard.i18n import code, lang, t
from dashboard.tables import show_table
from kohorte.define import contract
from kohorte.ops import audit

LIST_COLUMNS = {
    "pid": "col_pid",
    "eintritt": "col_entry",
    "austritt": "col_exit",
    "austrittsgrund": "col_exit_reason",
    "coach": "coach",
    "anwesenheit_anteil": "attendance_rate",
    "bewerbungen": "col_applications",
    "erste_integration_datum": "col_first_integration",
}
CODE_COLUMNS = {"austrittsgrund", "erste_integration_art", "verbleib_status"}
PERSON_COLUMNS = {
    "eintritt": "col_entry",
    "austritt": "col_exit",
    "austrittsgrund": "col_exit_reason",
    "coach": "coach",
    "termine": "col_sessions",
    "termine_anwesend": "col_attended",
    "termine_unentschuldigt": "col_unexcused",
    "erste_integration_datum": "col_first_integration",
    "erste_integration_art": "col_integration_kind",
    "verbleib_status": "col_followup",
}


def _timeline(version: str, pid: str) -> None:
    periods = data.person(version, pid)
    if periods.empty:
        st.warning(t("not_found"))
        return
    if st.session_state.get("viewed") != pid:  # one entry per person opened
        st.session_state["viewed"] = pid
        auth.record(audit.VIEW_PARTICIPANT, pseudonym=pid)
    st.subheader(f"{t('timeline_title')}: {pid}")
    show_table(periods, PERSON_COLUMNS, codes=CODE_COLUMNS)
    events = data.timeline(version, pid).copy()
    events["lane"] = events["quelle"].map(t)
    events["art_label"] = events["art"].map(code)
    bands = periods[["eintritt", "austritt"]].copy()
    bands["ende"] = bands["austritt"].fillna(pd.Timestamp(data.build_info(version)["as_of"]))
    bands["lane"] = t("lane_period")
    labels = {
        key: t(key)
        for key in (
            "lane_period", "anwesenheit", "aktivitaet", "ergebnis", "verbleib",
            "col_entry", "col_exit", "date", "value",
        )
    }  # fmt: skip
    vega.show(
        "timeline",
        events,
        bands[["eintritt", "ende", "lane"]],
        labels,
        [code(c) for c in contract.EVENT_CODES],
        lang(),
        width="stretch",
    )


version = data.page_version()

selection = filter_bar(version)
principal = auth.require_principal()
pid = st.query_params.get("pid")
if principal.finds_by_customer_number:
    search = st.text_input(t("find_person"), type="password", key="find_person")
    if search:
        pid = data.pseudonym_of(search)
        st.query_params["pid"] = pid
        if st.session_state.get("searched") != pid:  # once per search, not per rerun
            st.session_state["searched"] = pid
            auth.record(audit.SEARCH, pseudonym=pid)
else:
    st.caption(t("no_search_role"))

people = data.participations(version, selection)
st.caption(t("people_hint"))
event = show_table(
    people, LIST_COLUMNS, percents={"anwesenheit_anteil"}, select=True, codes=CODE_COLUMNS
)
if event is not None and event.selection.rows:
    pid = people.iloc[event.selection.rows[0]]["pid"]
    st.query_params["pid"] = pid
if pid:
    _timeline(version, pid)

"""Mein Fallbestand: a coach's start page. Her own cards, who needs attention today, and
every running participation of her caseload."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dashboard import auth, data, sections
from dashboard.filters import filter_bar
from dashboard.i18n import lang, t
from dashboard.tables import show_table
from kohorte.read import fmt

CASELOAD_COLUMNS = {
    "pid": "col_pid",
    "woche": "col_week",
    "anwesenheit_anteil": "attendance_rate",
    "letzter_termin": "col_last_session",
    "bewerbungen": "col_applications",
    "naechster_schritt": "col_next_step",
    "gruende": "col_flags",
}

version = data.page_version()
selection = filter_bar(version)
principal = auth.require_principal()
sections.attention(version, selection)  # first: who needs her today
# her own cards: the same definitions and protection as the Überblick, for her caseload
sections.kpi_cards(replace(selection, coach=principal.coach) if principal.coach else selection)
st.subheader(t("caseload_title"))
caseload = data.caseload(version, selection, lang())
if caseload.empty:
    st.info(t("caseload_none"))
else:
    st.caption(t("caseload_hint", n=fmt.number(len(caseload), lang())))
    event = show_table(
        caseload,
        CASELOAD_COLUMNS,
        percents={"anwesenheit_anteil"},
        select=True,
        codes={"naechster_schritt"},
        key="caseload_select",
    )
    sections.open_timeline(caseload, event)

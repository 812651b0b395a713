"""Coaches: caseload and outcomes per coach (only when switched on: KOHORTE_COACH_VIEWS)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.filters import filter_bar
from dashboard.i18n import lang, t
from dashboard.tables import download_buttons
from kohorte import disclosure, fmt

COUNTS = ["aktiv", "teilnahmen", "austritte_abgeschlossen", "integriert"]

version = data.page_version()

selection = filter_bar(version)
threshold = data.min_count()
frame = data.coaches(version, selection)
# counts add up to the programme's totals shown elsewhere: protect them as columns
hidden = disclosure.protect_table(
    frame.set_index("coach")[COUNTS], threshold, row_totals=False, column_totals=True
).hidden.reset_index(drop=True)
table = pd.DataFrame({t("coach"): frame["coach"]})
for column in COUNTS:
    table[t(f"coach_{column}")] = [
        f"<{threshold}" if hide else fmt.number(value, lang())
        for value, hide in zip(frame[column], hidden[column], strict=True)
    ]
rates = []
for row, hide in zip(frame.to_dict("records"), hidden["integriert"], strict=True):
    rate = (
        None
        if hide
        else disclosure.protect_rate(row["integriert"], row["austritte_abgeschlossen"], threshold)
    )
    rates.append(fmt.percent(rate, lang()))
table[t("kpi_integrationsquote")] = rates
table[t("attendance_rate")] = [
    fmt.percent(None if not planned else attended / planned, lang())
    for attended, planned in zip(frame["stunden_anwesend"], frame["stunden_geplant"], strict=True)
]
st.caption(t("coach_note"))
st.dataframe(table, hide_index=True, width="stretch")
download_buttons(table, "coaches", "coaches")

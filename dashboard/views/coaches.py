"""Coaches: the headline KPIs per coach (only when switched on: KOHORTE_COACH_VIEWS)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.filters import filter_bar
from dashboard.i18n import lang, t
from dashboard.tables import download_buttons
from kohorte.read import fmt

version = data.page_version()

selection = filter_bar(version)
threshold = data.min_count()
per_coach = data.coaches(version, selection)
rows = []
for coach, shown in per_coach.items():
    row = {t("coach"): coach}
    for card in shown:
        if card.kpi.section == "kern":
            row[card.kpi.label(lang())] = fmt.card_value(card, threshold, lang())
    rows.append(row)
table = pd.DataFrame(rows)
st.caption(t("coach_note"))
if table.empty:
    st.info("–")
else:
    st.dataframe(table, hide_index=True, width="stretch")
    download_buttons(table, "coaches", "coaches")

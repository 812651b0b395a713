"""Coaches: the headline KPIs per coach (only when switched on: KOHORTE_COACH_VIEWS)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.filters import filter_bar
from dashboard.i18n import lang, t
from dashboard.tables import download_buttons
from kohorte.read import export, fmt

version = data.page_version()

selection = filter_bar(version)
threshold = data.min_count()
per_coach = data.coaches(version, selection)
rows, cells, kinds = [], [], {}
for coach, shown in per_coach.items():
    row, cell = {t("coach"): coach}, {t("coach"): coach}
    for card in shown:
        if card.kpi.section == "kern":
            label = card.label(lang())
            row[label] = fmt.card_value(card, threshold, lang())
            cell[label], kinds[label] = export.card_cell(card, threshold, lang()), card.kpi.unit
    rows.append(row)
    cells.append(cell)  # the download: numbers as numbers, protected values as text
table = pd.DataFrame(rows)
st.caption(t("coach_note"))
if table.empty:
    st.info("–")
else:
    st.dataframe(table, hide_index=True, width="stretch")
    download_buttons(
        pd.DataFrame(cells), "coaches", "coaches", title=t("export_coaches"), kinds=kinds
    )

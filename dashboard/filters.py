"""The shared filter bar: widgets whose state lives in the URL, so a view can be bookmarked."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, data
from dashboard.i18n import code, t
from kohorte.define.dimensions import Filters

ALL = "—"


def filter_bar(version: str) -> Filters:
    """Draw the filters (preset from the URL) and return the selection; changes go to the URL."""
    current = Filters.from_query(st.query_params.to_dict())
    options = data.filter_options(version)
    # the coach dimension only where it may be used (kohorte.read.access; the query layer
    # refuses it otherwise): a team lead with consent, a coach for her own caseload
    principal = auth.require_principal()
    coaches = [c for c in options["coaches"] if principal.may_filter_staff(c, data.coach_views())]
    if current.coach not in coaches:
        current = current.without_staff()
    with st.expander(t("filters"), expanded=current != Filters()):
        first, last, _ = st.columns([1, 1, 3])
        von = first.date_input(
            t("entry_from"), value=current.von, format="DD.MM.YYYY", key="f_from"
        )
        bis = last.date_input(t("entry_to"), value=current.bis, format="DD.MM.YYYY", key="f_to")
        cols = st.columns(5)
        standort = _select(cols[0], t("site"), options["standorte"], current.standort, "f_site")
        coach = _select(cols[1], t("coach"), coaches, current.coach, "f_coach") if coaches else None
        # newest first; entry months, then ISO entry weeks
        cohorts = options["kohorten"][::-1] + options["wochen"][::-1]
        kohorte = _select(cols[2], t("cohort_filter"), cohorts, current.kohorte, "f_cohort")
        gender = _select(
            cols[3], t("gender"), ["w", "m", "d"], current.geschlecht, "f_gender", coded=True
        )
        lzb_choice = _select(
            cols[4],
            t("lzb"),
            ["ja", "nein"],
            None if current.lzb is None else ("ja" if current.lzb else "nein"),
            "f_lzb",
            coded=True,
        )
    chosen = Filters(
        von=von,
        bis=bis,
        standort=standort,
        coach=coach,
        kohorte=kohorte,
        geschlecht=gender,
        lzb=None if lzb_choice is None else lzb_choice == "ja",
    )
    if chosen != current:
        for key in Filters().to_query() | current.to_query():
            st.query_params.pop(key, None)
        st.query_params.update(chosen.to_query())
    return chosen


def _select(column, label, values, current, key, coded: bool = False):
    choices = [ALL, *values]
    index = choices.index(current) if current in choices else 0
    value = column.selectbox(
        label,
        choices,
        index=index,
        key=key,
        format_func=(lambda v: code(v) if coded and v != ALL else v),
    )
    return None if value == ALL else value

"""The shared filter bar: widgets whose state lives in the URL, so a view can be bookmarked.

The selection also stays with the session: a page opened from the navigation (whose links
carry no query) gets the filters of the page before, and puts them back into its URL.
While the bar is collapsed the active filters show as chips beside it, with "alle
zurücksetzen"."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, data
from dashboard.i18n import code, lang, t
from kohorte.define.dimensions import DIMENSIONS, Filters
from kohorte.read import fmt

ALL = "—"
CARRIED = "filters_carried"  # session state: the selection of the page before
WIDGETS = ("f_from", "f_to", "f_site", "f_coach", "f_cohort", "f_gender", "f_lzb")
# the label of each dimension (kohorte.define.dimensions), for widgets, chips and exports
LABELS = {
    "von": "entry_from",
    "bis": "entry_to",
    "standort": "site",
    "coach": "coach",
    "kohorte": "cohort_filter",
    "geschlecht": "gender",
    "lzb": "lzb",
}
assert set(LABELS) == {d.name for d in DIMENSIONS}, "every dimension needs a label"


def describe(selection: Filters) -> list[str]:
    """The active filters in words, in the UI language: "Standort: Nord"."""
    words = []
    for dimension in DIMENSIONS:
        value = getattr(selection, dimension.name)
        if value is None:
            continue
        if isinstance(value, bool):
            shown = code("ja" if value else "nein")
        elif dimension.metadata["type"] == "date":
            shown = fmt.date(value, lang())
        elif dimension.name == "kohorte":
            shown = fmt.cohort(value, lang())
        else:
            shown = code(value)
        words.append(f"{t(LABELS[dimension.name])}: {shown}")
    return words


def _reset() -> None:
    """ "alle zurücksetzen": no filter in the URL, none carried, every widget cleared."""
    for key in Filters().to_query() | Filters.from_query(st.query_params.to_dict()).to_query():
        st.query_params.pop(key, None)
    st.session_state[CARRIED] = Filters()
    for key in WIDGETS:
        st.session_state.pop(key, None)


def _current() -> Filters:
    """The URL's filters; a URL without any takes those the session carried over."""
    current = Filters.from_query(st.query_params.to_dict())
    carried = st.session_state.get(CARRIED)
    if current == Filters() and isinstance(carried, Filters) and carried != Filters():
        st.query_params.update(carried.to_query())
        return carried
    return current


def _chips(place, selection: Filters) -> None:
    """The active filters as chips and "alle zurücksetzen" in ``place``; nothing when
    none is set."""
    words = describe(selection)
    if not words:
        return
    row = place.container(horizontal=True, gap="small", vertical_alignment="center")
    for word in words:
        row.badge(word, icon=":material/filter_alt:", color="blue")
    row.button(t("reset_filters"), on_click=_reset, type="tertiary", key="f_reset")


def filter_bar(version: str) -> Filters:
    """Draw the filters (preset from the URL) and return the selection; changes go to the URL."""
    current = _current()
    options = data.filter_options(version)
    # the coach dimension only where it may be used (kohorte.read.access; the query layer
    # refuses it otherwise): a team lead with consent, a coach for her own caseload
    principal = auth.require_principal()
    coaches = [c for c in options["coaches"] if principal.may_filter_staff(c, data.coach_views())]
    if current.coach not in coaches:
        current = current.without_staff()
    chips = st.empty()  # filled once the widgets have said what is chosen now
    with st.expander(t("filters"), expanded=False):
        first, last, _ = st.columns([1, 1, 3])
        von = first.date_input(
            t(LABELS["von"]), value=current.von, format="DD.MM.YYYY", key="f_from"
        )
        bis = last.date_input(t(LABELS["bis"]), value=current.bis, format="DD.MM.YYYY", key="f_to")
        cols = st.columns(5)
        standort = _select(
            cols[0], t(LABELS["standort"]), options["standorte"], current.standort, "f_site"
        )
        coach = (
            _select(cols[1], t(LABELS["coach"]), coaches, current.coach, "f_coach")
            if coaches
            else None
        )
        # newest first; entry months, then ISO entry weeks
        cohorts = options["kohorten"][::-1] + options["wochen"][::-1]
        kohorte = _select(
            cols[2], t(LABELS["kohorte"]), cohorts, current.kohorte, "f_cohort", cohort=True
        )
        gender = _select(
            cols[3],
            t(LABELS["geschlecht"]),
            ["w", "m", "d"],
            current.geschlecht,
            "f_gender",
            coded=True,
        )
        lzb_choice = _select(
            cols[4],
            t(LABELS["lzb"]),
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
    st.session_state[CARRIED] = chosen
    _chips(chips, chosen)
    return chosen


def _shown(value, coded: bool, cohort: bool) -> str:
    if value == ALL:
        return value
    if cohort:
        return fmt.cohort(value, lang())
    return code(value) if coded else value


def _select(column, label, values, current, key, coded: bool = False, cohort: bool = False):
    choices = [ALL, *values]
    index = choices.index(current) if current in choices else 0
    value = column.selectbox(
        label,
        choices,
        index=index,
        key=key,
        format_func=lambda v: _shown(v, coded, cohort),
        placeholder=t("choose"),
    )
    return None if value == ALL else value

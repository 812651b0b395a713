"""Kohorte's dashboard: navigation and language; pages live in ``dashboard/views``."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from dashboard import data
from dashboard.i18n import LANGUAGES, lang, t

HERE = Path(__file__).resolve().parent
log = logging.getLogger("kohorte.dashboard")


def _header(title: str) -> None:
    """The page title with a small language choice beside it (kept in the URL, ?lang=en)."""
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    left.title(title)
    choice = right.selectbox(
        t("language"),
        options=list(LANGUAGES),
        index=list(LANGUAGES).index(lang()),
        format_func=LANGUAGES.get,
        key="language_select",
    )
    if choice != lang():
        st.query_params["lang"] = choice
        st.rerun()


def run() -> None:
    """Build the navigation and run the selected page."""
    st.set_page_config(
        page_title="Kohorte",
        page_icon="📊",  # a Material icon as favicon would be fetched from a CDN
        layout="wide",
        initial_sidebar_state="collapsed",
    )
    pages = [
        st.Page(
            HERE / "views" / "ueberblick.py",
            title=t("page_overview"),
            icon=":material/dashboard:",
            default=True,  # served at "/"; Streamlit ignores url_path for the default page
        ),
        st.Page(
            HERE / "views" / "kohorten.py",
            title=t("page_cohorts"),
            icon=":material/groups:",
            url_path="kohorten",
        ),
        st.Page(
            HERE / "views" / "teilnehmende.py",
            title=t("page_people"),
            icon=":material/person_search:",
            url_path="teilnehmende",
        ),
        *(
            [
                st.Page(
                    HERE / "views" / "coaches.py",
                    title=t("page_coaches"),
                    icon=":material/badge:",
                    url_path="coaches",
                )
            ]
            if data.coach_views()
            else []
        ),
        st.Page(
            HERE / "views" / "datenstand.py",
            title=t("page_status"),
            icon=":material/fact_check:",
            url_path="datenstand",
        ),
    ]
    page = st.navigation(pages, position="top")
    _header(page.title)
    try:
        page.run()
    except Exception:  # never show a traceback to users; log it instead
        log.exception("Page %s failed", page.title)
        st.error(t("error"))


run()

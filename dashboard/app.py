"""Kohorte's dashboard: navigation and language; pages live in ``dashboard/views``."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from dashboard import auth, data
from dashboard.i18n import LANGUAGES, lang, t
from kohorte import audit
from kohorte.access import AUDIT, PARTICIPANT, SQL, STAFF, AccessDenied, Principal

HERE = Path(__file__).resolve().parent
log = logging.getLogger("kohorte.dashboard")


def _header(title: str, principal: Principal | None) -> None:
    """The page title; beside it the signed-in person with a sign-out button, and a small
    language choice (kept in the URL, ?lang=en)."""
    left, who, right = st.columns([4, 1, 1], vertical_alignment="bottom")
    left.title(title)
    if principal is not None:
        # names come from accounts or the identity provider: shown as text, never Markdown
        who.text(f"{principal.name} · {t('role_' + principal.role)}")
        who.button(t("sign_out"), on_click=auth.sign_out, key="sign_out", type="tertiary")
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


SIGN_IN_PATHS = ("", "kohorten", "teilnehmende", "coaches", "datenstand", "sql", "protokoll")


def _pages(principal: Principal) -> list:
    """The pages this person may open; others are not registered, so no URL reaches them."""
    return [
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
        *(
            [
                st.Page(
                    HERE / "views" / "teilnehmende.py",
                    title=t("page_people"),
                    icon=":material/person_search:",
                    url_path="teilnehmende",
                )
            ]
            if principal.may(PARTICIPANT)
            else []
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
            if data.coach_views() and principal.may(STAFF)
            else []
        ),
        st.Page(
            HERE / "views" / "datenstand.py",
            title=t("page_status"),
            icon=":material/fact_check:",
            url_path="datenstand",
        ),
        *(
            [
                st.Page(
                    HERE / "views" / "sql.py",
                    title=t("page_sql"),
                    icon=":material/terminal:",
                    url_path="sql",
                )
            ]
            if principal.may(SQL)
            else []
        ),
        *(
            [
                st.Page(
                    HERE / "views" / "protokoll.py",
                    title=t("page_audit"),
                    icon=":material/history:",
                    url_path="protokoll",
                )
            ]
            if principal.may(AUDIT)
            else []
        ),
    ]


def run() -> None:
    """Build the navigation and run the selected page."""
    st.set_page_config(
        page_title="Kohorte",
        page_icon="📊",  # a Material icon as favicon would be fetched from a CDN
        layout="wide",
        initial_sidebar_state="collapsed",
    )
    principal = auth.current()
    if principal is None:
        # every address shows the sign-in form and nothing else; after signing in the same
        # address (a bookmark with its filters) opens the page it names
        page = st.navigation(
            [
                st.Page(
                    auth.sign_in_page,
                    title=t("sign_in_title"),
                    url_path=path or None,
                    default=not path,
                )
                for path in SIGN_IN_PATHS
            ],
            position="hidden",
        )
        _header("", None)
        page.run()
        return
    pages = _pages(principal)
    page = st.navigation(pages, position="top")
    _header(page.title, principal)
    try:
        page.run()
    except AccessDenied as denied:
        auth.record(audit.DENIED, principal, seite=page.title, grund=str(denied))
        st.warning(t("access_denied"))
    except Exception:  # never show a traceback to users; log it instead
        log.exception("Page %s failed", page.title)
        st.error(t("error"))


run()

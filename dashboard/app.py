"""Kohorte's dashboard: navigation and language; pages live in ``dashboard/views``."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from dashboard import auth, data, page_style, print_style
from dashboard.i18n import LANGUAGES, lang, pin_language, t
from kohorte.ops import audit
from kohorte.read.access import (
    AGGREGATE,
    AUDIT,
    CASELOAD,
    IMPACT,
    PARTICIPANT,
    REPORTS,
    SQL,
    STAFF,
    STATUS,
    AccessDenied,
    Principal,
)

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
        placeholder=t("choose"),
    )
    if choice != lang():
        st.query_params["lang"] = choice
        st.rerun()  # the new run reads the language it pins


# (view and URL path, title, icon, access it needs); the first a person may open is her
# default page at "/": a coach's own caseload, everybody else's Überblick
PAGES = (
    ("fallbestand", "page_caseload", ":material/assignment_ind:", CASELOAD),
    ("ueberblick", "page_overview", ":material/dashboard:", AGGREGATE),
    ("kohorten", "page_cohorts", ":material/groups:", AGGREGATE),
    ("teilnehmende", "page_people", ":material/person_search:", PARTICIPANT),
    ("wirkung", "page_impact", ":material/balance:", IMPACT),
    ("berichte", "page_reports", ":material/picture_as_pdf:", REPORTS),
    ("coaches", "page_coaches", ":material/badge:", STAFF),
    ("datenstand", "page_status", ":material/fact_check:", STATUS),
    ("sql", "page_sql", ":material/terminal:", SQL),
    ("protokoll", "page_audit", ":material/history:", AUDIT),
)
SIGN_IN_PATHS = ("", *(view for view, *_ in PAGES))


def _pages(principal: Principal) -> list:
    """The pages this person may open; others are not registered, so no URL reaches them.
    Per-coach views also need the staff council's consent (KOHORTE_COACH_VIEWS)."""
    pages = []
    for view, title, icon, access in PAGES:
        if not principal.may(access) or (access == STAFF and not data.coach_views()):
            continue
        pages.append(
            st.Page(
                HERE / "views" / f"{view}.py",
                title=t(title),
                icon=icon,
                # the default page is served at "/"; Streamlit ignores its url_path
                **({"default": True} if not pages else {"url_path": view}),
            )
        )
    return pages


def run() -> None:
    """Build the navigation and run the selected page."""
    st.set_page_config(
        page_title="Kohorte",
        page_icon="📊",  # a Material icon as favicon would be fetched from a CDN
        layout="wide",
        initial_sidebar_state="collapsed",
    )
    pin_language()  # the URL's language, read once for the whole run
    print_style.apply()  # printing shows figures and tables, not buttons or selectors
    page_style.apply(lang())  # German run indicator and date placeholders, compact title
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
    alert = data.standing_alert()
    if alert is not None:  # a failed or missing night: every page says so, in red
        st.error(alert.text(lang()), icon=":material/error:")
    try:
        page.run()
    except AccessDenied as denied:
        auth.record(audit.DENIED, principal, seite=page.title, grund=str(denied))
        st.warning(t("access_denied"))
    except Exception:  # never show a traceback to users; log it instead
        log.exception("Page %s failed", page.title)
        st.error(t("error"))


run()

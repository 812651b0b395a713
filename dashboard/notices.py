"""Notices on the Überblick: what the team lead should act on from the last load."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, data
from dashboard.i18n import lang, t
from dashboard.tables import escape_markdown
from kohorte.read import fmt

STATUS_PAGE = "views/datenstand.py"


def last_night_notice(version: str) -> None:
    """The deliveries that the load behind ``version`` refused or only partly loaded, for
    the team lead: one warning, and a link to each report on the Datenstand page (it opens
    there). Nothing when that load took every file whole."""
    if not auth.require_principal().sees_quarantine:  # the reports are the team lead's
        return
    problems = data.last_load_problems(version)
    if problems.empty:
        return
    deliveries = fmt.count(len(problems), t("delivery"), t("deliveries"), lang())
    when = fmt.datetime(data.build_info(version)["built_at"], lang())
    st.warning(t("notice_last_load", when=when, n=deliveries), icon=":material/report:")
    params = {"lang": lang()} if lang() != "de" else {}
    for problem in problems.to_dict("records"):
        st.page_link(
            STATUS_PAGE,
            # file names come from outside: Markdown in them is shown as text
            label=t(
                "notice_report",
                file=escape_markdown(problem["file_name"]),
                status=t(f"status_{problem['status']}"),
            ),
            icon=":material/description:",
            query_params={**params, "bericht": problem["delivery_id"]},
        )

"""Datenstand: what is published, the load log, rejected files with reports, data checks."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, data
from dashboard.i18n import lang, t
from dashboard.tables import escape_markdown, show_table
from kohorte.read import fmt

RUN_COLUMNS = {
    "run_id": "col_run",
    "status": "col_status",
    "files_total": "col_files",
    "files_loaded": "col_loaded",
    "files_partial": "col_partial",
    "files_quarantined": "col_quarantined",
    "files_duplicate": "col_duplicate",
    "files_deferred": "col_deferred",
    "rows_accepted": "col_rows_accepted",
    "rows_rejected": "col_rows_rejected",
    "build_mode": "col_build_mode",
    "sekunden": "col_seconds",
}
FILE_COLUMNS = {
    "file_name": "col_file",
    "kind": "col_kind",
    "status": "col_status",
    "encoding": "col_encoding",
    "rows_accepted": "col_rows_accepted",
    "rows_rejected": "col_rows_rejected",
    "message": "col_message",
}
CHECK_COLUMNS = {
    "beschreibung": "col_check",
    "severity": "col_severity",
    "failing_rows": "col_failing",
    "passed": "col_passed",
}


version = data.page_version()

info = data.build_info(version)
left, middle, right = st.columns(3)
left.metric(t("as_of"), fmt.date(info["as_of"], lang()), border=True)
middle.metric(t("published"), fmt.datetime(info["built_at"], lang()), border=True)
next_run = data.next_nightly_run()  # None: no schedule deployed, nothing runs by itself
if next_run is None:
    right.info(t("no_schedule"), icon=":material/schedule:")
else:
    right.metric(t("next_run"), fmt.datetime(next_run, lang()), border=True)
if data.standing_alert() is not None:
    st.caption(t("alert_hint"))

st.subheader(t("problems_title"))
files = data.files(version)
# what a clerk acts on: rejected lines and files, files left in the inbox, and files
# loaded with a note (read generously: an open-end date, a title row, a hidden sheet)
problems = files[
    (files["status"] != "duplicate") & (files["status"] != "loaded") | files["report"].notna()
]
if problems.empty:
    st.success(t("no_problems"))
# reports quote rejected lines in clear: the team lead's only
reports = auth.require_principal().sees_quarantine
opened = st.query_params.get("bericht")  # the Überblick's notice links to one report
for problem in problems.to_dict("records"):
    # file names and messages come from outside: Markdown in them is shown as text
    label = escape_markdown(f"{problem['file_name']}: {problem['message']}")
    if not reports or not isinstance(problem["report"], str):  # left in the inbox: none
        st.text(f"{problem['file_name']}: {problem['message']}")
        continue
    with st.expander(label, expanded=bool(opened) and problem["delivery_id"] == opened):
        text = data.report(problem["report"]) if problem["report"] else None
        st.code(text or t("report_gone"), language=None)

st.subheader(t("checks_title"))
show_table(data.checks(version, lang()), CHECK_COLUMNS)

st.subheader(t("runs_title"))
show_table(data.runs(version), RUN_COLUMNS, decimals={"sekunden": 1}, codes={"build_mode"})

st.subheader(t("files_title"))
show_table(files, FILE_COLUMNS)

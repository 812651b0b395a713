"""Berichte: the monthly reports kept in KOHORTE_HOME/berichte/ for download, and one made
on demand for any month (kohorte.ops.reports; the same as `kohorte bericht`)."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.i18n import lang, t
from kohorte.present import bericht
from kohorte.read import fmt

version = data.page_version()
st.caption(t("reports_intro"))

months = data.report_months(version)
default = data.default_report_month(version)
with st.form("make_report", border=False):
    row = st.container(horizontal=True, vertical_alignment="bottom")
    month = row.selectbox(
        t("report_month"),
        months,
        index=months.index(default) if default in months else 0,
        format_func=lambda m: fmt.cohort(m, lang()),
        placeholder=t("choose"),
        width=220,
        key="report_month",
    )
    submitted = row.form_submit_button(t("report_make"), icon=":material/picture_as_pdf:")
if submitted:
    with st.status(t("report_making"), expanded=False) as progress:
        try:
            made = data.make_report(month)
        except bericht.NoData as error:
            progress.update(label=str(error), state="error")
        else:
            progress.update(label=t("report_made", title=made.title), state="complete")

st.subheader(t("reports_kept"))
kept = data.reports_kept()
if not kept:
    st.markdown("–")
for report in kept:
    row = st.container(horizontal=True, vertical_alignment="center")
    size = fmt.number(report["size"] / 1024, lang())
    when = fmt.datetime(report["written"], lang())
    written = t("report_written", when=when, size=size)
    if report["title"] is None:  # a PDF put there by hand: its file name
        row.markdown(f"**{report['name']}**  \n{written}")
    else:
        as_of = t("report_as_of", as_of=fmt.date(report["as_of"], lang()))
        row.markdown(f"**{report['title']}**  \n{as_of} · {written}")
    row.download_button(
        t("report_download"),
        data.report_download(report["path"]),  # read and audited when fetched
        file_name=report["name"],
        mime="application/pdf",
        icon=":material/download:",
        key=f"download_{report['name']}",
        on_click="ignore",  # a download needs no rerun
        width="content",
    )

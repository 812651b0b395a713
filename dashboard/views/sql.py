"""SQL: ad-hoc queries in the analysts' sandbox (roles analyse and teamleitung)."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st
from streamlit_ace import st_ace

from dashboard import auth, data
from dashboard.i18n import TEXTS, lang, t
from dashboard.tables import date_columns, download_buttons
from kohorte.build import analyst
from kohorte.config import load_settings
from kohorte.ops import audit
from kohorte.read import export, fmt, sandbox
from kohorte.read.access import SQL


def _history(name: str) -> list[str]:
    """This person's earlier queries, newest first, each once."""
    entries = audit.read(load_settings())
    mine = entries[(entries["benutzer"] == name) & (entries["aktion"] == audit.SQL)]
    queries = [json.loads(d).get("abfrage") for d in mine["details"]]
    return list(dict.fromkeys(q for q in queries if q))


def _offer(label: str, options: dict[str, str], key: str) -> None:
    """A choice that, once picked, puts its query into the editor."""
    choice = st.selectbox(
        label,
        ["", *options],
        key=key,
        format_func=lambda k: k[:60] if k else t("choose"),
        placeholder=t("choose"),
    )
    if choice and st.session_state.get(f"{key}_used") != choice:
        st.session_state[f"{key}_used"] = choice
        put_into_editor(options[choice])


def put_into_editor(query: str) -> None:
    """Replace the editor's text: the editor only reads its text when it is created, so a
    new text needs a new editor (a new key)."""
    st.session_state["sql_text"] = query
    st.session_state["sql_editor"] = st.session_state.get("sql_editor", 0) + 1
    st.session_state["sql_pending"] = True  # a chosen example or past query runs at once


def editor() -> str:
    """The SQL editor: Ace (bundled with streamlit-ace, nothing loaded from the internet),
    SQL highlighting. It hands its text over as it changes (``auto_update``), so Ace shows
    no button of its own (its label is English and cannot be changed); the page's German
    button runs the text."""
    st.caption(t("sql_query"), help=t("sql_help"))
    return st_ace(
        value=st.session_state.get("sql_text", ""),
        language="sql",
        theme="chrome",
        keybinding="vscode",
        min_lines=10,
        max_lines=30,
        font_size=14,
        tab_size=2,
        wrap=True,
        show_gutter=True,
        auto_update=True,
        key=f"sql_editor_{st.session_state.get('sql_editor', 0)}",
    )


@st.cache_data(max_entries=4, show_spinner=False)
def _examples(analyst_file: Path, language: str) -> dict[str, str]:
    """Hand-written examples, then the dashboard's own queries that run on analyst tables."""
    named = sandbox.named_examples(sandbox.connect(analyst_file))
    return {**sandbox.examples(language), **named}


def _schema(analyst_file: Path) -> None:
    st.subheader(t("sql_schema"))
    schema = sandbox.describe(sandbox.connect(analyst_file))
    for table, columns in schema.groupby("tabelle", sort=False):
        with st.expander(table):
            for row in columns.itertuples():
                meaning = f": {row.bedeutung}" if row.bedeutung else ""
                st.text(f"{row.spalte} ({row.typ}){meaning}")


def _run(analyst_file: Path, query: str) -> None:
    """Run the query, audit its outcome (a result or any failure) and keep it for the
    reruns that follow (e.g. a download)."""
    try:
        outcome = sandbox.run(analyst_file, query)
    except sandbox.Failure as failure:
        outcome = failure
    auth.record(audit.SQL, **sandbox.audit_details(query, outcome))
    st.session_state["sql_result"] = outcome


def _failure(failure: sandbox.Failure) -> str:
    """The sentence in the UI language, and below it the original message as code:
    verbatim (it may hold ``*`` or ``_``), and DuckDB's caret stays under the place in the
    query."""
    if not failure.original:
        return failure.sentence(lang())
    return f"{failure.sentence(lang())}\n\n```text\n{failure.original}\n```"


def _show(outcome: sandbox.Result | sandbox.Failure, query: str) -> None:
    if isinstance(outcome, sandbox.Failure):
        st.error(_failure(outcome))
        return
    total = fmt.count(outcome.total_rows, t("row"), t("rows"), lang())
    shown = fmt.number(len(outcome.frame), lang())
    seconds = fmt.number(outcome.seconds, lang(), decimals=2)
    st.caption(t("sql_rows", total=total, shown=shown) + f" · {seconds} s")
    if outcome.notice:
        st.warning(outcome.notice_in(lang()))
    st.dataframe(
        outcome.frame, hide_index=True, width="stretch", column_config=date_columns(outcome.frame)
    )
    _downloads(outcome, query)


def _downloads(result: sandbox.Result, query: str) -> None:
    """CSV, XLSX and Parquet of the result. A value a file format cannot hold (a control
    character in XLSX, say) costs the downloads, not the page: shown, and audited once."""
    try:
        download_buttons(result.frame, "abfrage", "sql", title=t("export_query"), filtered=False)
        st.download_button(
            "Parquet",
            export.to_parquet(result.frame),
            file_name="abfrage.parquet",
            mime="application/vnd.apache.parquet",
            key="sql_parquet",
            icon=":material/download:",
        )
    except Exception as error:  # any value an export library refuses
        failure = sandbox.Failure(  # the audit log keeps the German sentence
            (TEXTS["sql_no_downloads"]["de"], TEXTS["sql_no_downloads"]["en"]),
            f"{type(error).__name__}: {error}",
        )
        if st.session_state.get("sql_download_failed") is not result:
            st.session_state["sql_download_failed"] = result
            auth.record(audit.SQL, **sandbox.audit_details(query, failure))
        st.warning(_failure(failure))


principal = auth.require_principal()
principal.require(SQL)  # not only hidden: refused for other roles
version = data.page_version()
analyst_file = analyst.path_for(Path(version))

left, right = st.columns([3, 1])
with right:
    _offer(t("sql_examples"), _examples(analyst_file, lang()), "sql_example")
    _offer(
        t("sql_history"), {q.replace("\n", " "): q for q in _history(principal.name)}, "sql_past"
    )
    _schema(analyst_file)
with left:
    query = editor().strip()
    # the button runs the text (no keyboard shortcut: Streamlit would label it "Ctrl", and
    # the editor's frame keeps the keys to itself); an example or a past query chosen on the
    # right runs at once
    clicked = st.button(t("sql_run"), key="sql_run", type="primary", disabled=not query)
    pending = st.session_state.pop("sql_pending", False)
    if query and (clicked or pending):
        st.session_state["sql_last"] = query
        _run(analyst_file, query)
    if query and "sql_result" in st.session_state:
        _show(st.session_state["sql_result"], st.session_state["sql_last"])

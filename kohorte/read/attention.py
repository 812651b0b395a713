"""The attention list as people read it: one row per person, the reasons in plain words.

The rules and their SQL are ``kohorte.define.attention``; the query is
``heute__laufend``. This module runs it with the thresholds in force and turns each
row's flags into sentences, for the dashboard and the command line alike.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from kohorte.define.attention import RULES, Rule, Thresholds
from kohorte.define.dimensions import Filters
from kohorte.read import fmt, queries
from kohorte.read.access import Principal

QUERY = "heute__laufend"
COLUMNS = ["pid", "coach", "woche", "gruende", "letzter_termin", "dringlichkeit"]
CASELOAD = [
    "pid", "woche", "anwesenheit_anteil", "letzter_termin", "bewerbungen",
    "naechster_schritt", "gruende",
]  # fmt: skip
DAY_WORDS = {"de": ("Tag", "Tagen"), "en": ("day", "days")}


def params(thresholds: Thresholds, programme_weeks: int) -> dict[str, object]:
    """The query's parameters: every threshold, every rule's switch, the programme length."""
    return {**thresholds.params(), "programm_wochen": programme_weeks}


def fetch(
    con: duckdb.DuckDBPyConnection,
    thresholds: Thresholds,
    programme_weeks: int,
    filters: Filters | None = None,
    principal: Principal | None = None,
) -> pd.DataFrame:
    """The running participations of the selection (a coach's own only), most urgent
    first and the unflagged last, as the query returns them (flags and measures per rule)."""
    return queries.run(con, QUERY, filters, principal, **params(thresholds, programme_weeks))


def days(n: int, lang: str) -> str:
    """ "1 Tag", "3 Tagen" (dative, as in "seit 3 Tagen"); "1 day", "3 days"."""
    one, many = DAY_WORDS[lang]
    return f"{fmt.number(n, lang)} {one if n == 1 else many}"


def reason(rule: Rule, measure: object, thresholds: Thresholds, lang: str) -> str:
    """The sentence for a rule that flagged a row, with its measure and thresholds."""
    values = {p.name: fmt.number(thresholds.value(rule, p.name), lang) for p in rule.params}
    if measure is None or pd.isna(measure):
        return (rule.reason_none or rule.reason)[lang].format(wert="–", **values)
    if rule.reason_zero is not None and measure == 0:
        return rule.reason_zero[lang]
    if rule.shown == "percent":
        shown = fmt.percent(float(measure), lang, 0)
    elif rule.shown == "days":
        shown = days(int(measure), lang)
    else:
        shown = fmt.number(int(measure), lang)
    return rule.reason[lang].format(wert=shown, **values)


def _with_reasons(frame: pd.DataFrame, thresholds: Thresholds, lang: str) -> pd.DataFrame:
    rows = []
    for row in frame.to_dict("records"):
        reasons = [
            reason(rule, row[f"m_{rule.id}"], thresholds, lang)
            for rule in RULES
            if row[f"hinweis_{rule.id}"]
        ]
        rows.append({**row, "gruende": " · ".join(reasons)})
    return pd.DataFrame(rows, columns=[*frame.columns, "gruende"])


def listing(frame: pd.DataFrame, thresholds: Thresholds, lang: str) -> pd.DataFrame:
    """Who needs attention: one row per flagged person with pseudonym, coach (where the
    role receives it), week in the programme, the reasons most urgent first, the last
    attended session, the urgency."""
    shown = _with_reasons(frame[frame["dringlichkeit"].notna()], thresholds, lang)
    return shown[[c for c in COLUMNS if c in shown.columns]].reset_index(drop=True)


def caseload(frame: pd.DataFrame, thresholds: Thresholds, lang: str) -> pd.DataFrame:
    """A coach's running participations, every one: week in the programme, attendance of
    the participation so far, last attended session, applications, the latest outcome as
    the next step, and the attention flags in words (empty where none)."""
    shown = _with_reasons(frame, thresholds, lang)
    return shown[[c for c in CASELOAD if c in shown.columns]].reset_index(drop=True)

"""Wirkung: would participants have found work anyway? The estimate against the comparison
group, the naive difference beside it, the diagnostics and the assumption behind it. The
nightly build fits the models; this page lays out its results (kohorte.read.wirkung)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, vega
from dashboard.i18n import lang, t
from kohorte.define import wirkung as rule
from kohorte.read import fmt
from kohorte.read import wirkung as impact

LABEL_KEYS = ("smd", "attribute", "score", "score_from", "persons", "share_of_group")


def _points(value: float | None) -> str:
    """Percentage points: 10,9 Pp. (9.9 pts)."""
    if value is None:
        return "–"
    return t("impact_pp").format(v=fmt.number(value * 100, lang(), 1))


def _interval(estimate: dict) -> str | None:
    if estimate["von"] is None:
        return None
    return t("impact_interval").format(low=_points(estimate["von"]), high=_points(estimate["bis"]))


version = data.page_version()
report = data.wirkung(version, lang())
st.caption(t("impact_question"))
if report is None or not report["vergleichsgruppe"]:
    st.info(t("impact_none"))
    st.stop()

overall = report["gesamt"]
if overall["satz"]:
    st.subheader(overall["satz"])
else:
    st.warning(
        t("impact_no_estimate") + "\n\n" + "\n".join(f"- {r}" for r in overall["gruende"]),
        icon=":material/info:",
    )
for note in overall["hinweise"]:
    st.info(note, icon=":material/warning:")

columns = st.columns(5)
columns[0].metric(
    t("impact_treated"),
    fmt.percent(overall["quote_teilnehmende"], lang()),
    t("impact_persons").format(n=impact.count_text(overall, "teilnehmende", lang())),
    delta_color="off",
    delta_arrow="off",
)
columns[1].metric(
    t("impact_controls"),
    fmt.percent(overall["quote_vergleich"], lang()),
    t("impact_persons").format(n=impact.count_text(overall, "vergleich", lang())),
    delta_color="off",
    delta_arrow="off",
)
columns[2].metric(
    t("impact_naive"),
    _points(overall["naiv"]),
    help=t("impact_naive_help"),
)
for column, estimate in zip(columns[3:], overall["schaetzungen"].values(), strict=True):
    column.metric(
        estimate["label"],
        _points(estimate["att"]),
        _interval(estimate),
        delta_color="off",
        delta_arrow="off",
    )
st.caption(t("impact_attributes").format(names=", ".join(overall["merkmale"]) or "–"))

st.subheader(t("impact_diagnostics"))
labels = {key: t(key) for key in LABEL_KEYS}
left, right = st.columns(2)
with left:
    st.markdown(f"**{t('impact_balance')}**")
    balance = pd.DataFrame(report["balance"], columns=["merkmal", "stufe", "smd"])
    if balance.empty:
        st.markdown("–")
    else:
        vega.show("love_plot", balance, rule.MAX_SMD, labels, lang(), width="stretch")
        limit = fmt.number(rule.MAX_SMD, lang(), 1)
        st.caption(t("impact_balance_help").format(limit=limit))
with right:
    st.markdown(f"**{t('impact_overlap')}**")
    bins = pd.DataFrame(report["ueberlappung"], columns=["gruppe", "von", "bis", "n", "anteil"])
    if bins.empty:
        st.markdown("–")
    else:
        bins["gruppe"] = bins["gruppe"].map(lambda g: t(f"group_{g}"))
        vega.show("overlap", bins, labels, lang(), width="stretch")
    st.caption(
        t("impact_support").format(
            off=impact.count_text(overall, "ausserhalb_stuetzbereich", lang()),
            unmatched=impact.count_text(overall, "ohne_partner", lang()),
            both=impact.count_text(overall, "vergleich_auch_teilnehmende", lang()),
        )
    )

if report["bereiche"]:
    st.subheader(t("impact_scopes"))
    rows = []
    for scope in report["bereiche"]:
        estimates = scope["schaetzungen"]
        rows.append(
            {
                t("impact_scope"): scope["bereich_label"],
                t("impact_value"): scope["wert"],
                t("group_teilnahme"): impact.count_text(scope, "teilnehmende", lang()),
                t("group_vergleich"): impact.count_text(scope, "vergleich", lang()),
                t("impact_naive"): _points(scope["naiv"]),
                **{e["label"]: _points(e["att"]) for e in estimates.values()},
                t("impact_reason"): " ".join(scope["gruende"]) or "",
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

with st.expander(t("impact_assumption_title"), expanded=True):
    st.markdown(t("impact_assumption").format(resamples=fmt.number(rule.RESAMPLES, lang())))

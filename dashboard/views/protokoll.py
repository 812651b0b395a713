"""Protokoll: the audit log (team lead only): sign-ins, participant views, exports, SQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard import auth, data
from dashboard.i18n import lang, t
from dashboard.tables import show_table
from kohorte.config import load_settings
from kohorte.ops import audit
from kohorte.read.access import AUDIT

COLUMNS = {
    "zeit": "audit_time",
    "benutzer": "audit_user",
    "rolle": "audit_role",
    "aktion": "audit_action",
    "details": "audit_details",
}

auth.require_principal().require(AUDIT)  # not only hidden: refused for other roles
settings = load_settings()
entries = data.audit_entries()
# the entries are filtered by their Berlin date, so today is Berlin's today too (between
# 23:00 and 24:00 UTC the server's date is still yesterday's there)
today = dt.datetime.now(ZoneInfo("Europe/Berlin")).date()
cols = st.columns([1, 1, 2, 2])
since = cols[0].date_input(
    t("audit_from"), value=today - dt.timedelta(days=30), format="DD.MM.YYYY", key="a_from"
)
until = cols[1].date_input(t("audit_to"), value=today, format="DD.MM.YYYY", key="a_to")
users = cols[2].multiselect(
    t("audit_user"),
    sorted(entries["benutzer"].unique()),
    placeholder=t("audit_all_users"),
    key="a_user",
)
actions = cols[3].multiselect(
    t("audit_action"),
    list(audit.ACTIONS),
    format_func=lambda action: audit.action_label(action, lang()),
    placeholder=t("audit_all_actions"),
    key="a_action",
)

shown = audit.select(entries, since, until, users, actions)
show_table(data.audit_shown(shown, lang()), COLUMNS)
problems = audit.verify(settings)
if problems:
    st.error(t("audit_broken", problems="; ".join(problems[:5])))
else:
    st.caption(t("audit_intact") + " " + t("audit_kept", days=settings.audit_days))

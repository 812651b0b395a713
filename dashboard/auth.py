"""Sign-in for every page: local accounts (embedded default) or OpenID Connect (st.login).

The signed-in person (a ``kohorte.read.access.Principal``) lives in the session; the data
layer asks for it on every query, so a page that is reached without signing in gets no
data at all.
"""

from __future__ import annotations

import logging

import streamlit as st

from dashboard.i18n import lang, t
from kohorte.config import load_settings
from kohorte.ops import accounts, audit
from kohorte.read import fmt
from kohorte.read.access import AccessDenied, Principal, principal_from_claims

log = logging.getLogger("kohorte.dashboard")
KEY = "principal"


def current() -> Principal | None:
    """The signed-in person, or None."""
    settings = load_settings()
    if settings.auth == "oidc":
        if not st.user.is_logged_in:
            return None
        principal = st.session_state.get(KEY)
        if principal is None:
            principal = principal_from_claims(dict(st.user), settings)
            if principal is None:
                return None
            st.session_state[KEY] = principal
            record(audit.SIGN_IN, principal, via="oidc")
        return principal
    return st.session_state.get(KEY)


def require_principal() -> Principal:
    principal = current()
    if principal is None:
        raise AccessDenied("nicht angemeldet")
    return principal


def record(action: str, principal: Principal | None = None, **detail: object) -> None:
    """Write an audit entry for the signed-in person (or the one given)."""
    principal = principal or current()
    name, role = (principal.name, principal.role) if principal else ("-", "-")
    try:
        audit.record(load_settings(), name, role, action, **detail)
    except OSError:  # a full disk must not take the dashboard down; it is logged
        log.exception("audit entry %s for %s could not be written", action, name)


def sign_in_page() -> None:
    """The only page before signing in."""
    settings = load_settings()
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title(t("sign_in_title"))
        if settings.auth == "oidc":
            st.write(t("sign_in_oidc_hint"))
            if st.user.is_logged_in:  # signed in, but no Kohorte role in the token
                st.error(t("sign_in_no_role"))
                st.button(t("sign_out"), on_click=st.logout)
            else:
                st.button(t("sign_in_oidc"), on_click=st.login, type="primary")
            return
        with st.form("sign_in", enter_to_submit=True):
            name = st.text_input(t("user_name"), key="sign_in_name")
            password = st.text_input(t("password"), type="password", key="sign_in_password")
            submitted = st.form_submit_button(t("sign_in"), type="primary")
        if submitted:
            _check(settings, name.strip(), password)


def _check(settings, name: str, password: str) -> None:
    try:
        principal = accounts.verify(settings, name, password)
    except accounts.Locked as locked:
        audit.record(settings, name or "-", "-", audit.LOCKED)
        st.error(t("sign_in_locked", until=fmt.datetime(locked.until, lang())))
        return
    except accounts.SignInFailed:
        audit.record(settings, name or "-", "-", audit.SIGN_IN_FAILED)
        st.error(t("sign_in_failed"))
        return
    st.session_state[KEY] = principal
    record(audit.SIGN_IN, principal, via="lokal")
    st.rerun()


def sign_out() -> None:
    record(audit.SIGN_OUT)
    st.session_state.pop(KEY, None)
    if load_settings().auth == "oidc":
        st.logout()

"""Who sees what: the role rules in the query layer, and each role in the real app.

Roles are enforced in ``kohorte.read.queries.run``; the AppTests prove that no URL, query
parameter, page switch or download gets a role past them."""

from __future__ import annotations

import re

import pytest
from conftest import TEST_KEY, run_app
from streamlit.testing.v1 import AppTest

from kohorte.build import warehouse
from kohorte.config import Settings
from kohorte.define.dimensions import Filters
from kohorte.define.privacy import pseudonym
from kohorte.ops import audit
from kohorte.read import queries
from kohorte.read.access import (
    AGGREGATE,
    ALLOWED,
    PARTICIPANT,
    ROLES,
    AccessDenied,
    Principal,
    principal_from_claims,
)

ANJA = Principal("anja", "coach", "Anja Krüger")
TEAM_LEAD = Principal("tl", "teamleitung")
ANALYST = Principal("ana", "analyse")
MANAGEMENT = Principal("chef", "leitung")
P1 = pseudonym(TEST_KEY.encode(), "012D000001")  # Anja Krüger's
P3 = pseudonym(TEST_KEY.encode(), "012D000003")  # Jörg Weiß's
PID = re.compile(r"\b[0-9a-f]{16}\b")


@pytest.fixture(scope="module")
def con(kpi_settings):
    con = warehouse.connect_readonly(warehouse.current_path(kpi_settings))
    yield con
    con.close()


@pytest.fixture
def kpi_env(kpi_home: Settings) -> Settings:
    return kpi_home  # the KPI fixture delivered and loaded in this test's home


_run = run_app


def _texts(at: AppTest) -> str:
    """Everything a page shows as text, tables included."""
    parts = [e.value for kind in ("markdown", "caption", "text", "subheader") for e in at.get(kind)]
    parts += [frame.value.to_string() for frame in at.dataframe]
    return "\n".join(str(p) for p in parts)


# --- the query layer ---------------------------------------------------------------------


def test_every_named_query_says_who_may_see_it():
    known = set().union(*ALLOWED.values())
    for name in queries.names():
        assert queries.access_of(name) in known, name


def test_management_gets_aggregates_only(con):
    assert not queries.run(con, "ueberblick__kennzahlen", Filters(), MANAGEMENT).empty
    with pytest.raises(AccessDenied):
        queries.run(con, "kohorten__teilnehmende", Filters(), MANAGEMENT)
    with pytest.raises(AccessDenied):
        queries.run(con, "teilnehmende__zeitleiste", None, MANAGEMENT, pid=P1)
    with pytest.raises(AccessDenied):
        queries.run(con, "coaches__uebersicht", Filters(), MANAGEMENT)


def test_a_coach_sees_the_own_caseload_whatever_the_filter_says(con):
    everyone = queries.run(con, "kohorten__teilnehmende", Filters())
    assert set(everyone["coach"]) == {"Anja Krüger", "Jörg Weiß"}
    for asked in (Filters(), Filters(coach="Jörg Weiß")):
        own = queries.run(con, "kohorten__teilnehmende", asked, ANJA)
        assert set(own["coach"]) == {"Anja Krüger"}
    assert not queries.run(con, "teilnehmende__zeitleiste", None, ANJA, pid=P1).empty
    with pytest.raises(AccessDenied):
        queries.run(con, "teilnehmende__zeitleiste", None, ANJA, pid=P3)
    with pytest.raises(AccessDenied):
        queries.run(con, "teilnehmende__teilnahmen", None, ANJA, pid=P3)
    # aggregates stay programme-wide (and protected) for a coach
    kpis = queries.run(con, "ueberblick__kennzahlen", Filters(), ANJA)
    assert kpis.set_index("kennzahl").loc["eintritte_12m", "zaehler"] == 7


def test_analysts_see_pseudonymised_rows_but_no_audit_or_staff_views():
    assert ANALYST.may(PARTICIPANT) and ANALYST.may(AGGREGATE)
    assert not ANALYST.may("audit") and not ANALYST.may("staff")
    assert not ANALYST.finds_by_customer_number and not ANALYST.sees_quarantine


def test_roles_from_an_identity_provider_token(settings):
    token = {
        "sub": "x1",
        "email": "a@jc.example",
        "roles": ["kohorte-coach"],
        "name": "Anja Krüger",
    }
    assert principal_from_claims(token, settings) == Principal(
        "a@jc.example", "coach", "Anja Krüger"
    )
    assert (
        principal_from_claims({"sub": "x", "roles": "kohorte-leitung"}, settings).role == "leitung"
    )
    assert principal_from_claims({"sub": "x", "roles": ["other-app"]}, settings) is None
    both = {"sub": "x", "roles": ["kohorte-leitung", "kohorte-teamleitung"]}
    assert principal_from_claims(both, settings).role == "teamleitung"


# --- the app, role by role ---------------------------------------------------------------


def test_without_signing_in_no_page_shows_data(kpi_env):
    for query in ({}, {"pid": P1}, {"coach": "Anja Krüger"}):
        at = _run(None, query)
        assert not at.exception
        assert [b.label for b in at.button] == ["Anmelden"]
        assert not at.metric and not at.dataframe
        assert P1 not in _texts(at)


def test_management_cannot_reach_participants_by_page_or_url(kpi_env):
    at = _run(MANAGEMENT, {"pid": P1})
    assert not at.exception and at.metric  # the overview's aggregates
    for page in ("views/teilnehmende.py", "views/coaches.py", "views/protokoll.py"):
        with pytest.raises(ValueError):  # not registered: no URL or switch reaches it
            _run(MANAGEMENT).switch_page(page)
    at.switch_page("views/kohorten.py").run()
    assert not at.exception
    assert not at.dataframe  # the cohort's participant list is not there
    assert not PID.search(_texts(at))
    at.switch_page("views/datenstand.py").run()
    assert not at.expander  # quarantine reports are the team lead's


def test_a_coach_gets_the_own_caseload_by_url_and_search(kpi_env):
    at = _run(ANJA, {"coach": "Jörg Weiß"}, page="views/teilnehmende.py")
    assert not at.exception
    assert set(at.dataframe[0].value["Coach"]) <= {"Anja Krüger"}
    # another coach's participant by URL: refused, logged
    at = _run(ANJA, {"pid": P3}, page="views/teilnehmende.py")
    assert any("nicht zu Ihrer Rolle" in w.value for w in at.warning)
    assert P3 not in _texts(at)
    entries = audit.read(kpi_env)
    assert (entries["aktion"] == audit.DENIED).any()
    # own participant by customer number
    at = _run(ANJA, page="views/teilnehmende.py")
    at.text_input(key="find_person").input("012D000001").run()
    assert at.subheader[-1].value.endswith(P1)


def test_analysts_cannot_search_by_customer_number(kpi_env):
    at = _run(ANALYST, page="views/teilnehmende.py")
    assert not at.exception
    assert not [i for i in at.text_input if i.key == "find_person"]
    assert len(at.dataframe[0].value) == 8  # pseudonymised rows are theirs to see
    with pytest.raises(ValueError):
        _run(ANALYST).switch_page("views/protokoll.py")


def test_team_lead_reads_the_audit_log(kpi_env):
    audit.record(kpi_env, "anja", "coach", audit.VIEW_PARTICIPANT, pseudonym=P1)
    at = _run(TEAM_LEAD, page="views/protokoll.py")
    assert not at.exception
    log = at.dataframe[0].value
    assert "Teilnehmende angesehen" in set(log["Aktion"])  # in words, not the code
    assert any("lückenlos" in c.value for c in at.caption)


def test_every_role_is_tested():
    tested = {p.role for p in (TEAM_LEAD, ANJA, ANALYST, MANAGEMENT)}
    assert tested == set(ROLES)

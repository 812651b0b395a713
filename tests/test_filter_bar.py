"""The filter bar: filters that stay from page to page, chips, "alle zurücksetzen"."""

from __future__ import annotations

import re

import pytest
from conftest import run_app

from kohorte.read.access import Principal

TEAM_LEAD = Principal("tl", "teamleitung")


@pytest.fixture
def home(kpi_home):
    return kpi_home


def _chips(at) -> list[str]:
    """The chips' texts (st.badge is Markdown: ``:blue-badge[:material/...: text]``)."""
    found = []
    for element in at.markdown:
        match = re.fullmatch(r":blue-badge\[:material/filter_alt: (.*)\]", element.value)
        if match:
            found.append(match.group(1).replace("\\", ""))
    return found


def _navigate(at, page: str):
    """A click in the navigation: Streamlit's links carry no query parameters."""
    for key in list(at.query_params):
        del at.query_params[key]
    return at.switch_page(page).run()


def test_the_filters_travel_with_the_navigation(home):
    at = run_app(TEAM_LEAD, {"geschlecht": "w", "lzb": "ja"})
    assert not at.exception and not at.error
    for page in ("views/kohorten.py", "views/teilnehmende.py", "views/ueberblick.py"):
        at = _navigate(at, page)
        assert not at.exception and not at.error, page
        assert at.selectbox(key="f_gender").value == "w", page
        assert at.selectbox(key="f_lzb").value == "ja", page
        # the page put them back into its own address, so it can be bookmarked
        assert at.query_params["geschlecht"] in ("w", ["w"]), page


def test_active_filters_show_as_chips_and_reset_clears_them(home):
    at = run_app(TEAM_LEAD, {"geschlecht": "w", "lzb": "ja"})
    assert _chips(at) == ["Geschlecht: weiblich", "Langzeitleistungsbezug: ja"]
    at.button(key="f_reset").click().run()
    assert not at.exception and not at.error
    assert _chips(at) == []
    assert "geschlecht" not in at.query_params and "lzb" not in at.query_params
    assert at.selectbox(key="f_gender").value == "—"
    # and nothing comes back on the next page
    at = _navigate(at, "views/kohorten.py")
    assert at.selectbox(key="f_gender").value == "—" and _chips(at) == []


def test_no_filter_no_chip(home):
    at = run_app(TEAM_LEAD)
    assert _chips(at) == [] and not [b for b in at.button if b.key == "f_reset"]


def test_chips_follow_a_change_in_the_same_run(home):
    at = run_app(TEAM_LEAD, {"geschlecht": "w"})
    at.selectbox(key="f_gender").set_value("m").run()
    assert _chips(at) == ["Geschlecht: männlich"]


@pytest.mark.parametrize(
    ("value", "lang", "shown"),
    [
        ("2026-10", "de", "Okt 2026"),
        ("2026-03", "de", "Mär 2026"),
        ("2026-10", "en", "Oct 2026"),
        ("2026-W48", "de", "KW 48/2026"),
        ("2026-W05", "en", "Week 5, 2026"),
        ("gesamt", "de", "gesamt"),
    ],
)
def test_cohorts_read_as_months_and_calendar_weeks(value, lang, shown):
    from kohorte.read import fmt

    assert fmt.cohort(value, lang) == shown


def test_a_cohort_filter_shows_as_month_in_its_chip(home):
    at = run_app(TEAM_LEAD, {"kohorte": "2026-01"})
    assert _chips(at) == ["Kohorte (Monat oder Woche): Jan 2026"]
    assert at.selectbox(key="f_cohort").value == "2026-01"  # the URL keeps the ISO value

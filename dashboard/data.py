"""The dashboard's only door to data: the published warehouse, read-only, cached per version."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from kohorte.build import warehouse
from kohorte.config import load_settings
from kohorte.define import periods
from kohorte.define.dimensions import Filters
from kohorte.read import attention, cards, disclosure, queries
from kohorte.read import monthly as by_month
from kohorte.read import wirkung as impact
from kohorte.read.access import REPORTS, AccessDenied, Principal


@st.cache_resource(max_entries=2)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    """One read-only connection per published version (its exact, immutable file)."""
    return warehouse.connect_readonly(Path(path))


def current_version() -> str | None:
    """Path of the published warehouse right now; a new publish gives a new path."""
    path = warehouse.current_path(load_settings())
    return None if path is None else str(path)


def page_version() -> str:
    """The published version for a page; without one, say what to do and stop the page."""
    from dashboard.i18n import t

    version = current_version()
    if version is None:
        st.info(t("no_data"))
        st.stop()
    return version


def named(
    version: str, name: str, filters: Filters | None = None, **params: object
) -> pd.DataFrame:
    """A named query's result for the signed-in person (kohorte.read.queries enforces the role's
    scope); without a sign-in there is no data at all."""
    from dashboard import auth

    return _named(version, name, filters, auth.require_principal().reach, **params)


@st.cache_data(max_entries=256, show_spinner=False)
def _named(
    version: str,
    name: str,
    filters: Filters | None,
    reach: Principal,
    **params: object,
) -> pd.DataFrame:
    """Cached per warehouse version (a publish is never hidden) and per reach
    (``Principal.reach``: one coach's cached caseload is never another's, but two team
    leads share theirs)."""
    return queries.run(_connection(version), name, filters, reach, **params)


def _per_reader(function: Callable) -> Callable:
    """Cache a protected result computed from named queries, as the queries themselves are
    cached: by its arguments (the first is the warehouse version, so a publish is never
    hidden), by the signed-in person's reach and by the small-count threshold in force. A page
    rerun (every click) then protects nothing again that it protected before."""

    @functools.wraps(function)
    def per_reader(*args: object, **kwargs: object) -> object:
        from dashboard import auth

        reach = auth.require_principal().reach
        return _cached(function.__qualname__, reach, min_count(), args, kwargs)

    _registry[function.__qualname__] = function
    return per_reader


_registry: dict[str, Callable] = {}


@st.cache_data(max_entries=256, show_spinner=False)
def _cached(name: str, reach: Principal, threshold: int, args: tuple, kwargs: dict) -> object:
    """``_per_reader``'s cache: one entry per function, reach, threshold and arguments."""
    return _registry[name](*args, **kwargs)


def filter_options(version: str) -> dict[str, list[str]]:
    """Sites, coaches and cohorts (entry months, then entry weeks) that the filters offer."""
    row = named(version, "filter__optionen").iloc[0]
    return {key: list(row[key]) for key in ("standorte", "coaches", "kohorten", "wochen")}


def cohort_triangle(version: str, filters: Filters, raster: str = "monat") -> pd.DataFrame:
    """Cumulative integrations by week since entry, per entry month or (``woche``) week."""
    return named(version, "kohorten__dreieck", filters, raster=raster)


def funnel(version: str, filters: Filters) -> pd.DataFrame:
    """Entry to integration, step by step."""
    return named(version, "kohorten__trichter", filters)


def integration_curves(version: str, cohorts: tuple[str, ...]) -> pd.DataFrame:
    """Kaplan-Meier curves of the chosen cohorts."""
    return named(version, "kohorten__verlauf", kohorten=list(cohorts))


def participations(version: str, filters: Filters) -> pd.DataFrame:
    """The pseudonymised participations of the selection."""
    return named(version, "kohorten__teilnehmende", filters)


@_per_reader
def kpis(
    version: str, filters: Filters | None = None, period: str = periods.DEFAULT.id
) -> list[cards.Card]:
    """Headline KPIs of that version for the selection over the period (its id:
    ``12monate``, ``programmjahr``), protected (kohorte.read.cards) against the whole
    programme and the selection's siblings."""
    from dashboard import auth

    options = filter_options(version)
    params = periods.BY_ID[period].params()
    return cards.for_selection(
        lambda f: named(version, "ueberblick__kennzahlen", f, **params).to_dict("records"),
        filters or Filters(),
        {
            "standort": options["standorte"],
            "coach": options["coaches"] if auth.require_principal().role == "teamleitung" else [],
        },
        min_count(),
    )


MONTHLY_COUNTS = ["eintritte", "austritte", "aktive_am_monatsende"]


@_per_reader
def monthly(version: str, start: dt.date, filters: Filters | None = None) -> pd.DataFrame:
    """Monthly figures of the selection from ``start``, protected as shown beside the
    12-month cards (kohorte.read.disclosure.protect_monthly): hidden cells are NA."""
    filters = filters or Filters()
    frame = named(version, "ueberblick__monatszahlen", filters, start=start).set_index("monat")
    whole = None
    if filters != Filters():
        whole = named(version, "ueberblick__monatszahlen", start=start).set_index("monat")
    published = _published(version, frame.index)
    shown = disclosure.protect_monthly(frame, MONTHLY_COUNTS, published, min_count(), whole)
    return shown.reset_index()


def _published(version: str, months: pd.Index) -> pd.Series:
    """Which months lie in the 12-month window whose totals the cards publish: the months
    that ``protect_monthly`` protects together."""
    window_start = build_info(version)["as_of"] - pd.DateOffset(months=12)
    return pd.Series(pd.to_datetime(months) > window_start, index=months)


@_per_reader
def monthly_rates(version: str, start: dt.date, filters: Filters | None = None) -> pd.DataFrame:
    """Every rate by month of the selection from ``start``, with last year's same month, as
    they may be shown (kohorte.read.monthly): ``quote``, ``vorjahr_quote``, the counts for
    the tooltip and the rolling 3-month rate; None or NA where protected."""
    filters = filters or Filters()
    # the rolling rate of the first months needs the months before them
    earlier = (pd.Timestamp(start) - pd.DateOffset(months=by_month.ROLLING_MONTHS - 1)).date()
    frame = named(version, "ueberblick__monatsquoten", filters, start=earlier)
    whole = None
    if filters != Filters():
        whole = named(version, "ueberblick__monatsquoten", start=earlier)
    parts = []
    for kennzahl, part in frame.groupby("kennzahl", sort=False):
        part = part.set_index("monat")
        same = None if whole is None else whole[whole["kennzahl"] == kennzahl].set_index("monat")
        shown = by_month.rates(part, _published(version, part.index), min_count(), same)
        parts.append(part[["kennzahl", "vorlaeufig", "vorjahr_vorlaeufig"]].join(shown))
    columns = ["monat", "kennzahl", "vorlaeufig", "vorjahr_vorlaeufig", "quote", "vorjahr_quote",
               "zaehler_gezeigt", "nenner_gezeigt", "quote_gleitend"]  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=columns)
    result = pd.concat(parts).reset_index()[columns]
    return result[pd.to_datetime(result["monat"]) >= pd.Timestamp(start)].reset_index(drop=True)


@_per_reader
def monthly_rate(
    version: str, start: dt.date, filters: Filters, kennzahl: str, labels: dict, language: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One rate of ``monthly_rates`` as the chart's long table (kohorte.read.monthly.series,
    with ``labels``), and as the download's table: a month per row, a column per series
    and the month's status."""
    frame = monthly_rates(version, start, filters)
    shown = by_month.series(frame[frame["kennzahl"] == kennzahl], labels, language)
    table = shown.pivot_table(
        index="monat", columns="reihe", values="quote", aggfunc="first"
    ).reset_index()
    status = shown[shown["reihe"] == labels["this_year"]].set_index("monat")["stand"]
    table[labels["status"]] = table["monat"].map(status)
    return shown, table.rename(columns={"monat": labels["month"]})


def _thresholds() -> tuple[attention.Thresholds, str | None]:
    """The attention thresholds in force (``aufmerksamkeit.toml``, read on every run, so a
    changed file applies at once) and the problem with the file, if any (then the defaults)."""
    try:
        return load_settings().attention_thresholds(), None
    except ValueError as error:
        return attention.Thresholds(), str(error)


def _running(version: str, filters: Filters, thresholds: attention.Thresholds) -> pd.DataFrame:
    """The running participations with the attention rules' measures and flags."""
    params = attention.params(thresholds, load_settings().programme_weeks)
    return named(version, attention.QUERY, filters, **params)


def caseload(version: str, filters: Filters, language: str) -> pd.DataFrame:
    """A coach's running participations with their flags in words (kohorte.read.attention);
    for a coach the query layer narrows it to her own."""
    return _caseload(version, filters, language, _thresholds()[0])


@_per_reader
def _caseload(
    version: str, filters: Filters, language: str, thresholds: attention.Thresholds
) -> pd.DataFrame:
    # cached with the sentences: a rerun does not word every row's reasons again
    return attention.caseload(_running(version, filters, thresholds), thresholds, language)


def attention_list(
    version: str, filters: Filters, language: str
) -> tuple[pd.DataFrame, str | None]:
    """Who needs attention today in the selection (a coach: her own), one row per person
    with the reasons in ``language``; and the problem with ``aufmerksamkeit.toml``, if any
    (the defaults apply until it is fixed)."""
    thresholds, problem = _thresholds()
    return _attention_list(version, filters, language, thresholds), problem


@_per_reader
def _attention_list(
    version: str, filters: Filters, language: str, thresholds: attention.Thresholds
) -> pd.DataFrame:
    return attention.listing(_running(version, filters, thresholds), thresholds, language)


def targets(version: str) -> tuple[dict, str | None]:
    """The targets in force (``ziele.toml``) for the programme year of that version's
    as-of date, by KPI; and the problem with the file, if any (then there are none)."""
    from kohorte.define.targets import programme_year

    settings = load_settings()
    try:
        defined, problem = settings.targets(), None
    except ValueError as error:
        return {}, str(error)
    year = programme_year(build_info(version)["as_of"], settings.programme_year_month)
    return defined.for_year(year), problem


def min_count() -> int:
    """The small-count threshold from configuration."""
    return load_settings().min_count


def build_info(version: str) -> dict:
    """Run, as-of date and build time of that version."""
    from dashboard import auth

    return dict(_build_info(version, auth.require_principal().reach))


@st.cache_resource(max_entries=64, show_spinner=False)
def _build_info(version: str, reach: Principal) -> dict:
    # a page asks for it about ten times a run; a version's build never changes, so it is
    # kept as a dict (a cache_data hit would unpickle a frame each time)
    return queries.run(_connection(version), "datenstand__build", None, reach).iloc[0].to_dict()


def runs(version: str, limit: int = 30) -> pd.DataFrame:
    """The latest nightly runs recorded in that version."""
    return named(version, "datenstand__laeufe", limit=limit)


def files(version: str, limit: int = 200) -> pd.DataFrame:
    """Files of the latest runs with their outcome."""
    return named(version, "datenstand__dateien", limit=limit)


def checks(version: str, language: str = "de") -> pd.DataFrame:
    """Data checks of that build, each with what it asserts in words (``beschreibung``;
    the file name where a check has no description)."""
    frame = named(version, "datenstand__pruefungen")
    described = warehouse.check_descriptions()
    words = [described.get(name, {}).get(language, name) for name in frame["name"]]
    return frame.assign(beschreibung=words)


def last_load_problems(version: str) -> pd.DataFrame:
    """Deliveries of the load that built that version which were refused or only partly
    loaded, with their reports."""
    return named(version, "datenstand__letzte_ladung")


def report(name: str) -> str | None:
    """A quarantine report's text (read fresh: reports are deleted by retention); it holds
    lines in clear, so the team lead's only."""
    from dashboard import auth
    from kohorte.intake.report import read_report

    if not auth.require_principal().sees_quarantine:
        raise AccessDenied("Quarantäne nur für die Teamleitung")
    return read_report(load_settings().quarantine, name)


def next_nightly_run() -> dt.datetime | None:
    """When the nightly load runs next, per prefect.yaml; None while no nightly runs are
    expected here (the alerts' rule: ``kohorte serve`` deployed the schedule, or
    KOHORTE_EXPECT_NIGHTLY)."""
    from kohorte.ops import alerts
    from kohorte.ops.schedule import next_run

    if alerts.scheduled_since(load_settings()) is None:
        return None
    return next_run(dt.datetime.now(dt.UTC))


def standing_alert():
    """A failed or missing night (kohorte.ops.alerts), re-read at most every 30 seconds."""
    return _standing_alert(str(load_settings().home))


@st.cache_data(ttl=30, show_spinner=False)
def _standing_alert(home: str):
    """Cached per KOHORTE_HOME: one process's cache never answers for another home (the
    tests run many homes in one process; a cached "no alert" hid a failed night)."""
    from kohorte.ops import alerts

    return alerts.check(load_settings())


def timeline(version: str, pid: str) -> pd.DataFrame:
    """One person's events."""
    return named(version, "teilnehmende__zeitleiste", pid=pid)


def person(version: str, pid: str) -> pd.DataFrame:
    """One person's participations."""
    return named(version, "teilnehmende__teilnahmen", pid=pid)


def pseudonym_of(kundennummer: str) -> str:
    """The pseudonym a customer number has in the warehouse (keyed hash, never stored).
    Typing a number re-identifies a person: team lead and coaches only."""
    from dashboard import auth
    from kohorte.define.privacy import pseudonym

    if not auth.require_principal().finds_by_customer_number:
        raise AccessDenied("Suche nach Kundennummer nur für Teamleitung und Coaches")
    return pseudonym(load_settings().pseudonym_key(), kundennummer)


def coaches(version: str, filters: Filters) -> dict[str, list[cards.Card]]:
    """The headline KPIs per coach: the same definitions and protection as the cards, one
    selection per coach (the coach dimension's gate applies in the query layer)."""
    names = named(version, "coaches__uebersicht", filters)["coach"]
    return {name: kpis(version, replace(filters, coach=name)) for name in names}


def coach_views() -> bool:
    """Whether per-coach views are switched on (needs the staff council's consent)."""
    return load_settings().coach_views


def audit_entries():
    """The audit log, read fresh on every visit (team lead only)."""
    from dashboard import auth
    from kohorte.ops import audit
    from kohorte.read.access import AUDIT

    auth.require_principal().require(AUDIT)
    return audit.read(load_settings())


def audit_shown(entries: pd.DataFrame, language: str) -> pd.DataFrame:
    """Audit entries as people read them: Berlin time, actions, roles and details in
    words."""
    from dashboard.i18n import TEXTS
    from kohorte.ops import audit
    from kohorte.read.access import ROLES

    shown = audit.readable(entries, language)
    roles = {role: TEXTS[f"role_{role}"][language] for role in ROLES}
    return shown.assign(rolle=shown["rolle"].map(lambda role: roles.get(role, role)))


@_per_reader
def wirkung(version: str, language: str) -> dict | None:
    """The impact estimate of that version in ``language``, protected, for a role that may
    see it (kohorte.read.wirkung): results of the nightly build, no model fitted here."""
    from dashboard import auth

    con = _connection(version).cursor()
    try:
        return impact.report(con, min_count(), language, auth.require_principal())
    finally:
        con.close()


def report_months(version: str) -> list[str]:
    """The months a report can be made for, newest first: from the first entry month to
    the month of the as-of date."""
    as_of = pd.Timestamp(build_info(version)["as_of"]).date()
    first = min(filter_options(version)["kohorten"], default=f"{as_of:%Y-%m}")
    months = pd.period_range(first, f"{as_of:%Y-%m}", freq="M")
    return [str(month) for month in months[::-1]]


def default_report_month(version: str) -> str:
    """The month the monthly flow would report: the last one ended by the as-of date."""
    from kohorte.present import bericht

    return f"{bericht.last_month(pd.Timestamp(build_info(version)['as_of']).date()).von:%Y-%m}"


def reports_kept() -> list[dict]:
    """The reports kept in KOHORTE_HOME/berichte/, newest first (team lead, management)."""
    from dashboard import auth
    from kohorte.ops import reports

    auth.require_principal().require(REPORTS)
    return reports.kept(load_settings())


def make_report(month: str):
    """Make the monthly report of ``month`` (2026-11) now, as the signed-in person: kept,
    audited, not mailed. Raises kohorte.present.bericht.NoData for a month without data."""
    from dashboard import auth
    from kohorte.ops import reports
    from kohorte.present import bericht

    principal = auth.require_principal()
    principal.require(REPORTS)
    return reports.make(
        load_settings(), bericht.month(month), user=principal.name, role=principal.role
    )


def report_download(path: Path) -> Callable[[], bytes]:
    """A kept report's bytes, read and audited when a browser fetches them: the download
    button is handed this function instead of the file, so no report leaves the server
    without an audit entry (an ``on_click`` entry would miss a fetch of the file's URL).
    The reader is the one signed in when the page was drawn."""
    from dashboard import auth
    from kohorte.ops import audit

    reader = auth.current()

    def fetch() -> bytes:
        auth.record(audit.REPORT_DOWNLOAD, reader, bericht=path.name)
        return path.read_bytes()

    return fetch

"""Sections that more than one page shows: the KPI cards (with their targets) and who
needs attention today."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, data
from dashboard.i18n import lang, t
from dashboard.tables import download_buttons, show_table
from kohorte.define import periods
from kohorte.define.dimensions import Filters
from kohorte.define.kpis import CATALOGUE
from kohorte.define.periods import Period
from kohorte.read import cards, fmt
from kohorte.read import targets as goals

ATTENTION_ROWS = 5  # the most urgent in sight; the rest scrolls, the cards stay near
ATTENTION_COLUMNS = {
    "pid": "col_pid",
    "coach": "coach",
    "woche": "col_week",
    "gruende": "col_reasons",
    "letzter_termin": "col_last_session",
}


def attention(version: str, selection: Filters) -> None:
    """Who needs attention today (kohorte.define.attention): the team lead's and a coach's
    first list; a click on a row opens that person's timeline."""
    principal = auth.require_principal()
    if not principal.sees_attention_list:
        return
    st.subheader(t("attention_title"))
    shown, problem = data.attention_list(version, selection, lang())
    if problem is not None:
        st.warning(t("attention_file", message=problem))
    as_of = fmt.date(data.build_info(version)["as_of"], lang())
    if shown.empty:
        st.success(t("attention_none", as_of=as_of), icon=":material/check_circle:")
        return
    people = fmt.count(len(shown), t("person"), t("persons"), lang())
    st.caption(t("attention_hint", n=people, as_of=as_of))
    event = show_table(
        shown, ATTENTION_COLUMNS, select=True, key="attention_select", rows=ATTENTION_ROWS
    )
    if data.coach_views() and principal.sees_coach_pages and "coach" in shown.columns:
        counts = shown["coach"].value_counts().sort_index()
        st.caption(
            f"{t('attention_by_coach')}: "
            + " · ".join(f"{name} {fmt.number(n, lang())}" for name, n in counts.items())
        )
    open_timeline(shown, event)


def open_timeline(shown, event) -> None:
    """The person of the row clicked in ``shown`` (a selectable ``show_table``), opened on
    Teilnehmende with the page's filters kept; nothing when no row is chosen."""
    if event is not None and event.selection.rows:
        pid = shown.iloc[event.selection.rows[0]]["pid"]
        st.switch_page(
            "views/teilnehmende.py", query_params={**st.query_params.to_dict(), "pid": pid}
        )


PERIOD_CARRIED = "period_carried"  # session state: the cards' span of the page before
CARDS_PER_ROW = 4
CARD_HEIGHT = 180  # equal cards, with room for value, trend and detail line
TARGET_HEIGHT = 50  # and, with targets in force, the progress bar and the target line


def _signed(change: float, suffix: str, places: int = 0) -> str:
    """A change with its sign, rounded as shown: "+3", "-1,2 Pp.", "±0"."""
    change = round(float(change), places)
    text = fmt.number(abs(change), lang(), places)
    sign = "±" if change == 0 else ("+" if change > 0 else "-")
    return f"{sign}{text} {suffix}"


def _delta(card: cards.Card) -> str | None:
    """Change against the same window a year earlier, where the read layer allows it."""
    if card.change is None:
        return None
    if card.kpi.unit == "days":
        return _signed(card.change, f"{t('days_delta')} {t('vs_last_year')}")
    if card.kpi.unit == "ratio":
        return _signed(card.change, t("vs_last_year"), 1)
    if card.kpi.unit == "rate":
        return _signed(card.change * 100, f"{t('points')} {t('vs_last_year')}", 1)
    return _signed(card.change, t("vs_last_year"))


def _window(card: cards.Card) -> str:
    return f"{fmt.date(card.window_start, lang())} – {fmt.date(card.window_end, lang())}"


def _help(card: cards.Card) -> str:
    parts = [
        f"**{t('window')}:** {_window(card)} ({card.text('window', lang())})",
        f"**{t('numerator')}:** {card.text('numerator', lang())}",
    ]
    if card.kpi.unit in ("rate", "ratio"):
        parts.append(f"**{t('denominator')}:** {card.text('denominator', lang())}")
    return "  \n".join(parts)


def _detail(card: cards.Card, threshold: int) -> str | None:
    """The line under a card's value: counts behind a rate, why a value is missing."""
    if card.state == cards.HIDDEN:
        return t("suppressed", n=threshold)
    if card.state == cards.PROTECTED:
        return t("protected")
    if card.state == cards.EMPTY:
        return t("nothing_to_count")
    if card.kpi.unit == "days" and card.denominator is not None:
        return t(
            "observed",
            n=fmt.count(int(card.denominator), t("participation"), t("participations"), lang()),
        )
    if card.numerator is not None:
        return (
            f"{fmt.number(card.numerator, lang())} {t('of')} {fmt.number(card.denominator, lang())}"
        )
    return None


@st.fragment(run_every="60s")
def kpi_cards(selection: Filters) -> None:
    """KPI cards; refreshed every minute so a new publish shows without reloading the page."""
    version = data.current_version()
    if version is None:
        st.info(t("no_data"))
        return
    info = data.build_info(version)
    head, picker = st.columns([3, 1], vertical_alignment="center")
    head.caption(
        f"{t('as_of')}: **{fmt.date(info['as_of'], lang())}** · {t('last_load')}: "
        f"{fmt.datetime(info['built_at'], lang())}"
    )
    with picker:
        period = _period()
    # the headline cards' frames, labelled, hold their place on the session's first paint
    # while the figures load (later runs draw from the cache, and would only flicker)
    slot = st.empty()
    if "cards_drawn" not in st.session_state:
        with slot.container():
            _placeholders([k for k in CATALOGUE if k.section == "kern"], period)
    shown = data.kpis(version, selection, period.id)
    threshold = data.min_count()
    in_force, problem = data.targets(version)
    with slot.container():
        if problem is not None:
            st.warning(t("targets_file", message=problem))
        _cards([c for c in shown if c.kpi.section == "kern"], threshold, in_force)
    st.session_state["cards_drawn"] = True
    year = [c for c in shown if c.kpi.section == "programmjahr"]
    if year:
        st.subheader(
            t(
                "programme_year_title",
                year=year[0].window_start.year,
                start=fmt.date(year[0].window_start, lang()),
                end=fmt.date(year[0].window_end, lang()),
            )
        )
        _cards(year, threshold, in_force)
    with st.expander(t("integration_counts_title")):
        st.markdown(t("integration_counts"))
    # the rarer figures fold away, so the first screen holds the list and the headline cards
    with st.expander(t("more_kpis"), icon=":material/bar_chart:"):
        _cards([c for c in shown if c.kpi.section == "weitere"], threshold, in_force)
    download_buttons(
        pd.DataFrame(
            {
                t("kpi"): [c.label(lang()) for c in shown],
                t("value"): [  # numbers where shown, else the protected text ("<3")
                    c.value
                    if c.state == cards.SHOWN and c.value is not None
                    else fmt.card_value(c, threshold, lang())
                    for c in shown
                ],
                t("window_from"): [c.window_start for c in shown],
                t("window_to"): [c.window_end for c in shown],
            }
        ),
        "kennzahlen",
        "kpis",
        title=t("export_kpis"),
        kinds={t("value"): [c.kpi.unit for c in shown]},
    )
    if info["warnungen"]:
        st.warning(t("warnings", n=int(info["warnungen"])))


def _period() -> Period:
    """The cards' span: the rolling 12 months, or the programme year so far, each against
    the same a year earlier; kept in the URL (?zeitraum=programmjahr)."""
    asked = st.query_params.get("zeitraum") or st.session_state.get(PERIOD_CARRIED, "")
    current = periods.BY_ID.get(asked, periods.DEFAULT)
    chosen = st.segmented_control(
        t("period"),
        [p.id for p in periods.PERIODS],
        default=current.id,
        format_func=lambda p: periods.BY_ID[p].label(lang()),
        key="zeitraum",
        label_visibility="collapsed",
    )
    period = periods.BY_ID.get(chosen or "", periods.DEFAULT)
    if period == periods.DEFAULT:
        st.query_params.pop("zeitraum", None)
    else:
        st.query_params["zeitraum"] = period.id
    st.session_state[PERIOD_CARRIED] = period.id  # a page opened from the navigation keeps it
    return period


def _placeholders(kpis: list, period: Period) -> None:
    """The headline cards' frames with their names and a "…" for the figure to come."""
    for column, kpi in _grid(kpis):
        column.container(border=True, height=CARD_HEIGHT).metric(kpi.label(lang(), period), "…")


def _grid(items: list):
    """Each item with its column, ``CARDS_PER_ROW`` to a row."""
    for start in range(0, len(items), CARDS_PER_ROW):
        row = items[start : start + CARDS_PER_ROW]
        yield from zip(st.columns(CARDS_PER_ROW), row, strict=False)


def _cards(shown: list[cards.Card], threshold: int, in_force: dict) -> None:
    """KPI cards, four to a row, each with its detail line inside the card, and its target
    (``ziele.toml``) where one is in force."""
    height = CARD_HEIGHT + (TARGET_HEIGHT if in_force else 0)
    for column, card in _grid(shown):
        box = column.container(border=True, height=height)
        delta = _delta(card)
        unchanged = delta is not None and delta.startswith("±")
        # a rise of a lower-is-better KPI is red; counts of events stay neutral
        colour = {True: "normal", False: "inverse", None: "off"}[card.kpi.higher_is_better]
        box.metric(
            card.label(lang()),
            fmt.card_value(card, threshold, lang()),
            delta=delta,
            delta_color="off" if unchanged else colour,
            delta_arrow="off" if unchanged else "auto",
            help=_help(card),
        )
        box.caption(_detail(card, threshold) or "&nbsp;")
        target = in_force.get(card.kpi.id)
        if target is not None:
            shown_progress = goals.progress(card, target, lang())
            if shown_progress.share is not None:
                box.progress(shown_progress.share)
            box.caption(shown_progress.text)

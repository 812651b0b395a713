"""Chart builders: functions that take small DataFrames and return ``alt.Chart``."""

from __future__ import annotations

import altair as alt
import pandas as pd

# Vega's own locale definitions, so axes and tooltips speak German: 1.234,5 and 19.11.2026.
VEGA_LOCALES = {
    "de": {
        "number": {
            "decimal": ",",
            "thousands": ".",
            "grouping": [3],
            "currency": ["", "\u00a0€"],
            "percent": "\u00a0%",  # 75,2 % as in the cards (DIN 5008), not 75,2%
        },
        "time": {
            "dateTime": "%A, der %e. %B %Y, %X",
            "date": "%d.%m.%Y",
            "time": "%H:%M:%S",
            "periods": ["AM", "PM"],
            "days": [
                "Sonntag",
                "Montag",
                "Dienstag",
                "Mittwoch",
                "Donnerstag",
                "Freitag",
                "Samstag",
            ],
            "shortDays": ["So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"],
            "months": [
                "Januar",
                "Februar",
                "März",
                "April",
                "Mai",
                "Juni",
                "Juli",
                "August",
                "September",
                "Oktober",
                "November",
                "Dezember",
            ],
            "shortMonths": [
                "Jan",
                "Feb",
                "Mär",
                "Apr",
                "Mai",
                "Jun",
                "Jul",
                "Aug",
                "Sep",
                "Okt",
                "Nov",
                "Dez",
            ],
        },
    },
    "en": {
        "number": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["£", ""]},
        "time": {
            "dateTime": "%a %e %b %X %Y",
            "date": "%d/%m/%Y",
            "time": "%H:%M:%S",
            "periods": ["AM", "PM"],
            "days": [
                "Sunday",
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
            ],
            "shortDays": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
            "months": [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ],
            "shortMonths": [
                "Jan",
                "Feb",
                "Mar",
                "Apr",
                "May",
                "Jun",
                "Jul",
                "Aug",
                "Sep",
                "Oct",
                "Nov",
                "Dec",
            ],
        },
    },
}


CHART_HEIGHT = 280


def _month_axis(labels: dict[str, str]) -> alt.X:
    """Months as ordinal bands, so bars and points sit centred on their month."""
    return alt.X(
        "yearmonth(monat):O",
        title=labels["month"],
        axis=alt.Axis(format="%b %y", labelAngle=0, labelOverlap=True),
    )


def localised(chart: alt.Chart, lang: str) -> alt.Chart:
    """Apply the number and date locale to a chart."""
    return chart.configure(locale=VEGA_LOCALES[lang])


def entries_exits(frame: pd.DataFrame, labels: dict[str, str], lang: str) -> alt.Chart:
    """Grouped bars of entries and exits per month, with participants at month end as a line."""
    long = frame.melt(
        id_vars=["monat"], value_vars=["eintritte", "austritte"], var_name="art", value_name="n"
    )
    long["art"] = long["art"].map({"eintritte": labels["entries"], "austritte": labels["exits"]})
    base = alt.Chart(long).encode(x=_month_axis(labels))
    bars = base.mark_bar().encode(
        xOffset=alt.XOffset("art:N", sort=[labels["entries"], labels["exits"]]),
        y=alt.Y("n:Q", title=labels["count"]),
        color=alt.Color(
            "art:N",
            title=None,
            legend=alt.Legend(orient="top"),
            scale=alt.Scale(
                domain=[labels["entries"], labels["exits"]], range=["#1f5f8b", "#e8983e"]
            ),
            sort=[labels["entries"], labels["exits"]],
        ),
        tooltip=[
            alt.Tooltip("yearmonth(monat):T", title=labels["month"], format="%B %Y"),
            alt.Tooltip("art:N", title=" "),
            alt.Tooltip("n:Q", title=labels["count"], format=",d"),
        ],
    )
    line = (
        alt.Chart(frame)
        .mark_line(point=True, color="#555")
        .encode(
            x=_month_axis(labels),
            y="aktive_am_monatsende:Q",
            tooltip=[
                alt.Tooltip("yearmonth(monat):T", title=labels["month"], format="%B %Y"),
                alt.Tooltip(
                    "aktive_am_monatsende:Q", title=labels["active_month_end"], format=",d"
                ),
            ],
        )
    )
    return localised(alt.layer(bars, line).properties(height=CHART_HEIGHT), lang)


def attendance(frame: pd.DataFrame, labels: dict[str, str], lang: str) -> alt.Chart:
    """Monthly attendance rate as a line."""
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=_month_axis(labels),
            y=alt.Y(
                "anwesenheitsquote:Q",
                title=labels["attendance_rate"],
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(zero=False, padding=10),
            ),
            tooltip=[
                alt.Tooltip("yearmonth(monat):T", title=labels["month"], format="%B %Y"),
                alt.Tooltip("anwesenheitsquote:Q", title=labels["attendance_rate"], format=".1%"),
            ],
        )
        .properties(height=CHART_HEIGHT)
    )
    return localised(chart, lang)

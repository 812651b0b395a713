"""Chart builders: functions that take small DataFrames and return ``alt.Chart``."""

from __future__ import annotations

import altair as alt
import pandas as pd

# The charts' titles and axis labels, German first: the dashboard's pages (dashboard.i18n
# takes them in) and the PDF reports name a chart alike.
TEXTS: dict[str, dict[str, str]] = {
    "month": {"de": "Monat", "en": "Month"},
    "count": {"de": "Anzahl", "en": "Count"},
    "cohort": {"de": "Kohorte (Eintrittsmonat)", "en": "Cohort (entry month)"},
    "cohort_week": {"de": "Kohorte (Eintrittswoche)", "en": "Cohort (entry week)"},
    "week": {"de": "Woche", "en": "Week"},
    "share_integrated": {"de": "Anteil integriert", "en": "Share integrated"},
    "days_since_entry": {"de": "Tage seit Eintritt", "en": "Days since entry"},
    "triangle_title": {
        "de": "Integration nach Wochen seit Eintritt (kumuliert)",
        "en": "Integration by weeks since entry (cumulative)",
    },
    "curves_title": {
        "de": "Wie schnell finden Teilnehmende Arbeit?",
        "en": "How soon do participants find work?",
    },
    "all_cohorts": {"de": "alle", "en": "all"},
}

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
        axis=alt.Axis(format="%b %Y", labelAngle=0, labelOverlap=True),  # "Okt 2026"
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
    # one legend for all three series: the bars and the active-participants line
    series = [labels["entries"], labels["exits"], labels["active_month_end"]]
    colour = alt.Color(
        "art:N",
        title=" ",  # as in the tooltip; the legend has none
        legend=alt.Legend(orient="top", title=None),
        scale=alt.Scale(domain=series, range=["#1f5f8b", "#e8983e", "#555555"]),
        sort=series,
    )
    base = alt.Chart(long).encode(x=_month_axis(labels))
    bars = base.mark_bar().encode(
        xOffset=alt.XOffset("art:N", title=" ", sort=series[:2]),
        y=alt.Y("n:Q", title=labels["count"]),
        color=colour,
        tooltip=[
            alt.Tooltip("yearmonth(monat):T", title=labels["month"], format="%B %Y"),
            alt.Tooltip("art:N", title=" "),
            alt.Tooltip("n:Q", title=labels["count"], format=",d"),
        ],
    )
    line = (
        alt.Chart(frame.assign(art=labels["active_month_end"]))
        .mark_line(point=True)
        .encode(
            x=_month_axis(labels),
            y=alt.Y(  # the axis is the bars' "Anzahl"; the title names the line's points
                "aktive_am_monatsende:Q",
                title=labels["active_month_end"],
                axis=alt.Axis(title=labels["count"]),
            ),
            color=colour,
            tooltip=[
                alt.Tooltip("yearmonth(monat):T", title=labels["month"], format="%B %Y"),
                alt.Tooltip(
                    "aktive_am_monatsende:Q", title=labels["active_month_end"], format=",d"
                ),
            ],
        )
    )
    return localised(alt.layer(bars, line).properties(height=CHART_HEIGHT), lang)


def monthly_rate(
    frame: pd.DataFrame, labels: dict[str, str], lang: str, target: float | None = None
) -> alt.Chart:
    """One rate by month (``quote``) as a line per series (``reihe``: this year; its rolling
    3-month average, bold; the same month a year earlier, dashed); this year's and last
    year's months are points whose tooltip gives the counts (``anzahl``, "12 von 40"), the
    provisional months (``stand``) hollow; a target in force (a share) is a red dotted rule
    labelled ``labels["target"]``."""
    series = [labels["this_year"], labels["rolling"], labels["previous_year"]]
    states = [labels["final"], labels["provisional"]]
    colours = alt.Scale(domain=series, range=["#7aa6c8", "#1f5f8b", "#9a9a9a"])
    base = alt.Chart(frame).encode(
        x=_month_axis(labels),
        y=alt.Y(
            "quote:Q",
            title=labels["rate"],
            axis=alt.Axis(format=".0%"),
            scale=alt.Scale(zero=False, padding=10),
        ),
        color=alt.Color(
            "reihe:N",
            title=" ",  # as in the tooltip; the legend has none
            sort=series,
            scale=colours,
            legend=alt.Legend(orient="top", symbolType="stroke", symbolStrokeWidth=2, title=None),
        ),
    )
    # a month without a rate (withheld, or no case) is a gap in its line, not a bridge
    lines = base.mark_line(invalid="break-paths-filter-domains").encode(
        strokeDash=alt.StrokeDash(
            "reihe:N", title=" ", sort=series,
            scale=alt.Scale(domain=series, range=[[1, 0], [1, 0], [4, 3]]), legend=None,
        ),
        strokeWidth=alt.StrokeWidth(
            "reihe:N", title=" ", sort=series, scale=alt.Scale(domain=series, range=[1.5, 3, 1.5]),
            legend=None,
        ),
    )  # fmt: skip
    points = (
        base.transform_filter(alt.FieldOneOfPredicate("reihe", [series[0], series[2]]))
        .mark_point(size=45, strokeWidth=1.5, opacity=1)
        .encode(
            fill=alt.condition(
                f"datum.stand == '{labels['final']}'",
                alt.Fill("reihe:N", title=" ", scale=colours, legend=None),
                alt.value("white"),
            ),
            shape=alt.Shape(
                "stand:N",
                title=labels["status"],
                sort=states,
                scale=alt.Scale(domain=states, range=["circle", "diamond"]),
                legend=None,  # Vega cannot draw hollow legend symbols here; the caption explains
            ),
            tooltip=[
                alt.Tooltip("yearmonth(monat):T", title=labels["month"], format="%B %Y"),
                alt.Tooltip("reihe:N", title=" "),
                alt.Tooltip("quote:Q", title=labels["rate"], format=".1%"),
                alt.Tooltip("anzahl:N", title=labels["count"]),
                alt.Tooltip("stand:N", title=labels["status"]),
            ],
        )
    )
    layers = [lines, points]
    if target is not None:
        goal = alt.Chart(pd.DataFrame({"ziel": [target], "text": [labels["target"]]}))
        # described by their label, not by the data's field names ("ziel: 0.5")
        rule = goal.mark_rule(color=TARGET_COLOUR, strokeDash=[2, 2], description=labels["target"])
        layers.append(rule.encode(y="ziel:Q"))
        layers.append(
            goal.mark_text(
                align="left", dx=4, dy=-7, color=TARGET_COLOUR, description=labels["target"]
            ).encode(y="ziel:Q", x=alt.value(0), text="text:N")
        )
    return localised(alt.layer(*layers).properties(height=CHART_HEIGHT), lang)


DATE = "%x"  # the locale's date (VEGA_LOCALES): 25.11.2026, in English 25/11/2026
TARGET_COLOUR = "#b03a2e"
COHORT_PICK = "kohorte_wahl"  # the triangle's selection: a click picks a cohort


TRIANGLE_WEEK_STEP = 46  # px a week: room for "100 %" in the PNG, where nothing stretches
TRIANGLE_ROW = 22  # px a cohort
TRIANGLE_DARK = 0.44  # from here white labels contrast more than black (4.5 : 1 both, measured)
TRIANGLE_HIDDEN = "#d9d9d9"  # a withheld cell: grey, and told apart from "0 %" (pale blue)


def cohort_triangle(frame: pd.DataFrame, labels: dict[str, str], lang: str) -> alt.Chart:
    """Heatmap: entry month x week since entry, coloured by the cumulative share integrated;
    cells whose share must not be shown (``anteil`` missing) are grey with their label, and
    their tooltip says why (``hinweis``); rows are labelled by ``name``, in time order.
    A click on a cell selects its cohort (selection ``COHORT_PICK``).

    Legible in a PNG too: each week gets room for its widest label, cells are parted by a
    white line, and a label is white on dark cells, black elsewhere (contrast at
    least 4.5 : 1 against the "blues" scheme clamped at 60 %)."""
    pick = alt.selection_point(name=COHORT_PICK, fields=["kohorte"], on="click")
    base = alt.Chart(frame).encode(
        x=alt.X("woche:O", title=labels["week"], axis=alt.Axis(labelAngle=0)),
        y=alt.Y(
            "name:O",  # "Okt 2026", "KW 48/2026"; the click picks the ISO ``kohorte``
            title=labels["cohort"],
            sort=list(frame.sort_values("kohorte", ascending=False)["name"].unique()),
            axis=alt.Axis(labelOverlap=False),
        ),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "anteil:Q",
            title=labels["share_integrated"],
            scale=alt.Scale(scheme="blues", domain=[0, 0.6], clamp=True),
            legend=alt.Legend(format=".0%"),
        ),
        tooltip=[
            alt.Tooltip("name:N", title=labels["cohort"]),
            alt.Tooltip("woche:O", title=labels["week"]),
            alt.Tooltip("text:N", title=labels["share_integrated"]),
            alt.Tooltip("hinweis:N", title=" "),
        ],
    )
    cells = cells.add_params(pick)
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("text:N", title=labels["share_integrated"]),
        color=alt.condition(
            f"isValid(datum.anteil) && datum.anteil >= {TRIANGLE_DARK}",
            alt.value("white"),
            alt.value("black"),
        ),
    )
    height = max(200, TRIANGLE_ROW * frame["kohorte"].nunique())
    chart = alt.layer(cells, text).properties(width=alt.Step(TRIANGLE_WEEK_STEP), height=height)
    # a missing share is drawn in grey (Vega-Lite would otherwise leave the cell out)
    return localised(chart, lang).configure_scale(invalid={"color": {"value": TRIANGLE_HIDDEN}})


def integration_curves(frame: pd.DataFrame, labels: dict[str, str], lang: str) -> alt.Chart:
    """Kaplan-Meier step curves of the share integrated by days since entry; each starts at
    0 % on the day of entry (a job on that very day rises from there at day 0)."""
    starts = pd.DataFrame(
        {"kohorte": frame["kohorte"].unique(), "tage": 0, "anteil_integriert": 0.0}
    )
    frame = pd.concat([starts, frame], ignore_index=True)  # the start first at day 0
    chart = (
        alt.Chart(frame)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("tage:Q", title=labels["days_since_entry"]),
            y=alt.Y(
                "anteil_integriert:Q",
                title=labels["share_integrated"],
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(zero=True),
            ),
            color=alt.Color("kohorte:N", title=labels["cohort"], sort=None),  # as given
            tooltip=[
                alt.Tooltip("kohorte:N", title=labels["cohort"]),
                alt.Tooltip("tage:Q", title=labels["days_since_entry"]),
                alt.Tooltip("anteil_integriert:Q", title=labels["share_integrated"], format=".1%"),
            ],
        )
        .properties(height=CHART_HEIGHT)
    )
    return localised(chart, lang)


def funnel(frame: pd.DataFrame, labels: dict[str, str], lang: str) -> alt.Chart:
    """Horizontal bars of the funnel's steps, labelled with count and share of the step before;
    a withheld step (no ``anzahl``) keeps its row and shows its label ("*", "<3") at 0,
    and its tooltip says why (``hinweis``)."""
    frame = frame.assign(position=frame["anzahl"].fillna(0))
    base = alt.Chart(frame).encode(
        y=alt.Y("schritt:N", title=" ", sort=None, axis=alt.Axis(labelLimit=260, title=None)),
        x=alt.X("position:Q", title=labels["count"]),
    )
    bars = base.mark_bar(color="#1f5f8b")
    text = base.mark_text(align="left", dx=4).encode(
        text=alt.Text("text:N", title=labels["count"]),
        tooltip=[
            alt.Tooltip("schritt:N", title=" "),
            alt.Tooltip("text:N", title=labels["count"]),
            alt.Tooltip("hinweis:N", title=" "),
        ],
    )
    return localised(alt.layer(bars, text).properties(height=200), lang)


SHORT_SPAN_DAYS = 10  # up to this span a time axis ticks each day (else: Vega's choice)


def _day_ticks(*dates: pd.Series):
    """Ticks for a timeline's axis: within a short span, one per day (Vega's own choice
    there is every 12 hours, which labels each day twice); otherwise Vega's default."""
    days = pd.concat([pd.to_datetime(d) for d in dates]).dropna()
    if days.empty or (days.max() - days.min()).days > SHORT_SPAN_DAYS:
        return alt.Undefined
    return alt.TimeIntervalStep(interval="day", step=1)


def timeline(
    events: pd.DataFrame,
    periods: pd.DataFrame,
    labels: dict[str, str],
    kinds: list[str],
    lang: str,
) -> alt.Chart:
    """A person's timeline: participation periods as bands, then one lane per source.
    ``kinds`` are the labels of every event code in a fixed order: a code keeps its colour
    from person to person and in both languages; the legend names the ones shown."""
    lanes = [
        labels[k] for k in ("lane_period", "anwesenheit", "aktivitaet", "ergebnis", "verbleib")
    ]
    ticks = _day_ticks(periods["eintritt"], periods["ende"], events["datum"])
    y = alt.Y("lane:N", title=" ", sort=lanes, axis=alt.Axis(labelLimit=200, title=None))
    band = (
        alt.Chart(periods)
        .mark_bar(height=14, color="#c9dcea")
        .encode(
            x=alt.X(
                "eintritt:T",
                title=labels["col_entry"],
                axis=alt.Axis(format=DATE, title=None, tickCount=ticks),
            ),
            x2=alt.X2("ende:T", title=labels["col_exit"]),
            y=y,
            tooltip=[
                alt.Tooltip("eintritt:T", title=labels["col_entry"], format=DATE),
                alt.Tooltip("ende:T", title=labels["col_exit"], format=DATE),
            ],
        )
    )
    dots = (
        alt.Chart(events)
        .mark_point(filled=True, size=70)
        .encode(
            x=alt.X("datum:T", title=labels["date"], axis=alt.Axis(title=None, tickCount=ticks)),
            y=y,
            color=alt.Color(
                "art_label:N",
                title=" ",
                scale=alt.Scale(domain=kinds, scheme="tableau20"),
                legend=alt.Legend(
                    orient="bottom",
                    title=None,
                    values=[k for k in kinds if k in set(events["art_label"])],
                ),
            ),
            shape=alt.Shape("lane:N", title=" ", legend=None),
            tooltip=[
                alt.Tooltip("datum:T", title=labels["date"], format=DATE),
                alt.Tooltip("art_label:N", title=" "),
                alt.Tooltip("wert:Q", title=labels["value"], format=",.1f"),
            ],
        )
    )
    return localised(alt.layer(band, dots).properties(height=220), lang)


SMD_LIMIT_COLOUR = "#b03a2e"
STAGE_COLOURS = ["#9e9e9e", "#1f5f8b", "#e08214"]  # before, after matching, after weighting
GROUP_COLOURS = ["#1f5f8b", "#e08214"]  # participants, comparison group


def love_plot(frame: pd.DataFrame, limit: float, labels: dict[str, str], lang: str) -> alt.Chart:
    """Balance of each attribute (rows) as standardised mean differences before and after
    adjustment (colours), with the limit marked at both sides of 0."""
    points = (
        alt.Chart(frame)
        .mark_point(filled=True, size=70)
        .encode(
            x=alt.X("smd:Q", title=labels["smd"], axis=alt.Axis(format=".2f")),
            y=alt.Y(
                "merkmal:N",
                title=None,
                sort=None,
                axis=alt.Axis(labelLimit=220, labelOverlap=False),
            ),  # fmt: skip
            color=alt.Color(
                "stufe:N",
                title=None,
                sort=None,
                legend=alt.Legend(orient="bottom"),
                scale=alt.Scale(range=STAGE_COLOURS),
            ),  # fmt: skip
            tooltip=[
                alt.Tooltip("merkmal:N", title=labels["attribute"]),
                alt.Tooltip("stufe:N", title=" "),
                alt.Tooltip("smd:Q", title=labels["smd"], format=".3f"),
            ],
        )
    )
    bounds = pd.DataFrame({"smd": [-limit, limit]})
    rules = (
        alt.Chart(bounds)
        .mark_rule(color=SMD_LIMIT_COLOUR, strokeDash=[4, 3])
        .encode(x=alt.X("smd:Q"))
    )
    zero = alt.Chart(pd.DataFrame({"smd": [0.0]})).mark_rule(color="#888").encode(x="smd:Q")
    return localised(alt.layer(rules, zero, points).properties(height=alt.Step(26)), lang)


def overlap(frame: pd.DataFrame, labels: dict[str, str], lang: str) -> alt.Chart:
    """Each group's share of persons per band of the propensity score, drawn over each
    other (withheld bands left empty): where both have persons, they can be compared."""
    return localised(
        alt.Chart(frame)
        .mark_bar(opacity=0.55)
        .encode(
            x=alt.X("von:Q", bin="binned", title=labels["score"], axis=alt.Axis(format=".0%")),
            x2="bis:Q",
            y=alt.Y(
                "anteil:Q", title=labels["share_of_group"], stack=None, axis=alt.Axis(format=".0%")
            ),  # fmt: skip
            color=alt.Color(
                "gruppe:N",
                title=None,
                sort=None,
                legend=alt.Legend(orient="bottom"),
                scale=alt.Scale(range=GROUP_COLOURS),
            ),  # fmt: skip
            tooltip=[
                alt.Tooltip("gruppe:N", title=" "),
                alt.Tooltip("von:Q", title=labels["score_from"], format=".0%"),
                alt.Tooltip("anteil:Q", title=labels["share_of_group"], format=".1%"),
                alt.Tooltip("n:Q", title=labels["persons"], format=",d"),
            ],
        )
        .properties(height=CHART_HEIGHT),
        lang,
    )


TREND_WIDTH, TREND_HEIGHT = 150, 34


def trend(frame: pd.DataFrame, unit: str, lang: str) -> alt.Chart:
    """A KPI's last 12 months as a small line (``monat``, ``wert``: missing where the read
    layer withheld it, and the line breaks there), for the rows of a printed report: no
    axes (the report names the months beside it), the latest month marked."""
    frame = frame.assign(letzter=frame["monat"] == frame["monat"].max())
    base = alt.Chart(frame).encode(
        x=alt.X("monat:T", axis=None),
        y=alt.Y("wert:Q", axis=None, scale=alt.Scale(zero=unit != "days")),
    )
    line = base.mark_line(color="#1f4e79", strokeWidth=1.5)
    last = base.transform_filter(alt.datum.letzter).mark_point(
        color="#1f4e79", filled=True, size=18
    )
    chart = alt.layer(line, last).properties(width=TREND_WIDTH, height=TREND_HEIGHT)
    return localised(chart, lang).configure_view(stroke=None)

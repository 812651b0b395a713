"""The KPI periods: what "current" and its baseline mean. Every KPI is computed for each
period (``marts.kennzahlen``, column ``periode``); a view shows one span and compares it
with the same span a year earlier.

- ``12monate``: the rolling 12 months to the as-of date, against the 12 months before;
- ``programmjahr``: the programme year so far (from the first of the configured start
  month, KOHORTE_PROGRAMME_YEAR_START) against the programme year before, to the same day;
- ``zeitraum`` (``SPAN``): a calendar span chosen by hand, from ``von`` to ``bis`` (a
  month's report, a year's balance, ``kohorte kpis --von/--bis``), against the same span a
  year earlier. It is computed on demand, not stored.

A KPI's texts name the span through placeholders (``{zeitraum}``, ``{im_zeitraum}``), so
"Eintritte (12 Monate)" reads "Eintritte (Programmjahr)" in the programme-year view."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    """A span of the KPIs and its baseline, with the words that name it."""

    id: str  # the URL's ?zeitraum= and ``kohorte kpis --zeitraum``
    current: str  # its periode in marts.kennzahlen
    baseline: str  # the same span a year earlier
    rolling: bool  # 12 months back from the reference date, else from the programme year's start
    de: dict[str, str]
    en: dict[str, str]

    def words(self, lang: str) -> dict[str, str]:
        """The placeholders' words in the UI language."""
        return self.en if lang == "en" else self.de

    def params(self) -> dict[str, str]:
        """The parameters of a named KPI query (``$periode``, ``$vergleich``)."""
        return {"periode": self.current, "vergleich": self.baseline}

    def label(self, lang: str) -> str:
        """The span's name for a picker ("12 Monate", "Programmjahr")."""
        return self.words(lang)["name"]


ROLLING = Period(
    "12monate",
    "aktuell",
    "vorjahr",
    True,
    {"name": "12 Monate", "zeitraum": "12 Monate", "im_zeitraum": "in den 12 Monaten"},
    {"name": "12 months", "zeitraum": "12 months", "im_zeitraum": "in the 12 months"},
)
PROGRAMME_YEAR = Period(
    "programmjahr",
    "programmjahr",
    "programmjahr_vorjahr",
    False,
    {"name": "Programmjahr", "zeitraum": "Programmjahr", "im_zeitraum": "im Programmjahr"},
    {
        "name": "Programme year",
        "zeitraum": "programme year",
        "im_zeitraum": "in the programme year",
    },
)
PERIODS: tuple[Period, ...] = (ROLLING, PROGRAMME_YEAR)  # stored in marts.kennzahlen
SPAN = Period(
    "zeitraum",
    "zeitraum",
    "zeitraum_vorjahr",
    False,
    {"name": "Zeitraum", "zeitraum": "Zeitraum", "im_zeitraum": "im Zeitraum"},
    {"name": "Period", "zeitraum": "period", "im_zeitraum": "in the period"},
)
BY_ID = {period.id: period for period in PERIODS}
BY_PERIODE = {period.current: period for period in (*PERIODS, SPAN)}  # by a KPI row's periode
DEFAULT = ROLLING


def month(text: str) -> tuple[dt.date, dt.date]:
    """A calendar month as typed (``2026-11`` or ``11.2026``): its first and last day;
    ValueError for anything else."""
    for pattern in ("%Y-%m", "%m.%Y"):
        try:
            first = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
    raise ValueError(text)


def rows() -> list[dict]:
    """``meta.kpi_periods``: each periode of marts.kennzahlen, whether it is rolling, and
    how many years before the as-of date its reference date lies."""
    return [
        {"periode": periode, "zeitraum": p.id, "rollierend": p.rolling, "jahre_zurueck": back}
        for p in PERIODS
        for back, periode in enumerate((p.current, p.baseline))
    ]


def render(text: str, period: Period, lang: str) -> str:
    """A KPI text with its span named (``{zeitraum}``, ``{im_zeitraum}``)."""
    for key, word in period.words(lang).items():
        text = text.replace("{" + key + "}", word)
    return text

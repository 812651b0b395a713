"""Locale-aware formatting (Babel): German by default, decimal comma, dd.mm.yyyy."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_decimal, format_percent

LOCALES = {"de": "de_DE", "en": "en_GB"}
DATE_PATTERNS = {"de": "dd.MM.yyyy", "en": "dd/MM/yyyy"}


def number(value: float | None, lang: str = "de", decimals: int = 0) -> str:
    """1.234 (de) or 1,234 (en); an em dash for a missing value."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALES[lang])


def count(n: int, one: str, many: str, lang: str = "de") -> str:
    """A count with its noun in the right number: "1 Zeile", "13.331 Zeilen"."""
    return f"{number(n, lang)} {one if n == 1 else many}"


def percent(value: float | None, lang: str = "de", decimals: int = 1) -> str:
    """45,9 % (de) or 45.9% (en); an em dash for a missing value."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + " %"
    if lang == "en":
        pattern = pattern.replace(" %", "%")
    return format_percent(value, format=pattern, locale=LOCALES[lang])


def share(value: float | None, lang: str = "de", decimals: int = 0) -> str:
    """A share as ``percent``, but never rounded onto an end it has not reached: 99,6 % of
    the way reads "99 %" (not "100 %"), 0,2 % reads "<1 %" (not "0 %")."""
    if value is None:
        return "–"
    step = 10.0 ** -(decimals + 2)  # the smallest share the places can show
    if 0 < value < 1 and round(value, decimals + 2) >= 1:
        return percent(1 - step, lang, decimals)
    if 0 < value < 1 and round(value, decimals + 2) <= 0:
        return "<" + percent(step, lang, decimals)
    return percent(value, lang, decimals)


COHORT_MONTH = re.compile(r"(\d{4})-(\d{2})")
COHORT_WEEK = re.compile(r"(\d{4})-W(\d{2})")
WEEK_WORDS = {"de": "KW {w}/{y}", "en": "Week {w}, {y}"}


def cohort(value: str, lang: str = "de") -> str:
    """An entry cohort as people write it: "2026-10" reads "Okt 2026", the ISO week
    "2026-W48" reads "KW 48/2026"; anything else unchanged."""
    if match := COHORT_MONTH.fullmatch(value):
        first = dt.date(int(match.group(1)), int(match.group(2)), 1)
        return _format_date(first, "LLL yyyy", locale=LOCALES[lang])
    if match := COHORT_WEEK.fullmatch(value):
        return WEEK_WORDS[lang].format(w=int(match.group(2)), y=match.group(1))
    return value


def date(value: dt.date | None, lang: str = "de") -> str:
    """25.11.2026 (de); an em dash for a missing value (None, NaT)."""
    if value is None or value != value:  # NaT is not equal to itself
        return "–"
    return _format_date(value, DATE_PATTERNS[lang], locale=LOCALES[lang])


def datetime(value: dt.datetime | None, lang: str = "de", tz: str = "Europe/Berlin") -> str:
    """25.11.2026, 02:03 in the Jobcenter's time zone (naive values are taken as UTC)."""
    if value is None:
        return "–"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(ZoneInfo(tz))
    return _format_datetime(local, DATE_PATTERNS[lang] + ", HH:mm", locale=LOCALES[lang])


def kpi_value(value: float | None, unit: str, lang: str = "de") -> str:
    """A KPI value by its unit: a share in percent, a ratio with one decimal, or a count."""
    if unit == "rate":
        return percent(value, lang)
    return number(value, lang, 1 if unit == "ratio" else 0)


NOT_REACHED = {"de": "nicht erreicht", "en": "not reached"}
DAYS = {"de": "{n} Tage", "en": "{n} days"}


def withheld(threshold: int) -> str:
    """How a small count (1 to threshold - 1) reads wherever it is withheld: "<3"."""
    return f"<{threshold}"


def card_value(card, threshold: int, lang: str = "de") -> str:
    """A protected KPI (``kohorte.read.cards.Card``) as shown everywhere: its value by unit,
    ``<3`` for a small count, ``*`` for a figure withheld to protect one elsewhere, "–"
    when there is nothing to count."""
    if card.state == "hidden":
        return withheld(threshold)
    if card.state == "protected":
        return "*"
    if card.state == "not_reached":
        return NOT_REACHED[lang]
    if card.value is None:
        return "–"
    if card.kpi.unit == "days":
        return DAYS[lang].format(n=number(card.value, lang))
    return kpi_value(card.value, card.kpi.unit, lang)

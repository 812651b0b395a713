"""Targets from the Jobcenter's target agreement (Zielvereinbarung), per KPI and programme year.

An optional file ``KOHORTE_HOME/ziele.toml`` names, for a programme year (the calendar year
it starts in), a KPI of the catalogue and its target: ``mindestens`` for a KPI where more
is better, ``hoechstens`` where less is. Rates are written in percent. Without the file,
nothing changes; a mistake in it is a German ``ValueError`` naming file and key.

    [2026]
    in_arbeit_programmjahr = { mindestens = 100 }   # mindestens 100 in Arbeit im Programmjahr
    arbeit_in_8_wochen = { mindestens = 33.3 }      # mindestens ein Drittel in den 8 Wochen
    abbruchquote = { hoechstens = 15 }

The target in force is the one of the programme year the as-of date lies in; cards show
the progress against it and monthly charts a target line (``kohorte.read.targets``).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass

from kohorte.define.kpis import BY_ID

FILE_NAME = "ziele.toml"
DIRECTIONS = ("mindestens", "hoechstens")

EXAMPLE = """\
# Ziele aus der Zielvereinbarung, je Programmjahr (das Jahr, in dem es beginnt).
# Je Kennzahl: mindestens = ... (mehr ist besser) oder hoechstens = ... (weniger ist
# besser); Quoten in Prozent. Kennzahlen: siehe docs/kpis.md.

[2026]
in_arbeit_programmjahr = { mindestens = 100 }  # mindestens 100 in Arbeit im Programmjahr
arbeit_in_8_wochen = { mindestens = 33.3 }     # mindestens ein Drittel in den 8 Wochen
integrationsquote = { mindestens = 40 }
abbruchquote = { hoechstens = 15 }
"""


@dataclass(frozen=True)
class Target:
    """One KPI's target in one programme year: ``value`` in the KPI's own unit (a rate as
    a share, 0.333 for 33,3 %)."""

    kpi_id: str
    year: int
    direction: str  # "mindestens" or "hoechstens"
    value: float

    def met(self, value: float) -> bool:
        return value >= self.value if self.direction == "mindestens" else value <= self.value


@dataclass(frozen=True)
class Targets:
    """Every target of the file."""

    items: tuple[Target, ...] = ()

    def for_year(self, year: int) -> dict[str, Target]:
        """The targets of one programme year, by KPI."""
        return {t.kpi_id: t for t in self.items if t.year == year}


def programme_year(day: dt.date, start_month: int) -> int:
    """The programme year ``day`` lies in: the calendar year it started in."""
    return day.year - (day.month < start_month)


def parse(text: str, source: str = FILE_NAME) -> Targets:
    """The targets of a ``ziele.toml``."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{source}: kein gültiges TOML ({error})") from None
    items = []
    for year_key, table in document.items():
        if not (year_key.isdigit() and len(year_key) == 4) or not isinstance(table, dict):
            raise ValueError(f"{source}: [{year_key}] ist kein Programmjahr (etwa [2026])")
        for kpi_id, target in table.items():
            kpi = BY_ID.get(kpi_id)
            if kpi is None:
                raise ValueError(f"{source}: [{year_key}] {kpi_id} ist keine Kennzahl")
            if not isinstance(target, dict) or len(target) != 1 or set(target) - set(DIRECTIONS):
                raise ValueError(
                    f"{source}: [{year_key}] {kpi_id} braucht genau eines von "
                    "mindestens = ... oder hoechstens = ..."
                )
            [(direction, value)] = target.items()
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(
                    f"{source}: [{year_key}] {kpi_id}: {direction} muss eine Zahl ab 0 sein"
                )
            if kpi.unit == "rate":
                if value > 100:
                    raise ValueError(
                        f"{source}: [{year_key}] {kpi_id} ist eine Quote: Ziel in Prozent, "
                        f"höchstens 100, nicht {value}"
                    )
                value = value / 100
            items.append(Target(kpi_id, int(year_key), direction, float(value)))
    return Targets(tuple(items))

"""An independent reference computation of the KPI catalogue, written from
``docs/kpis.md`` and ``docs/data-contract.md`` alone (not from the SQL): plain Python over
the current rows of each delivery (the staging tables: latest delivery per natural key),
with exact fractions for the Kaplan-Meier curve.

``compute(staging, as_of, hours, selected)`` returns {(kpi, period): (numerator,
denominator)}; ``selected`` picks participations (a dict of their columns) as a filter does.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from fractions import Fraction

import pandas as pd

INTEGRATION = {"svb_beschaeftigung", "ausbildung", "selbststaendigkeit"}
JOB = {"svb_beschaeftigung", "selbststaendigkeit", "minijob", "gefoerderte_beschaeftigung"}
EMPLOYED = {"svb_beschaeftigt", "ausbildung", "selbststaendig"}
DAY = dt.timedelta(days=1)


def months(day: dt.date, n: int) -> dt.date:
    """Calendar months later (or earlier), clamped to the month's last day."""
    return (pd.Timestamp(day) + pd.DateOffset(months=n)).date()


def _rows(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict("records"):
        out.append(
            {k: (None if v is None or v is pd.NaT or pd.isna(v) else v) for k, v in row.items()}
        )
    for row in out:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.date()
    return out


def participations(staging: dict[str, pd.DataFrame], as_of: dt.date) -> list[dict]:
    """Participations with their owned events (docs/kpis.md: which participation an event
    belongs to) and per-participation flags."""
    people = defaultdict(list)
    for row in _rows(staging["teilnehmende"]):
        people[row["pid"]].append(row)
    result = []
    for pid, rows in people.items():
        rows.sort(key=lambda r: r["eintritt"])
        for index, p in enumerate(rows):
            nxt = rows[index + 1]["eintritt"] if index + 1 < len(rows) else None
            limit = min(d for d in (as_of, nxt - DAY if nxt else None) if d is not None)
            exit_ = p["austritt"]
            p = dict(p)
            p["id"] = f"{pid}-{p['eintritt']:%Y%m%d}"
            p["sessions_to"] = min(exit_, limit) if exit_ else limit
            p["outcomes_to"] = min(exit_ + 28 * DAY, limit) if exit_ else limit
            p["followups"] = (exit_ + 150 * DAY, min(exit_ + 210 * DAY, limit)) if exit_ else None
            p["first"] = index == 0
            result.append(p)
    return result


def _owner(parts_of: dict, pid: str, day: dt.date, kind: str) -> dict | None:
    for p in parts_of.get(pid, []):
        if kind == "verbleib":
            if p["followups"] and p["followups"][0] <= day <= p["followups"][1]:
                return p
        elif p["eintritt"] <= day <= p["sessions_to" if kind != "ergebnisse" else "outcomes_to"]:
            return p
    return None


def compute(
    staging: dict[str, pd.DataFrame],
    as_of: dt.date,
    hours: float,
    selected: Callable[[dict], bool] = lambda p: True,
    programme_year_month: int = 1,
) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    parts = participations(staging, as_of)
    parts_of = defaultdict(list)
    for p in parts:
        parts_of[p["pid"]].append(p)
        p.update(sessions=[], activities=[], outcomes=[], followups_seen=[])
    for kind, key, bucket in (
        ("anwesenheit", "datum", "sessions"),
        ("aktivitaeten", "datum", "activities"),
        ("ergebnisse", "datum", "outcomes"),
        ("verbleib", "stichtag", "followups_seen"),
    ):
        for row in _rows(staging[kind]):
            owner = _owner(parts_of, row["pid"], row[key], kind)
            if owner is not None:
                owner[bucket].append(row)
    # K2: the first owned integration of each person and calendar month
    k2 = {}
    for p in parts:
        for o in p["outcomes"]:
            if o["art"] in INTEGRATION:
                slot = (p["pid"], o["datum"].year, o["datum"].month)
                if slot not in k2 or (o["datum"], o["art"]) < (
                    k2[slot][0]["datum"],
                    k2[slot][0]["art"],
                ):
                    k2[slot] = (o, p)
    for p in parts:
        integrations = sorted(o["datum"] for o in p["outcomes"] if o["art"] in INTEGRATION)
        p["integration"] = integrations[0] if integrations else None
        if p["outcomes"] and p["austritt"]:
            last = max(o["datum"] for o in p["outcomes"])
            p["esf"] = any(o["art"] in JOB for o in p["outcomes"] if o["datum"] == last)
        else:
            p["esf"] = False
        p["training"] = any(
            o["art"] in ("praktikum", "weiterbildung")
            and p["austritt"]
            and o["datum"] <= p["austritt"]
            for o in p["outcomes"]
        )
        if p["followups_seen"]:
            target = months(p["austritt"], 6)
            best = min(
                p["followups_seen"],
                key=lambda v: (abs((v["stichtag"] - target).days), v["stichtag"]),
            )
            p["employed_6m"] = best["status"] in EMPLOYED
        else:
            p["employed_6m"] = False
    first_integration = {}
    for p in parts:
        if p["integration"] and (
            p["pid"] not in first_integration or p["integration"] < first_integration[p["pid"]]
        ):
            first_integration[p["pid"]] = p["integration"]

    chosen = [p for p in parts if selected(p)]
    out = {}
    # each span to the as-of date and the same a year earlier: 12 months back from the
    # reference date, or its programme year (from the first of its month on or before it)
    spans = (
        ("aktuell", as_of, True),
        ("vorjahr", months(as_of, -12), True),
        ("programmjahr", as_of, False),
        ("programmjahr_vorjahr", months(as_of, -12), False),
    )
    for period, stichtag, rolling in spans:
        year = stichtag.year - (stichtag.month < programme_year_month)
        year_start = dt.date(year, programme_year_month, 1)
        start = months(stichtag, -12) if rolling else year_start - DAY

        def within(day, start=start, stichtag=stichtag):
            return day is not None and start < day <= stichtag

        def this_year(day, year_start=year_start, stichtag=stichtag):
            return day is not None and year_start <= day <= stichtag

        year_exits = [p for p in chosen if p["austritt"] and this_year(p["austritt"] + DAY)]

        exits = [p for p in chosen if within(p["austritt"])]
        closed = [p for p in chosen if p["austritt"] and within(p["austritt"] + 28 * DAY)]
        due = [p for p in chosen if p["austritt"] and within(months(p["austritt"], 6))]
        sessions = [s for p in chosen for s in p["sessions"] if within(s["datum"])]
        weeks = len(sessions) / 3
        acts = [a for p in chosen for a in p["activities"] if within(a["datum"])]
        outs = [o for p in chosen for o in p["outcomes"] if within(o["datum"])]
        ids = {p["id"] for p in chosen}

        def activity(art, acts=acts):
            return sum(a["anzahl"] for a in acts if a["art"] == art)

        values = {
            "aktive_teilnehmende": (
                sum(
                    p["eintritt"] <= stichtag
                    and (p["austritt"] is None or p["austritt"] >= stichtag)
                    for p in chosen
                ),
                None,
            ),
            "eintritte_12m": (sum(within(p["eintritt"]) for p in chosen), None),
            "austritte_12m": (len(exits), None),
            "integrationsquote": (sum(p["integration"] is not None for p in closed), len(closed)),
            "beschaeftigt_bei_austritt": (sum(p["esf"] for p in closed), len(closed)),
            "verbleibsquote_6m": (sum(p["employed_6m"] for p in due), len(due)),
            "abbruchquote": (sum(p["austrittsgrund"] == "abbruch" for p in exits), len(exits)),
            "praktikum_oder_weiterbildung": (sum(p["training"] for p in exits), len(exits)),
            "in_arbeit_seit_start": (
                sum(
                    p["integration"] is not None
                    and p["integration"] == first_integration[p["pid"]]
                    and p["integration"] <= stichtag
                    and p["eintritt"] <= stichtag
                    for p in chosen
                ),
                sum(p["first"] and p["eintritt"] <= stichtag for p in chosen),
            ),
            "in_arbeit_programmjahr": (
                sum(
                    p["integration"] is not None
                    and p["integration"] == first_integration[p["pid"]]
                    and this_year(p["integration"])
                    for p in chosen
                ),
                None,
            ),
            "arbeit_in_8_wochen": (
                sum(
                    p["integration"] is not None and p["integration"] <= p["austritt"] + DAY
                    for p in year_exits
                ),
                len(year_exits),
            ),
            "anwesenheitsquote": (
                float(sum(min(float(s["stunden"]), hours) for s in sessions)),
                len(sessions) * hours,
            ),
            "unentschuldigt_quote": (
                sum(s["status"] == "unentschuldigt" for s in sessions),
                len(sessions),
            ),
            "bewerbungen_je_woche": (activity("bewerbung"), weeks),
            "vorstellungsgespraeche_je_woche": (activity("vorstellungsgespraech"), weeks),
            "arbeitgeberkontakte_je_woche": (activity("arbeitgeberkontakt"), weeks),
            "integrationen_k2": (
                sum(p["id"] in ids and within(o["datum"]) for o, p in k2.values()),
                None,
            ),
            "minijobs_12m": (sum(o["art"] == "minijob" for o in outs), None),
            "gefoerderte_12m": (sum(o["art"] == "gefoerderte_beschaeftigung" for o in outs), None),
            "praktika_12m": (sum(o["art"] == "praktikum" for o in outs), None),
            "weiterbildungen_12m": (sum(o["art"] == "weiterbildung" for o in outs), None),
            "tage_bis_integration": kaplan_meier(
                [p for p in chosen if within(p["eintritt"])], stichtag
            ),
        }
        for kpi, value in values.items():
            out[(kpi, period)] = value
    return out


def kaplan_meier(observed: list[dict], stichtag: dt.date) -> tuple[int | None, int]:
    """(median days, participations observed), with exact fractions."""
    times = []
    for p in observed:
        if p["integration"] is not None and p["integration"] <= stichtag:
            times.append(((p["integration"] - p["eintritt"]).days, True))
        else:
            end = min(p["austritt"] + 28 * DAY, stichtag) if p["austritt"] else stichtag
            times.append(((end - p["eintritt"]).days, False))
    survival = Fraction(1)
    for day in sorted({t for t, _ in times}):
        at_risk = sum(t >= day for t, _ in times)
        events = sum(t == day and e for t, e in times)
        survival *= 1 - Fraction(events, at_risk)
        if survival <= Fraction(1, 2):
            return day, len(times)
    return None, len(times)

"""Synthetic programme data like "Durchstarten", written as a Jobcenter would export it.

Seeded and vectorised (numpy for the draws, DuckDB for writing files), so one Jobcenter's
year takes a second and national scale (millions of attendance rows) stays feasible.
No real person is behind any of these rows.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from kohorte.define import wirkung
from kohorte.define.contract import KINDS
from kohorte.store.db import scalar

SESSION_OFFSETS = np.array([7 * week + day for week in range(8) for day in (0, 1, 3)])
PLANNED_DAYS = int(SESSION_OFFSETS[-1])  # Thursday of week 8: the planned last day
COACH_NAMES = (
    "Anja Krüger",
    "Jörg Weiß",
    "Renée Lefèvre",
    "Murat Öztürk",
    "Katarzyna Nowak",
    "Sören Bäcker",
    "Fatma Demir",
)
FIRST_SITE = "Salzgitter – Lebenstedt"  # the en dash differs between Windows-1252 and Latin-1

FOLLOWUP_DAYS = 182


@dataclass(frozen=True)
class Programme:
    """Parameters of a synthetic programme."""

    seed: int = 42
    start: dt.date = dt.date(2025, 1, 6)
    end: dt.date = dt.date(2026, 11, 20)
    sites: int = 1
    entries_per_year: float = 300.0
    coaches_per_site: int = 5
    weekly_weeks: int = 12  # the last N weeks arrive as weekly files; earlier ones in bulk
    p_job_during: float = 0.38  # calibrated: "more than a third found a job within 8 weeks"
    p_job_after: float = 0.16  # of regular leavers, within 28 days after leaving
    p_dropout: float = 0.2  # of those not leaving for a job: about 12 % of all
    xlsx_share: float = 0.15
    cp1252_share: float = 0.3
    # a comparison group (vergleichsgruppe files) with this effect planted on participants'
    # employment at the follow-up (a share: 0.1 is 10 points); None writes none
    planted_effect: float | None = None
    comparison_per_participation: float = 3.0


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def simulate(p: Programme) -> dict[str, pa.Table]:
    """Draw participations and all their events; returns Arrow tables in contract terms."""
    rng = np.random.default_rng(p.seed)
    start, end = _days(p.start), _days(p.end)
    first_monday = start - (p.start.weekday())
    mondays = np.arange(first_monday, end + 1, 7)
    weekly = p.entries_per_year / 52.18
    counts = rng.poisson(weekly, size=(p.sites, len(mondays)))
    site = np.repeat(np.repeat(np.arange(p.sites), len(mondays)), counts.ravel())
    eintritt = np.repeat(np.tile(mondays, p.sites), counts.ravel())
    n = len(eintritt)

    # persons: a few come back for a second participation, months later
    person = np.empty(n, dtype=np.int64)
    # a customer number is the site's prefix and a six-digit number, unique within the
    # site; up to a million participations one draw serves all sites (the files of the
    # smaller scales stay as they were), beyond that each site draws its own
    if n <= 1_000_000:
        person[:] = rng.choice(1_000_000, size=n, replace=False) if n else []
    else:
        for number in range(p.sites):
            mine = site == number
            person[mine] = rng.choice(1_000_000, size=int(mine.sum()), replace=False)
    # participations are ordered by site, then entry: earlier ones of a site are a prefix
    returning = np.flatnonzero(rng.random(n) < 0.03)
    site_start = np.searchsorted(site, site[returning], side="left")
    order_key = site * 10**6 + eintritt
    earlier_end = np.searchsorted(order_key, order_key[returning] - 240, side="left")
    has_earlier = earlier_end > site_start
    pick = rng.integers(site_start, np.maximum(earlier_end, site_start + 1))
    source, target = pick[has_earlier], returning[has_earlier]
    # each person comes back at most once, so no two participations of a person overlap
    unique_source = np.zeros(len(source), dtype=bool)
    unique_source[np.unique(source, return_index=True)[1]] = True
    ok = unique_source & ~np.isin(source, returning)
    person[target[ok]] = person[source[ok]]

    geschlecht = rng.choice(np.array(["w", "m", "d"]), size=n, p=[0.45, 0.53, 0.02])
    geburtsjahr = rng.integers(1966, 2005, size=n)
    lzb = rng.random(n) < 0.7
    abschluss = rng.random(n) < 0.45
    coach = rng.integers(0, p.coaches_per_site, size=n)

    # how a participation ends: a job, a dropout, illness, or the planned end
    lift = np.where(abschluss, 1.25, 0.8) * np.where(lzb, 0.95, 1.12)
    lift = lift / lift.mean() if n else lift
    job_during = rng.random(n) < np.clip(p.p_job_during * lift, 0, 0.95)
    draw = rng.random(n)
    dropout = ~job_during & (draw < p.p_dropout)
    ill = ~job_during & ~dropout & (draw < p.p_dropout + 0.03)
    other = ~job_during & ~dropout & ~ill & (draw < p.p_dropout + 0.05)
    regular = ~(job_during | dropout | ill | other)
    job_start = np.full(n, -1, dtype=np.int64)
    during_day = np.minimum(7 + rng.gamma(4.0, 7.0, size=n).astype(int), PLANNED_DAYS)
    job_start[job_during] = eintritt[job_during] + during_day[job_during]
    exit_day = eintritt + PLANNED_DAYS
    exit_day[job_during] = job_start[job_during] - 1
    quit_day = rng.integers(3, PLANNED_DAYS - 2, size=n)
    early = dropout | ill | other
    exit_day[early] = eintritt[early] + quit_day[early]
    job_after = regular & (rng.random(n) < p.p_job_after)
    job_start[job_after] = exit_day[job_after] + rng.integers(1, 29, size=n)[job_after]
    job_later = regular & ~job_after & (rng.random(n) < 0.12)  # seen only at the follow-up
    job_kind = rng.choice(
        np.array(["svb_beschaeftigung", "ausbildung", "selbststaendigkeit"]),
        size=n,
        p=[0.86, 0.1, 0.04],
    )
    grund = np.full(n, "regulaer", dtype=object)
    grund[job_during] = np.where(
        job_kind[job_during] == "ausbildung", "ausbildung", "arbeitsaufnahme"
    )
    grund[dropout], grund[ill], grund[other] = "abbruch", "krankheit", "sonstiges"

    participations = pa.table(
        {
            "site": site,
            "person": person,
            "eintritt": eintritt,
            "austritt": exit_day,
            "austrittsgrund": grund.astype(str),
            "coach": coach,
            "geschlecht": geschlecht,
            "geburtsjahr": geburtsjahr,
            "langzeitleistungsbezug": lzb,
            "berufsabschluss": abschluss,
        }
    )

    # attendance: 3 sessions a week for 8 weeks, until the participation ends
    idx = np.repeat(np.arange(n), len(SESSION_OFFSETS))
    day = eintritt[idx] + np.tile(SESSION_OFFSETS, n)
    keep = day <= exit_day[idx]
    idx, day = idx[keep], day[keep]
    propensity = rng.beta(8, 2, size=n)
    present = rng.random(len(idx)) < propensity[idx]
    excused = rng.random(len(idx)) < 0.6
    status = np.where(present, "anwesend", np.where(excused, "entschuldigt", "unentschuldigt"))
    hours = np.where(present, 3.0, 0.0)
    partial = present & (rng.random(len(idx)) < 0.08)
    hours[partial] = rng.choice(np.array([1.5, 2.0, 2.5]), size=int(partial.sum()))
    attendance = pa.table({"p": idx, "datum": day, "status": status, "stunden": np.round(hours, 1)})

    # activities: weekly counts, each kind booked on one session day of that week
    weeks = np.repeat(np.arange(n), 8)
    week_no = np.tile(np.arange(8), n)
    week_start = eintritt[weeks] + 7 * week_no
    alive = week_start <= exit_day[weeks]
    weeks, week_start = weeks[alive], week_start[alive]
    frames = []
    for art, mean in (
        ("bewerbung", 2.6),
        ("vorstellungsgespraech", 0.35),
        ("arbeitgeberkontakt", 0.9),
        ("beratung", 0.8),
    ):
        count = rng.poisson(mean, size=len(weeks))
        which = count > 0
        offset = rng.choice(np.array([0, 1, 3]), size=len(weeks))
        act_day = np.minimum(week_start + offset, exit_day[weeks])
        frames.append(
            pa.table(
                {
                    "p": weeks[which],
                    "datum": act_day[which],
                    "art": np.full(int(which.sum()), art),
                    "anzahl": count[which],
                }
            )
        )
    activities = pa.concat_tables(frames)

    # outcomes: jobs, mini-jobs, subsidised jobs, internships, further training
    rows_p, rows_day, rows_art = [], [], []
    has_job = job_start >= 0
    rows_p.append(np.flatnonzero(has_job))
    rows_day.append(job_start[has_job])
    rows_art.append(job_kind[has_job])
    for art, share, lo, hi in (
        ("praktikum", 0.25, 14, 42),
        ("weiterbildung", 0.08, 21, 50),
        ("minijob", 0.06, 7, 50),
        ("gefoerderte_beschaeftigung", 0.04, 30, 80),
    ):
        pick = (rng.random(n) < share) & ~job_during
        at = eintritt + rng.integers(lo, hi, size=n)
        if art != "gefoerderte_beschaeftigung":
            pick &= at <= exit_day
        rows_p.append(np.flatnonzero(pick))
        rows_day.append(at[pick])
        rows_art.append(np.full(int(pick.sum()), art))
    op = np.concatenate(rows_p)
    oart = np.concatenate(rows_art)
    is_job = np.isin(
        oart, ["svb_beschaeftigung", "ausbildung", "minijob", "gefoerderte_beschaeftigung"]
    )
    befristet = np.where(is_job, np.where(rng.random(len(op)) < 0.45, "ja", "nein"), "")
    hours_week = np.where(
        oart == "minijob",
        rng.choice(np.array([6.0, 8.0, 10.0]), size=len(op)),
        rng.choice(np.array([20.0, 25.0, 30.0, 35.0, 38.5, 39.0, 40.0]), size=len(op)),
    )
    hours_week = np.where(np.isin(oart, ["praktikum", "weiterbildung"]), np.nan, hours_week)
    outcomes = pa.table(
        {
            "p": op,
            "datum": np.concatenate(rows_day),
            "art": oart,
            "befristet": befristet,
            "wochenstunden": pa.array(hours_week, from_pandas=True),  # NaN -> missing
        }
    )

    # follow-up six months after leaving; about one in ten cannot be reached
    worked = job_during | job_after | job_later
    r = rng.random(n)
    status_f = np.where(
        worked,
        np.select(
            [r < 0.74, r < 0.80, r < 0.82, r < 0.87, r < 0.95],
            ["svb_beschaeftigt", "ausbildung", "selbststaendig", "minijob", "arbeitslos"],
            "unbekannt",
        ),
        np.select(
            [r < 0.14, r < 0.16, r < 0.22, r < 0.66, r < 0.86],
            ["svb_beschaeftigt", "ausbildung", "minijob", "arbeitslos", "massnahme"],
            "unbekannt",
        ),
    )
    answered = rng.random(n) < 0.9
    followups = pa.table(
        {
            "p": np.flatnonzero(answered),
            "stichtag": (exit_day + FOLLOWUP_DAYS)[answered],
            "status": status_f[answered],
        }
    )
    return {
        "participations": participations,
        "attendance": attendance,
        "activities": activities,
        "outcomes": outcomes,
        "followups": followups,
    }


def _site_names(sites: int) -> list[str]:
    return [FIRST_SITE] + [f"Standort {i + 1:03d}" for i in range(1, sites)]


def _prepare(con: duckdb.DuckDBPyConnection, p: Programme, tables: dict[str, pa.Table]) -> None:
    """Turn the draws into contract-shaped text tables inside DuckDB."""
    for name, table in tables.items():
        con.register(f"t_{name}", table)
    con.execute(
        "create table site_names as select * from unnest($names) with ordinality as t(name, i)",
        {"names": _site_names(p.sites)},
    )
    con.execute(
        "create table coach_names as select * from unnest($names) with ordinality as t(name, i)",
        {"names": list(COACH_NAMES)},
    )
    # site codes keep a leading zero ("012D..."), as BA customer numbers do
    con.execute(
        """
        create table part as
        select row_number() over () - 1 as p, t.*,
            lpad((t.site + 12)::varchar, 3, '0') || 'D' || lpad(t.person::varchar, 6, '0')
                as kundennummer,
            s.name as standort,
            c.name as coach_name,
            date '1970-01-01' + t.eintritt::integer as d_eintritt,
            date '1970-01-01' + t.austritt::integer as d_austritt
        from t_participations t
        join site_names s on s.i = t.site + 1
        join coach_names c on c.i = (t.coach + t.site * 2) % 7 + 1
        """
    )
    for name, column in (
        ("attendance", "datum"),
        ("activities", "datum"),
        ("outcomes", "datum"),
        ("followups", "stichtag"),
    ):
        con.execute(
            f"""create table {name} as select e.* replace (
                    date '1970-01-01' + e.{column}::integer as {column}),
                part.kundennummer, part.site
                from t_{name} e join part using (p)"""
        )


def _periods(p: Programme) -> list[tuple[dt.date, dt.date, str]]:
    """Delivery periods: one bulk period, then weekly periods up to ``end``."""
    weekly_start = p.end - dt.timedelta(days=7 * p.weekly_weeks - 1)
    weekly_start = max(weekly_start, p.start)
    periods = []
    if weekly_start > p.start:
        periods.append((p.start, weekly_start - dt.timedelta(days=1), "bestand"))
    cursor = weekly_start
    while cursor <= p.end:
        stop = min(cursor + dt.timedelta(days=6), p.end)
        periods.append((cursor, stop, "woche"))
        cursor = stop + dt.timedelta(days=1)
    return periods


SELECTS = {
    # Each query returns contract columns as text, for rows known at the period's end.
    "teilnehmende": """
        select kundennummer, strftime(d_eintritt, '%d.%m.%Y') as eintritt,
            case when d_austritt <= $stop then strftime(d_austritt, '%d.%m.%Y') end as austritt,
            case when d_austritt <= $stop then austrittsgrund end as austrittsgrund,
            coach_name as coach, geschlecht, geburtsjahr::varchar as geburtsjahr,
            case when langzeitleistungsbezug then 'ja' else 'nein' end as langzeitleistungsbezug,
            case when berufsabschluss then 'ja' else 'nein' end as berufsabschluss,
            standort{merkmale}
        from part
        where site = $site and d_eintritt <= $stop and d_austritt >= $start
        order by part.d_eintritt, part.kundennummer""",
    "anwesenheit": """
        select kundennummer, strftime(datum, '%d.%m.%Y') as datum, status,
            replace(stunden::decimal(4, 1)::varchar, '.', ',') as stunden
        from attendance a where site = $site and a.datum between $start and $stop
        order by a.datum, a.kundennummer""",
    "aktivitaeten": """
        select kundennummer, strftime(datum, '%d.%m.%Y') as datum, art, anzahl::varchar as anzahl
        from activities a where site = $site and a.datum between $start and $stop
        order by a.datum, a.kundennummer, a.art""",
    "ergebnisse": """
        select kundennummer, strftime(datum, '%d.%m.%Y') as datum, art,
            nullif(befristet, '') as befristet,
            replace(wochenstunden::decimal(4, 1)::varchar, '.', ',') as wochenstunden
        from outcomes o where site = $site and o.datum between $start and $stop
        order by o.datum, o.kundennummer, o.art""",
    "verbleib": """
        select kundennummer, strftime(stichtag, '%d.%m.%Y') as stichtag, status
        from followups f where site = $site and f.stichtag between $start and $stop
        order by f.stichtag, f.kundennummer""",
    # written once, at the end: the comparison persons whose follow-up is known by then
    "vergleichsgruppe": """
        select kundennummer, strftime(stichtag, '%d.%m.%Y') as stichtag, geschlecht,
            geburtsjahr::varchar as geburtsjahr,
            case when langzeitleistungsbezug then 'ja' else 'nein' end as langzeitleistungsbezug,
            case when berufsabschluss then 'ja' else 'nein' end as berufsabschluss,
            standort, strftime(verbleib_stichtag, '%d.%m.%Y') as verbleib_stichtag,
            verbleib_status{merkmale}
        from comparison where site = $site and verbleib_stichtag <= $stop
        order by comparison.stichtag, comparison.kundennummer""",
}
# the attributes the generator writes as merkmal_<name> (age is the person's birth year)
WRITTEN_MERKMALE = ("schuljahre", "monate_arbeitslos_24m", "kinder", "verheiratet")


def write_deliveries(p: Programme, out: Path) -> list[Path]:
    """Simulate the programme and write its deliveries into ``out`` (e.g. the inbox)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(p.seed + 1)
    con = duckdb.connect()
    _prepare(con, p, simulate(p))
    if p.planted_effect is not None:
        _plant(con, p)
    written: list[Path] = []
    periods = _periods(p)
    for start, stop, label in periods:
        for site in range(p.sites):
            for kind in KINDS:
                if kind == "vergleichsgruppe" and (
                    p.planted_effect is None or stop != periods[-1][1]
                ):
                    continue
                fmt = _pick_format(rng, p, label)
                site_part = "" if p.sites == 1 else f"_s{site + 1:03d}"
                suffix = "_bestand" if label == "bestand" else ""
                name = f"{kind}{site_part}_{stop:%Y%m%d}{suffix}"
                path = _write(con, kind, site, start, stop, out, name, fmt)
                if path is None:
                    continue
                stamp = time.mktime((stop + dt.timedelta(days=1)).timetuple()) + 3600 * 6
                os.utime(path, (stamp, stamp))  # delivered the morning after the period
                written.append(path)
    con.close()
    return written


def _pick_format(rng: np.random.Generator, p: Programme, label: str) -> str:
    draw = rng.random()
    if label == "woche" and draw < p.xlsx_share:
        return "xlsx"
    if draw < p.xlsx_share + p.cp1252_share:
        return "windows-1252"
    return "utf-8-sig" if rng.random() < 0.4 else "utf-8"


def _write(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    site: int,
    start: dt.date,
    stop: dt.date,
    out: Path,
    name: str,
    fmt: str,
) -> Path | None:
    params = {"site": site, "start": start, "stop": stop}
    planted = scalar(con, "select count(*) from duckdb_tables() where table_name = 'comparison'")
    columns = "".join(f", merkmal_{name}" for name in WRITTEN_MERKMALE) if planted else ""
    sql = SELECTS[kind].replace("{merkmale}", columns)
    params = {name: value for name, value in params.items() if f"${name}" in sql}
    count = scalar(con, f"select count(*) from ({sql})", params)
    if count == 0 and kind != "anwesenheit":
        return None
    if fmt == "xlsx" and count < 200_000:
        path = out / f"{name}.xlsx"
        _write_xlsx(con, sql, params, path)
        return path
    path = out / f"{name}.csv"
    tmp = out / f".{name}.tmp"
    con.execute(
        f"copy ({sql}) to '{tmp}' (format csv, delimiter ';', header true, quote '\"')", params
    )
    _encode(tmp, path, "utf-8" if fmt == "xlsx" else fmt)
    tmp.unlink()
    return path


def _encode(source: Path, target: Path, encoding: str) -> None:
    """Re-encode DuckDB's UTF-8 output as the Jobcenter's export would be (CRLF, BOM, cp1252)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with source.open("rb") as src, target.open("wb") as dst:
        if encoding == "utf-8-sig":
            dst.write(codecs.BOM_UTF8)
        out_encoding = "windows-1252" if encoding == "windows-1252" else "utf-8"
        while chunk := src.read(1 << 22):
            text = decoder.decode(chunk).replace("\n", "\r\n")
            dst.write(text.encode(out_encoding))


def _write_xlsx(con: duckdb.DuckDBPyConnection, sql: str, params: dict, path: Path) -> None:
    from openpyxl import Workbook

    result = con.execute(sql, params)
    header = [d[0] for d in result.description]
    rows = result.fetchall()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Export")
    sheet.append(header)
    date_columns = {
        i for i, h in enumerate(header) if h in ("datum", "eintritt", "austritt", "stichtag")
    }
    number_columns = {
        i
        for i, h in enumerate(header)
        if h in ("stunden", "wochenstunden", "anzahl", "geburtsjahr")
    }
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if i in date_columns and value:
                cells.append(dt.datetime.strptime(value, "%d.%m.%Y").date())
            elif i in number_columns and value:
                cells.append(float(value.replace(",", ".")))
            else:
                cells.append(value)
        sheet.append(cells)
    workbook.save(path)


# --- a comparison group with a planted effect --------------------------------------------

# Attributes of the Jobcenter's records (merkmal_<name>) and how they drive both taking
# part and finding work: longer unemployment makes taking part likelier and work less
# likely, so the naive difference understates the effect (selection on observables).
MERKMALE = ("schuljahre", "monate_arbeitslos_24m", "kinder", "verheiratet", "alter")
SELECTION = {"schuljahre": -0.15, "monate_arbeitslos_24m": 0.12, "kinder": 0.1, "alter": -0.01}
EMPLOYMENT = {"schuljahre": 0.18, "monate_arbeitslos_24m": -0.09, "verheiratet": 0.3}


def comparison_world(
    seed: int, effect: float, treated: int = 300, controls: int = 1200
) -> dict[str, np.ndarray]:
    """Persons in the estimator's form (``kohorte.build.wirkung``): attributes, taking part
    and in work at the follow-up. Taking part depends on the attributes; so does work, and
    participants find it with ``effect`` (a share: 0.1 is 10 points) more probability than
    they would have without the programme. About ``treated`` participants and ``controls``
    comparison persons: each person of a larger pool takes part by the selection model."""
    rng = np.random.default_rng(seed)
    pool = 4 * (treated + controls)
    people = {
        "schuljahre": rng.integers(8, 14, pool).astype(float),
        "monate_arbeitslos_24m": rng.integers(0, 25, pool).astype(float),
        "kinder": rng.poisson(1.0, pool).astype(float),
        "verheiratet": rng.binomial(1, 0.4, pool).astype(float),
        "alter": rng.integers(20, 61, pool).astype(float),
    }
    centred = {name: values - values.mean() for name, values in people.items()}
    share = treated / (treated + controls)
    pull = sum(weight * centred[name] for name, weight in SELECTION.items())
    takes_part = rng.random(pool) < _logistic(np.log(share / (1 - share)) + pull)
    chance = _logistic(-0.8 + sum(w * centred[name] for name, w in EMPLOYMENT.items()))
    chance = np.where(takes_part, np.clip(chance + effect, 0, 1), chance)
    in_work = rng.random(pool) < chance
    keep = np.concatenate(
        [np.flatnonzero(takes_part)[:treated], np.flatnonzero(~takes_part)[:controls]]
    )
    return {
        **{name: values[keep] for name, values in people.items()},
        "teilnahme": takes_part[keep],
        "in_arbeit": in_work[keep],
    }


def _logistic(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _plant(con: duckdb.DuckDBPyConnection, p: Programme) -> None:
    """Give every participation attributes and every due follow-up a status drawn from
    ``comparison_world`` (attributes drive taking part and finding work; ``planted_effect``
    more for participants), and draw the comparison group: persons who did not take part,
    each with a reference date like an entry and a follow-up as long after it as a
    participant's lies after entry. One in a hundred is also a participant (the estimate
    leaves them out)."""
    n = scalar(con, "select count(*) from part")
    controls = round(p.comparison_per_participation * n)
    world = comparison_world(p.seed + 7, p.planted_effect, treated=n, controls=controls)
    rng = np.random.default_rng(p.seed + 8)
    takers, others = world["teilnahme"], ~world["teilnahme"]
    text = {
        "schuljahre": lambda v: v.astype(int).astype(str),
        "monate_arbeitslos_24m": lambda v: v.astype(int).astype(str),
        "kinder": lambda v: v.astype(int).astype(str),
        "verheiratet": lambda v: np.where(v > 0, "ja", "nein"),
    }
    attributes = {f"merkmal_{name}": text[name](world[name]) for name in WRITTEN_MERKMALE}
    con.register(
        "planted_part",
        pa.table(
            {
                "p": np.arange(n),
                "alter": world["alter"][takers].astype(int),
                "in_arbeit": world["in_arbeit"][takers],
                **{name: values[takers] for name, values in attributes.items()},
            }
        ),
    )
    con.execute(
        "create or replace table part as select part.* replace "
        "(year(d_eintritt) - t.alter as geburtsjahr), t.* exclude (p, alter, in_arbeit), "
        "t.in_arbeit from part join planted_part t using (p) order by part.p"
    )
    in_work = ", ".join(f"'{code}'" for code in wirkung.IN_WORK)
    con.execute(
        f"""update followups f set status = case
                when part.in_arbeit and f.status not in ({in_work}) then 'svb_beschaeftigt'
                when not part.in_arbeit and f.status in ({in_work}) then 'arbeitslos'
                else f.status end
            from part where part.p = f.p"""
    )
    first, last = _days(p.start), _days(p.end) - PLANNED_DAYS - FOLLOWUP_DAYS
    stichtag = rng.integers(first, max(last, first + 1), controls)
    site = rng.integers(0, p.sites, controls)
    number = rng.choice(1_000_000, size=controls, replace=False)
    kundennummer = np.char.add(
        np.char.add(np.char.zfill((site + 12).astype(str), 3), "V"),
        np.char.zfill(number.astype(str), 6),
    )
    shared = np.flatnonzero(rng.random(controls) < 0.01)  # also participants
    participants = con.execute("select kundennummer from part").fetchnumpy()["kundennummer"]
    kundennummer = kundennummer.astype(object)
    kundennummer[shared] = rng.choice(participants, size=len(shared))
    work = world["in_arbeit"][others]
    drawn = rng.random(controls)
    status = np.where(
        work,
        np.where(drawn < 0.9, "svb_beschaeftigt", "ausbildung"),
        np.where(drawn < 0.8, "arbeitslos", "massnahme"),
    )
    con.register(
        "t_comparison",
        pa.table(
            {
                "kundennummer": kundennummer.astype(str),
                "site": site,
                "stichtag": stichtag,
                "alter": world["alter"][others].astype(int),
                "geschlecht": rng.choice(np.array(["w", "m", "d"]), controls, p=[0.45, 0.53, 0.02]),
                "langzeitleistungsbezug": rng.random(controls) < 0.6,
                "berufsabschluss": rng.random(controls) < 0.5,
                "verbleib_status": status,
                "folgt": stichtag + PLANNED_DAYS + FOLLOWUP_DAYS + rng.integers(-7, 8, controls),
                **{name: values[others] for name, values in attributes.items()},
            }
        ),
    )
    con.execute(
        """create table comparison as
        select t.* exclude (stichtag, folgt, alter),
            date '1970-01-01' + t.stichtag::integer as stichtag,
            date '1970-01-01' + t.folgt::integer as verbleib_stichtag,
            year(date '1970-01-01' + t.stichtag::integer) - t.alter as geburtsjahr,
            s.name as standort
        from t_comparison t join site_names s on s.i = t.site + 1"""
    )

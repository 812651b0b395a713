"""The impact estimate: participants against a comparison group, adjusted by a propensity
score (the settings and the conditions are ``kohorte.define.wirkung``).

``estimate`` takes one row per person (a participation or a comparison person with its
reference date): ``teilnahme`` (participant or not), ``in_arbeit`` (in work at the
follow-up) and numeric attributes. It returns the naive difference, the effect on the
treated by nearest-neighbour matching and by inverse probability weighting, each with a
seeded bootstrap interval, and the diagnostics (balance, overlap, common support). The
models are statsmodels' logistic regression and scikit-learn's nearest neighbours; the
bootstrap is SciPy's. The nightly build stores the result; nothing here runs on a page.

The three libraries are imported where a model is fitted: together they take seconds to
import, which every ``kohorte`` command and every build without a comparison group would
pay for nothing.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field

import duckdb
import numpy as np
import pandas as pd

from kohorte.define import wirkung as rule
from kohorte.store.db import scalar

TREATED = "teilnahme"
OUTCOME = "in_arbeit"
HISTOGRAM_BINS = 20
ESTIMATORS = ("matching", "gewichtung")


class Separation(Exception):
    """The attributes separate the groups: no score between 0 and 1 to compare on."""


@dataclass(frozen=True)
class Point:
    """One fit of the score and both estimators on one sample."""

    att: dict[str, float]  # estimator -> effect on the treated, as a share (0.12 = 12 points)
    treated_rate: dict[str, float]  # estimator -> participants' rate it compares
    control_rate: dict[str, float]  # estimator -> the adjusted comparison rate
    off_support: int  # participants outside the comparison group's range of scores
    unmatched: int  # participants inside it without a partner within the caliper
    smd: dict[str, dict[str, float]]  # "vorher"/estimator -> attribute -> SMD
    scores: np.ndarray  # the propensity score of every row
    support: np.ndarray  # rows used by weighting (participants on support, all controls)


@dataclass
class Estimate:
    """What the nightly build stores and every output shows."""

    treated: int
    controls: int
    treated_rate: float | None
    control_rate: float | None
    naive: float | None
    attributes: list[str]
    att: dict[str, float | None] = field(default_factory=dict)
    interval: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    treated_used: dict[str, int] = field(default_factory=dict)
    off_support: int = 0
    unmatched: int = 0
    smd: dict[str, dict[str, float]] = field(default_factory=dict)
    histogram: list[dict] = field(default_factory=list)
    failed_resamples: int = 0
    resamples: int = 0
    reasons: list[dict] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        """Whether a point estimate may be shown: no reason against it."""
        return not self.reasons

    def to_dict(self) -> dict:
        return asdict(self)


def estimate(
    frame: pd.DataFrame,
    attributes: list[str],
    resamples: int = rule.RESAMPLES,
    seed: int = rule.SEED,
) -> Estimate:
    """The estimate for ``frame`` (see the module's docstring) over ``attributes``."""
    treated = frame[TREATED].to_numpy(bool)
    outcome = frame[OUTCOME].to_numpy(float)
    n_t, n_c = int(treated.sum()), int((~treated).sum())
    rates = [outcome[treated].mean() if n_t else None, outcome[~treated].mean() if n_c else None]
    naive = rates[0] - rates[1] if n_t and n_c else None
    used = [a for a in attributes if frame[a].nunique(dropna=False) > 1]
    result = Estimate(n_t, n_c, rates[0], rates[1], naive, used)
    if n_t < rule.MIN_TREATED:
        result.reasons.append(_reason("too_few_treated", minimum=rule.MIN_TREATED, n=n_t))
    if n_c < rule.MIN_CONTROLS:
        result.reasons.append(_reason("too_few_controls", minimum=rule.MIN_CONTROLS, n=n_c))
    if result.reasons:
        return result
    x = frame[used].to_numpy(float)
    try:
        point = fit(x, treated, outcome, used)
    except Separation:
        result.reasons.append(_reason("separation"))
        return result
    result.att = dict(point.att)
    result.off_support, result.unmatched = point.off_support, point.unmatched
    result.treated_used = {
        "matching": n_t - point.off_support - point.unmatched,
        "gewichtung": n_t - point.off_support,
    }
    result.smd = point.smd
    result.histogram = histogram(point.scores, treated)
    result.interval, result.failed_resamples = bootstrap(x, treated, outcome, used, resamples, seed)
    result.resamples = resamples
    share = result.treated_used["matching"] / n_t
    if share < rule.MIN_SUPPORT_SHARE:
        result.reasons.append(_reason("overlap", share=share, minimum=rule.MIN_SUPPORT_SHARE))
    poor = sorted(
        {a for name in ESTIMATORS for a, d in point.smd[name].items() if abs(d) > rule.MAX_SMD}
    )
    if poor:
        result.reasons.append(_reason("balance", names=poor, limit=rule.MAX_SMD))
    return result


def fit(x: np.ndarray, treated: np.ndarray, outcome: np.ndarray, names: list[str]) -> Point:
    """Score, common support, both estimators and the balance, for one sample."""
    from sklearn.neighbors import NearestNeighbors

    scores = propensity(x, treated)
    logit = np.log(scores / (1 - scores))
    low, high = scores[~treated].min(), scores[~treated].max()
    on_support = treated & (scores >= low) & (scores <= high)
    t_rows, c_rows = np.flatnonzero(on_support), np.flatnonzero(~treated)
    if not len(t_rows):
        raise Separation
    # matching: the nearest comparison person on the score's logit, with replacement
    caliper = rule.CALIPER_SD * logit.std()
    distance, nearest = (
        NearestNeighbors(n_neighbors=1).fit(logit[c_rows, None]).kneighbors(logit[t_rows, None])
    )
    close = distance[:, 0] <= caliper
    matched_t, matched_c = t_rows[close], c_rows[nearest[close, 0]]
    # weighting: participants 1, comparison persons p / (1 - p)
    odds = scores[c_rows] / (1 - scores[c_rows])
    rates_t = {"matching": outcome[matched_t].mean(), "gewichtung": outcome[t_rows].mean()}
    rates_c = {
        "matching": outcome[matched_c].mean(),
        "gewichtung": np.average(outcome[c_rows], weights=odds),
    }
    before = x[treated].mean(0), x[~treated].mean(0)
    spread = np.sqrt((x[treated].var(0, ddof=1) + x[~treated].var(0, ddof=1)) / 2)
    means = {
        "vorher": before,
        "matching": (x[matched_t].mean(0), x[matched_c].mean(0)),
        "gewichtung": (x[t_rows].mean(0), np.average(x[c_rows], axis=0, weights=odds)),
    }
    smd = {
        name: {
            a: float((t[i] - c[i]) / spread[i]) if spread[i] > 0 else 0.0
            for i, a in enumerate(names)
        }
        for name, (t, c) in means.items()
    }
    support = on_support | ~treated
    return Point(
        att={name: float(rates_t[name] - rates_c[name]) for name in ESTIMATORS},
        treated_rate={name: float(v) for name, v in rates_t.items()},
        control_rate={name: float(v) for name, v in rates_c.items()},
        off_support=int(treated.sum() - on_support.sum()),
        unmatched=int((~close).sum()),
        smd=smd,
        scores=scores,
        support=support,
    )


def propensity(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """The probability of participation given the attributes (an unpenalised logistic
    regression); Separation when the attributes predict it perfectly or the fit fails."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    design = sm.add_constant(x, has_constant="add")
    with warnings.catch_warnings(), np.errstate(over="ignore"):  # exp of a far-off logit
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            fitted = sm.Logit(treated.astype(float), design).fit(disp=0, maxiter=100)
        except (PerfectSeparationWarning, ConvergenceWarning, np.linalg.LinAlgError) as error:
            raise Separation from error
    scores = fitted.predict(design)
    if not np.isfinite(scores).all() or scores.min() <= 0 or scores.max() >= 1:
        raise Separation
    return scores


def bootstrap(
    x: np.ndarray,
    treated: np.ndarray,
    outcome: np.ndarray,
    names: list[str],
    resamples: int,
    seed: int,
) -> tuple[dict[str, tuple[float, float] | None], int]:
    """Percentile intervals of both estimators over ``resamples`` resamples that draw
    participants and comparison persons separately (so each keeps its size), and the
    number of resamples no score could be fitted on (left out of the percentiles)."""
    from scipy import stats

    rows_t, rows_c = np.flatnonzero(treated), np.flatnonzero(~treated)

    def both(sample_t: np.ndarray, sample_c: np.ndarray) -> np.ndarray:
        rows = np.concatenate([sample_t, sample_c]).astype(int)
        try:
            point = fit(x[rows], treated[rows], outcome[rows], names)
        except Separation:
            return np.full(len(ESTIMATORS), np.nan)
        return np.array([point.att[name] for name in ESTIMATORS])

    with warnings.catch_warnings():  # resamples without a fit: counted and left out below
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            (rows_t, rows_c),
            both,
            n_resamples=resamples,
            vectorized=False,
            paired=False,
            method="percentile",
            confidence_level=rule.LEVEL,
            rng=np.random.default_rng(seed),
        )
    distribution = np.atleast_2d(result.bootstrap_distribution)
    failed = int(np.isnan(distribution).any(axis=0).sum())
    tail = (1 - rule.LEVEL) / 2 * 100
    intervals: dict[str, tuple[float, float] | None] = {}
    for i, name in enumerate(ESTIMATORS):
        values = distribution[i][~np.isnan(distribution[i])]
        low, high = np.percentile(values, [tail, 100 - tail]) if len(values) else (None, None)
        intervals[name] = None if low is None else (float(low), float(high))
    return intervals, failed


def histogram(scores: np.ndarray, treated: np.ndarray) -> list[dict]:
    """Persons per bin of the propensity score, per group: the overlap at a glance."""
    edges = np.linspace(0, 1, HISTOGRAM_BINS + 1)
    rows = []
    for group, mask in (("teilnahme", treated), ("vergleich", ~treated)):
        counts, _ = np.histogram(scores[mask], bins=edges)
        rows += [
            {"gruppe": group, "von": float(edges[i]), "bis": float(edges[i + 1]), "n": int(n)}
            for i, n in enumerate(counts)
        ]
    return rows


def _reason(code: str, **values) -> dict:
    """A reason against a point estimate: its code (``rule.REASONS``) and its values, put
    into words by the read layer in the reader's language."""
    return {"code": code, **values}


# --- the nightly mart ------------------------------------------------------------------

PERSON_ATTRIBUTES = ("alter", "langzeitleistungsbezug", "berufsabschluss")
GENDERS = ("m", "d")  # as indicators; w is the reference
# a scope of the estimate: the whole programme, and each site and entry year
SCOPES = ("gesamt", "standort", "jahr")


def store(con: duckdb.DuckDBPyConnection) -> None:
    """marts.wirkung (one row per scope and value: counts, rates, estimates, intervals,
    reasons and notes), marts.wirkung_balance (SMD per attribute, before and after) and
    marts.wirkung_ueberlappung (the score histogram), from marts.wirkung_personen.

    The fits cost seconds to minutes (500 per scope), and their input changes only when
    follow-ups arrive or fall due: an incremental build that finds the previous version's
    estimate made from the same persons with the same settings keeps it."""
    fingerprint = _fingerprint(con)
    if _kept(con, fingerprint):
        return
    persons = con.sql("select * from marts.wirkung_personen").df()
    excluded = scalar(
        con,
        "select count(distinct pid) from staging.stg_vergleichsgruppe "
        "where pid in (select pid from marts.teilnahmen)",
    )
    frame, attributes, notes = design(persons)
    rows, balance, overlap = [], [], []
    for scope, value, part in _scopes(frame):
        result = estimate(part, attributes) if len(part) else None
        row = _row(scope, value, part, result, attributes)
        row["fingerprint"] = fingerprint
        if scope == "gesamt":
            row["hinweise"] = json.dumps(notes + _timing(persons), ensure_ascii=False)
            row["vergleich_auch_teilnehmende"] = excluded
        rows.append(row)
        if result is None:
            continue
        balance += [
            {"bereich": scope, "wert": value, "merkmal": a, "stufe": stage, "smd": d}
            for stage, values in result.smd.items()
            for a, d in values.items()
        ]
        overlap += [{"bereich": scope, "wert": value, **bin_} for bin_ in result.histogram]
    _write(con, "marts.wirkung", pd.DataFrame(rows, columns=list(MART_COLUMNS)), MART_COLUMNS)
    _write(con, "marts.wirkung_balance", pd.DataFrame(balance), BALANCE_COLUMNS)
    _write(con, "marts.wirkung_ueberlappung", pd.DataFrame(overlap), OVERLAP_COLUMNS)


def design(persons: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[dict]]:
    """The estimator's frame: one numeric column per attribute both groups carry, and the
    notes on attributes left out (only one group has them) and rows left out (a value of a
    used attribute missing)."""
    frame = pd.DataFrame(
        {
            TREATED: persons["gruppe"].eq("teilnahme").to_numpy(bool),
            OUTCOME: persons["in_arbeit"].fillna(False).to_numpy(bool),
            "standort": persons["standort"],
            "jahr": persons["jahr"],
        }
    )
    for name in PERSON_ATTRIBUTES:
        frame[name] = persons[name].astype("float64")
    for code in GENDERS:
        frame[f"geschlecht_{code}"] = persons["geschlecht"].eq(code).astype(float)
    attributes = [*PERSON_ATTRIBUTES, *(f"geschlecht_{code}" for code in GENDERS)]
    values = persons["merkmale"].map(lambda m: dict(m) if isinstance(m, dict) else {})
    names = sorted({name for m in values for name in m})
    notes = []
    for name in names:
        column = values.map(lambda m, name=name: m.get(name)).astype("float64")
        sides = {group: column[frame[TREATED] == (group == "teilnahme")].notna().any()
                 for group in ("teilnahme", "vergleich")}  # fmt: skip
        if all(sides.values()):
            frame[f"merkmal_{name}"] = column
            attributes.append(f"merkmal_{name}")
        else:
            side = "teilnahme" if sides["teilnahme"] else "vergleich"
            notes.append(_note("one_side", name=f"merkmal_{name}", side=side))
    complete = frame[attributes].notna().all(axis=1)
    if (~complete).any():
        notes.append(_note("incomplete", n=int((~complete).sum())))
    return frame[complete].reset_index(drop=True), attributes, notes


MART_COLUMNS = {
    "bereich": "varchar", "wert": "varchar", "teilnehmende": "integer", "vergleich": "integer",
    "quote_teilnehmende": "double", "quote_vergleich": "double", "naiv": "double",
    "att_matching": "double", "att_matching_von": "double", "att_matching_bis": "double",
    "att_gewichtung": "double", "att_gewichtung_von": "double", "att_gewichtung_bis": "double",
    "teilnehmende_matching": "integer", "teilnehmende_gewichtung": "integer",
    "ausserhalb_stuetzbereich": "integer", "ohne_partner": "integer", "merkmale": "varchar",
    "stichproben": "integer", "stichproben_ohne_schaetzung": "integer", "gezeigt": "boolean",
    "gruende": "varchar", "hinweise": "varchar", "vergleich_auch_teilnehmende": "integer",
    "fingerprint": "varchar",
}  # fmt: skip
BALANCE_COLUMNS = {
    "bereich": "varchar", "wert": "varchar", "merkmal": "varchar", "stufe": "varchar",
    "smd": "double",
}  # fmt: skip
OVERLAP_COLUMNS = {
    "bereich": "varchar", "wert": "varchar", "gruppe": "varchar", "von": "double",
    "bis": "double", "n": "integer",
}  # fmt: skip


def _scopes(frame: pd.DataFrame):
    """(scope, value, rows): the whole programme, then each site and each entry year with
    participants, the largest first, at most SUBGROUP_LIMIT of each."""
    yield "gesamt", "", frame
    for scope in SCOPES[1:]:
        sizes = frame[frame[TREATED]].groupby(scope).size().sort_values(ascending=False)
        if len(sizes) < 2:  # one site, one year: the same as the whole programme
            continue
        for value in sizes.index[: rule.SUBGROUP_LIMIT]:
            yield scope, str(value), frame[frame[scope] == value]


def _row(scope: str, value: str, part: pd.DataFrame, result: Estimate | None, names) -> dict:
    row = {"bereich": scope, "wert": value, "teilnehmende": int(part[TREATED].sum()),
           "vergleich": int((~part[TREATED]).sum()), "gezeigt": False,
           "merkmale": ", ".join(names), "gruende": "[]", "hinweise": "[]"}  # fmt: skip
    if result is None:
        return row
    row.update(
        quote_teilnehmende=result.treated_rate,
        quote_vergleich=result.control_rate,
        naiv=result.naive,
        ausserhalb_stuetzbereich=result.off_support,
        ohne_partner=result.unmatched,
        stichproben=result.resamples,
        stichproben_ohne_schaetzung=result.failed_resamples,
        gezeigt=result.shown,
        gruende=json.dumps(result.reasons, ensure_ascii=False),
        merkmale=", ".join(result.attributes),
    )
    for name in ESTIMATORS:
        row[f"att_{name}"] = result.att.get(name)
        low, high = result.interval.get(name) or (None, None)
        row[f"att_{name}_von"], row[f"att_{name}_bis"] = low, high
        row[f"teilnehmende_{name}"] = result.treated_used.get(name)
    return row


def _timing(persons: pd.DataFrame) -> list[dict]:
    """A note when the comparison group's follow-ups lie further from their reference
    dates than the participants' from their entries (medians, in days)."""
    days = persons.groupby("gruppe")["tage_bis_verbleib"].median()
    if not {"teilnahme", "vergleich"} <= set(days.dropna().index):
        return []
    apart = days["vergleich"] - days["teilnahme"]
    if abs(apart) <= rule.FOLLOW_UP_TOLERANCE_DAYS:
        return []
    return [
        _note(
            "timing",
            t=int(days["teilnahme"]),
            v=int(days["vergleich"]),
            tolerance=rule.FOLLOW_UP_TOLERANCE_DAYS,
        )
    ]


def _note(code: str, **values) -> dict:
    """A note beside the estimate (``rule.NOTES``), as ``_reason``."""
    return {"code": code, **values}


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, columns) -> None:
    """``frame`` as ``table`` with the given column types (an empty frame gives an empty
    table with them)."""
    definition = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    con.execute(f"create or replace table {table} ({definition})")
    if len(frame):
        con.register("wirkung_rows", frame[list(columns)])
        con.execute(f"insert into {table} select * from wirkung_rows")  # noqa: S608 (constants)
        con.unregister("wirkung_rows")


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """The estimate's input and settings in one value: the persons (in any order) and
    every setting of the method."""
    persons = scalar(
        con,
        "select count(*) || ':' || coalesce(sum(hash(p)::hugeint), 0) "
        "from marts.wirkung_personen as p",
    )
    settings = (rule.RESAMPLES, rule.SEED, rule.CALIPER_SD, rule.LEVEL, rule.MAX_SMD,
                rule.MIN_TREATED, rule.MIN_CONTROLS, rule.MIN_SUPPORT_SHARE,
                rule.SUBGROUP_LIMIT, rule.FOLLOW_UP_TOLERANCE_DAYS, HISTOGRAM_BINS)  # fmt: skip
    return f"{persons}|{settings!r}"


def _kept(con: duckdb.DuckDBPyConnection, fingerprint: str) -> bool:
    """Whether this file already holds the estimate of ``fingerprint`` (an incremental
    build starts from a copy of the previous version)."""
    exists = scalar(
        con,
        "select count(*) from duckdb_columns() where schema_name = 'marts' "
        "and table_name = 'wirkung' and column_name = 'fingerprint'",
    )  # asked, not tried: a failed query would end the build's transaction
    if not exists:
        return False
    return scalar(con, "select any_value(fingerprint) from marts.wirkung") == fingerprint

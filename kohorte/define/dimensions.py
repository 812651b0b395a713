"""The dimensions every view filters by (period, site, coach, cohort, gender, long-term
benefit receipt), declared once: each field of ``Filters`` carries its SQL type and its
predicate over the facts' columns (``marts.teilnahmen``). From that one list come the
selection macro ``marts.auswahl`` and the macros built on it (their parameters, their
predicate, "the whole programme"), the arguments of the named queries, the URL query
parameters, and who may filter by a dimension."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields, replace


def _dimension(sql_type: str, predicate: str, *, staff: bool = False) -> object:
    """A filter field: ``predicate`` tests the facts' row ``t`` against the argument
    ``{p}``; ``staff`` marks a dimension whose figures monitor employees."""
    return field(default=None, metadata={"type": sql_type, "predicate": predicate, "staff": staff})


@dataclass(frozen=True)
class Filters:
    """A selection of participations; None means "all"."""

    von: dt.date | None = _dimension("date", "t.eintritt >= {p}")
    bis: dt.date | None = _dimension("date", "t.eintritt <= {p}")
    standort: str | None = _dimension("varchar", "t.standort = {p}")
    # per-coach figures need the staff council's consent (KOHORTE_COACH_VIEWS)
    coach: str | None = _dimension("varchar", "t.coach = {p}", staff=True)
    # entry month YYYY-MM or ISO entry week YYYY-Www
    kohorte: str | None = _dimension("varchar", "{p} in (t.kohorte_monat, t.kohorte_woche)")
    geschlecht: str | None = _dimension("varchar", "t.geschlecht = {p}")
    lzb: bool | None = _dimension("boolean", "t.langzeitleistungsbezug = {p}")

    def params(self) -> dict[str, object]:
        """The DuckDB parameters of the filter clause."""
        return asdict(self)

    def without_staff(self) -> Filters:
        """The same selection without the dimensions that monitor employees."""
        return replace(self, **{f.name: None for f in DIMENSIONS if f.metadata["staff"]})

    def to_query(self) -> dict[str, str]:
        """URL query parameters (only those that are set)."""
        query = {}
        for name, value in asdict(self).items():
            if value is None:
                continue
            if isinstance(value, bool):
                query[name] = "ja" if value else "nein"
            elif isinstance(value, dt.date):
                query[name] = value.isoformat()
            else:
                query[name] = str(value)
        return query

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Filters:
        """Filters from URL query parameters; unknown or malformed values are ignored."""
        values: dict[str, object] = {}
        for dimension in DIMENSIONS:
            raw = query.get(dimension.name)
            if raw in (None, ""):
                continue
            try:
                if dimension.metadata["type"] == "date":
                    values[dimension.name] = dt.date.fromisoformat(raw)
                elif dimension.metadata["type"] == "boolean":
                    values[dimension.name] = {"ja": True, "nein": False}[raw]
                else:
                    values[dimension.name] = raw[:80]
            except (ValueError, KeyError):
                continue
        return cls(**values)


DIMENSIONS = fields(Filters)

# The filters as arguments of the table macros over a selection, in their order. DuckDB
# refuses parameters a query does not use, so every filtered query passes all of them.
ARGS = ", ".join(f"${d.name}::{d.metadata['type']}" for d in DIMENSIONS)


def macro_sql() -> dict[str, str]:
    """What the marts' templates (``sql/marts/``) get from the dimensions:
    ``{filter_params}`` the macro parameters, ``{filter_predicate}`` the selection's
    where clause, ``{whole_programme}`` true when no filter is set."""
    params = [f"p_{d.name}" for d in DIMENSIONS]
    return {
        "filter_params": ", ".join(params),
        "filter_predicate": "\n    and ".join(
            f"(p_{d.name} is null or {d.metadata['predicate'].format(p='p_' + d.name)})"
            for d in DIMENSIONS
        ),
        "whole_programme": " and ".join(f"{p} is null" for p in params),
    }

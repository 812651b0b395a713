"""The filters every view shares (period, site, coach, cohort, gender, long-term benefit
receipt), as DuckDB parameters of the named queries and as URL query parameters."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields

# The filters as arguments of the table macros over a selection (marts.auswahl and the
# macros built on it), in their order. DuckDB refuses parameters a query does not use, so
# every filtered query passes all of them.
ARGS = (
    "$von::date, $bis::date, $standort::varchar, $coach::varchar, $kohorte::varchar, "
    "$geschlecht::varchar, $lzb::boolean"
)


@dataclass(frozen=True)
class Filters:
    """A selection of participations; None means "all"."""

    von: dt.date | None = None
    bis: dt.date | None = None
    standort: str | None = None
    coach: str | None = None
    kohorte: str | None = None  # entry month YYYY-MM or ISO entry week YYYY-Www
    geschlecht: str | None = None
    lzb: bool | None = None

    def params(self) -> dict[str, object]:
        """The DuckDB parameters of the filter clause."""
        return asdict(self)

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
        for field in fields(cls):
            raw = query.get(field.name)
            if raw in (None, ""):
                continue
            try:
                if field.name in ("von", "bis"):
                    values[field.name] = dt.date.fromisoformat(raw)
                elif field.name == "lzb":
                    values[field.name] = {"ja": True, "nein": False}[raw]
                else:
                    values[field.name] = raw[:80]
            except (ValueError, KeyError):
                continue
        return cls(**values)

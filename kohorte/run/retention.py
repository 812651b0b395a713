"""Retention: participant data are deleted a configurable time after exit.

Run after the nightly load (``flows/retention.py``, or ``kohorte retention``):

1. Quarantined originals and their reports older than ``quarantine_days`` are deleted, and
   audit-log months older than ``audit_days``.
2. Persons whose every participation ended more than ``retention_months`` ago (and the
   rows of unknown persons older than that) are chosen from the published warehouse.
3. Their rows are removed from every Parquet file of the raw store; each delivery's
   manifest records how many rows retention deleted, so the raw-store check still proves
   that nothing else was lost.
4. A warehouse is built without them. The programme's monthly totals before and after
   differ exactly by the deleted participations; that difference is written to the
   archive (``raw/_archive``) as numbers per month, with no pseudonym, and the published
   warehouse adds it back, so the programme-wide figures already reported stay as they
   were. Filtered views (a site, a coach) cover the retained participations only.
5. That warehouse is published, and every older version is deleted with the data in it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from kohorte.build import analyst, warehouse
from kohorte.config import Settings
from kohorte.define.contract import KINDS
from kohorte.ops import audit
from kohorte.run.pipeline import finish, run_lock
from kohorte.store import rawstore
from kohorte.store.runlog import new_run_id


def cutoff(settings: Settings, today: dt.date) -> dt.date:
    """Exits before this day are past retention."""
    months = today.year * 12 + today.month - 1 - settings.retention_months
    year, month = divmod(months, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])  # 31.08. - 6 months: 28.02.
    return dt.date(year, month + 1, day)


def expired_quarantine(settings: Settings, now: float | None = None) -> list[Path]:
    """Quarantined files older than ``quarantine_days``."""
    limit = (now or time.time()) - settings.quarantine_days * 86400
    if not settings.quarantine.exists():
        return []
    return [p for p in settings.quarantine.rglob("*") if p.is_file() and p.stat().st_mtime < limit]


def _latest_rows(prefix: str, kinds: list[str]) -> str:
    """SQL: each person's latest date per kind (the latest of a row's date columns, from
    the contract), in the tables ``<prefix><kind>``."""
    selects = []
    for name in kinds:
        dates = ", ".join(c.name for c in KINDS[name].columns if c.type == "date")
        selects.append(
            f"select pid, max(greatest({dates})) as zuletzt from {prefix}{name} group by pid"
        )
    return " union all ".join(selects)


def expired_persons(con: duckdb.DuckDBPyConnection, before: dt.date) -> list[str]:
    """Pseudonyms whose every participation ended before ``before``, unknown persons
    (rows without a participation) whose latest row is older than that, and persons whose
    every row was retracted, aged by their latest row."""
    rows = con.execute(
        f"""
        with

        ended as (
            select pid
            from marts.teilnahmen
            group by pid
            having bool_and(austritt is not null) and max(austritt) < $before
        ),

        unknown as ({_latest_rows("staging.stg_", [k for k in KINDS if k != "teilnehmende"])}),

        -- a person whose rows were all retracted (storno) is in the raw tables only
        retracted as ({_latest_rows("raw.", list(KINDS))})

        select pid from ended
        union
        (
            select pid from unknown
            where pid not in (select pid from marts.teilnahmen)
            group by pid
            having max(zuletzt) < $before
        )
        union
        (
            select pid from retracted
            where pid not in (select pid from marts.teilnahmen)
                and pid not in (select pid from unknown)
            group by pid
            having max(zuletzt) < $before
        )
        order by pid
        """,
        {"before": before},
    ).fetchall()
    return [row[0] for row in rows]


def _delete_rows(settings: Settings, pids: set[str]) -> dict[str, int]:
    """Remove the persons' rows from every delivery; returns rows deleted per kind."""
    deleted = dict.fromkeys(KINDS, 0)
    for delivery in rawstore.deliveries(settings.raw):
        path = rawstore.parquet_path(settings.raw, delivery.kind, delivery.delivery_id)
        table = pq.read_table(path)
        keep = [pid not in pids for pid in table.column("pid").to_pylist()]
        removed = len(keep) - sum(keep)
        if not removed:
            continue
        tmp = path.with_name(f".{path.name}.retention")
        pq.write_table(table.filter(keep), tmp)
        tmp.replace(path)  # parquet first, then the manifest: a crash in between is
        rawstore.record(  # found by the raw-store check and repaired by the next run
            settings.raw,
            replace(delivery, rows_deleted=delivery.rows_deleted + removed),
        )
        deleted[delivery.kind] += removed
    return deleted


# persons (not participations) by month of their first entry and first integration: the
# basis of "in work since the programme started"; archive included, like the marts.
# Month granularity is exact for both reference dates (as-of and a year earlier) when
# every deleted person entered and was integrated before the month of either of them:
# with the default 24 months (exit + 28 days lies more than 22 months back) it always
# is. With a retention near 12 months, people of a reference date's own month can be
# counted a few days early.
PERSONS_BY_MONTH = """
with

personen as (
    select pid, min(eintritt) as eintritt, min(erste_integration_datum) as integration
    from marts.teilnahmen
    group by pid
),

monate as (
    select date_trunc('month', eintritt)::date as monat, 1 as eingetreten, 0 as integriert
    from personen
    union all
    select date_trunc('month', integration)::date, 0, 1 from personen where integration is not null
    union all
    select monat, eingetreten, integriert from meta.archive_personen
)

select monat, sum(eingetreten), sum(integriert) from monate group by monat order by monat
"""


def _monthly(path: Path) -> dict:
    con = warehouse.connect_readonly(path)
    try:
        columns = ", ".join(warehouse.ARCHIVE_COLUMNS)
        sql = f"select monat, {columns} from marts.monatszahlen"  # noqa: S608 (constants)
        months = con.execute(sql).fetchall()
        persons = con.execute(PERSONS_BY_MONTH).fetchall()
    finally:
        con.close()
    return {"months": {m[0]: m[1:] for m in months}, "persons": {p[0]: p[1:] for p in persons}}


def _archive(settings: Settings, run_id: str, before: dict, after: dict) -> None:
    """Write the difference of the programme's totals as the deleted persons' archive."""
    folder = settings.raw / rawstore.ARCHIVE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for month, values in before["months"].items():
        now = after["months"].get(month, (0,) * len(values))
        diff = [float(b) - float(a) for b, a in zip(values, now, strict=True)]
        if any(diff):
            rows.append({"monat": month, **dict(zip(warehouse.ARCHIVE_COLUMNS, diff, strict=True))})
    if rows:
        pq.write_table(pa.Table.from_pylist(rows), folder / f"monatszahlen-{run_id}.parquet")
    people = []
    for month, (entered, integrated) in before["persons"].items():
        now = after["persons"].get(month, (0, 0))
        diff = {"eingetreten": int(entered - now[0]), "integriert": int(integrated - now[1])}
        if any(diff.values()):
            people.append({"monat": month, **diff})
    if people:
        pq.write_table(pa.Table.from_pylist(people), folder / f"personen-{run_id}.parquet")


def run(settings: Settings, today: dt.date | None = None) -> dict:
    """Apply retention once; returns what was deleted (counts only, never a pseudonym)."""
    today = today or dt.date.today()
    with run_lock(settings):
        rawstore.migrate(settings.raw)  # the archive is written below under its current name
        quarantine = expired_quarantine(settings)
        for path in quarantine:
            path.unlink()
        audit_files = audit.prune(settings, today)
        summary = {
            "today": today.isoformat(),
            "cutoff": cutoff(settings, today).isoformat(),
            "quarantine_files_deleted": len(quarantine),
            "audit_files_deleted": len(audit_files),
            "persons_deleted": 0,
            "rows_deleted": {},
            "warehouse": None,
        }
        current = warehouse.current_path(settings)
        if current is None:
            return summary
        con = warehouse.connect_readonly(current)
        try:
            pids = expired_persons(con, cutoff(settings, today))
        finally:
            con.close()
        if not pids:
            return summary
        before = _monthly(current)
        summary["rows_deleted"] = _delete_rows(settings, set(pids))
        summary["persons_deleted"] = len(pids)
        run_id = new_run_id()
        probe = warehouse.build(settings, f"{run_id}-probe", [], load_date=today)
        after = _monthly(probe.path)
        probe.path.unlink()
        analyst.path_for(probe.path).unlink(missing_ok=True)
        _archive(settings, run_id, before, after)
        entry = {
            "run_id": run_id,
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "status": "running",
            "message": f"Löschfrist: {len(pids)} Personen gelöscht",
            "files_total": 0,
            "rows_accepted": 0,
            "rows_rejected": 0,
        }
        published = finish(settings, entry, today)
        summary["warehouse"] = published["warehouse"]
        for old in warehouse.versions_dir(settings).glob("*.duckdb"):
            keep = (published["warehouse"], analyst.PREFIX + published["warehouse"])
            if old.name not in keep:
                old.unlink(missing_ok=True)  # older versions still hold the deleted people
        log = settings.state / "retention.jsonl"
        with log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return summary

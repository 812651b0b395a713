"""The sixth stage: good rows to the raw store, each file's outcome settled.

Per file of a batch: its counts and first errors, its Parquet file (one partitioned COPY
for the batch), its manifest entry, and then the original leaves the inbox (clean) or goes
to the quarantine beside its report (partial, or no good row at all). A file that changed
since it was hashed is stored not at all and stays in the inbox for the next night.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from kohorte.define.contract import Kind
from kohorte.intake.report import (
    FileResult,
    LineError,
    commonest_category,
    no_good_row,
    refuse,
    settle_stored,
)
from kohorte.intake.stage import Staged
from kohorte.intake.survey import Surveyed
from kohorte.store import rawstore

ORIGINAL_NOT_STORED = (
    "Gleicher Inhalt wie eine Datei dieses Laufs, die nicht übernommen wurde: bleibt im "
    "Eingang und wird im nächsten Lauf geladen oder als Duplikat erkannt."
)
MAX_REPORTED_ERRORS = 1000  # per file, in detail; counts by column and reason are complete
CHANGED = (
    "Die Datei wurde während des Ladens verändert (noch im Schreiben?); nichts davon "
    "wurde übernommen. Sie bleibt im Eingang und wird im nächsten Lauf geladen."
)


def result_for(item: Surveyed, status: str = "loaded") -> FileResult:
    """A file's result before anything is known of its rows."""
    arrival = item.arrival
    return FileResult(
        arrival.name,
        item.kind.name,
        arrival.sha256,
        arrival.size,
        status,
        delivery_id=arrival.delivery_id,
        file_format=item.file_format,
        encoding=item.encoding,
    )


def deferred(result: FileResult, message: str = CHANGED) -> FileResult:
    """The result of a file left in the inbox (it changed while being read)."""
    result.status, result.delivery_id, result.message = "deferred", None, message
    result.rows_accepted = result.rows_rejected = 0
    result.errors, result.error_counts, result.category = [], {}, None
    return result


def store(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    kind: Kind,
    *,
    raw: Path,
    quarantine: Path,
    work: Path,
) -> list[FileResult]:
    """Store the good rows of every file ``staged`` took and settle each file."""
    counts = {
        index: (good, bad)
        for index, good, bad in con.execute(
            "select _file, count(*) filter (_errors is null), count(*) filter (_errors is not "
            "null) from checked group by 1"
        ).fetchall()
    }
    details, error_counts = _errors(con)
    results: dict[int, FileResult] = {}
    for index, item in staged.taken:
        good, bad = counts.get(index, (0, 0))
        structural = staged.structural.get(index, [])
        result = result_for(item)
        result.rows_accepted = good
        result.rows_rejected = bad + len({e.line for e in structural})
        errors = structural + details.get(index, [])
        errors.sort(key=lambda e: e.line or 0)
        result.errors = errors[:MAX_REPORTED_ERRORS]
        result.error_counts = error_counts.get(index, {})
        for error in structural:
            label = f"{error.column or 'Zeile'}: {error.reason.split(' (')[0]}"
            result.error_counts[label] = result.error_counts.get(label, 0) + 1
        result.category = commonest_category(result.errors)
        result.notes = staged.notes.get(index, [])
        results[index] = result
    changed = {index for index, item in staged.taken if item.arrival.changed()}
    # a readable file without one good row is quarantined whole; one without any row loads
    keep = [
        index
        for index, result in results.items()
        if index not in changed and (result.rows_accepted or not result.rows_rejected)
    ]
    _write(con, [results[i] for i in keep], kind, raw, work)
    entries = {i: manifest_entry(results[i]) for i in keep}
    rawstore.record_many(raw, list(entries.values()))
    for index, item in staged.taken:
        result, path = results[index], item.arrival.path
        if index not in changed and index in entries and item.arrival.changed():
            # written to while being stored: taken back whole, it loads next night
            rawstore.roll_back(raw, entries[index])
            changed.add(index)
        if index in changed:
            deferred(result)
        elif index not in keep:
            refuse(result, no_good_row(result), path, quarantine)
        else:
            settle_stored(result, path, quarantine)
    return [results[index] for index, _ in staged.taken]


def _write(
    con: duckdb.DuckDBPyConnection, results: list[FileResult], kind: Kind, raw: Path, work: Path
) -> None:
    """One Parquet file per delivery in the raw store (an empty one for a file of no rows)."""
    if not results:
        return
    out = work / "parquet"
    con.execute(
        "copy (select a.* exclude (_file) replace (f.delivery_id as delivery_id) "
        "from accepted a join files f using (_file) "
        "where f.delivery_id in (select unnest($ids))) to $out (format parquet, "
        "compression zstd, partition_by (delivery_id), write_partition_columns true)",
        {"out": str(out), "ids": [r.delivery_id for r in results]},
    )
    for result in results:
        target = rawstore.parquet_path(raw, kind.name, result.delivery_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        written = list((out / f"delivery_id={result.delivery_id}").glob("*.parquet"))
        if not written and result.rows_accepted == 0:
            tmp = target.with_name(f".{target.name}.tmp")
            con.execute(
                "copy (select * exclude (_file) from accepted limit 0) to $path "
                "(format parquet, compression zstd)",
                {"path": str(tmp)},
            )
            written = [tmp]
        if len(written) != 1:  # one file a partition is what COPY writes without a size cap
            raise RuntimeError(f"{result.delivery_id}: {len(written)} Parquet-Dateien")
        os.replace(written[0], target)


def manifest_entry(result: FileResult) -> rawstore.Delivery:
    """The raw store's manifest entry of a file whose good rows are stored."""
    return rawstore.Delivery(
        delivery_id=result.delivery_id,
        kind=result.kind,
        file_name=result.file_name,
        sha256=result.sha256,
        size_bytes=result.size_bytes,
        file_format=result.file_format,
        encoding=result.encoding,
        rows_accepted=result.rows_accepted,
        rows_rejected=result.rows_rejected,
        received_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def _errors(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[int, list[LineError]], dict[int, dict[str, int]]]:
    """The first errors of each file in detail, and all of them counted by column and reason."""
    details: dict[int, list[LineError]] = {}
    for index, *row in con.execute(
        f"""select _file, _line, e.column, e.reason, e.value, e.category from (
              select _file, _line, generate_subscripts(_errors, 1) as i, unnest(_errors) as e
              from checked where _errors is not null
            ) qualify row_number() over (partition by _file order by _line, i)
                <= {MAX_REPORTED_ERRORS}
            order by _file, _line, i"""
    ).fetchall():
        details.setdefault(index, []).append(LineError(*row))
    counts: dict[int, dict[str, int]] = {}
    for index, what, count in con.execute(
        """select _file, e.column || ': ' || e.reason, count(*)
           from (select _file, unnest(_errors) as e from checked where _errors is not null)
           group by 1, 2 order by 1, 3 desc, 2"""
    ).fetchall():
        counts.setdefault(index, {})[what] = count
    return details, counts

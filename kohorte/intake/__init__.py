"""Intake: one path from an inbox file to pseudonymised rows in the raw store.

Every file takes the same stages, each a module with a typed input and output:

    admit        Arrival  -> Kind         a regular, complete file of a known kind?
    survey       Arrival  -> Surveyed     format, encoding, header; refused if unreadable
    stage        Surveyed -> Staged       one DuckDB table ``staged`` for a whole batch
    validate     staged   -> checked      every row against the contract (generated SQL)
    pseudonymise checked  -> accepted     customer numbers replaced by keyed pseudonyms
    store        accepted -> FileResult   Parquet, manifest, then the inbox file settled
    report       FileResult               German reports; quarantine; masked public view

A batch is the files of one kind, format and header read together; a file that needs
care (blank lines, an open quote, a broken line, a workbook with formulas) is a batch of
one. The careful path is not a second path: it is the same stages for one file.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from kohorte.config import LOAD_MEMORY_LIMIT
from kohorte.define.contract import kind_for_file
from kohorte.intake import admit
from kohorte.intake.admit import Arrival, arrive
from kohorte.intake.pseudonymise import pseudonymise
from kohorte.intake.report import FileResult, LineError, quarantine_file, refusal, refuse
from kohorte.intake.stage import connection, stage
from kohorte.intake.store import ORIGINAL_NOT_STORED, deferred, result_for, store
from kohorte.intake.survey import Surveyed, survey
from kohorte.intake.textfiles import UnreadableFile
from kohorte.intake.validate import open_end_notes, validate
from kohorte.store import rawstore

__all__ = ["Arrival", "FileResult", "LineError", "Refused", "Surveyed", "ingest", "take"]

BATCH_BYTES = 128 * 2**20  # CSV bytes read by one call: bounds the memory of one batch


@dataclass(frozen=True)
class Refused:
    """An arrival settled before it is read: a duplicate (``error`` None) or a file that
    admission or the survey refused."""

    arrival: Arrival
    kind: str | None
    error: LineError | None


def take(arrival: Arrival) -> Surveyed | Refused:
    """Admission and survey of one arrival: how to read it, or why it is not read."""
    known = kind_for_file(arrival.name)
    kind = known.name if known else None
    try:
        if arrival.duplicate_of:
            return Refused(arrival, kind, None)
        return survey(arrival, admit.check(arrival))
    except UnreadableFile as error:
        return Refused(arrival, kind, refusal(error))
    except UnicodeDecodeError as error:  # a decoder's verdict on the file, never our bug
        reason = f"Zeichenkodierung nicht lesbar (Byte {error.start}): {error.encoding}"
        return Refused(arrival, kind, LineError(None, None, reason, category="encoding"))
    except FileNotFoundError:  # gone from the inbox since it was planned
        reason = "Die Datei ist während des Laufs aus dem Eingang verschwunden."
        return Refused(arrival, kind, LineError(None, None, reason, category="file"))


def settle_refused(refused: Refused, quarantine: Path, raw: Path) -> FileResult:
    """The result of an arrival that is not read: a duplicate leaves the inbox uncounted
    once its original is stored (an original of tonight that was not stored, because it
    changed while being read, keeps its copy in the inbox), a refused file goes to the
    quarantine with its report."""
    arrival = refused.arrival
    result = FileResult(arrival.name, refused.kind, arrival.sha256, arrival.size, "duplicate")
    waits = refused.error is None and not rawstore.recorded(raw, arrival.duplicate_of or "")
    if arrival.changed() and arrival.regular:
        return deferred(result)
    if waits:
        return deferred(result, ORIGINAL_NOT_STORED)
    if refused.error is None:
        result.delivery_id = arrival.duplicate_of
        result.message = (
            f"Bereits geladen als Lieferung {arrival.duplicate_of}; nicht erneut gezählt."
        )
        result.category = "duplicate"
        arrival.path.unlink()
        return result
    result.delivery_id = arrival.delivery_id
    refuse(result, refused.error, arrival.path, quarantine)
    return result


def plan_batches(files: list[Surveyed]) -> list[list[Surveyed]]:
    """Files grouped by kind, format and header, in delivery order, at most BATCH_BYTES a
    batch; a file that needs care is a batch of its own."""
    groups: dict[tuple, list[Surveyed]] = {}
    batches = []
    for item in files:
        if item.alone:
            batches.append([item])
        else:
            groups.setdefault(item.batch_key, []).append(item)
    for group in groups.values():
        batch: list[Surveyed] = []
        size = 0
        for item in group:
            if batch and size + item.size > BATCH_BYTES:
                batches.append(batch)
                batch, size = [], 0
            batch.append(item)
            size += item.size
        batches.append(batch)
    return batches


def ingest(
    batch: list[Surveyed],
    *,
    raw: Path,
    quarantine: Path,
    work: Path,
    key: bytes,
    as_of: dt.date,
    memory_limit: str = LOAD_MEMORY_LIMIT,
) -> list[FileResult]:
    """Stage, validate, pseudonymise and store one batch; files the batch could not take
    are ingested again, each as a batch of one."""
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    con = connection(work, memory_limit)
    results: list[FileResult] = []
    try:
        staged = stage(con, batch, work)
        for item, error in staged.refused:
            result = result_for(item)
            if item.arrival.changed():
                results.append(deferred(result))
                continue
            result.file_format = result.encoding = None
            refuse(result, error, item.arrival.path, quarantine)
            results.append(result)
        if staged.taken:
            kind = batch[0].kind
            validate(con, kind, staged.present, as_of, carry=("_file",))
            for index, notes in open_end_notes(con, kind, staged.present).items():
                staged.notes.setdefault(index, []).extend(notes)
            attributes = [c.name for c in kind.columns_for(staged.present)[len(kind.columns) :]]
            if attributes:  # the file's own: every file of a batch has the same header
                for index, _ in staged.taken:
                    staged.notes.setdefault(index, []).append(
                        f"Merkmale gelesen: {', '.join(attributes)}."
                    )
            pseudonymise(con, key, kind, carry=("_file",), present=frozenset(staged.present))
            taken = store(con, staged, kind, raw=raw, quarantine=quarantine, work=work)
            rows = sum(r.rows_accepted + r.rows_rejected for r in taken) or 1
            seconds = time.perf_counter() - started
            for result in taken:  # the batch's time, shared by rows
                share = (result.rows_accepted + result.rows_rejected) / rows
                result.seconds = round(seconds * share, 3)
            results += taken
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)
    for item in staged.again:
        results += ingest(
            [item],
            raw=raw,
            quarantine=quarantine,
            work=work.with_name(f"{work.name}-{item.arrival.delivery_id}"),
            key=key,
            as_of=as_of,
            memory_limit=memory_limit,
        )
    return results


__all__ += ["plan_batches", "quarantine_file", "settle_refused"]


def ingest_file(
    path: Path,
    *,
    raw: Path,
    quarantine: Path,
    work: Path,
    key: bytes,
    delivery_id: str,
    as_of: dt.date,
    duplicate_of: str | None = None,
) -> FileResult:
    """One file through every stage, as a batch of one (for tools and tests; the night
    plans many files at once in ``kohorte.run.pipeline``)."""
    taken = take(arrive(path, delivery_id, duplicate_of))
    if isinstance(taken, Refused):
        return settle_refused(taken, quarantine, raw)
    [result] = ingest([taken], raw=raw, quarantine=quarantine, work=work, key=key, as_of=as_of)
    return result


__all__ += ["ingest_file"]

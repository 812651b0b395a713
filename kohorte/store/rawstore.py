"""The append-only raw store: pseudonymised Parquet per accepted delivery, plus a manifest.

Crash safety: a delivery's Parquet file is written under a temporary name and renamed; its
manifest entry is written the same way, and only after the Parquet file exists. A delivery
counts as loaded exactly when its manifest entry exists, so a run killed at any point leaves
either nothing or a complete delivery behind, and the file is still in the inbox until then.

Damage: the manifest keeps each Parquet file's own checksum. ``verify`` compares it every
night; a delivery whose file is missing, unreadable or changed is moved with its manifest
entry to ``_damaged/``, where it blocks publishing (``open_damage``) until the same file is
delivered again (it then takes its old place in the delivery order) or an operator gives it up.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pyarrow.parquet as pq

from kohorte.store.files import atomic_write_many, atomic_write_text, sha256_file

MANIFEST_DIR = "_manifest"
ARCHIVE_DIR = "_archive"  # aggregates of participations deleted by retention
DAMAGED_DIR = "_damaged"  # deliveries set aside because their stored file is damaged
REPAIRED_DIR = "repaired"  # inside DAMAGED_DIR: set-aside files whose delivery came again
SPECIAL_DIRS = (MANIFEST_DIR, ARCHIVE_DIR, DAMAGED_DIR)
# the folders' names before the machinery was named in English (renamed by ``migrate``)
FORMER_NAMES = {"_archiv": ARCHIVE_DIR, "_defekt": DAMAGED_DIR}


@dataclass(frozen=True)
class Delivery:
    """One accepted delivery as recorded in the manifest."""

    delivery_id: str
    kind: str
    file_name: str
    sha256: str
    size_bytes: int
    file_format: str
    encoding: str
    rows_accepted: int
    rows_rejected: int
    received_at: str
    rows_deleted: int = 0  # removed later by retention (kohorte.run.retention)
    parquet_sha256: str | None = None  # of the stored Parquet file; set by ``record``


@dataclass(frozen=True)
class Damage:
    """A delivery whose stored file failed ``verify``."""

    delivery_id: str
    file_name: str
    kind: str
    sha256: str  # of the original delivery: the same file delivered again repairs it
    reason: str


def migrate(raw: Path) -> list[str]:
    """Rename the store's folders from their former names (a store written by an older
    version); what was renamed, for the run's repair notes."""
    done = []
    moves = [(raw / old, raw / new) for old, new in FORMER_NAMES.items()]
    moves.append((raw / DAMAGED_DIR / "erledigt", raw / DAMAGED_DIR / REPAIRED_DIR))
    for old, new in moves:
        if not old.is_dir():
            continue
        new.mkdir(parents=True, exist_ok=True)
        for path in sorted(old.iterdir()):  # file names are unique per delivery and run
            os.replace(path, new / path.name)
        old.rmdir()
        done.append(f"Ordner umbenannt: {old.relative_to(raw)} -> {new.relative_to(raw)}")
    return done


def parquet_path(raw: Path, kind: str, delivery_id: str) -> Path:
    """Where a delivery's accepted rows live."""
    return raw / kind / f"{delivery_id}.parquet"


def record(raw: Path, delivery: Delivery) -> None:
    """Add a delivery to the manifest (after its Parquet file is in place), with the
    checksum of that file as it is now (retention records again after rewriting it)."""
    atomic_write_text(*_manifest_file(raw, delivery))


def recorded(raw: Path, delivery_id: str) -> bool:
    """Whether the delivery is in the manifest (its rows are stored)."""
    return (raw / MANIFEST_DIR / f"{delivery_id}.json").exists()


def _manifest_file(raw: Path, delivery: Delivery) -> tuple[Path, str]:
    """Path and content of a delivery's manifest entry, with its stored file's checksum."""
    folder = raw / MANIFEST_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stored = parquet_path(raw, delivery.kind, delivery.delivery_id)
    delivery = replace(delivery, parquet_sha256=sha256_file(stored) if stored.exists() else None)
    return folder / f"{delivery.delivery_id}.json", json.dumps(asdict(delivery))


def record_many(raw: Path, entries: list[Delivery]) -> None:
    """``record`` for many deliveries whose Parquet files are in place, with one flush."""
    atomic_write_many([_manifest_file(raw, delivery) for delivery in entries])


def _read_entry(path: Path) -> Delivery | None:
    """One manifest entry, or None if it is unreadable (see ``verify``)."""
    try:
        return Delivery(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


def deliveries(raw: Path) -> list[Delivery]:
    """Every accepted delivery, oldest first (an unreadable entry is left to ``verify``)."""
    folder = raw / MANIFEST_DIR
    if not folder.exists():
        return []
    entries = [_read_entry(path) for path in sorted(folder.glob("*.json"))]
    return sorted((e for e in entries if e is not None), key=lambda d: d.delivery_id)


def known_hashes(raw: Path) -> dict[str, str]:
    """Content hash -> delivery id of everything already loaded."""
    return {d.sha256: d.delivery_id for d in deliveries(raw)}


def orphans(raw: Path) -> list[Path]:
    """Parquet files without a manifest entry (left by a run killed mid-write). A file whose
    entry exists but is unreadable is no orphan: ``verify`` sets it aside, never deletes it."""
    recorded = {path.stem for path in (raw / MANIFEST_DIR).glob("*.json")}
    return [
        path
        for path in raw.glob("*/*.parquet")
        if path.parent.name not in SPECIAL_DIRS and path.stem not in recorded
    ]


def roll_back(raw: Path, delivery: Delivery) -> None:
    """Undo a delivery whose run was killed before logging it (its file is still in the
    inbox and loads again): the entry goes first, so a crash leaves only an orphan."""
    (raw / MANIFEST_DIR / f"{delivery.delivery_id}.json").unlink(missing_ok=True)
    parquet_path(raw, delivery.kind, delivery.delivery_id).unlink(missing_ok=True)


def _problem(raw: Path, delivery: Delivery) -> tuple[str | None, Delivery | None]:
    """(why the stored file is damaged, or None; a repaired manifest entry, or None)."""
    path = parquet_path(raw, delivery.kind, delivery.delivery_id)
    if not path.exists():
        return f"Parquet-Datei fehlt: {path.name}", None
    if delivery.parquet_sha256 and sha256_file(path) == delivery.parquet_sha256:
        return None, None
    try:
        rows = pq.read_table(path).num_rows  # reads every page: checks structure and zstd
    except Exception as error:  # pyarrow raises several types for broken files
        return f"Parquet-Datei unlesbar: {type(error).__name__}: {error}"[:500], None
    expected = delivery.rows_accepted - delivery.rows_deleted
    if rows == expected and delivery.parquet_sha256 is None:
        return None, replace(delivery)  # recorded before checksums existed: add it now
    if rows < expected and delivery.parquet_sha256 is not None:
        # retention rewrote the file and was stopped before recording: finish its record
        return None, replace(delivery, rows_deleted=delivery.rows_accepted - rows)
    if delivery.parquet_sha256 is None and rows != expected:
        return f"Parquet-Datei hat {rows} Zeilen, erwartet {expected}", None
    return "Parquet-Datei verändert (Prüfsumme stimmt nicht)", None


def verify(raw: Path) -> tuple[list[Damage], list[str]]:
    """Check every stored delivery against its manifest entry; set damaged ones aside.
    Returns (the newly damaged deliveries, the deliveries whose entry was repaired)."""
    damaged, repaired = [], []
    for entry in sorted((raw / MANIFEST_DIR).glob("*.json")):
        delivery = _read_entry(entry)
        if delivery is None:
            stored = [
                p for p in raw.glob(f"*/{entry.stem}.parquet") if p.parent.name != DAMAGED_DIR
            ]
            damage = Damage(entry.stem, "?", "?", "", "Manifest-Eintrag unlesbar")
            _set_aside(raw, damage, entry, stored)
            damaged.append(damage)
            continue
        reason, fixed = _problem(raw, delivery)
        if reason:
            damage = Damage(
                delivery.delivery_id, delivery.file_name, delivery.kind, delivery.sha256, reason
            )
            stored = parquet_path(raw, delivery.kind, delivery.delivery_id)
            _set_aside(raw, damage, entry, [stored] if stored.exists() else [])
            damaged.append(damage)
        elif fixed is not None:
            record(raw, fixed)
            repaired.append(delivery.delivery_id)
    return damaged, repaired


def _set_aside(raw: Path, damage: Damage, entry: Path, stored: list[Path]) -> None:
    """Move a damaged delivery out of the manifest: the report first, then the file, then the
    entry (a crash in between leaves it listed twice, never lost)."""
    folder = raw / DAMAGED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / f"{damage.delivery_id}.damage.json", json.dumps(asdict(damage)))
    for path in stored:
        os.replace(path, folder / f"{damage.delivery_id}.{path.parent.name}.parquet")
    os.replace(entry, folder / f"{damage.delivery_id}.manifest.json")


def open_damage(raw: Path) -> list[Damage]:
    """Damaged deliveries not yet repaired by a new delivery of the same file; each blocks
    publishing. Repaired ones are filed under ``_damaged/repaired/``."""
    folder = raw / DAMAGED_DIR
    known = known_hashes(raw)
    found = []
    for path in sorted(folder.glob("*.damage.json")):
        damage = Damage(**json.loads(path.read_text(encoding="utf-8")))
        if damage.sha256 and known.get(damage.sha256) == damage.delivery_id:
            done = folder / REPAIRED_DIR
            done.mkdir(exist_ok=True)
            for part in folder.glob(f"{damage.delivery_id}.*"):
                os.replace(part, done / part.name)
        else:
            found.append(damage)
    return found


def damaged_hashes(raw: Path) -> dict[str, str]:
    """Content hash -> delivery id of damaged deliveries: delivered again, a file takes its
    old delivery id, so the order of corrections ("latest delivery wins") stays as it was."""
    return {d.sha256: d.delivery_id for d in open_damage(raw) if d.sha256}

"""The append-only raw store: pseudonymised Parquet per accepted delivery, plus a manifest.

Crash safety: a delivery's Parquet file is written under a temporary name and renamed; its
manifest entry is written the same way, and only after the Parquet file exists. A delivery
counts as loaded exactly when its manifest entry exists, so a run killed at any point leaves
either nothing or a complete delivery behind, and the file is still in the inbox until then.

Damage: the manifest keeps each Parquet file's own checksum. ``verify`` compares it every
night; a delivery whose file is missing, unreadable or changed is moved with its manifest
entry to ``_defekt/``, where it blocks publishing (``open_damage``) until the same file is
delivered again (it then takes its old place in the delivery order) or an operator gives it up.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pyarrow.parquet as pq

MANIFEST_DIR = "_manifest"
ARCHIVE_DIR = "_archiv"  # aggregates of participations deleted by retention
DAMAGED_DIR = "_defekt"  # deliveries set aside because their stored file is damaged
SPECIAL_DIRS = (MANIFEST_DIR, ARCHIVE_DIR, DAMAGED_DIR)


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
    rows_deleted: int = 0  # removed later by retention (kohorte.retention)
    parquet_sha256: str | None = None  # of the stored Parquet file; set by ``record``


@dataclass(frozen=True)
class Damage:
    """A delivery whose stored file failed ``verify``."""

    delivery_id: str
    file_name: str
    kind: str
    sha256: str  # of the original delivery: the same file delivered again repairs it
    reason: str


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Write a file so that readers see either the old or the complete new content;
    ``mode`` from creation on (0600 for what only the service account may read)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    os.fchmod(fd, mode)  # whatever the umask says
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def parquet_path(raw: Path, kind: str, delivery_id: str) -> Path:
    """Where a delivery's accepted rows live."""
    return raw / kind / f"{delivery_id}.parquet"


def file_sha256(path: Path) -> str:
    """Content hash of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


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
    delivery = replace(delivery, parquet_sha256=file_sha256(stored) if stored.exists() else None)
    return folder / f"{delivery.delivery_id}.json", json.dumps(asdict(delivery))


def atomic_write_many(files: list[tuple[Path, str]]) -> None:
    """``atomic_write_text`` for many files with one flush instead of one each: all are
    written under temporary names, one ``os.sync`` makes them durable, then each is renamed
    into place. A crash leaves each file old or new, plus temporary files ``recover`` removes."""
    staged = []
    for path, text in files:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        staged.append((tmp, path))
    if staged:
        os.sync()
    for tmp, path in staged:
        os.replace(tmp, path)


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
    if delivery.parquet_sha256 and file_sha256(path) == delivery.parquet_sha256:
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
    publishing. Repaired ones are filed under ``_defekt/erledigt/``."""
    folder = raw / DAMAGED_DIR
    known = known_hashes(raw)
    found = []
    for path in sorted(folder.glob("*.damage.json")):
        damage = Damage(**json.loads(path.read_text(encoding="utf-8")))
        if damage.sha256 and known.get(damage.sha256) == damage.delivery_id:
            done = folder / "erledigt"
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

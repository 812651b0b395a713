"""The append-only raw store: pseudonymised Parquet per accepted delivery, plus a manifest.

Crash safety: a delivery's Parquet file is written under a temporary name and renamed; its
manifest entry is written the same way, and only after the Parquet file exists. A delivery
counts as loaded exactly when its manifest entry exists, so a run killed at any point leaves
either nothing or a complete delivery behind, and the file is still in the inbox until then.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_DIR = "_manifest"
ARCHIVE_DIR = "_archiv"  # aggregates of participations deleted by retention


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


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that readers see either the old or the complete new content."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def parquet_path(raw: Path, kind: str, delivery_id: str) -> Path:
    """Where a delivery's accepted rows live."""
    return raw / kind / f"{delivery_id}.parquet"


def record(raw: Path, delivery: Delivery) -> None:
    """Add a delivery to the manifest (after its Parquet file is in place)."""
    folder = raw / MANIFEST_DIR
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / f"{delivery.delivery_id}.json", json.dumps(asdict(delivery)))


def deliveries(raw: Path) -> list[Delivery]:
    """Every accepted delivery, oldest first."""
    folder = raw / MANIFEST_DIR
    if not folder.exists():
        return []
    entries = [
        Delivery(**json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.json"))
    ]
    return sorted(entries, key=lambda d: d.delivery_id)


def known_hashes(raw: Path) -> dict[str, str]:
    """Content hash -> delivery id of everything already loaded."""
    return {d.sha256: d.delivery_id for d in deliveries(raw)}


def orphans(raw: Path) -> list[Path]:
    """Parquet files without a manifest entry (left by a run killed mid-write)."""
    recorded = {d.delivery_id for d in deliveries(raw)}
    return [
        path
        for path in raw.glob("*/*.parquet")
        if path.parent.name not in (MANIFEST_DIR, ARCHIVE_DIR) and path.stem not in recorded
    ]

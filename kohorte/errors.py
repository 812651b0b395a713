"""The errors the nightly run raises, in one place: each says in German what happened
and what the operator does next. ``flows/``, the CLI and the run log catch these names."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path


class AlreadyRunning(Exception):
    """Another nightly run holds the lock on this KOHORTE_HOME."""


class NotPublished(Exception):
    """The run built nothing new to publish; the previous warehouse stays published."""


class ChecksFailed(NotPublished):
    """A data check of severity error failed; the build is not published."""

    def __init__(self, failures: list[dict]) -> None:
        names = ", ".join(f"{f['name']} ({f['failing_rows']} Zeilen)" for f in failures)
        super().__init__(f"Datenprüfung fehlgeschlagen, nicht veröffentlicht: {names}")
        self.failures = failures


class DiskFull(NotPublished):
    """The disk filled up while the run wrote; what it wrote is removed, nothing published."""

    def __init__(self, folder: Path, error: BaseException) -> None:
        try:
            free = f"{shutil.disk_usage(folder).free / 2**20:.1f} MiB frei"
        except OSError:
            free = "freier Platz unbekannt"
        super().__init__(
            f"Kein Speicherplatz mehr auf dem Datenträger von {folder} ({free}): der neue "
            "Stand wurde verworfen, der bisherige bleibt veröffentlicht. Bitte Platz schaffen "
            f"und den Lauf wiederholen. (Disk full: {error})"
        )


class RawStoreDamaged(NotPublished):
    """A stored delivery is damaged; publishing without it would show wrong totals.
    ``damage``: the raw store's ``Damage`` records; ``folder``: where they were set aside."""

    def __init__(self, damage: list, folder: Path) -> None:
        names = "; ".join(
            f"{d.file_name} (Lieferung {d.delivery_id}, {d.kind}): {d.reason}" for d in damage
        )
        super().__init__(
            f"Rohdatenspeicher beschädigt, nicht veröffentlicht (der bisherige Stand bleibt "
            f"gültig): {names}. Bitte dieselbe Datei erneut in den Posteingang legen; sie wird "
            f"dann an ihrer alten Stelle geladen. Wer sie aufgibt, löscht ihre Dateien in "
            f"{folder} (ihre Zeilen fehlen dann). "
            f"(Raw store damaged: {len(damage)} delivery/deliveries set aside.)"
        )
        self.damage = damage


DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
DISK_FULL_TEXTS = ("no space left on device", "disk quota exceeded", "file too large")


def is_disk_full(error: BaseException | None) -> bool:
    """Whether an error (or one it was raised from) says the disk or a file size limit is full;
    DuckDB reports it only in its message."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            return True
        if any(text in str(error).lower() for text in DISK_FULL_TEXTS):
            return True
        error = error.__cause__ or error.__context__
    return False

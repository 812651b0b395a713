"""Files written so that a crash leaves the old or the new content, never half of it, and
content hashes read without following a link."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Write a file so that readers see either the old or the complete new content;
    ``mode`` from creation on (0600 for what only the service account may read)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file so that readers see the old file or the whole new one. The temporary
    file (``.<name>.<random>.tmp`` beside it) is this writer's own, so two writers of one
    file at once (the monthly flow and a click on the Berichte page) each rename a whole
    file of their own into place, and neither removes the other's half-written one."""
    # the name shortened to stay within 255 bytes (a quarantined file's report is named
    # after the file, which may itself be long)
    prefix = f".{path.name.encode()[:200].decode(errors='ignore')}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)  # whatever the umask says
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def sha256_of(handle: BinaryIO) -> str:
    """Content hash of an open binary file, streamed from where it stands."""
    digest = hashlib.sha256()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """Content hash of a file, opened without following a link (a link raises OSError)."""
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as handle:
        return sha256_of(handle)

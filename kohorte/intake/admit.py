"""The first stage: which inbox entries are deliveries tonight, and may each be read at all.

Nothing in the inbox is trusted. Only a regular file is read, opened without following a
link; a link, device, pipe or socket is refused with a report and nothing is done through
it. A file still being written is left for the next night: upload temporary names are
never taken, a file must keep its size and modification time for the settle interval,
and where the Jobcenter switched on markers, a file is taken only beside its ``.done`` or
``.ok`` marker. A subfolder is reported, never silently skipped. A name the file system
or a report cannot hold (Windows-1252 bytes from an SMB share, a name too long for the
quarantine) gets a safe stored name.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from kohorte.define.contract import (
    KINDS,
    MARKER_SUFFIXES,
    MAX_FILE_BYTES,
    TEMPORARY_PREFIXES,
    TEMPORARY_SUFFIXES,
    Kind,
    kind_for_file,
)
from kohorte.define.privacy import mask
from kohorte.intake.textfiles import UnreadableFile
from kohorte.store.files import sha256_of

# the longest stored name: the quarantine adds a delivery id (28), "__" and ".report.json"
MAX_NAME_BYTES = 200


@dataclass(frozen=True)
class Arrival:
    """One inbox entry with its place in the run, decided before any file is read."""

    path: Path
    delivery_id: str  # this file's delivery id if it is accepted
    sha256: str
    duplicate_of: str | None  # delivery id of an earlier file with the same content
    name: str  # the name reports and logs use (``stored_name``)
    size: int
    mtime_ns: int
    regular: bool  # a regular file, not a link, device, pipe or socket
    # device, inode, mode and change time: a file swapped for a link or another file with
    # the same size and a forged mtime still differs here (utime cannot set ctime)
    identity: tuple[int, int, int, int] = (0, 0, 0, 0)

    def changed(self) -> bool:
        """True if the file is no longer what was hashed (written to, replaced, removed)."""
        try:
            now = os.lstat(self.path)
        except FileNotFoundError:
            return True
        return (now.st_size, now.st_mtime_ns, _identity(now)) != (
            self.size,
            self.mtime_ns,
            self.identity,
        )


@dataclass(frozen=True)
class Inbox:
    """What the inbox holds tonight."""

    files: list[Path]  # to be planned (regular files and entries to refuse), unordered
    growing: list[Path]  # size or mtime changed while settling: left for the next night
    unmarked: list[Path]  # markers are on and it has none: left until it has one
    folders: list[Path]  # subfolders: reported, not read


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_mode, info.st_ctime_ns)


def arrive(
    path: Path,
    delivery_id: str,
    duplicate_of: str | None,
    sha256: str = "",
    info: os.stat_result | None = None,
) -> Arrival:
    """An inbox entry as it was when hashed (``lstat``: a link is described, not followed).
    ``info`` is the entry's state taken before ``sha256`` was computed: any change from
    then on makes ``Arrival.changed`` true."""
    info = info or os.lstat(path)
    return Arrival(
        path,
        delivery_id,
        sha256 or sha256_file(path),
        duplicate_of,
        stored_name(path.name),
        info.st_size,
        info.st_mtime_ns,
        stat.S_ISREG(info.st_mode),
        _identity(info),
    )


def temporary(name: str) -> bool:
    """An upload in progress, a lock file or a marker: never a delivery."""
    lower = name.lower()
    return lower.startswith(TEMPORARY_PREFIXES) or lower.endswith(
        TEMPORARY_SUFFIXES + MARKER_SUFFIXES
    )


def markers(path: Path) -> list[Path]:
    """The marker files that may stand beside ``path``."""
    return [path.with_name(path.name + suffix) for suffix in MARKER_SUFFIXES]


def scan(inbox: Path, *, settle_seconds: float, use_markers: bool) -> Inbox:
    """Sort the inbox's entries. Files younger than ``settle_seconds`` are looked at again
    once the youngest of them is that old (one wait, at most ``settle_seconds``): a file
    whose size and modification time did not change in between is complete."""
    files, growing, unmarked, folders, young = [], [], [], [], {}
    now = time.time_ns()
    for path in inbox.iterdir():
        try:
            info = os.lstat(path)
        except FileNotFoundError:  # gone while we looked: nothing to take
            continue
        if stat.S_ISDIR(info.st_mode):
            folders.append(path)
        elif temporary(path.name):
            continue
        elif use_markers and not any(m.exists() for m in markers(path)):
            unmarked.append(path)
        elif stat.S_ISREG(info.st_mode) and now - info.st_mtime_ns < settle_seconds * 1e9:
            young[path] = (info.st_size, info.st_mtime_ns)
        else:
            files.append(path)
    if young:  # until the youngest is settle_seconds old: then each one was stable as long
        newest = max(mtime for _, mtime in young.values())
        time.sleep(min(settle_seconds, max(0.0, settle_seconds - (now - newest) / 1e9)))
        for path, before in young.items():
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue
            (files if (info.st_size, info.st_mtime_ns) == before else growing).append(path)
    return Inbox(files, sorted(growing), sorted(unmarked), sorted(folders))


def sha256_file(path: Path) -> str:
    """Content hash of a regular file, streamed and opened without following a link. A file
    over the size limit is refused unread, so it is not hashed either (2 GB take ~20 s),
    nor is anything but a regular file: they get a marker no other file can share."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
        marker = f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{path.name}"
        return "unhashed-" + hashlib.sha256(marker.encode("utf-8", "replace")).hexdigest()
    with open_regular(path) as handle:
        return sha256_of(handle)


def open_regular(path: Path):
    """Open a file for reading without following a link (``O_NOFOLLOW``)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path.name}: keine reguläre Datei")
    return os.fdopen(fd, "rb")


def stored_name(name: str) -> str:
    """The name a file is reported and quarantined under: its bytes read as UTF-8 or else
    Windows-1252 (what an SMB share hands over), NFC, without separators or control
    characters, without customer numbers, and short enough for the quarantine. A name
    changed in any way keeps a hash of the original and its extension."""
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("windows-1252", errors="replace")
    text = unicodedata.normalize("NFC", text)
    text = "".join("_" if ch in "/\\" or unicodedata.category(ch) == "Cc" else ch for ch in text)
    masked = mask(text)  # a name is shown on pages: it quotes no customer number
    if masked == text == name and len(text.encode("utf-8")) <= MAX_NAME_BYTES:
        return text
    # changed in any way: it keeps a hash of the original, so that two inbox names never
    # share one stored name (NFC and NFD spellings, Windows-1252 and UTF-8 bytes)
    text = masked
    stem, dot, suffix = text.rpartition(".")
    if not dot or len(suffix) > 8:
        stem, suffix = text, ""
    # the hash of the whole name keeps two names apart that differ only where cut or masked
    tag = "~" + hashlib.sha256(raw).hexdigest()[:8] + (f".{suffix}" if suffix else "")
    budget = MAX_NAME_BYTES - len(tag.encode("utf-8"))
    short = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return short + tag


def check(arrival: Arrival) -> Kind:
    """The delivery's kind, or ``UnreadableFile`` for an entry that is not read at all."""
    if not arrival.regular:
        raise UnreadableFile(
            "Keine reguläre Datei (Verknüpfung, Gerät oder Pipe): aus Sicherheitsgründen nicht "
            "gelesen und aus dem Eingang entfernt; das Ziel bleibt unberührt.",
            category="security",
        )
    if arrival.size > MAX_FILE_BYTES:
        raise UnreadableFile(
            f"Die Datei ist {arrival.size / 2**20:,.0f} MiB groß; erlaubt sind höchstens "
            f"{MAX_FILE_BYTES // 2**20} MiB. Ungelesen abgelehnt.".replace(",", "."),
            category="size",
        )
    kind = kind_for_file(arrival.name)
    if kind is None:
        raise UnreadableFile(
            "Unbekannte Lieferung: Dateiname beginnt mit keinem bekannten Präfix "
            f"({', '.join(KINDS)}) oder endet nicht auf .csv/.xlsx."
        )
    return kind

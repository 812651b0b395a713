"""What is in the inbox tonight: the files complete enough to take, in delivery order and
numbered (``plan``), and what stays there, reported (still growing, without its marker,
subfolders)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from kohorte.config import Settings
from kohorte.intake import admit
from kohorte.intake.admit import Arrival
from kohorte.intake.report import FileResult
from kohorte.store import rawstore

GROWING = (
    "Die Datei wird noch geschrieben (Größe oder Änderungszeit nicht stabil): bleibt im "
    "Eingang und wird im nächsten Lauf geladen."
)
UNMARKED = "Ohne Fertig-Markierung (.done/.ok): bleibt im Eingang."
EXPORT_DATE = re.compile(r"(?<!\d)(20\d\d)-?([01]\d)-?([0-3]\d)(?!\d)")


def delivery_order(path: Path) -> tuple[str, float, str]:
    """Sort key of files arriving in the same run: the export date in the name
    (``_20261124`` or ``_2026-11-24``) if there is one, else the modification date;
    then modification time, then name. Copies and checkouts reset modification times,
    an export date in the name survives them."""
    try:
        mtime = os.lstat(path).st_mtime  # a link is described, not followed (it may dangle)
    except FileNotFoundError:  # gone since the scan: planning skips it
        mtime = 0.0
    match = EXPORT_DATE.search(path.name)
    day = "".join(match.groups()) if match else dt.date.fromtimestamp(mtime).strftime("%Y%m%d")
    return day, mtime, path.name


def discover(settings: Settings) -> list[Path]:
    """Files waiting in the inbox, in delivery order (see ``delivery_order``), as far as
    they are complete (``intake.admit.scan``)."""
    return _scan(settings, settle=False).files


def _scan(settings: Settings, *, settle: bool = True) -> admit.Inbox:
    settings.ensure_dirs()
    inbox = admit.scan(
        settings.inbox,
        settle_seconds=settings.settle_seconds if settle else 0,
        use_markers=settings.inbox_markers,
    )
    inbox.files.sort(key=delivery_order)
    return inbox


def plan(settings: Settings, run_id: str) -> list[Arrival]:
    """Number the inbox files and find duplicates up front, so files can load in parallel
    and the same content is still loaded exactly once."""
    return plan_inbox(settings, run_id)[0]


def plan_inbox(
    settings: Settings, run_id: str
) -> tuple[list[Arrival], list[tuple[str, FileResult]]]:
    """``plan``, and what stays in the inbox tonight, reported: files still being written
    (or without their marker) and subfolders, which are not read. The latter as
    (delivery_id, result): a file that waits has a delivery id of its own tonight."""
    settings.pseudonym_key()  # created here, once, before files load in parallel
    inbox = _scan(settings)
    known = rawstore.known_hashes(settings.raw)
    damaged = rawstore.damaged_hashes(settings.raw)
    planned = []
    for index, path in enumerate(inbox.files, start=1):
        try:
            info = os.lstat(path)  # before hashing: a change while hashing is a change
            sha = admit.sha256_file(path)
        except FileNotFoundError:  # removed from the inbox since the scan
            continue
        delivery_id = damaged.pop(sha, None) or f"{run_id}-{index:05d}"  # a damaged one's
        planned.append(admit.arrive(path, delivery_id, known.get(sha), sha, info))  # place
        known.setdefault(sha, delivery_id)
    return planned, _waiting(run_id, inbox)


def _waiting(run_id: str, inbox: admit.Inbox) -> list[tuple[str, FileResult]]:
    found = []
    waiting = [(path, GROWING) for path in inbox.growing]
    waiting += [(path, UNMARKED) for path in inbox.unmarked]
    for index, (path, message) in enumerate(waiting, start=1):
        result = FileResult(admit.stored_name(path.name), None, "", 0, "deferred")
        result.message = message
        found.append((f"{run_id}-w{index:04d}", result))
    for index, path in enumerate(inbox.folders, start=1):
        inside = sum(1 for _ in path.rglob("*"))
        content = {0: "leer", 1: "1 Eintrag"}.get(inside, f"{inside} Einträge")
        result = FileResult(admit.stored_name(path.name) + "/", None, "", 0, "ignored")
        result.message = (
            f"Unterordner ({content}): wird nicht gelesen. Lieferungen bitte direkt in den "
            "Eingangsordner legen."
        )
        found.append((f"{run_id}-o{index:04d}", result))
    return found

"""The last stage: what happened to each file, told to people and to the run log.

A ``FileResult`` is the outcome of one inbox file; ``quarantine`` moves a file's original
beside its JSON and German text report, readable by the service account only. Everything
that leaves the quarantine (file log, warehouse, run summary, Prefect artifacts, pages)
takes ``FileResult.public()``, in which anything that looks like a customer number is
masked (``kohorte.define.privacy.mask``): ``pipeline.ingest_work`` hands on nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kohorte.define.contract import ERROR_CATEGORIES
from kohorte.define.privacy import mask
from kohorte.intake.textfiles import UnreadableFile
from kohorte.store import rawstore

# What can happen to an inbox entry in one run, with its German and English label: the
# one list the intake, the run summary and the pages share.
FILE_STATUSES: dict[str, tuple[str, str]] = {
    "loaded": ("geladen", "loaded"),
    "partial": ("teilweise geladen", "partly loaded"),
    "quarantined": ("Quarantäne", "quarantined"),
    "duplicate": ("Duplikat", "duplicate"),
    "deferred": ("zurückgestellt", "deferred"),  # left in the inbox for the next night
    "ignored": ("nicht gelesen", "not read"),  # a subfolder
}


@dataclass
class LineError:
    """One rejected line, or a whole file's refusal: where and why."""

    line: int | None
    column: str | None
    reason: str
    value: str | None = None
    category: str | None = None  # one of contract.ERROR_CATEGORIES


@dataclass
class FileResult:
    """What happened to one delivery file in one run."""

    file_name: str
    kind: str | None
    sha256: str
    size_bytes: int
    status: str  # one of FILE_STATUSES
    delivery_id: str | None = None
    file_format: str | None = None
    encoding: str | None = None
    rows_accepted: int = 0
    rows_rejected: int = 0
    message: str = ""
    category: str | None = None  # the file's error category (its commonest), None if clean
    errors: list[LineError] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    report: str | None = None
    notes: list[str] = field(default_factory=list)  # what was read generously, for people

    def to_dict(self) -> dict:
        """Plain dict, in clear: for the quarantine's own report only."""
        return asdict(self)

    def public(self) -> FileResult:
        """This result as everything outside the quarantine sees it (file log, warehouse,
        run summary, Prefect artifacts, pages): customer numbers masked."""
        data = _masked(self.to_dict())
        data["errors"] = [LineError(**e) for e in data["errors"]]
        return FileResult(**data)


def _masked(value):
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask(k) if isinstance(k, str) else k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def refusal(error: UnreadableFile) -> LineError:
    """A whole file's refusal as the error its report names."""
    return LineError(error.line, error.column, error.reason, category=error.category)


def commonest_category(errors: list[LineError]) -> str | None:
    """The category most of a file's errors share (the first one seen on a tie)."""
    counts = Counter(e.category for e in errors if e.category)
    return counts.most_common(1)[0][0] if counts else None


def category_label(category: str | None) -> str:
    """German label of an error category for reports, e.g. ``Datum (date)``."""
    if category is None:
        return "-"
    return f"{ERROR_CATEGORIES[category][0]} ({category})"


def no_good_row(result: FileResult) -> LineError:
    """Why a readable file whose every line was rejected is quarantined whole."""
    return LineError(
        None,
        None,
        f"Keine gültige Zeile: {rows(result.rows_rejected)} abgelehnt.",
        category=result.category or "value",
    )


def settle_stored(result: FileResult, path: Path, quarantine: Path) -> None:
    """After a file's good rows are recorded: with rejected lines its original goes to the
    quarantine beside its report (partial), a clean one leaves the inbox."""
    loaded = f"{rows(result.rows_accepted)} geladen"
    if result.rows_rejected:
        result.status = "partial"
        result.message = (
            f"{loaded}, {rows(result.rows_rejected)} abgelehnt; das Original liegt mit "
            f"Bericht in der Quarantäne."
        )
        quarantine_file(path, quarantine, result)
    elif result.notes:  # read generously: the report says how; nothing was rejected, so
        result.message = f"{loaded}; Hinweise im Bericht."  # the original is not kept
        quarantine_file(path, quarantine, result, keep_original=False)
    else:
        result.message = f"{loaded}."
        path.unlink()


def rows(count: int) -> str:
    """``1 Zeile``, ``2 Zeilen``, ``12.132 Zeilen``: as the reports and pages say it."""
    return f"{count:,} Zeile{'' if count == 1 else 'n'}".replace(",", ".")


def refuse(result: FileResult, error: LineError, path: Path, quarantine: Path) -> None:
    """Quarantine a whole file: nothing of it is stored."""
    result.status = "quarantined"
    result.message = error.reason
    result.category = error.category
    result.rows_accepted = 0
    if not result.errors:  # a file-level error; line errors, if any, stay as reported
        result.errors = [error]
        result.error_counts = {"Datei": 1}
    quarantine_file(path, quarantine, result)


def quarantine_file(
    path: Path, quarantine: Path, result: FileResult, keep_original: bool = True
) -> None:
    """Move the original beside a JSON and a readable report; only the service reads them.

    Only a regular file is moved (and only if ``keep_original``: a file without a rejected
    line leaves just its report); a link, device or pipe in the inbox is removed from it
    (what it points to is not ours), and nothing is ever changed through a link."""
    quarantine.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = f"{result.delivery_id}__{result.file_name}"
    result.report = f"{stem}.report.txt"
    # the reports quote rejected lines (customer numbers in clear): the service alone reads
    rawstore.atomic_write_text(
        quarantine / f"{stem}.report.json",
        json.dumps(result.to_dict(), ensure_ascii=False, indent=1),
        mode=0o600,
    )
    rawstore.atomic_write_text(quarantine / result.report, render(result), mode=0o600)
    if keep_original and not path.is_symlink() and path.is_file():
        target = quarantine / stem
        shutil.move(str(path), target)
        os.chmod(target, 0o600, follow_symlinks=False)
    else:
        path.unlink()


def render(result: FileResult) -> str:
    """A German, human-readable report for one quarantined or partly rejected file."""
    head = {
        "quarantined": "Datei vollständig abgelehnt (Quarantäne)",
        "partial": "Datei teilweise geladen; abgelehnte Zeilen unten",
        "loaded": "Datei vollständig geladen; Hinweise unten",
    }.get(result.status, result.status)
    lines = [
        f"Datei:      {result.file_name}",
        f"Lieferung:  {result.delivery_id}",
        f"Art:        {result.kind or 'unbekannt'}",
        f"Ergebnis:   {head}",
        f"Meldung:    {result.message}",
        f"Kategorie:  {category_label(result.category)}",
        f"Geladen:    {rows(result.rows_accepted)}; abgelehnt: {rows(result.rows_rejected)}",
        "",
    ]
    if result.notes:
        lines.append("Hinweise:")
        lines += [f"  - {note}" for note in result.notes]
        lines.append("")
    if result.error_counts:
        lines.append("Fehler nach Spalte und Grund:")
        lines += [f"  {count:>8}  {what}" for what, count in result.error_counts.items()]
        lines.append("")
    lines.append("Zeile    Spalte              Grund [Kategorie]")
    for error in result.errors:
        where = "-" if error.line is None else str(error.line)
        value = f" (Wert: »{error.value}«)" if error.value is not None else ""
        label = f" [{category_label(error.category)}]" if error.category else ""
        lines.append(f"{where:<8} {error.column or '-':<19} {error.reason}{value}{label}")
    if result.rows_rejected > len(result.errors):
        lines.append(f"... nur die ersten {len(result.errors)} Fehler im Detail.")
    return "\n".join(lines) + "\n"


def read_report(quarantine: Path, report: str) -> str | None:
    """The text report of a quarantined or partly rejected file, if it is still kept."""
    path = (quarantine / report).resolve()
    if path.parent != quarantine.resolve() or not path.name.endswith(".report.txt"):
        return None  # only report files directly in the quarantine folder
    return path.read_text(encoding="utf-8") if path.exists() else None

"""The second stage: what a file is, read up front (format, encoding, header, shape).

A file that cannot be read at all is refused here with its reason, line and column; the
others get a ``Surveyed`` that tells the stage how to read them, and whether they may be
read together with other files of the same kind and header (a batch) or need a batch of
their own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kohorte.define.contract import Kind
from kohorte.define.privacy import KUNDENNUMMER_ANYWHERE, mask
from kohorte.intake.admit import Arrival
from kohorte.intake.textfiles import (
    UnreadableFile,
    blank_lines,
    detect_encoding,
    mixed_line_endings,
    read_header,
)


@dataclass(frozen=True)
class Surveyed:
    """A file that can be staged, and how."""

    arrival: Arrival
    kind: Kind
    file_format: str  # csv | xlsx
    encoding: str  # utf-8, utf-8-sig, windows-1252, utf-16, or xlsx
    header: tuple[str | None, ...]  # contract column per file column (None: not ours);
    # () for a workbook: its header is read when it is staged
    mixed: bool = False  # more than one kind of line ending
    alone: bool = False  # read in a batch of its own (line numbers need the careful way)
    delimiter: str = ";"  # a tab in Excel's "Unicode-Text"
    lead: int = 0  # lines before the header that are not data (a "sep=;" hint)

    @property
    def size(self) -> int:
        """Bytes on disk, for sizing batches."""
        return self.arrival.size

    @property
    def transcode(self) -> bool:
        """Read from a UTF-8 copy (DuckDB reads UTF-8 only, one line ending a file)."""
        return self.encoding in ("windows-1252", "utf-16") or self.mixed or bool(self.lead)

    @property
    def batch_key(self) -> tuple:
        """Files with the same key may be read by one call."""
        return (self.kind.name, self.file_format, self.header, self.delimiter)

    @property
    def notes(self) -> list[str]:
        """What was read generously, for the report."""
        notes = []
        if self.lead:
            notes.append("Excels Trennzeichen-Hinweis »sep=;« in Zeile 1 übersprungen.")
        if self.encoding == "utf-16":
            notes.append(
                "Als Excel-„Unicode-Text“ (UTF-16) gelesen"
                + (", Tabulator-getrennt." if self.delimiter == "\t" else ".")
            )
        return notes


def survey(arrival: Arrival, kind: Kind) -> Surveyed:
    """How to read an admitted file; ``UnreadableFile`` if it cannot be read at all."""
    if arrival.name.lower().endswith(".xlsx"):  # opened when staged
        return Surveyed(arrival, kind, "xlsx", "xlsx", ())
    path = arrival.path
    encoding = detect_encoding(path)
    mixed = mixed_line_endings(path)
    text_encoding = "utf-8-sig" if encoding.startswith("utf-8") else encoding
    shape = read_header(path, text_encoding)
    header = check_header(shape.header, kind, line=1 + shape.lead)
    # DuckDB skips blank lines (the stage numbers lines around them, alone); read with
    # other files, DuckDB 2.0 drops a value cut off inside quotes at the end of a file
    # without reporting it (alone it reports it). A UTF-16 file is looked at in its copy.
    alone = encoding == "utf-16" or bool(blank_lines(path)) or not _quotes_balanced(arrival)
    return Surveyed(
        arrival,
        kind,
        "csv",
        encoding,
        tuple(header),
        mixed or encoding == "utf-16",
        alone,
        shape.delimiter,
        shape.lead,
    )


def _quotes_balanced(arrival: Arrival) -> bool:
    """An even number of double quotes: no quoted value is left open."""
    count = 0
    with arrival.path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b'"')
    return count % 2 == 0


def check_header(header: list[str], kind: Kind, line: int = 1) -> list[str | None]:
    """Map file columns to contract columns; refuse duplicates and missing required ones.
    A message never quotes a value that could be a customer number: a first line of data
    instead of a header is named as such."""
    counts = Counter(header)
    duplicates = sorted(name for name, n in counts.items() if n > 1 and name)
    if duplicates and not any(KUNDENNUMMER_ANYWHERE.search(name) for name in duplicates):
        raise UnreadableFile(
            f"Spalte doppelt in der Kopfzeile: {', '.join(duplicates)}.",
            line=line,
            column=duplicates[0],
            category="header",
        )
    missing = [name for name in kind.required if name not in header]
    if missing and any(KUNDENNUMMER_ANYWHERE.search(name) for name in header):
        raise UnreadableFile(
            f"Die Kopfzeile fehlt: Zeile {line} enthält Daten (eine Kundennummer) statt "
            f"Spaltennamen. Erwartet wird zuerst eine Kopfzeile mit "
            f"{';'.join(c.name for c in kind.columns if c.required)}.",
            line=line,
            column=missing[0],
            category="header",
        )
    if missing:
        found = ", ".join(mask(name) or "(leer)" for name in header)
        raise UnreadableFile(
            f"Pflichtspalte fehlt: {', '.join(missing)} (gefunden: {found}).",
            line=line,
            column=missing[0],
            category="header",
        )
    return [name if kind.accepts(name) else None for name in header]

"""The second stage: what a file is, read up front (format, encoding, header, shape).

A file that cannot be read at all is refused here with its reason, line and column; the
others get a ``Surveyed`` that tells the stage how to read them, and whether they may be
read together with other files of the same kind and header (a batch) or need a batch of
their own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kohorte.contract import Kind
from kohorte.intake.admit import Arrival
from kohorte.textfiles import (
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
    encoding: str  # utf-8, utf-8-sig, windows-1252, or xlsx
    header: tuple[str | None, ...]  # contract column per file column (None: not ours);
    # () for a workbook: its header is read when it is staged
    mixed: bool = False  # more than one kind of line ending
    alone: bool = False  # read in a batch of its own (line numbers need the careful way)

    @property
    def size(self) -> int:
        """Bytes on disk, for sizing batches."""
        return self.arrival.size

    @property
    def transcode(self) -> bool:
        """Read from a UTF-8 copy (DuckDB reads UTF-8 only, one line ending a file)."""
        return self.encoding == "windows-1252" or self.mixed

    @property
    def batch_key(self) -> tuple:
        """Files with the same key may be read by one call."""
        return (self.kind.name, self.file_format, self.header)


def survey(arrival: Arrival, kind: Kind) -> Surveyed:
    """How to read an admitted file; ``UnreadableFile`` if it cannot be read at all."""
    if arrival.name.lower().endswith(".xlsx"):  # opened when staged
        return Surveyed(arrival, kind, "xlsx", "xlsx", ())
    path = arrival.path
    encoding = detect_encoding(path)
    mixed = mixed_line_endings(path)
    text_encoding = "utf-8-sig" if encoding.startswith("utf-8") else encoding
    header = check_header(read_header(path, text_encoding).header, kind)
    # DuckDB skips blank lines (the stage numbers lines around them, alone); read with
    # other files, DuckDB 2.0 drops a value cut off inside quotes at the end of a file
    # without reporting it (alone it reports it)
    alone = bool(blank_lines(path)) or not _quotes_balanced(arrival)
    return Surveyed(arrival, kind, "csv", encoding, tuple(header), mixed, alone)


def _quotes_balanced(arrival: Arrival) -> bool:
    """An even number of double quotes: no quoted value is left open."""
    count = 0
    with arrival.path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b'"')
    return count % 2 == 0


def check_header(header: list[str], kind: Kind) -> list[str | None]:
    """Map file columns to contract columns; refuse duplicates and missing required ones."""
    counts = Counter(header)
    duplicates = sorted(name for name, n in counts.items() if n > 1 and name)
    if duplicates:
        raise UnreadableFile(
            f"Spalte doppelt in der Kopfzeile: {', '.join(duplicates)}.",
            line=1,
            column=duplicates[0],
            category="header",
        )
    known = {c.name for c in kind.columns}
    missing = [name for name in kind.required if name not in header]
    if missing:
        raise UnreadableFile(
            f"Pflichtspalte fehlt: {', '.join(missing)} (gefunden: {', '.join(header)}).",
            line=1,
            column=missing[0],
            category="header",
        )
    return [name if name in known else None for name in header]

"""Reading German Excel CSV files: encoding detection and transcoding, header parsing."""

from __future__ import annotations

import codecs
import csv
import mmap
from dataclasses import dataclass
from pathlib import Path

from kohorte.contract import CSV_DELIMITER

CHUNK = 1 << 22  # 4 MiB: decoding in chunks keeps a 2 GB delivery out of memory
UTF8_BOM = codecs.BOM_UTF8


class UnreadableFile(Exception):
    """The file as a whole cannot be read; it is quarantined with this message."""

    def __init__(self, reason: str, line: int | None = None, column: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


@dataclass(frozen=True)
class CsvShape:
    """What the loader needs to know about a CSV file before DuckDB reads it."""

    encoding: str  # "utf-8", "utf-8-sig" or "windows-1252"
    header: list[str]  # normalised (trimmed, lower-case) header names, in file order
    raw_header: list[str]


def _line_of_offset(path: Path, offset: int) -> int:
    """1-based line number of a byte offset."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return mm[:offset].count(b"\n") + 1


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else Windows-1252."""
    with path.open("rb") as handle:
        head = handle.read(8192)
        if not head:
            raise UnreadableFile("Die Datei ist leer.")
        if b"\x00" in head:
            raise UnreadableFile(
                "Die Datei enthält Nullbytes: keine Textdatei (Binärdatei, UTF-16 "
                "oder beschädigt). Erwartet wird CSV in UTF-8 oder Windows-1252."
            )
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _check_windows_1252(path)
    return "utf-8-sig" if head.startswith(UTF8_BOM) else "utf-8"


def _check_windows_1252(path: Path) -> str:
    """Windows-1252 leaves five bytes undefined; a file containing one is neither encoding."""
    decoder = codecs.getincrementaldecoder("windows-1252")()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = _line_of_offset(path, offset + error.start)
                raise UnreadableFile(
                    f"Unbekannte Zeichenkodierung: weder UTF-8 noch Windows-1252 "
                    f"(Byte 0x{chunk[error.start]:02X} an Position {offset + error.start}).",
                    line=line,
                ) from None
            offset += len(chunk)
    return "windows-1252"


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> None:
    """Stream-transcode a file to UTF-8 (DuckDB reads only UTF-8 without extensions)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))


def read_header(path: Path, encoding: str) -> CsvShape:
    """Parse the header line (quoted names allowed) and normalise the names."""
    with path.open("r", encoding=encoding, newline="") as handle:
        first = handle.readline()
    if not first.strip():
        raise UnreadableFile("Die erste Zeile (Kopfzeile) ist leer.", line=1)
    raw = next(csv.reader([first], delimiter=CSV_DELIMITER, quotechar='"'))
    header = [name.strip().strip('"').strip().lower() for name in raw]
    if len(header) == 1:
        for other in (",", "\t", "|"):
            if other in first:
                raise UnreadableFile(
                    f"Die Kopfzeile enthält kein Semikolon, aber {other!r}: falsches "
                    f"Trennzeichen. Erwartet wird ';' wie beim Export aus deutschem Excel.",
                    line=1,
                )
    return CsvShape(encoding=encoding, header=header, raw_header=raw)


def blank_lines(path: Path) -> list[int]:
    """Line numbers of empty lines, which DuckDB skips but counts (needed to number rows)."""
    lines: list[int] = []
    with path.open("rb") as handle:
        if handle.seek(0, 2) == 0:
            return lines
        handle.seek(0)
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            counted_to, line_no = 0, 1
            for pattern in (b"\n\n", b"\n\r\n"):
                pos = mm.find(pattern)
                while pos != -1:
                    lines.append(pos + 1)  # byte offset of the empty line
                    pos = mm.find(pattern, pos + 1)
            offsets = sorted(set(lines))
            lines = []
            for offset in offsets:
                line_no += mm[counted_to:offset].count(b"\n")
                counted_to = offset
                lines.append(line_no)
    return lines

"""Reading German Excel CSV files: encoding detection and transcoding, header parsing."""

from __future__ import annotations

import codecs
import csv
import mmap
import re
from dataclasses import dataclass
from pathlib import Path

from kohorte.define.contract import CSV_DELIMITER

CHUNK = 1 << 22  # 4 MiB: decoding in chunks keeps a 2 GB delivery out of memory
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
SEP_HINT = re.compile(r'^\ufeff?"?sep=(.)"?\s*$', re.IGNORECASE)  # Excel's "sep=;" first line
# UTF-8 bytes of ä ö ü Ä Ö Ü ß é and of „ “ – €: in a file that is not valid UTF-8 they mean
# an editor mixed two encodings; read as Windows-1252 they would become "Ã¶" silently.
UTF8_GERMAN = re.compile(
    rb"\xC3[\x84\x96\x9C\x9F\xA4\xA9\xB6\xBC]|\xE2\x80[\x93\x9C\x9E]|\xE2\x82\xAC"
)


class UnreadableFile(Exception):
    """The file as a whole cannot be read; it is quarantined with this message."""

    def __init__(
        self,
        reason: str,
        line: int | None = None,
        column: str | None = None,
        category: str = "file",
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column
        self.category = category  # one of contract.ERROR_CATEGORIES


@dataclass(frozen=True)
class CsvShape:
    """What the loader needs to know about a CSV file before DuckDB reads it."""

    encoding: str  # "utf-8", "utf-8-sig", "windows-1252" or "utf-16"
    header: list[str]  # normalised (trimmed, lower-case) header names, in file order
    raw_header: list[str]
    delimiter: str = CSV_DELIMITER  # ";", or a tab in Excel's "Unicode-Text"
    lead: int = 0  # lines before the header (Excel's "sep=;" hint)


def _line_of_offset(path: Path, offset: int) -> int:
    """1-based line number of a byte offset."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return mm[:offset].count(b"\n") + 1


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else Windows-1252."""
    with path.open("rb") as handle:
        head = handle.read(8192)
        if not head:
            raise UnreadableFile("Die Datei ist leer.", category="structure")
        if head.startswith(UTF16_BOMS):
            return _check_utf16(handle)  # Excel's "Unicode-Text": decoded to a UTF-8 copy
        if b"\x00" in head:
            raise UnreadableFile(
                "Die Datei enthält Nullbytes: keine Textdatei (Binärdatei, UTF-16 ohne "
                "Byte-Order-Mark oder beschädigt). Erwartet wird CSV in UTF-8, Windows-1252 "
                "oder Excels „Unicode-Text“ (UTF-16 mit BOM).",
                category="encoding",
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


def _check_utf16(handle) -> str:
    """A file with a UTF-16 byte-order mark must decode as UTF-16 to its end."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("utf-16")()
    lines, offset = 1, 0
    try:
        while chunk := handle.read(CHUNK):
            lines += decoder.decode(chunk).count("\n")
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"Die Datei beginnt wie Excels „Unicode-Text“ (UTF-16), ist aber kein gültiges "
            f"UTF-16 (Byte {offset + error.start}; abgeschnitten oder beschädigt?).",
            line=lines,
            category="encoding",
        ) from None
    return "utf-16"


def _check_windows_1252(path: Path) -> str:
    """Windows-1252 leaves five bytes undefined; a file containing one is neither encoding.
    A file with UTF-8 umlauts beside non-UTF-8 bytes mixes two encodings: also refused."""
    decoder = codecs.getincrementaldecoder("windows-1252")()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if mixed := UTF8_GERMAN.search(chunk):
                raise UnreadableFile(
                    "Gemischte Zeichenkodierung: die Datei ist kein gültiges UTF-8, enthält "
                    f"aber UTF-8-Zeichen (»{mixed.group().decode('utf-8')}« an Position "
                    f"{offset + mixed.start()}). Bitte einheitlich als UTF-8 oder Windows-1252 "
                    "speichern.",
                    line=_line_of_offset(path, offset + mixed.start()),
                    category="encoding",
                )
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = _line_of_offset(path, offset + error.start)
                raise UnreadableFile(
                    f"Unbekannte Zeichenkodierung: weder UTF-8 noch Windows-1252 "
                    f"(Byte 0x{chunk[error.start]:02X} an Position {offset + error.start}).",
                    line=line,
                    category="encoding",
                ) from None
            offset += len(chunk)
    return "windows-1252"


def transcode_to_utf8(
    source: Path,
    target: Path,
    encoding: str,
    *,
    normalise_newlines: bool = False,
    skip_lines: int = 0,
) -> None:
    """Stream-transcode a file to UTF-8 (DuckDB reads only UTF-8 without extensions);
    with ``normalise_newlines`` every CRLF and lone CR becomes LF (one line stays one line);
    ``skip_lines`` leaves out the first lines (a ``sep=;`` hint)."""
    if normalise_newlines or skip_lines:
        with (
            source.open("r", encoding=encoding, newline=None if normalise_newlines else "") as src,
            target.open("w", encoding="utf-8", newline="\n" if normalise_newlines else "") as dst,
        ):
            for _ in range(skip_lines):
                src.readline()
            while text := src.read(CHUNK):
                dst.write(text)
        return
    decoder = codecs.getincrementaldecoder(encoding)()
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))


def mixed_line_endings(path: Path) -> bool:
    """True if the file ends its lines in more than one way (CRLF, LF, CR). DuckDB's reader
    takes the first line's ending for the whole file and fails on the others."""
    kinds: set[str] = set()
    carry = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            data = carry + chunk
            # keep a trailing CR for the next chunk: it may be the first half of a CRLF
            carry = b"\r" if data.endswith(b"\r") else b""
            if carry:
                data = data[:-1]
            crlf = data.count(b"\r\n")
            if crlf:
                kinds.add("crlf")
            if data.count(b"\n") > crlf:
                kinds.add("lf")
            if data.count(b"\r") > crlf:
                kinds.add("cr")
            if len(kinds) > 1:
                return True
    if carry:
        kinds.add("cr")
    return len(kinds) > 1


def read_header(path: Path, encoding: str) -> CsvShape:
    """Parse the header line (quoted names allowed) and normalise the names. Excel's
    ``sep=;`` hint before it is skipped; a UTF-16 file may be tab-separated."""
    lead = 0
    with path.open("r", encoding=encoding, newline="") as handle:
        first = handle.readline()
        hint = SEP_HINT.match(first.rstrip("\r\n"))
        if hint and hint.group(1) == CSV_DELIMITER:
            first, lead = handle.readline(), 1
    if not first.strip():
        raise UnreadableFile(
            "Die erste Zeile (Kopfzeile) ist leer.", line=1 + lead, category="structure"
        )
    delimiter = CSV_DELIMITER
    if encoding == "utf-16" and CSV_DELIMITER not in first and "\t" in first:
        delimiter = "\t"
    raw = next(csv.reader([first], delimiter=delimiter, quotechar='"'))
    # a second byte-order mark (a BOM file saved again with BOM) is invisible, not a name
    header = [name.strip().strip('"\ufeff').strip().lower() for name in raw]
    if len(header) == 1:
        for other in (",", "\t", "|"):
            if other in first:
                raise UnreadableFile(
                    f"Die Kopfzeile enthält kein Semikolon, aber {other!r}: falsches "
                    f"Trennzeichen. Erwartet wird ';' wie beim Export aus deutschem Excel.",
                    line=1 + lead,
                    category="structure",
                )
    return CsvShape(encoding, header, raw, delimiter, lead)


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

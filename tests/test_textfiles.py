"""Encoding detection and header parsing of German Excel CSV files."""

from __future__ import annotations

import codecs

import pytest

from kohorte.intake.textfiles import (
    UnreadableFile,
    blank_lines,
    detect_encoding,
    read_header,
    transcode_to_utf8,
)

TEXT = "kundennummer;coach\r\n012D000001;Renée „Nené“ Weiß – 5 €\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("windows-1252"), "windows-1252"),
        (b"kundennummer;coach\n012D000001;plain ascii\n", "utf-8"),
    ],
)
def test_detects_the_encoding(tmp_path, data, expected):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert detect_encoding(path) == expected


def test_windows_1252_is_not_latin_1(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(TEXT.encode("windows-1252"))
    transcode_to_utf8(source, target, detect_encoding(source))
    # Latin-1 would turn 0x80, 0x84, 0x93, 0x96 into control characters
    assert target.read_bytes().decode("utf-8") == TEXT


def test_transcoding_across_chunk_boundaries(tmp_path, monkeypatch):
    import kohorte.intake.textfiles as textfiles

    monkeypatch.setattr(textfiles, "CHUNK", 7)  # split multi-byte UTF-8 output mid-character
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes((TEXT * 50).encode("windows-1252"))
    assert textfiles.detect_encoding(source) == "windows-1252"
    transcode_to_utf8(source, target, "windows-1252")
    assert target.read_bytes().decode("utf-8") == TEXT * 50


@pytest.mark.parametrize(
    ("data", "fragment", "line"),
    [
        (b"", "leer", None),
        (b"\x00\x01\x02PK\x00\x00garbage", "Nullbytes", None),
        (b"kundennummer;coach\nabc;\x81\x8d\n", "weder UTF-8 noch Windows-1252", 2),
    ],
)
def test_unreadable_files_are_named_with_reason(tmp_path, data, fragment, line):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(UnreadableFile) as caught:
        detect_encoding(path)
    assert fragment in caught.value.reason
    assert caught.value.line == line


def test_header_is_trimmed_lowercased_and_unquoted(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text('\ufeff "KundenNummer" ;DATUM; Status \n', encoding="utf-8")
    assert read_header(path, "utf-8-sig").header == ["kundennummer", "datum", "status"]


def test_wrong_delimiter_is_explained(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("kundennummer,datum,status,stunden\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="falsches Trennzeichen"):
        read_header(path, "utf-8")


def test_blank_lines_are_found_with_their_line_numbers(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"h\r\na\r\n\r\nb\n\nc\n")
    assert blank_lines(path) == [3, 5]

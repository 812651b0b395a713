"""The intake's stages on their own: admission of what an inbox holds, batching."""

from __future__ import annotations

from pathlib import Path

from kohorte import intake
from kohorte.intake.admit import arrive


def _surveyed(path: Path, delivery_id: str):
    return intake.take(arrive(path, delivery_id, None))


def test_an_open_quote_at_the_end_of_a_file_is_a_batch_of_its_own(tmp_path: Path) -> None:
    """Read together with other files, DuckDB 2.0 drops a value cut off inside quotes at
    the end of a file without a reject; such a file is staged alone."""
    cut = tmp_path / "anwesenheit_cut.csv"
    cut.write_bytes(b'kundennummer;datum;status;stunden\r\n900D000001;02.06.2026;"anwes')
    whole = tmp_path / "anwesenheit_whole.csv"
    whole.write_bytes(b'kundennummer;datum;status;stunden\r\n900D000001;02.06.2026;"a;b";3\r\n')
    other = tmp_path / "anwesenheit_other.csv"
    other.write_bytes(b"kundennummer;datum;status;stunden\r\n900D000002;02.06.2026;anwesend;3\r\n")
    files = [_surveyed(p, f"d{i}") for i, p in enumerate((cut, whole, other))]
    assert [f.alone for f in files] == [True, False, False]
    batches = intake.plan_batches(files)
    assert sorted(len(b) for b in batches) == [1, 2]
    assert [b for b in batches if len(b) == 1][0][0].arrival.path == cut

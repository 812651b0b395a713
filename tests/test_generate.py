"""The synthetic programme: reproducible, calibrated like Durchstarten, written like a Jobcenter."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from python_calamine import CalamineWorkbook

from kohorte.demo import PLANNED_DAYS, Programme, simulate, write_deliveries

YEAR = Programme(start=dt.date(2025, 1, 6), end=dt.date(2026, 12, 31))


def _stats(programme: Programme) -> dict[str, float]:
    tables = simulate(programme)
    p = tables["participations"].to_pydict()
    eintritt = np.array(p["eintritt"])
    austritt = np.array(p["austritt"])
    grund = np.array(p["austrittsgrund"])
    out = tables["outcomes"].to_pydict()
    jobs = {
        i: day
        for i, day, art in zip(out["p"], out["datum"], out["art"], strict=True)
        if art in ("svb_beschaeftigung", "ausbildung", "selbststaendigkeit")
    }
    first_year = eintritt < eintritt.min() + 365
    during = np.array([i in jobs and jobs[i] <= austritt[i] + 1 for i in range(len(eintritt))])
    in_work_first_year = sum(
        1 for i, day in jobs.items() if day < eintritt.min() + 365 and first_year[i]
    )
    att = tables["attendance"].to_pydict()
    hours = np.array(att["stunden"])
    return {
        "entries_per_year": first_year.sum(),
        "share_job_during": during.mean(),
        "share_dropout": (grund == "abbruch").mean(),
        "attendance_rate": hours.sum() / (3 * len(hours)),
        "in_work_first_year": in_work_first_year,
        "max_days": (austritt - eintritt).max(),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_calibrated_like_durchstarten(seed):
    stats = _stats(Programme(seed=seed, start=YEAR.start, end=YEAR.end))
    assert 260 <= stats["entries_per_year"] <= 340  # about 300 entries a year
    assert 0.34 <= stats["share_job_during"] <= 0.45  # more than a third within 8 weeks
    assert 0.08 <= stats["share_dropout"] <= 0.17
    assert 0.70 <= stats["attendance_rate"] <= 0.85
    assert stats["in_work_first_year"] > 100  # more than 100 in work after the first year
    assert stats["max_days"] <= PLANNED_DAYS  # 8-week participations


def test_same_seed_same_files(tmp_path):
    programme = Programme(start=dt.date(2026, 1, 5), end=dt.date(2026, 3, 27), weekly_weeks=3)
    first = write_deliveries(programme, tmp_path / "a")
    second = write_deliveries(programme, tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        if a.suffix == ".csv":
            assert a.read_bytes() == b.read_bytes(), a.name
        else:
            rows = [
                CalamineWorkbook.from_path(str(f)).get_sheet_by_index(0).to_python() for f in (a, b)
            ]
            assert rows[0] == rows[1], a.name
    other = write_deliveries(
        Programme(seed=43, start=programme.start, end=programme.end, weekly_weeks=3),
        tmp_path / "c",
    )
    assert any(x.read_bytes() != y.read_bytes() for x, y in zip(first, other, strict=False))


def test_files_come_in_the_jobcenter_mix(tmp_path):
    files = write_deliveries(
        Programme(start=dt.date(2025, 6, 2), end=dt.date(2026, 3, 27), weekly_weeks=10),
        tmp_path,
    )
    kinds = {f.name.split("_")[0] for f in files}
    assert kinds == {"teilnehmende", "anwesenheit", "aktivitaeten", "ergebnisse", "verbleib"}
    encodings = set()
    for f in files:
        data = f.read_bytes()
        if f.suffix == ".xlsx":
            encodings.add("xlsx")
        elif data.startswith(b"\xef\xbb\xbf"):
            encodings.add("utf-8-sig")
        else:
            try:
                data.decode("utf-8")
                encodings.add("utf-8" if any(b > 127 for b in data) else "ascii")
            except UnicodeDecodeError:
                encodings.add("windows-1252")
        if f.suffix == ".csv":
            assert data.splitlines()[0].decode("utf-8-sig", "replace").count(";") >= 2
            assert b"\r\n" in data
    assert {"xlsx", "utf-8-sig", "windows-1252"} <= encodings
    # weekly files after one bulk export per kind
    assert sum("bestand" in f.name for f in files) == 5


def test_scales_with_the_number_of_sites():
    one = simulate(Programme(start=dt.date(2025, 1, 6), end=dt.date(2025, 12, 31)))
    ten = simulate(Programme(start=dt.date(2025, 1, 6), end=dt.date(2025, 12, 31), sites=10))
    ratio = ten["attendance"].num_rows / one["attendance"].num_rows
    assert 8 <= ratio <= 12

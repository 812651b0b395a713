"""The next nightly run, as the Datenstand page shows it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kohorte.ops.schedule import next_run, nightly_schedule

BERLIN = ZoneInfo("Europe/Berlin")


def test_schedule_comes_from_prefect_yaml():
    assert nightly_schedule() == ("0 2 * * *", "Europe/Berlin")


def test_next_run_is_two_o_clock_berlin_time():
    evening = dt.datetime(2026, 11, 25, 22, 30, tzinfo=dt.UTC)  # 23:30 in Berlin
    assert next_run(evening) == dt.datetime(2026, 11, 26, 2, 0, tzinfo=BERLIN)
    after = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)  # 02:30 in Berlin
    assert next_run(after) == dt.datetime(2026, 11, 27, 2, 0, tzinfo=BERLIN)


def test_summer_time_is_respected():
    summer = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    run = next_run(summer)
    assert run.astimezone(dt.UTC).hour == 0  # 02:00 CEST is 00:00 UTC

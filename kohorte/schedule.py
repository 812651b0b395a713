"""When the nightly load runs: read from prefect.yaml, the one place the schedule lives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from cronsim import CronSim

PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"


def nightly_schedule(path: Path = PREFECT_YAML) -> tuple[str, str]:
    """(cron, timezone) of the ``nightly`` deployment."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    deployment = next(d for d in config["deployments"] if d["name"] == "nightly")
    schedule = deployment["schedules"][0]
    return schedule["cron"], schedule.get("timezone", "UTC")


def next_run(now: dt.datetime, path: Path = PREFECT_YAML) -> dt.datetime:
    """The next scheduled start after ``now`` (aware), in the schedule's time zone."""
    cron, timezone = nightly_schedule(path)
    local = now.astimezone(ZoneInfo(timezone))
    return next(CronSim(cron, local))

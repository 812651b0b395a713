"""When the nightly load runs: read from prefect.yaml, the one place the schedule lives. It
ships inside the package (``kohorte/ops/prefect.yaml``; the checkout's top-level
``prefect.yaml``, which ``prefect deploy`` reads, is a link to it)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from importlib.resources.abc import Traversable
from zoneinfo import ZoneInfo

import yaml
from cronsim import CronSim

PREFECT_YAML: Traversable = resources.files("kohorte.ops") / "prefect.yaml"


def deployments(path: Traversable = PREFECT_YAML) -> list[dict]:
    """The deployments of prefect.yaml, as written there."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["deployments"]


def nightly_schedule(path: Traversable = PREFECT_YAML) -> tuple[str, str]:
    """(cron, timezone) of the ``nightly`` deployment."""
    deployment = next(d for d in deployments(path) if d["name"] == "nightly")
    schedule = deployment["schedules"][0]
    return schedule["cron"], schedule.get("timezone", "UTC")


def next_run(now: dt.datetime, path: Traversable = PREFECT_YAML) -> dt.datetime:
    """The next scheduled start after ``now`` (aware), in the schedule's time zone."""
    cron, timezone = nightly_schedule(path)
    local = now.astimezone(ZoneInfo(timezone))
    return next(CronSim(cron, local))

"""Alerts: when a night counts as failed or missing, delivery to a local webhook receiver
and SMTP sink (once, retried per channel), the dashboard's banner and `kohorte alerts`."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from kohorte.cli import app
from kohorte.config import load_settings
from kohorte.ops import alerts
from kohorte.store import runlog

BERLIN = ZoneInfo("Europe/Berlin")


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in November 2026, Berlin time."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


def _night(settings, run_id: str, status: str, finished: dt.datetime, message: str = "") -> None:
    stamp = finished.astimezone(dt.UTC).isoformat(timespec="seconds")
    run = {"run_id": run_id, "status": status, "started_at": stamp, "finished_at": stamp}
    runlog.write_run(settings, {**run, **({"message": message} if message else {})})


def test_a_missing_night_alerts_after_the_deadline_and_not_before(settings):
    expected = replace(settings, expect_nightly=True)
    _night(settings, "r1", "published", _at(25, 2, 10))
    assert alerts.check(expected, _at(26, 5, 59)) is None  # 26th: not yet due
    overdue = alerts.check(expected, _at(26, 6, 1))
    assert overdue is not None and overdue.kind == alerts.OVERDUE
    assert overdue.key == "overdue:2026-11-26"
    assert "vom 26.11.2026 ist bis 06:00 Uhr nicht gelaufen" in overdue.text()
    assert "letzte erfolgreiche Ladung: 25.11.2026 02:10" in overdue.text()
    assert "has not run by 06:00" in overdue.text("en")
    # still standing the next night before its deadline, until a run publishes
    assert alerts.check(expected, _at(27, 3, 0)).key == "overdue:2026-11-26"
    _night(settings, "r2", "published", _at(27, 2, 20))  # caught up late
    assert alerts.check(expected, _at(27, 7, 0)) is None
    # where no schedule is deployed (make run), a quiet night is no alert
    assert alerts.check(replace(settings, expect_nightly=None), _at(28, 9, 0)) is None
    # what `kohorte serve` does after deploying, here on the 28th at 05:00: that morning's
    # deadline counts, the nights before the schedule existed do not
    unset = replace(settings, expect_nightly=None)
    alerts.mark_scheduled(settings, _at(28, 5, 0))
    assert alerts.check(unset, _at(28, 5, 30)) is None  # 27th's deadline: before the schedule
    assert alerts.check(unset, _at(28, 9, 0)).key == "overdue:2026-11-28"
    alerts.mark_scheduled(settings, _at(29, 12, 0))  # a restart keeps the first deployment
    assert alerts.check(unset, _at(29, 12, 5)).key == "overdue:2026-11-29"
    marker = settings.state / "nightly-scheduled"
    marker.write_text("")  # as the first version of `kohorte serve` left it: its time counts
    written = dt.datetime.now(dt.UTC) - alerts.scheduled_since(settings)
    assert dt.timedelta(0) <= written < dt.timedelta(minutes=1)


def test_a_failed_night_alerts_until_a_night_publishes(settings):
    _night(settings, "r1", "published", _at(25, 2, 10))
    _night(settings, "r2", "failed", _at(26, 2, 12), "Kein Speicherplatz mehr")
    failed = alerts.check(settings, _at(26, 2, 30))
    assert failed is not None and failed.kind == alerts.FAILED
    assert "am 26.11.2026 02:12 fehlgeschlagen (Kein Speicherplatz mehr)" in failed.text()
    # a failure the flow could only report through its hook (before the run log existed)
    alerts.record_failure(settings, "Worker abgestürzt", _at(26, 2, 40).astimezone(dt.UTC))
    assert "Worker abgestürzt" in alerts.check(settings, _at(26, 3, 0)).text()
    _night(settings, "r3", "published", _at(26, 9, 0))  # a run by hand repairs it
    assert alerts.check(settings, _at(26, 9, 5)) is None


def test_each_alert_is_delivered_once_per_channel_and_retried_until_delivered(settings, receivers):
    configured = replace(load_settings(), expect_nightly=True)  # channels from the env
    assert alerts.channels(configured) == ["webhook", "email"]
    _night(settings, "r1", "published", _at(25, 2, 10))
    receivers.stop_smtp()  # the mail server is down at first
    alerts.watch(configured, _at(26, 6, 5))
    assert len(receivers.posts) == 1 and receivers.mails == []
    post = receivers.posts[0]
    assert post["kind"] == "overdue" and post["key"] == "overdue:2026-11-26"
    assert post["text"].startswith("Kohorte: nächtliche Ladung ausgeblieben: Die nächtliche")
    receivers.start_smtp()
    alerts.watch(configured, _at(26, 6, 6))
    alerts.watch(configured, _at(26, 6, 7))
    assert len(receivers.posts) == 1  # not again
    assert len(receivers.mails) == 1
    mail = receivers.mails[0]
    assert mail.rcpt_tos == ["teamleitung@jobcenter.example"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert message["Subject"] == "Kohorte: nächtliche Ladung ausgeblieben"
    assert "vom 26.11.2026 ist bis 06:00 Uhr nicht gelaufen" in message.get_content()
    # the next night's failure is a new alert: notified again
    _night(settings, "r2", "failed", _at(27, 2, 5), "Prüfung fehlgeschlagen")
    alerts.watch(configured, _at(27, 2, 6))
    assert [p["kind"] for p in receivers.posts] == ["overdue", "failed"]
    assert len(receivers.mails) == 2


def test_the_alerts_command_notifies_and_exits_non_zero_while_an_alert_stands(settings, receivers):
    runner = CliRunner()
    quiet = runner.invoke(app, ["alerts"])
    assert quiet.exit_code == 0 and "Keine Warnung" in quiet.output
    _night(settings, "r1", "failed", dt.datetime.now(dt.UTC), "Festplatte voll")
    loud = runner.invoke(app, ["alerts"])
    assert loud.exit_code == 1 and "Festplatte voll" in loud.output
    assert [p["kind"] for p in receivers.posts] == ["failed"]
    probe = runner.invoke(app, ["alerts", "--test"])
    assert probe.exit_code == 0 and "webhook: gesendet" in probe.output
    assert receivers.posts[-1]["kind"] == "test"


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_page_and_the_status_page_show_a_failed_night_in_red(kpi_env_with_failure, language):
    from conftest import run_app

    from kohorte.read.access import Principal

    at = run_app(Principal("tl", "teamleitung"), {"lang": language})
    words = {"de": "fehlgeschlagen (Festplatte voll)", "en": "failed on"}[language]
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    if language == "en":
        return  # (AppTest cannot re-serialise the English rate chooser when switching)
    at.switch_page("views/datenstand.py").run()
    assert any(words in e.value for e in at.error)
    assert any("kohorte status" in c.value for c in at.caption)


@pytest.fixture
def kpi_env_with_failure(kpi_home):
    settings = kpi_home  # the KPI fixture delivered and loaded in this test's home
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)  # after the load's publish
    _night(settings, "z-failed", "failed", later, "Festplatte voll")
    return settings

"""Someone hears about it when a night fails: the alert rules, the banner text, the
notifications (webhook and e-mail).

Two conditions raise an alert:

- **failed**: the latest nightly run failed (recorded by the pipeline, or by the flow's
  failure hook when it failed before it could record itself) and no run has published
  since;
- **overdue**: nightly runs are expected (``kohorte serve`` deployed the schedule, or
  ``KOHORTE_EXPECT_NIGHTLY``) and no run has published since the day's deadline
  (``KOHORTE_ALERT_DEADLINE``, 06:00 Berlin time) came due. This catches what no hook can
  report: a run killed outright, a worker or Prefect server that was down at 02:00.

``check`` only reads files under ``KOHORTE_HOME``: the dashboard, ``kohorte status``, the
supervisor's watchdog and the flow hook all ask the same question and get the same
answer. ``watch`` sends each alert once (per channel, retried until delivered).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import socket
import urllib.request
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from kohorte.config import Settings
from kohorte.store import rawstore, runlog

BERLIN = ZoneInfo("Europe/Berlin")
FAILED = "failed"
OVERDUE = "overdue"
log = logging.getLogger("kohorte.ops.alerts")


TEXTS = {
    FAILED: {
        "de": "Die nächtliche Ladung ist am {when} fehlgeschlagen{reason}. Das Dashboard zeigt "
        "die zuletzt veröffentlichten Daten (letzte erfolgreiche Ladung: {last}).",
        "en": "The nightly load failed on {when}{reason}. The dashboard shows the data last "
        "published (last successful load: {last}).",
    },
    OVERDUE: {
        "de": "Die nächtliche Ladung vom {day} ist bis {deadline} Uhr nicht gelaufen. Das "
        "Dashboard zeigt die zuletzt veröffentlichten Daten (letzte erfolgreiche Ladung: "
        "{last}).",
        "en": "The nightly load of {day} has not run by {deadline}. The dashboard shows the "
        "data last published (last successful load: {last}).",
    },
    "test": {"de": "Testnachricht von Kohorte.", "en": "Test message from Kohorte."},
    "never": {"de": "noch nie", "en": "never"},
}


@dataclass(frozen=True)
class Alert:
    """Something that needs a person: which kind, since when, and what is known."""

    kind: str  # failed | overdue | test
    key: str  # identifies this occurrence, so it is notified once
    since: str  # ISO timestamp (UTC): when it failed, or the deadline that passed
    detail: str = ""  # failed: the error message; overdue: the day (ISO)
    deadline: str = ""  # overdue: the deadline's time of day
    last_published: str | None = None  # ISO timestamp (UTC) of the last successful run

    def text(self, lang: str = "de") -> str:
        """The alert in words (German by default, as the notifications are)."""
        last = local_time(self.last_published) if self.last_published else TEXTS["never"][lang]
        if self.kind == FAILED:
            reason = f" ({self.detail})" if self.detail else ""
            return TEXTS[FAILED][lang].format(when=local_time(self.since), reason=reason, last=last)
        if self.kind == OVERDUE:
            day = dt.date.fromisoformat(self.detail).strftime("%d.%m.%Y")
            return TEXTS[OVERDUE][lang].format(day=day, deadline=self.deadline, last=last)
        return TEXTS["test"][lang]


def _parse(stamp: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def local_time(stamp: str) -> str:
    """An ISO timestamp as Berlin time, dd.mm.yyyy HH:MM."""
    return _parse(stamp).astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")


def _failures(settings: Settings) -> list[dict]:
    """Failed runs: from the run log, and those the flow hook recorded."""
    failed = [
        {"at": run.get("finished_at") or run["started_at"], "message": run.get("message", "")}
        for run in runlog.read_runs(settings)
        if run.get("status") == "failed"
    ]
    folder = settings.state / "failures"
    if folder.exists():
        failed += [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")]
    return failed


def record_failure(settings: Settings, message: str, now: dt.datetime | None = None) -> None:
    """Note a failed nightly run that could not note itself (e.g. it failed to start)."""
    now = now or dt.datetime.now(dt.UTC)
    folder = settings.state / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    record = {"at": now.isoformat(timespec="seconds"), "message": message[:2000]}
    rawstore.atomic_write_text(
        folder / f"{now:%Y%m%dT%H%M%S%f}.json", json.dumps(record, ensure_ascii=False)
    )


def scheduled_since(settings: Settings) -> dt.datetime | None:
    """Since when nightly runs are expected here (None: not at all). A missing night alerts
    only for deadlines after that moment: a new installation is not overdue for the nights
    before its schedule existed."""
    if settings.expect_nightly is False:
        return None
    marker = settings.state / "nightly-scheduled"
    if marker.exists():
        stamp = marker.read_text(encoding="utf-8").strip()
        if stamp:
            return _parse(stamp)
        # an empty marker (written by the first version of `kohorte serve`): its time
        return dt.datetime.fromtimestamp(marker.stat().st_mtime, dt.UTC)
    if settings.expect_nightly:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return None


def mark_scheduled(settings: Settings, now: dt.datetime | None = None) -> None:
    """``kohorte serve`` deployed the nightly schedule: from now on a missing night alerts.
    The first deployment counts; later starts keep it (a restart after an outage must not
    forgive the night the outage missed)."""
    marker = settings.state / "nightly-scheduled"
    if marker.exists():
        return
    settings.state.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    rawstore.atomic_write_text(marker, now.isoformat(timespec="seconds"))


def check(settings: Settings, now: dt.datetime | None = None) -> Alert | None:
    """The alert that stands now, if any (failed wins over overdue)."""
    now = now or dt.datetime.now(dt.UTC)
    published = [
        _parse(run.get("finished_at") or run["started_at"])
        for run in runlog.read_runs(settings)
        if run.get("status") == "published"
    ]
    last_ok = max(published, default=None)
    last_ok_iso = last_ok.isoformat(timespec="seconds") if last_ok else None
    failures = sorted(_failures(settings), key=lambda f: _parse(f["at"]))
    if failures and (last_ok is None or _parse(failures[-1]["at"]) > last_ok):
        latest = failures[-1]
        return Alert(
            FAILED,
            f"{FAILED}:{latest['at']}",
            latest["at"],
            detail=latest["message"],
            last_published=last_ok_iso,
        )
    since = scheduled_since(settings)
    if since is None:
        return None
    local = now.astimezone(BERLIN)
    deadline_time = dt.time.fromisoformat(settings.alert_deadline)
    day = local.date() if local.time() >= deadline_time else local.date() - dt.timedelta(days=1)
    deadline = dt.datetime.combine(day, deadline_time, tzinfo=BERLIN)
    if deadline <= since or (last_ok is not None and last_ok.astimezone(BERLIN).date() >= day):
        return None
    return Alert(
        OVERDUE,
        f"{OVERDUE}:{day.isoformat()}",
        deadline.astimezone(dt.UTC).isoformat(timespec="seconds"),
        detail=day.isoformat(),
        deadline=settings.alert_deadline,
        last_published=last_ok_iso,
    )


# --- notifications ---------------------------------------------------------------------


def channels(settings: Settings) -> list[str]:
    """The configured notification channels."""
    return [
        name
        for name, configured in (
            ("webhook", bool(settings.alert_webhook)),
            ("email", bool(settings.alert_smtp_host and settings.alert_email_to)),
        )
        if configured
    ]


def send(settings: Settings, alert: Alert, channel: str) -> None:
    """Deliver one alert on one channel; raises if it could not be delivered."""
    subject = {
        FAILED: "Kohorte: nächtliche Ladung fehlgeschlagen",
        OVERDUE: "Kohorte: nächtliche Ladung ausgeblieben",
    }.get(alert.kind, "Kohorte: Testnachricht")
    if channel == "webhook":
        body = {"text": f"{subject}: {alert.text()}", **asdict(alert), "host": socket.gethostname()}
        request = urllib.request.Request(
            settings.alert_webhook,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (configured URL)
            if response.status >= 300:
                raise OSError(f"webhook answered {response.status}")
        return
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.alert_email_from
    message["To"] = ", ".join(settings.alert_email_to)
    message.set_content(
        f"{alert.text()}\n\nServer: {socket.gethostname()}\n"
        "Details: Dashboard, Seite Datenstand; `kohorte status` auf dem Server.\n"
    )
    deliver(settings, message)


def deliver(settings: Settings, message: EmailMessage) -> None:
    """Send a message over the configured SMTP server (``KOHORTE_ALERT_SMTP_*``): alerts
    and the monthly report alike; raises if it could not be delivered."""
    with smtplib.SMTP(settings.alert_smtp_host, settings.alert_smtp_port, timeout=10) as smtp:
        if settings.alert_smtp_starttls:
            smtp.starttls()
        if settings.alert_smtp_user:
            smtp.login(settings.alert_smtp_user, settings.alert_smtp_password or "")
        smtp.send_message(message)


class MailNotConfigured(RuntimeError):
    """Recipients are configured, a mail server is not: a German sentence saying so."""


def mail_report(settings: Settings, path: Path, title: str) -> list[str]:
    """Mail a report's PDF to ``KOHORTE_BERICHT_EMAIL_TO``; returns the recipients (none
    when no recipient is configured: nothing is sent then). Recipients without an SMTP
    server are a configuration error, said as one, not a report silently not sent."""
    if not settings.report_email_to:
        return []
    if not settings.alert_smtp_host:
        raise MailNotConfigured(
            "KOHORTE_BERICHT_EMAIL_TO ist gesetzt, aber kein Mailserver "
            "(KOHORTE_ALERT_SMTP_HOST): der Bericht ist abgelegt, aber nicht versandt."
        )
    message = EmailMessage()
    message["Subject"] = f"Kohorte: {title}"
    message["From"] = settings.alert_email_from
    message["To"] = ", ".join(settings.report_email_to)
    message.set_content(
        f"{title}: im Anhang als PDF/A.\n\n"
        "Dieselben Zahlen wie auf den Kennzahl-Karten des Cockpits und in "
        "`kohorte kpis --monat`; kleine Fallzahlen sind geschützt.\n"
        f"Server: {socket.gethostname()}\n"
    )
    message.add_attachment(
        path.read_bytes(), maintype="application", subtype="pdf", filename=path.name
    )
    deliver(settings, message)
    return list(settings.report_email_to)


def watch(settings: Settings, now: dt.datetime | None = None) -> Alert | None:
    """Check, and notify every configured channel that has not yet had this alert.

    Delivery is recorded per channel in ``state/alerts-sent.json``; a channel that failed
    (SMTP down) is tried again on the next call."""
    alert = check(settings, now)
    if alert is None:
        return None
    sent_file = settings.state / "alerts-sent.json"
    sent = json.loads(sent_file.read_text(encoding="utf-8")) if sent_file.exists() else {}
    done = set(sent.get(alert.key, []))
    for channel in channels(settings):
        if channel in done:
            continue
        try:
            send(settings, alert, channel)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("Alert %s not delivered by %s: %s", alert.key, channel, error)
            continue
        log.warning("Alert %s sent by %s", alert.key, channel)
        done.add(channel)
    sent[alert.key] = sorted(done)
    settings.state.mkdir(parents=True, exist_ok=True)
    rawstore.atomic_write_text(sent_file, json.dumps(sent))
    return alert


def nightly_failed(settings: Settings, message: str, started: dt.datetime | None) -> Alert | None:
    """The flow's failure hook: record the failure unless the run recorded it itself,
    then notify."""
    standing = check(settings)
    if not (
        standing is not None
        and standing.kind == FAILED
        and (started is None or _parse(standing.since) >= started)
    ):
        record_failure(settings, message)
    return watch(settings)

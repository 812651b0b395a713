"""One settings object for the whole program; the only module that reads the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from kohorte.define import attention, targets
from kohorte.define.contract import SETTLE_SECONDS

# DuckDB's memory limit for the nightly load (checking files and building); beyond it DuckDB
# spills to disk. Its own default is 80 % of the RAM: at 50 million attendance rows a full
# load took 19.9 GiB on a machine the dashboard shares.
LOAD_MEMORY_LIMIT = "6GB"

PREFECT_ENV_DEFAULTS = {
    # Offline: no telemetry, no update checks, nothing that phones home.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # A temporary server on 2 cores needs more than the default 20 s to start.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class Settings:
    """Where Kohorte reads and writes, and the few knobs of the programme."""

    home: Path
    default_site: str = "Salzgitter"
    session_hours: float = 3.0
    programme_weeks: int = 8  # a participation's planned length
    programme_year_month: int = 1  # the month a programme year starts in (1: January)
    warehouse_keep: int = 3
    min_count: int = 3  # small-count protection: counts below this are never shown
    # Per-coach views monitor employees: in German public bodies they need the staff
    # council's consent (Personalrat), so they are off unless switched on.
    coach_views: bool = False
    pseudonym_key_env: str | None = field(default=None, repr=False)
    # sign-in: local accounts (embedded default) or OpenID Connect through st.login
    auth: str = "local"
    lockout_attempts: int = 5  # failed sign-ins in a row before an account is locked
    lockout_minutes: int = 15
    # OIDC: the ID-token claim holding the roles, how its values map to Kohorte's roles,
    # and the claim with a coach's name as it appears in the deliveries
    oidc_role_claim: str = "roles"
    oidc_role_map: tuple[tuple[str, str], ...] = (
        ("kohorte-teamleitung", "teamleitung"),
        ("kohorte-coach", "coach"),
        ("kohorte-analyse", "analyse"),
        ("kohorte-leitung", "leitung"),
    )
    oidc_coach_claim: str = "name"
    audit_days: int = 400  # audit entries are kept this long (a year plus a margin)
    retention_months: int = 24  # participant data are deleted this long after exit
    quarantine_days: int = 30  # quarantined originals are deleted after this many days
    # the inbox: a file is taken once its size and modification time stayed the same for
    # this many seconds (a file still being uploaded waits for the next night); with
    # markers on, only a file beside its ``<name>.done`` or ``<name>.ok`` is taken
    settle_seconds: float = SETTLE_SECONDS
    inbox_markers: bool = False
    # service mode (``kohorte serve``): where its servers listen
    service_host: str = "127.0.0.1"
    prefect_port: int = 4200
    dashboard_port: int = 8501
    # dashboard processes behind the reverse proxy on dashboard_port (1: no proxy, the one
    # dashboard listens there itself); load_settings gives one per core
    dashboard_processes: int = 1
    load_memory_limit: str = LOAD_MEMORY_LIMIT
    # alerts: a missing night is an alert once nightly runs are expected (None: when
    # ``kohorte serve`` has deployed the schedule); notified by webhook and/or e-mail
    expect_nightly: bool | None = None
    alert_deadline: str = "06:00"  # Europe/Berlin
    alert_webhook: str | None = None
    alert_smtp_host: str | None = None
    alert_smtp_port: int = 25
    alert_smtp_starttls: bool = False
    alert_smtp_user: str | None = None
    alert_smtp_password: str | None = field(default=None, repr=False)
    alert_email_from: str = "kohorte@localhost"
    alert_email_to: tuple[str, ...] = ()
    report_email_to: tuple[str, ...] = ()  # the monthly report, over the alert SMTP settings
    # the nightly flow's task runner: "default" (Prefect's threads in the flow's process)
    # or "dask" (prefect-dask): a temporary local cluster of ``dask_workers`` processes, or
    # an existing scheduler at ``dask_address`` (tcp://host:8786), e.g. on Kubernetes
    task_runner: str = "default"
    dask_workers: int = 2
    dask_address: str | None = None

    @property
    def inbox(self) -> Path:
        """Folder the Jobcenter's deliveries are dropped into."""
        return self.home / "inbox"

    @property
    def raw(self) -> Path:
        """Append-only store of accepted, pseudonymised rows (Parquet per delivery)."""
        return self.home / "raw"

    @property
    def quarantine(self) -> Path:
        """Rejected originals and their reports; the only place a delivery is kept in clear."""
        return self.home / "quarantine"

    @property
    def warehouse(self) -> Path:
        """Published DuckDB files and the ``current.duckdb`` pointer."""
        return self.home / "warehouse"

    @property
    def state(self) -> Path:
        """Run log of the nightly flow (outside the rebuilt warehouse)."""
        return self.home / "state"

    @property
    def reports(self) -> Path:
        """The PDF reports (Monatsbericht, Bilanz), one file per span, newest made last."""
        return self.home / "berichte"

    @property
    def secrets_dir(self) -> Path:
        """Keys generated on first run; never committed, never in the warehouse."""
        return self.home / "secrets"

    @property
    def audit_dir(self) -> Path:
        """Append-only audit log, outside the published warehouse (team lead only)."""
        return self.home / "audit"

    @property
    def users_file(self) -> Path:
        """Local accounts with argon2 password hashes."""
        return self.secrets_dir / "users.json"

    @property
    def prefect_home(self) -> Path:
        """PREFECT_HOME, so Prefect writes nothing to ``~/.prefect``."""
        return self.home / "prefect"

    def ensure_dirs(self) -> None:
        """Create the folder layout below ``home``."""
        for path in (self.inbox, self.raw, self.warehouse, self.state):
            path.mkdir(parents=True, exist_ok=True)
        # originals and reports with customer numbers in clear; also for older installations
        for private in (self.quarantine, self.secrets_dir):
            private.mkdir(parents=True, exist_ok=True, mode=0o700)
            private.chmod(0o700)

    def pseudonym_key(self) -> bytes:
        """The key for the keyed hash of kundennummer; generated (0600) on first use."""
        if self.pseudonym_key_env:
            return self.pseudonym_key_env.encode()
        key_file = self.secrets_dir / "pseudonym.key"
        if not key_file.exists():
            self._create_key(key_file)
        return key_file.read_text().strip().encode()

    def _create_key(self, key_file: Path) -> None:
        """Write a complete key under a temporary name, then link it into place: if parallel
        tasks race on the first run, exactly one key wins and nobody reads a partial one."""
        self.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass  # another task created it first; use that one
        finally:
            tmp.unlink()

    @property
    def attention_file(self) -> Path:
        """Thresholds of the attention rules (``kohorte.define.attention``); optional."""
        return self.home / attention.FILE_NAME

    def attention_thresholds(self) -> attention.Thresholds:
        """The attention rules' thresholds: the defaults, changed by ``attention_file``
        where it exists. A mistake in the file is a German ``ValueError``."""
        return _optional(self.attention_file, attention.parse, attention.Thresholds())

    @property
    def targets_file(self) -> Path:
        """Targets of the target agreement per KPI and programme year; optional."""
        return self.home / targets.FILE_NAME

    def targets(self) -> targets.Targets:
        """The targets of ``targets_file`` (none without it); a mistake in the file is a
        German ``ValueError``."""
        return _optional(self.targets_file, targets.parse, targets.Targets())

    def prefect_env(self) -> dict[str, str]:
        """Environment Prefect needs to run offline with its state under ``home``."""
        env = dict(PREFECT_ENV_DEFAULTS)
        env["PREFECT_HOME"] = str(self.prefect_home)
        return env


def load_settings() -> Settings:
    """Read the settings from the environment (``KOHORTE_HOME`` roots everything)."""
    home = Path(os.environ.get("KOHORTE_HOME", "data")).expanduser().resolve()
    return Settings(
        home=home,
        default_site=os.environ.get("KOHORTE_DEFAULT_SITE", "Salzgitter"),
        session_hours=float(os.environ.get("KOHORTE_SESSION_HOURS", "3")),
        programme_weeks=int(os.environ.get("KOHORTE_PROGRAMME_WEEKS", "8")),
        programme_year_month=_month(os.environ.get("KOHORTE_PROGRAMME_YEAR_START", "1")),
        warehouse_keep=int(os.environ.get("KOHORTE_WAREHOUSE_KEEP", "3")),
        min_count=int(os.environ.get("KOHORTE_MIN_COUNT", "3")),
        coach_views=bool(_flag(os.environ.get("KOHORTE_COACH_VIEWS"))),
        pseudonym_key_env=os.environ.get("KOHORTE_PSEUDONYM_KEY") or None,
        auth=os.environ.get("KOHORTE_AUTH", "local"),
        lockout_attempts=int(os.environ.get("KOHORTE_LOCKOUT_ATTEMPTS", "5")),
        lockout_minutes=int(os.environ.get("KOHORTE_LOCKOUT_MINUTES", "15")),
        oidc_role_claim=os.environ.get("KOHORTE_OIDC_ROLE_CLAIM", "roles"),
        oidc_role_map=_role_map(os.environ.get("KOHORTE_OIDC_ROLE_MAP")),
        oidc_coach_claim=os.environ.get("KOHORTE_OIDC_COACH_CLAIM", "name"),
        audit_days=int(os.environ.get("KOHORTE_AUDIT_DAYS", "400")),
        retention_months=int(os.environ.get("KOHORTE_RETENTION_MONTHS", "24")),
        quarantine_days=int(os.environ.get("KOHORTE_QUARANTINE_DAYS", "30")),
        settle_seconds=float(os.environ.get("KOHORTE_SETTLE_SECONDS", SETTLE_SECONDS)),
        inbox_markers=bool(_flag(os.environ.get("KOHORTE_INBOX_MARKERS"))),
        service_host=os.environ.get("KOHORTE_HOST", "127.0.0.1"),
        prefect_port=int(os.environ.get("KOHORTE_PREFECT_PORT", "4200")),
        dashboard_port=int(os.environ.get("KOHORTE_PORT", "8501")),
        load_memory_limit=os.environ.get("KOHORTE_LOAD_MEMORY_LIMIT", LOAD_MEMORY_LIMIT),
        dashboard_processes=max(
            1, int(os.environ.get("KOHORTE_DASHBOARD_PROCESSES") or os.cpu_count() or 1)
        ),
        expect_nightly=_flag(os.environ.get("KOHORTE_EXPECT_NIGHTLY")),
        alert_deadline=os.environ.get("KOHORTE_ALERT_DEADLINE", "06:00"),
        alert_webhook=os.environ.get("KOHORTE_ALERT_WEBHOOK") or None,
        alert_smtp_host=os.environ.get("KOHORTE_ALERT_SMTP_HOST") or None,
        alert_smtp_port=int(os.environ.get("KOHORTE_ALERT_SMTP_PORT", "25")),
        alert_smtp_starttls=bool(_flag(os.environ.get("KOHORTE_ALERT_SMTP_STARTTLS"))),
        alert_smtp_user=os.environ.get("KOHORTE_ALERT_SMTP_USER") or None,
        alert_smtp_password=os.environ.get("KOHORTE_ALERT_SMTP_PASSWORD") or None,
        alert_email_from=os.environ.get("KOHORTE_ALERT_EMAIL_FROM", "kohorte@localhost"),
        alert_email_to=tuple(
            a.strip() for a in os.environ.get("KOHORTE_ALERT_EMAIL_TO", "").split(",") if a.strip()
        ),
        report_email_to=tuple(
            a.strip()
            for a in os.environ.get("KOHORTE_BERICHT_EMAIL_TO", "").split(",")
            if a.strip()
        ),
        task_runner=_choice("KOHORTE_TASK_RUNNER", ("default", "dask")),
        dask_workers=int(os.environ.get("KOHORTE_DASK_WORKERS", "2")),
        dask_address=os.environ.get("KOHORTE_DASK_ADDRESS") or None,
    )


def _optional(path: Path, parse, default):
    """``parse(text, source)`` of an optional file in the home; ``default`` without it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return default
    return parse(text, str(path))


def _month(text: str) -> int:
    """A month 1 to 12 from the environment; anything else is refused at start."""
    if not text.strip().isdigit() or not 1 <= int(text) <= 12:
        raise ValueError(f"KOHORTE_PROGRAMME_YEAR_START={text!r}: ein Monat von 1 bis 12")
    return int(text)


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed`` from the environment (the first when unset); anything else is
    refused at start, not silently replaced by the default."""
    value = (os.environ.get(name) or allowed[0]).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: erlaubt sind {', '.join(allowed)}")
    return value


def _flag(text: str | None) -> bool | None:
    """``1/true/ja/on`` or ``0/false/nein/off`` from the environment; None when unset."""
    if text is None or not text.strip():
        return None
    return text.strip().lower() in ("1", "true", "ja", "on", "yes")


def _role_map(text: str | None) -> tuple[tuple[str, str], ...]:
    """``group=role,group=role`` from the environment, or the default mapping."""
    if not text:
        return Settings.oidc_role_map
    pairs = [item.split("=", 1) for item in text.split(",") if "=" in item]
    return tuple((claim.strip(), role.strip()) for claim, role in pairs)


def apply_prefect_env(settings: Settings) -> None:
    """Set Prefect's environment defaults (explicit values from the caller win)."""
    for name, value in settings.prefect_env().items():
        os.environ.setdefault(name, value)
    if "PREFECT_API_URL" not in os.environ:
        # The temporary server of a one-off run logs its own shutdown (cancelled event
        # flushes) as errors with tracebacks: noise, not a problem of the run. The run's
        # own errors come from the flow engine's loggers and still show.
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")

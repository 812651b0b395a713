"""The ``kohorte`` command line: generate, load, kpis, docs, dashboard."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from kohorte.build import warehouse
from kohorte.config import apply_prefect_env, load_settings
from kohorte.read import fmt

app = typer.Typer(
    help="Kohorte: programme cockpit for job-coaching programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(shown: bool) -> None:
    if shown:
        from importlib.metadata import version

        typer.echo(f"kohorte {version('kohorte')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Kohorte: programme cockpit for job-coaching programmes."""


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@app.command()
def generate(
    out: Annotated[Path | None, typer.Option(help="Target folder (default: the inbox).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 42,
    start: Annotated[
        str, typer.Option(help="First programme day (YYYY-MM-DD); two years give a baseline.")
    ] = "2024-06-03",
    end: Annotated[str | None, typer.Option(help="Last day (default: yesterday).")] = None,
    sites: Annotated[int, typer.Option(help="Number of sites (Standorte).")] = 1,
    entries_per_year: Annotated[float, typer.Option(help="Entries per site and year.")] = 300,
    weekly_weeks: Annotated[
        int, typer.Option(help="The last N weeks as weekly files; earlier in one bulk file.")
    ] = 12,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if the target already has files.")
    ] = False,
) -> None:
    """Write synthetic deliveries of a programme like "Durchstarten" (no real persons)."""
    from kohorte.demo import Programme, write_deliveries

    settings = load_settings()
    target = out or settings.inbox
    if if_empty and (
        (target.exists() and any(target.iterdir())) or warehouse.current_path(settings)
    ):
        typer.echo(f"{target}: schon Daten vorhanden, nichts erzeugt.")
        return
    programme = Programme(
        seed=seed,
        start=dt.date.fromisoformat(start),
        end=_date(end) or dt.date.today() - dt.timedelta(days=1),
        sites=sites,
        entries_per_year=entries_per_year,
        weekly_weeks=weekly_weeks,
    )
    files = write_deliveries(programme, target)
    size = sum(f.stat().st_size for f in files)
    typer.echo(f"{len(files)} Dateien ({size / 2**20:.1f} MiB) nach {target} geschrieben.")


LOADED_WITH_REJECTIONS = 3  # ``kohorte load``: published, but lines or files were rejected


@app.command()
def load(
    plain: Annotated[
        bool, typer.Option("--plain", help="Run the same steps without Prefect.")
    ] = False,
    load_date: Annotated[str | None, typer.Option(help="Pretend today is this date.")] = None,
) -> None:
    """Run the nightly load once and print its summary.

    Exit code 0: published, nothing rejected; 3: published, but lines or files were
    rejected (see their reports); 1: the load failed and the previous version stays
    published."""
    from kohorte import errors
    from kohorte.run import pipeline
    from kohorte.store import runlog

    settings = load_settings()
    day = _date(load_date)
    try:
        if plain:
            run, results = pipeline.run_once(settings, day)
        else:
            apply_prefect_env(settings)
            from flows.nightly import nightly

            run = nightly(load_date=day)
            results = [
                _result_from_log(f)
                for f in runlog.read_files(settings)
                if f["run_id"] == run["run_id"]
            ]
    except (errors.AlreadyRunning, errors.NotPublished) as error:
        typer.echo(f"Fehler: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(pipeline.render_plain(run, results), nl=False)
    if pipeline.rejected_anything(run):
        raise typer.Exit(LOADED_WITH_REJECTIONS)


def _result_from_log(entry: dict):
    from kohorte.intake.report import FileResult

    fields = {k: v for k, v in entry.items() if k in FileResult.__dataclass_fields__}
    return FileResult(**fields)


@app.command()
def kpis(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    lang: Annotated[str, typer.Option(help="de or en.")] = "de",
) -> None:
    """Print the headline KPIs of the published warehouse (small counts protected)."""
    from kohorte.read import cards, queries

    settings = load_settings()
    path = warehouse.current_path(settings)
    if path is None:
        typer.echo("Noch kein Warehouse veröffentlicht: erst `kohorte load`.", err=True)
        raise typer.Exit(1)
    con = warehouse.connect_readonly(path)
    try:
        build = con.execute("select run_id, as_of, load_date, built_at from meta.build").fetchall()
        run_id, as_of, load_day, built_at = build[0]
        rows = queries.run(con, "ueberblick__kennzahlen").to_dict("records")
    finally:
        con.close()
    shown = cards.protect_kpis(rows, settings.min_count)
    if as_json:
        payload = {
            "as_of": as_of.isoformat(),
            "load_date": load_day.isoformat(),
            "run_id": run_id,
            "warehouse": path.name,
            "min_count": settings.min_count,
            "kpis": [
                {
                    "id": c.kpi.id,
                    "label": c.kpi.label(lang),
                    "unit": c.kpi.unit,
                    # shown, hidden (a small count), protected (withheld so that no small
                    # count can be recovered by subtraction), empty or not_reached
                    "state": c.state,
                    "suppressed": c.state in cards.SUPPRESSED,
                    "value": c.value,
                    "numerator": c.numerator,
                    "denominator": c.denominator,
                    "previous_year": c.previous,
                    "window_start": c.window_start.isoformat() if c.window_start else None,
                    "window_end": c.window_end.isoformat() if c.window_end else None,
                }
                for c in shown
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Datenstand {fmt.date(as_of, lang)} (geladen {fmt.datetime(built_at, lang)})")
    for c in shown:
        text = fmt.card_value(c, settings.min_count, lang)
        detail = ""
        if c.numerator is not None:
            of = "von" if lang == "de" else "of"
            detail = f"  ({fmt.number(c.numerator, lang)} {of} {fmt.number(c.denominator, lang)})"
        typer.echo(f"  {c.kpi.label(lang):<52} {text:>14}{detail}")


@app.command()
def docs(
    root: Annotated[Path, typer.Option(help="The checkout whose docs/ to render.")] = Path("."),
) -> None:
    """Render the generated tables in docs/ (data contract, KPIs, analyst tables)."""
    from kohorte import docs as pages

    changed = pages.write(root)
    typer.echo(
        f"{len(pages.GENERATED)} Seiten geprüft, {len(changed)} neu geschrieben"
        + (f": {', '.join(changed)}" if changed else ".")
    )


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Start the dashboard (Streamlit) on 127.0.0.1."""
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(Path(importlib.util.find_spec("dashboard.app").origin)),  # checkout or wheel
        "--server.headless=true",
        f"--server.address={address}",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
    ]
    typer.echo(f"Dashboard: http://{address}:{port}")
    raise typer.Exit(subprocess.call(command))


user_app = typer.Typer(help="Local accounts for signing in (KOHORTE_AUTH=local, the default).")
app.add_typer(user_app, name="user")


def _ask_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Passwort", hide_input=True, confirmation_prompt="Passwort wiederholen")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Option(help="teamleitung, coach, analyse or leitung.")],
    coach: Annotated[
        str | None, typer.Option(help="For a coach: the name used in the deliveries.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    new_coach: Annotated[
        bool,
        typer.Option(
            "--new-coach",
            help="A coach not yet in the deliveries (otherwise the name must be one of them).",
        ),
    ] = False,
) -> None:
    """Create an account; the password is asked for (hidden) and stored only as argon2 hash."""
    from kohorte.ops import accounts

    if coach and not new_coach:
        problem = accounts.unknown_coach(load_settings(), coach)
        if problem is not None:
            typer.echo(f"Fehler: {problem}", err=True)
            raise typer.Exit(2)
    try:
        accounts.add_user(load_settings(), name, role, _ask_password(password_stdin), coach)
    except ValueError as error:
        typer.echo(f"Fehler: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"Konto {name} ({role}) angelegt.")


@user_app.command("list")
def user_list() -> None:
    """All accounts with role, caseload and lock state (never a password or hash)."""
    from kohorte.ops import accounts
    from kohorte.read import fmt

    for account in accounts.list_users(load_settings()):
        extra = f", Coach: {account.coach}" if account.coach else ""
        until = account.locked_until and dt.datetime.fromisoformat(account.locked_until)
        locked = f", gesperrt bis {fmt.datetime(until)} Uhr" if until else ""
        typer.echo(f"{account.name}\t{account.role}{extra}{locked}")


@user_app.command("remove")
def user_remove(name: Annotated[str, typer.Argument(help="Sign-in name.")]) -> None:
    """Delete an account."""
    from kohorte.ops import accounts

    try:
        accounts.remove_user(load_settings(), name)
    except KeyError as error:
        typer.echo(f"Fehler: kein Konto {name}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"Konto {name} gelöscht.")


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="Sign-in name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a new password (also lifts a lockout)."""
    from kohorte.ops import accounts

    try:
        accounts.set_password(load_settings(), name, _ask_password(password_stdin))
    except (KeyError, ValueError) as error:
        typer.echo(f"Fehler: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"Passwort für {name} geändert.")


@user_app.command("demo")
def user_demo() -> None:
    """On a fresh installation, create the team-lead account ``demo`` and print its
    password once (it is stored only as a hash); afterwards do nothing."""
    from kohorte.ops import accounts

    created = accounts.ensure_demo(load_settings())
    if created is None:
        return
    name, password = created
    typer.echo("")
    typer.echo("Demo-Konto angelegt (Rolle teamleitung). Das Passwort wird nur jetzt gezeigt:")
    typer.echo(f"  Benutzer: {name}")
    typer.echo(f"  Passwort: {password}")
    typer.echo("Weitere Konten: kohorte user add NAME --role ROLLE")
    typer.echo("")


@app.command()
def retention(
    today: Annotated[str | None, typer.Option(help="Reference day (YYYY-MM-DD).")] = None,
) -> None:
    """Delete participant data past the retention period (as the nightly flow does after
    the load); prints what was deleted, as counts."""
    from kohorte.ops import audit
    from kohorte.run import retention as rules

    settings = load_settings()
    summary = rules.run(settings, _date(today))
    audit.record(settings, "system", "system", audit.DELETE, personen=summary["persons_deleted"])
    typer.echo(
        f"Austritt vor {fmt.date(dt.date.fromisoformat(summary['cutoff']), 'de')}: "
        f"{summary['persons_deleted']} Personen gelöscht; Quarantäne: "
        f"{summary['quarantine_files_deleted']} Dateien gelöscht."
    )


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SELECT over the analyst tables.")],
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    limit: Annotated[int, typer.Option(help="Rows to print at most.")] = 1000,
) -> None:
    """Run one query in the analysts' sandbox (read-only, pseudonymised tables only).

    No file access, time and memory limits. Exit code 2: the sandbox refused the
    statement (not one SELECT, or beyond the analyst tables); 1: an error in the SQL, or
    the time or memory limit."""
    import getpass

    from kohorte.build import analyst
    from kohorte.ops import audit
    from kohorte.read import sandbox

    settings = load_settings()
    current = warehouse.current_path(settings)
    if current is None:
        typer.echo("Noch kein Warehouse veröffentlicht: erst `kohorte load`.", err=True)
        raise typer.Exit(1)
    try:
        outcome = sandbox.run(analyst.path_for(current), query, limit=limit)
    except sandbox.Failure as failure:
        outcome = failure
    user = f"cli:{getpass.getuser()}"
    audit.record(settings, user, "analyse", audit.SQL, **sandbox.audit_details(query, outcome))
    if isinstance(outcome, sandbox.Refused):
        typer.echo(f"Abgelehnt: {outcome}", err=True)
        raise typer.Exit(2)
    if isinstance(outcome, sandbox.Failure):
        typer.echo(f"Fehler: {outcome}", err=True)
        raise typer.Exit(1)
    if format == "csv":
        typer.echo(outcome.frame.to_csv(index=False), nl=False)
    elif format == "json":
        typer.echo(outcome.frame.to_json(orient="records", date_format="iso", force_ascii=False))
    else:
        typer.echo(outcome.frame.to_string(index=False))
    if outcome.notice:
        typer.echo(f"({outcome.notice})", err=True)


@app.command("analyst-file")
def analyst_file() -> None:
    """Print the path of the published analyst file, for the DuckDB command line, Python or
    DBeaver (open it read-only; it is replaced, never changed, by the next publish)."""
    from kohorte.build import analyst

    current = warehouse.current_path(load_settings())
    if current is None:
        typer.echo("Noch kein Warehouse veröffentlicht: erst `kohorte load`.", err=True)
        raise typer.Exit(1)
    typer.echo(analyst.path_for(current))


@app.command()
def serve() -> None:
    """Run everything on this server and keep it running: Prefect server, work pool and
    deployments, worker, dashboard; restarts what crashes; Ctrl-C or SIGTERM stops all.
    Ports: KOHORTE_PREFECT_PORT (4200), KOHORTE_PORT (8501); KOHORTE_HOST (127.0.0.1)."""
    from kohorte.ops import service

    raise typer.Exit(service.serve(load_settings()))


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
) -> None:
    """What runs, the last nightly run and its result, the next scheduled one, and the
    standing alert; exit code 1 while an alert stands."""
    from kohorte.ops import service

    settings = load_settings()
    apply_prefect_env(settings)
    from flows.status import nightly_runs

    report = service.status(settings, nightly_runs)
    typer.echo(json.dumps(report, indent=2) if as_json else service.render_status(report))
    raise typer.Exit(1 if report["alert"] else 0)


@app.command("alerts")
def alerts_command(
    send_test: Annotated[
        bool, typer.Option("--test", help="Send a test notification on every channel.")
    ] = False,
) -> None:
    """Check for a failed or missing night and notify (webhook, e-mail) once per alert, as
    the service's watchdog does every minute; for a systemd timer or cron."""
    from kohorte.ops import alerts

    settings = load_settings()
    if send_test:
        probe = alerts.Alert("test", "test", "")
        for channel in alerts.channels(settings):
            alerts.send(settings, probe, channel)
            typer.echo(f"{channel}: gesendet")
        if not alerts.channels(settings):
            typer.echo("Kein Kanal eingerichtet (KOHORTE_ALERT_WEBHOOK, KOHORTE_ALERT_SMTP_HOST).")
        return
    alert = alerts.watch(settings)
    typer.echo(alert.text() if alert else "Keine Warnung.")
    raise typer.Exit(1 if alert else 0)


if __name__ == "__main__":
    app()

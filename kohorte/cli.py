"""The ``kohorte`` command line: generate, load, kpis, docs, dashboard.

It speaks German, its help included: our own texts are German here, and the frame texts of
Typer ("Options", "[default: …]", "Error", usage errors) come from the German catalogue in
``kohorte/locale/de/LC_MESSAGES/messages.po`` (compiled to ``messages.mo`` beside it).
"""

from __future__ import annotations

import datetime as dt
import difflib
import gettext
import importlib.util
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

# Typer wraps its frame texts in ``gettext.gettext`` of the default domain "messages" and
# takes some of them at import time (typer.rich_utils), so the catalogue is bound before
# typer is imported. gettext chooses the language from LANGUAGE, LC_ALL, LC_MESSAGES and
# LANG, in this order: LANGUAGE, which decides the language of messages only (not number or
# date formats), is set, so the help is German whatever the machine's locale. A package
# imported from a zip file has no directory to bind; gettext then falls back to English.
LOCALE = resources.files("kohorte") / "locale"
gettext.bindtextdomain("messages", str(LOCALE))
gettext.textdomain("messages")
os.environ["LANGUAGE"] = "de"

import typer  # noqa: E402
from typer import core as typer_core  # noqa: E402
from typer._click import exceptions as click_errors  # noqa: E402

from kohorte.build import warehouse  # noqa: E402
from kohorte.config import apply_prefect_env, load_settings  # noqa: E402
from kohorte.define import periods  # noqa: E402
from kohorte.read import fmt  # noqa: E402
from kohorte.store.db import scalar  # noqa: E402

_ = gettext.gettext

# Texts that Typer 0.29 writes without gettext (it vendors Click without Click's gettext
# calls): the "Usage:" prefix, the help option's text, the "Did you mean" hint and the
# messages of usage errors. The classes below, given to Typer through its ``cls``
# parameters, pass them through gettext with the catalogue's msgids; Typer's modules stay
# as they are.
_EXPECTED = {int: "a whole number", float: "a number"}


def _usage_error(error: click_errors.UsageError) -> str:
    """The German message of a usage error raised while the arguments are parsed."""
    param = getattr(error, "param", None)
    name = param.get_error_hint() if param is not None else None
    if isinstance(error, click_errors.MissingParameter) and name:
        kind = error.param_type or param.param_type_name
        text = _("Missing argument {name}.") if kind == "argument" else _("Missing option {name}.")
        return text.format(name=name)
    if isinstance(error, click_errors.NoSuchOption):
        text = _("No such option: {name}").format(name=error.option_name)
        if error.possibilities:
            options = ", ".join(sorted(error.possibilities))
            text += " " + _("(Possible options: {options})").format(options=options)
        return text
    if isinstance(error, click_errors.BadParameter) and name:
        # Typer's own message is Pydantic's English ("Input should be a valid integer")
        kind = _EXPECTED.get(getattr(param.type_descriptor, "annotation", None))
        if kind is None:
            return _("Invalid value for {name}.").format(name=name)
        return _("Invalid value for {name}: expected {kind}.").format(name=name, kind=_(kind))
    if isinstance(error, click_errors.BadOptionUsage):
        name = repr(error.option_name)
        if "does not take a value" in error.message:
            return _("Option {name} does not take a value.").format(name=name)
        return _("Option {name} requires a value.").format(name=name)
    extra = "Got unexpected extra argument(s) ("  # Typer's text, with no class of its own
    if error.message.startswith(extra) and error.message.endswith(")"):
        args = error.message[len(extra) : -1]
        return _("Got unexpected extra arguments: {args}").format(args=args)
    return _("Invalid call: {message}").format(message=error.message)


class _Argument(typer_core.TyperArgument):
    """An argument named by its metavar ("NAME"), without Typer's Python type ("<str>")."""

    def display_type_rich(self, ctx) -> str | None:
        return None if self.metavar else super().display_type_rich(ctx)


class _German:
    """German frame texts for a command or a group (mixed in before Typer's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            # a switch takes no value: no type after it (Typer would show "<bool>")
            if isinstance(param, typer_core.TyperOption) and param.is_flag:
                param.metavar = ""
            # typer.Argument has no cls parameter; _Argument only changes the help page
            if type(param) is typer_core.TyperArgument:
                param.__class__ = _Argument

    def format_usage(self, ctx, formatter) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=_("Usage:") + " ")

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = _("Show this message and exit.")
            option.metavar = ""
        return option

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click_errors.NoArgsIsHelpError:
            raise
        except click_errors.UsageError as error:
            # with the context, so that the usage line and the hint come with the message
            raise click_errors.UsageError(_usage_error(error), ctx) from None


class _Command(_German, typer_core.TyperCommand):
    pass


class _Group(_German, typer_core.TyperGroup):
    def resolve_command(self, ctx, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click_errors.UsageError as error:
            matches = difflib.get_close_matches(args[0], list(self.commands)) if args else []
            if matches:
                possibilities = ", ".join(repr(m) for m in matches)
                error.message += " " + _("Did you mean {possibilities}?").format(
                    possibilities=possibilities
                )
            raise


def _typer(help: str) -> typer.Typer:
    return typer.Typer(
        cls=_Group,
        help=help,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        suggest_commands=False,  # _Group suggests, in German
        rich_markup_mode="markdown",  # paragraphs of the docstrings fit the terminal's width
        options_metavar=_("[OPTIONS]"),
        subcommand_metavar=_("COMMAND [ARGS]..."),
    )


app = _typer("Kohorte: Programm-Cockpit für Job-Coaching-Maßnahmen im Jobcenter.")


def _version(shown: bool) -> None:
    if shown:
        from importlib.metadata import version

        typer.echo(f"kohorte {version('kohorte')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Zeigt die installierte Version und beendet.",
        ),
    ] = False,
) -> None:
    """Kohorte: Programm-Cockpit für Job-Coaching-Maßnahmen im Jobcenter."""


def _date(value: str | None, option: str) -> dt.date | None:
    """A date as typed: 2026-03-26 or 26.03.2026; anything else is a usage error that
    names the option, not a traceback."""
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    invalid = _("Invalid value for {name}.").format(name=f"'{option}'")
    raise click_errors.UsageError(
        f"{invalid} „{value}“ ist kein Datum (JJJJ-MM-TT oder TT.MM.JJJJ, z. B. 2026-03-26)."
    )


@app.command(cls=_Command)
def generate(
    out: Annotated[
        Path | None,
        typer.Option(metavar="ORDNER", help="Zielordner (ohne Angabe: der Posteingang)."),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            metavar="ZAHL", help="Startwert des Zufalls; gleicher Startwert, gleiche Dateien."
        ),
    ] = 42,
    start: Annotated[
        str,
        typer.Option(
            metavar="DATUM",
            help="Erster Tag der Maßnahme (JJJJ-MM-TT oder TT.MM.JJJJ); zwei Jahre ergeben "
            "ein Vorjahr zum Vergleich.",
        ),
    ] = "2024-06-03",
    end: Annotated[
        str | None,
        typer.Option(
            metavar="DATUM", help="Letzter Tag (JJJJ-MM-TT oder TT.MM.JJJJ; ohne Angabe: gestern)."
        ),
    ] = None,
    sites: Annotated[int, typer.Option(metavar="ANZAHL", help="Anzahl der Standorte.")] = 1,
    entries_per_year: Annotated[
        float, typer.Option(metavar="ANZAHL", help="Eintritte je Standort und Jahr.")
    ] = 300,
    weekly_weeks: Annotated[
        int,
        typer.Option(
            metavar="WOCHEN",
            help="Die letzten WOCHEN als Wochenlieferungen, alles davor in einer Gesamtlieferung.",
        ),
    ] = 12,
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="Tut nichts, wenn im Zielordner schon Dateien liegen."),
    ] = False,
    wirkung: Annotated[
        float | None,
        typer.Option(
            metavar="PROZENTPUNKTE",
            help="Schreibt eine Vergleichsgruppe und Merkmale dazu; die Teilnahme erhöht "
            "den Anteil in Arbeit zur Nachbefragung um so viele Prozentpunkte (zum Prüfen "
            "der Wirkungsschätzung).",
        ),
    ] = None,
    vergleich: Annotated[
        float,
        typer.Option(metavar="ANZAHL", help="Vergleichspersonen je Teilnahme (mit --wirkung)."),
    ] = 3.0,
) -> None:
    """Schreibt erfundene Lieferungen einer Maßnahme wie „Durchstarten“.

    Keine echten Personen: alle Daten sind ausgedacht, mit dem Startwert reproduzierbar."""
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
        start=_date(start, "--start"),
        end=_date(end, "--end") or dt.date.today() - dt.timedelta(days=1),
        sites=sites,
        entries_per_year=entries_per_year,
        weekly_weeks=weekly_weeks,
        planted_effect=None if wirkung is None else wirkung / 100,
        comparison_per_participation=vergleich,
    )
    files = write_deliveries(programme, target)
    size = sum(f.stat().st_size for f in files)
    typer.echo(f"{len(files)} Dateien ({size / 2**20:.1f} MiB) nach {target} geschrieben.")


def _published(settings) -> Path:
    """The published warehouse; without one, say what to do and end with 1."""
    path = warehouse.current_path(settings)
    if path is None:
        typer.echo("Noch kein Warehouse veröffentlicht: erst `kohorte load`.", err=True)
        raise typer.Exit(1)
    return path


@app.command(cls=_Command)
def wirkung(
    as_json: Annotated[bool, typer.Option("--json", help="Ausgabe als JSON, für Skripte.")] = False,
    lang: Annotated[
        str, typer.Option(metavar="SPRACHE", help="Sprache der Sätze: de oder en.")
    ] = "de",
) -> None:
    """Zeigt die Wirkungsschätzung gegen die Vergleichsgruppe (kleine Fallzahlen geschützt)."""
    from kohorte.read import wirkung as impact

    settings = load_settings()
    path = _published(settings)
    con = warehouse.connect_readonly(path)
    try:
        as_of = scalar(con, "select as_of from meta.build")
        result = impact.report(con, settings.min_count, lang)
    finally:
        con.close()
    if as_json:
        payload = {"as_of": as_of.isoformat(), "min_count": settings.min_count, **result}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    typer.echo(impact.text(result, lang))
    if result is None or not result["vergleichsgruppe"]:
        raise typer.Exit(1)


@app.command(cls=_Command)
def bericht(
    monat: Annotated[
        str | None,
        typer.Option(
            metavar="JJJJ-MM",
            help="Monatsbericht für diesen Monat (ohne Angabe: der letzte abgeschlossene "
            "Monat vor dem Datenstand).",
        ),
    ] = None,
    jahr: Annotated[
        int | None,
        typer.Option(metavar="JAHR", help="Bilanz des Programmjahres, das in diesem Jahr beginnt."),
    ] = None,
    von: Annotated[
        str | None, typer.Option(metavar="DATUM", help="Bilanz ab diesem Tag (mit --bis).")
    ] = None,
    bis: Annotated[
        str | None, typer.Option(metavar="DATUM", help="Bilanz bis zu diesem Tag (mit --von).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(metavar="DATEI", help="Hierhin schreiben statt nach KOHORTE_HOME/berichte/."),
    ] = None,
    mail: Annotated[
        bool,
        typer.Option(
            "--mail", help="Auch an KOHORTE_BERICHT_EMAIL_TO senden (über KOHORTE_ALERT_SMTP_*)."
        ),
    ] = False,
) -> None:
    """Schreibt den Monatsbericht oder eine Bilanz als PDF/A (dieselben Zahlen wie
    `kohorte kpis` für denselben Zeitraum, kleine Fallzahlen geschützt)."""
    import getpass

    from kohorte.ops import alerts, reports
    from kohorte.present import bericht as report

    if sum(x is not None for x in (monat, jahr, von or bis)) > 1:
        raise click_errors.UsageError("Entweder --monat, --jahr oder --von/--bis.")
    settings = load_settings()
    span = None
    if jahr is not None:
        span = report.programme_year_span(jahr, settings.programme_year_month)
    elif von or bis:
        span = report.Span(*_span(None, _date(von, "--von"), _date(bis, "--bis")), False)
    elif monat:
        span = report.Span(*_span(monat, None, None), True)
    try:
        made = reports.make(
            settings, span, user=f"cli:{getpass.getuser()}", role="system", out=out, mail=mail
        )
    except (report.NoData, alerts.MailNotConfigured) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{made.title}: {made.path} ({fmt.number(made.size / 1024)} KiB)")
    if made.mailed_to:
        typer.echo(f"Versandt an {', '.join(made.mailed_to)}.")


LOADED_WITH_REJECTIONS = 3  # ``kohorte load``: published, but lines or files were rejected


@app.command(cls=_Command)
def load(
    plain: Annotated[
        bool, typer.Option("--plain", help="Dieselben Schritte ohne Prefect ausführen.")
    ] = False,
    load_date: Annotated[
        str | None,
        typer.Option(
            metavar="DATUM", help="Lädt, als wäre heute dieser Tag (JJJJ-MM-TT oder TT.MM.JJJJ)."
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Das Warehouse ganz neu bauen statt nur das Gelieferte nachzurechnen.",
        ),
    ] = False,
) -> None:
    """Führt die nächtliche Ladung einmal aus und zeigt ihre Zusammenfassung.

    Rückgabewert 0: veröffentlicht, nichts abgelehnt; 3: veröffentlicht, aber Zeilen oder
    Dateien wurden abgelehnt (siehe deren Berichte); 1: die Ladung ist gescheitert, der
    bisherige Stand bleibt veröffentlicht."""
    from kohorte import errors
    from kohorte.run import pipeline
    from kohorte.store import runlog

    settings = load_settings()
    day = _date(load_date, "--load-date")
    try:
        if plain:
            run, results = pipeline.run_once(settings, day, full)
        else:
            apply_prefect_env(settings)
            from flows.nightly import nightly

            run = nightly(load_date=day, full=full)
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


def _span(
    monat: str | None, von: dt.date | None, bis: dt.date | None
) -> tuple[dt.date, dt.date] | None:
    """The calendar span asked for (``--monat``, or ``--von`` with ``--bis``), or None;
    a half or reversed span is a usage error."""
    if monat:
        try:
            return periods.month(monat)
        except ValueError:
            raise click_errors.UsageError(
                f"„{monat}“ ist kein Monat (JJJJ-MM oder MM.JJJJ, z. B. 2026-11)."
            ) from None
    if von is None and bis is None:
        return None
    if von is None or bis is None:
        raise click_errors.UsageError("--von und --bis gehören zusammen.")
    if von > bis:
        raise click_errors.UsageError(f"--von ({von:%d.%m.%Y}) liegt nach --bis ({bis:%d.%m.%Y}).")
    return von, bis


@app.command(cls=_Command)
def kpis(
    as_json: Annotated[bool, typer.Option("--json", help="Ausgabe als JSON, für Skripte.")] = False,
    lang: Annotated[
        str, typer.Option(metavar="SPRACHE", help="Sprache der Bezeichnungen: de oder en.")
    ] = "de",
    zeitraum: Annotated[
        str,
        typer.Option(
            metavar="ZEITRAUM",
            help="Zeitraum der Kennzahlen, verglichen mit demselben ein Jahr früher: "
            + " oder ".join(f"{p.id} ({p.label('de')})" for p in periods.PERIODS)
            + ".",
        ),
    ] = periods.DEFAULT.id,
    monat: Annotated[
        str | None,
        typer.Option(
            metavar="JJJJ-MM",
            help="Ein Kalendermonat statt des Zeitraums, verglichen mit demselben Monat ein "
            "Jahr früher (wie im Monatsbericht).",
        ),
    ] = None,
    von: Annotated[
        str | None,
        typer.Option(metavar="DATUM", help="Beginn eines frei gewählten Zeitraums (mit --bis)."),
    ] = None,
    bis: Annotated[
        str | None,
        typer.Option(metavar="DATUM", help="Ende eines frei gewählten Zeitraums (mit --von)."),
    ] = None,
) -> None:
    """Zeigt die Kennzahlen des veröffentlichten Warehouse (kleine Fallzahlen geschützt)."""
    from kohorte.read import cards, queries

    period = periods.BY_ID.get(zeitraum)
    if period is None:
        known = ", ".join(periods.BY_ID)
        typer.echo(f"Unbekannter Zeitraum „{zeitraum}“: {known}.", err=True)
        raise typer.Exit(2)
    span = _span(monat, _date(von, "--von"), _date(bis, "--bis"))
    if span:
        period = periods.SPAN

    settings = load_settings()
    path = _published(settings)
    con = warehouse.connect_readonly(path)
    try:
        build = con.execute("select run_id, as_of, load_date, built_at from meta.build").fetchall()
        run_id, as_of, load_day, built_at = build[0]
        asked = {"span": span} if span else period.params()
        rows = queries.run(con, "ueberblick__kennzahlen", **asked).to_dict("records")
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
            "period": period.id,
            "span": [day.isoformat() for day in span] if span else None,
            "kpis": [
                {
                    "id": c.kpi.id,
                    "label": c.label(lang),
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
    typer.echo(
        f"Datenstand {fmt.date(as_of, lang)} (geladen {fmt.datetime(built_at, lang)}), "
        f"Zeitraum: {period.label(lang)}"
        + (f" {fmt.date(span[0], lang)} – {fmt.date(span[1], lang)}" if span else "")
    )
    for c in shown:
        text = fmt.card_value(c, settings.min_count, lang)
        detail = ""
        if c.numerator is not None:
            of = "von" if lang == "de" else "of"
            detail = f"  ({fmt.number(c.numerator, lang)} {of} {fmt.number(c.denominator, lang)})"
        typer.echo(f"  {c.label(lang):<52} {text:>14}{detail}")


@app.command(cls=_Command)
def docs(
    root: Annotated[
        Path,
        typer.Option(metavar="ORDNER", help="Der Projektordner, dessen docs/ erneuert wird."),
    ] = Path("."),
) -> None:
    """Erneuert die erzeugten Tabellen in docs/ (Datenvertrag, Kennzahlen, Analyse-Tabellen)."""
    from kohorte import docs as pages

    changed = pages.write(root)
    typer.echo(
        f"{len(pages.GENERATED)} Seiten geprüft, {len(changed)} neu geschrieben"
        + (f": {', '.join(changed)}" if changed else ".")
    )


@app.command(cls=_Command)
def dashboard(
    port: Annotated[int, typer.Option(metavar="PORT", help="Port des Dashboards.")] = 8501,
    address: Annotated[
        str, typer.Option(metavar="ADRESSE", help="Adresse, auf der das Dashboard lauscht.")
    ] = "127.0.0.1",
) -> None:
    """Startet das Dashboard (Streamlit) auf 127.0.0.1."""
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


user_app = _typer("Lokale Konten für die Anmeldung (KOHORTE_AUTH=local, die Voreinstellung).")
app.add_typer(user_app, name="user")


def _ask_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    # asked twice here rather than by Typer's confirmation_prompt, whose complaint is English
    while True:
        password = typer.prompt("Passwort", hide_input=True)
        if typer.prompt("Passwort wiederholen", hide_input=True) == password:
            return password
        typer.echo("Fehler: Die beiden Eingaben stimmen nicht überein.", err=True)


@user_app.command("add", cls=_Command)
def user_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Anmeldename.")],
    role: Annotated[
        str,
        typer.Option(metavar="ROLLE", help="Rolle: teamleitung, coach, analyse oder leitung."),
    ],
    coach: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="Für Coaches: der Name, wie er in den Lieferungen steht."
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Liest das Passwort von der Standardeingabe."),
    ] = False,
    new_coach: Annotated[
        bool,
        typer.Option(
            "--new-coach",
            help="Ein Coach, der in den Lieferungen noch nicht vorkommt (sonst muss der Name "
            "dort stehen).",
        ),
    ] = False,
) -> None:
    """Legt ein Konto an; das Passwort wird verdeckt abgefragt und nur als Hash gespeichert.

    Gespeichert wird ein argon2-Hash, nie das Passwort selbst."""
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


@user_app.command("list", cls=_Command)
def user_list() -> None:
    """Zeigt alle Konten mit Rolle, Coach-Namen und Sperre (nie ein Passwort oder einen Hash)."""
    from kohorte.ops import accounts
    from kohorte.read import fmt

    for account in accounts.list_users(load_settings()):
        extra = f", Coach: {account.coach}" if account.coach else ""
        until = account.locked_until and dt.datetime.fromisoformat(account.locked_until)
        locked = f", gesperrt bis {fmt.datetime(until)} Uhr" if until else ""
        typer.echo(f"{account.name}\t{account.role}{extra}{locked}")


@user_app.command("remove", cls=_Command)
def user_remove(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Anmeldename.")],
) -> None:
    """Löscht ein Konto."""
    from kohorte.ops import accounts

    try:
        accounts.remove_user(load_settings(), name)
    except KeyError as error:
        typer.echo(f"Fehler: kein Konto {name}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"Konto {name} gelöscht.")


@user_app.command("passwd", cls=_Command)
def user_passwd(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Anmeldename.")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Liest das Passwort von der Standardeingabe."),
    ] = False,
) -> None:
    """Setzt ein neues Passwort (hebt auch eine Sperre auf)."""
    from kohorte.ops import accounts

    try:
        accounts.set_password(load_settings(), name, _ask_password(password_stdin))
    except (KeyError, ValueError) as error:
        typer.echo(f"Fehler: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"Passwort für {name} geändert.")


@user_app.command("demo", cls=_Command)
def user_demo() -> None:
    """Legt bei einer neuen Installation das Konto „demo“ an und zeigt sein Passwort einmal.

    Rolle teamleitung; gespeichert wird nur der Hash des Passworts. Gibt es schon ein Konto,
    tut der Befehl nichts."""
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


@app.command(cls=_Command)
def retention(
    today: Annotated[
        str | None,
        typer.Option(
            metavar="DATUM", help="Stichtag (JJJJ-MM-TT oder TT.MM.JJJJ; ohne Angabe: heute)."
        ),
    ] = None,
) -> None:
    """Löscht Daten von Teilnehmenden nach Ablauf der Löschfrist und zeigt die Anzahlen.

    Dasselbe tut der nächtliche Ablauf nach jeder Ladung."""
    from kohorte.ops import audit
    from kohorte.run import retention as rules

    settings = load_settings()
    summary = rules.run(settings, _date(today, "--today"))
    audit.record(settings, "system", "system", audit.DELETE, personen=summary["persons_deleted"])
    typer.echo(
        f"Austritt vor {fmt.date(dt.date.fromisoformat(summary['cutoff']), 'de')}: "
        f"{summary['persons_deleted']} Personen gelöscht; Quarantäne: "
        f"{summary['quarantine_files_deleted']} Dateien gelöscht."
    )


@app.command(cls=_Command)
def sql(
    query: Annotated[
        str, typer.Argument(metavar="ABFRAGE", help="Ein SELECT über die Analyse-Tabellen.")
    ],
    format: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="Ausgabe: table, csv oder json.")
    ] = "table",
    limit: Annotated[
        int, typer.Option(metavar="ZEILEN", help="Höchstens so viele Zeilen ausgeben.")
    ] = 1000,
) -> None:
    """Führt eine Abfrage in der SQL-Sandbox aus (nur lesend, nur pseudonymisierte Tabellen).

    Kein Dateizugriff, Grenzen für Zeit und Speicher. Rückgabewert 2: die Sandbox lehnt
    die Anweisung ab (nicht genau ein SELECT, oder über die Analyse-Tabellen hinaus); 1:
    ein Fehler im SQL, oder die Zeit- oder Speichergrenze ist erreicht."""
    import getpass

    from kohorte.build import analyst
    from kohorte.ops import audit
    from kohorte.read import sandbox

    settings = load_settings()
    current = _published(settings)
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


@app.command("analyst-file", cls=_Command)
def analyst_file() -> None:
    """Zeigt den Pfad der veröffentlichten Analyse-Datei, für DuckDB, Python oder DBeaver.

    Die Datei nur lesend öffnen; die nächste Veröffentlichung ersetzt sie, statt sie zu
    ändern."""
    from kohorte.build import analyst

    current = _published(load_settings())
    typer.echo(analyst.path_for(current))


@app.command(cls=_Command)
def serve() -> None:
    """Betreibt alles auf diesem Server und hält es am Laufen (Dienstbetrieb).

    Prefect-Server, Work-Pool und Deployments, Worker und Dashboard; startet neu, was
    abstürzt; Strg+C oder SIGTERM beendet alles.

    Ports: KOHORTE_PREFECT_PORT (4200), KOHORTE_PORT (8501); Adresse: KOHORTE_HOST
    (127.0.0.1)."""
    from kohorte.ops import service

    raise typer.Exit(service.serve(load_settings()))


@app.command(cls=_Command)
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Ausgabe als JSON, für Skripte.")] = False,
) -> None:
    """Zeigt, was läuft, die letzte und die nächste nächtliche Ladung und die Warnung.

    Zur letzten Ladung auch ihr Ergebnis. Rückgabewert 1, solange eine Warnung besteht."""
    from kohorte.ops import service

    settings = load_settings()
    apply_prefect_env(settings)
    from flows.status import nightly_runs

    report = service.status(settings, nightly_runs)
    typer.echo(json.dumps(report, indent=2) if as_json else service.render_status(report))
    raise typer.Exit(1 if report["alert"] else 0)


@app.command("alerts", cls=_Command)
def alerts_command(
    send_test: Annotated[
        bool,
        typer.Option("--test", help="Schickt eine Testnachricht über jeden Kanal."),
    ] = False,
) -> None:
    """Prüft, ob eine Ladung gescheitert ist oder ausblieb, und benachrichtigt einmal.

    Per Webhook oder E-Mail, einmal je Warnung, wie es der Dienst jede Minute tut; für
    einen systemd-Timer oder cron."""
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

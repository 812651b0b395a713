"""Who needs attention today: the rules, in one place.

Regular, close contact between coach and participant is what makes the programme work, so
the team lead's first list, and each coach's, names the running participations that are
slipping away. Each rule here is one measure over a running participation's own events
(the ownership rule of ``marts.fenster``), a condition on it, its thresholds with their
defaults, an urgency and the reason in plain words. From this list come the SQL of the
named query ``heute__laufend``, the reasons on the Überblick, the example file
``aufmerksamkeit.toml`` and the table in ``docs/attention.md``.

"Today" is the data's as-of date (``meta.build.as_of``): a night without deliveries does
not make everybody look absent. A rule's window of ``n`` days is the ``n`` days up to and
including the as-of date. A running participation has entered on or before the as-of
date and has no exit before it; its planned end is entry plus the programme's weeks
(``KOHORTE_PROGRAMME_WEEKS``, 8) minus one day.

Thresholds may be changed in ``KOHORTE_HOME/aufmerksamkeit.toml`` (``parse``); a rule can be
switched off there with ``aktiv = false``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from kohorte.define.contract import markdown_table

FILE_NAME = "aufmerksamkeit.toml"


@dataclass(frozen=True)
class Param:
    """A threshold of a rule: its name in the file and in SQL (``$<rule>_<name>``)."""

    name: str
    default: int
    de: str
    en: str


@dataclass(frozen=True)
class Rule:
    """One reason to look at a participation today.

    ``measure`` is an aggregate over the participation's events ``e`` (columns of
    ``marts.ereignisse``) beside its row ``l`` (``eintritt``, ``geplantes_ende``) and the
    build ``b`` (``as_of``, ``session_hours``); ``flag`` is a condition on the measure
    (``{m}``) and the participation's row. Both use the thresholds as ``{name}``.
    ``reason`` holds the sentence per language, with ``{wert}`` (the measure, formatted
    as ``shown``) and the thresholds."""

    id: str
    urgency: int  # 1 is the most urgent
    params: tuple[Param, ...]
    measure: str
    flag: str
    shown: str  # how the measure reads in a reason: "count", "percent" or "days"
    reason: dict[str, str]
    reason_none: dict[str, str] | None = None  # when the measure is null (never happened)
    reason_zero: dict[str, str] | None = None  # when the measure is 0 (today)
    doc: str = ""

    def sql(self, text: str) -> str:
        """``text`` with each threshold as its DuckDB parameter."""
        return text.format(**{p.name: f"${self.id}_{p.name}" for p in self.params}, m="{m}")


def _window(days: str) -> str:
    """Events dated in the last ``days`` days up to the as-of date."""
    return f"e.datum > b.as_of - {days} and e.datum <= b.as_of"


RULES: tuple[Rule, ...] = (
    Rule(
        id="austritt_ohne_anschluss",
        urgency=1,
        params=(Param("tage", 7, "Tage bis zum geplanten Ende", "days to the planned end"),),
        measure="datediff('day', any_value(b.as_of), any_value(l.geplantes_ende))",
        flag="{m} between 0 and {tage} and ergebnisse = 0",
        shown="days",
        reason={
            "de": "Ende in {wert}, noch kein nächster Schritt",
            "en": "ends in {wert}, no next step yet",
        },
        reason_zero={
            "de": "Ende heute, noch kein nächster Schritt",
            "en": "ends today, no next step yet",
        },
        doc="Die Teilnahme endet planmäßig in höchstens `tage` Tagen, und es gibt noch kein "
        "Ergebnis: keine Arbeit, keine Ausbildung, kein Praktikum, keine Weiterbildung.",
    ),
    Rule(
        id="kein_termin",
        urgency=2,
        params=(Param("tage", 10, "Tage ohne wahrgenommenen Termin", "days without a session"),),
        measure="datediff('day', max(e.datum) filter (where e.quelle = 'anwesenheit' "
        "and e.art = 'anwesend'), any_value(b.as_of))",
        flag="coalesce({m}, datediff('day', eintritt, as_of) + 1) >= {tage} "
        "and datediff('day', eintritt, as_of) + 1 >= {tage}",
        shown="days",
        reason={
            "de": "seit {wert} kein Termin wahrgenommen",
            "en": "no session attended for {wert}",
        },
        reason_none={
            "de": "noch keinen Termin wahrgenommen",
            "en": "has not attended a session yet",
        },
        doc="Die Teilnahme läuft seit mindestens `tage` Tagen, aber seit `tage` Tagen (oder "
        "noch nie) war die Person bei einem Termin anwesend.",
    ),
    Rule(
        id="unentschuldigt",
        urgency=3,
        params=(
            Param("anzahl", 2, "unentschuldigte Fehltermine, ab", "unexcused absences, from"),
            Param("tage", 14, "in so vielen Tagen", "within so many days"),
        ),
        measure="count(*) filter (where e.quelle = 'anwesenheit' and e.art = 'unentschuldigt' "
        f"and {_window('{tage}')})",
        flag="{m} >= {anzahl}",
        shown="count",
        reason={
            "de": "{wert}× unentschuldigt gefehlt in {tage} Tagen",
            "en": "{wert} unexcused absences in {tage} days",
        },
        doc="Mindestens `anzahl` unentschuldigte Fehltermine in den letzten `tage` Tagen.",
    ),
    Rule(
        id="anwesenheit",
        urgency=4,
        params=(
            Param("prozent", 70, "Anwesenheit unter (Prozent)", "attendance below (percent)"),
            Param("wochen", 3, "in so vielen Wochen", "within so many weeks"),
        ),
        measure="sum(e.stunden_angerechnet) filter (where e.quelle = 'anwesenheit' "
        f"and {_window('7 * {wochen}')}) / nullif(count(*) filter (where e.quelle = "
        f"'anwesenheit' and {_window('7 * {wochen}')}) * any_value(b.session_hours), 0)",
        flag="{m} < {prozent} / 100",
        shown="percent",
        reason={
            "de": "Anwesenheit {wert} in {wochen} Wochen",
            "en": "attendance {wert} in {wochen} weeks",
        },
        doc="Anwesende Stunden unter `prozent` % der geplanten Stunden der Termine in den "
        "letzten `wochen` Wochen (wie die Anwesenheitsquote: höchstens die Terminlänge je "
        "Termin). Ohne Termine in dieser Zeit greift die Regel nicht.",
    ),
    Rule(
        id="bewerbungen",
        urgency=5,
        params=(Param("wochen", 2, "Wochen ohne Bewerbung", "weeks without an application"),),
        measure="coalesce(sum(e.wert) filter (where e.quelle = 'aktivitaet' "
        f"and e.art = 'bewerbung' and {_window('7 * {wochen}')}), 0)",
        flag="{m} = 0 and datediff('day', eintritt, as_of) + 1 >= 7 * {wochen}",
        shown="count",
        reason={
            "de": "keine Bewerbung in {wochen} Wochen",
            "en": "no application in {wochen} weeks",
        },
        doc="Die Teilnahme läuft seit mindestens `wochen` Wochen, und in den letzten "
        "`wochen` Wochen ist keine Bewerbung erfasst.",
    ),
)
BY_ID = {rule.id: rule for rule in RULES}
assert sorted(r.urgency for r in RULES) == list(range(1, len(RULES) + 1)), "one urgency each"


@dataclass(frozen=True)
class Thresholds:
    """The rules' thresholds in force, and the rules switched off."""

    values: tuple[tuple[str, int], ...] = ()  # ("unentschuldigt_tage", 14), ...
    off: frozenset[str] = frozenset()

    def value(self, rule: Rule, name: str) -> int:
        return dict(self.values).get(f"{rule.id}_{name}", _param(rule, name).default)

    def params(self) -> dict[str, int | bool]:
        """Every threshold as a DuckDB parameter, ``<rule>_<name>``, and whether each rule
        is on, ``aktiv_<rule>``."""
        values: dict[str, int | bool] = {
            f"{r.id}_{p.name}": self.value(r, p.name) for r in RULES for p in r.params
        }
        return values | {f"aktiv_{r.id}": r.id not in self.off for r in RULES}

    @property
    def active(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in RULES if rule.id not in self.off)


def _param(rule: Rule, name: str) -> Param:
    return next(p for p in rule.params if p.name == name)


def parse(text: str, source: str = FILE_NAME) -> Thresholds:
    """The thresholds of an ``aufmerksamkeit.toml``; a mistake is a German ``ValueError``
    naming the file and the key (nothing is silently ignored)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{source}: kein gültiges TOML ({error})") from None
    values: dict[str, int] = {}
    off: set[str] = set()
    for rule_id, table in document.items():
        rule = BY_ID.get(rule_id)
        if rule is None or not isinstance(table, dict):
            known = ", ".join(BY_ID)
            raise ValueError(f"{source}: unbekannte Regel [{rule_id}]; bekannt sind: {known}")
        for name, value in table.items():
            if name == "aktiv":
                if not isinstance(value, bool):
                    raise ValueError(f"{source}: [{rule_id}] aktiv muss true oder false sein")
                if not value:
                    off.add(rule_id)
                continue
            if name not in {p.name for p in rule.params}:
                known = ", ".join(["aktiv", *(p.name for p in rule.params)])
                raise ValueError(f"{source}: [{rule_id}] kennt {name} nicht; bekannt sind: {known}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"{source}: [{rule_id}] {name} muss eine ganze Zahl ab 0 sein, nicht {value!r}"
                )
            values[f"{rule_id}_{name}"] = value
    return Thresholds(tuple(sorted(values.items())), frozenset(off))


def query_sql() -> dict[str, str]:
    """The generated parts of the named query ``heute__laufend``: one measure and
    one flag column per rule (``m_<id>``, ``hinweis_<id>``), and the urgency of a row."""
    measures = ",\n        ".join(f"{rule.sql(rule.measure)} as m_{rule.id}" for rule in RULES)
    flags = ",\n        ".join(
        f"coalesce($aktiv_{rule.id} and ({rule.sql(rule.flag).format(m='m_' + rule.id)}), "
        f"false) as hinweis_{rule.id}"
        for rule in RULES
    )
    urgency = ", ".join(f"case when hinweis_{r.id} then {r.urgency} end" for r in RULES)
    count = " + ".join(f"hinweis_{r.id}::int" for r in RULES)
    return {
        "attention_measures": measures,
        "attention_flags": flags,
        "attention_urgency": f"least({urgency})",
        "attention_count": count,
    }


def example_file() -> str:
    """An ``aufmerksamkeit.toml`` with every rule and its defaults, each line explained."""
    lines = [
        "# Wer braucht heute Aufmerksamkeit? Schwellen der Regeln (hier die Standardwerte).",
        "# Eine Regel abschalten: aktiv = false. Fehlt die Datei, gelten die Standardwerte.",
    ]
    for rule in RULES:
        lines += ["", f"[{rule.id}]", "aktiv = true"]
        lines += [f"{p.name} = {p.default}  # {p.de}" for p in rule.params]
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """The rules as a Markdown table, most urgent first (``docs/attention.md``)."""
    rows = [
        (
            str(rule.urgency),
            f"`{rule.id}`",
            rule.doc,
            ", ".join(f"`{p.name}` = {p.default} ({p.de})" for p in rule.params),
        )
        for rule in RULES
    ]
    return markdown_table(("Dringlichkeit", "Regel", "Bedeutung", "Schwellen"), rows)

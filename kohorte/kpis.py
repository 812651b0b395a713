"""The KPI catalogue: one definition per KPI, used by marts' checks, the CLI, the dashboard
and ``docs/kpis.md`` (rendered by ``kohorte docs``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Kpi:
    """One headline KPI as computed in ``marts.kennzahlen``."""

    id: str
    label_de: str
    label_en: str
    # "count", "rate" (a share, shown in %), "ratio" (e.g. per participant-week) or "days"
    # (a median duration; the denominator is the number of participations observed)
    unit: str
    numerator: str
    denominator: str
    window: str
    source: str
    note: str = ""
    section: str = "kern"  # "kern": headline cards; "weitere": outcomes and activities

    def text(self, part: str, lang: str) -> str:
        """numerator, denominator or window in the UI language (German is the source)."""
        if lang == "en" and (self.id, part) in ENGLISH:
            return ENGLISH[(self.id, part)]
        return getattr(self, part)


CATALOGUE: tuple[Kpi, ...] = (
    Kpi(
        "aktive_teilnehmende",
        "Aktive Teilnehmende",
        "Active participants",
        "count",
        "Teilnahmen mit Eintritt am oder vor dem Datenstand und ohne Austritt davor.",
        "-",
        "Stichtag: Datenstand",
        "marts.teilnahmen",
    ),
    Kpi(
        "eintritte_12m",
        "Eintritte (12 Monate)",
        "Entries (12 months)",
        "count",
        "Teilnahmen mit Eintritt im Fenster.",
        "-",
        "12 Monate bis Datenstand; Monatswerte in marts.monatszahlen",
        "marts.teilnahmen",
    ),
    Kpi(
        "austritte_12m",
        "Austritte (12 Monate)",
        "Exits (12 months)",
        "count",
        "Teilnahmen mit Austritt im Fenster.",
        "-",
        "12 Monate bis Datenstand; Monatswerte in marts.monatszahlen",
        "marts.teilnahmen",
    ),
    Kpi(
        "integrationsquote",
        "Integrationsquote",
        "Integration rate",
        "rate",
        "Austritte mit einer Integration (Ergebnis svb_beschaeftigung, ausbildung oder "
        "selbststaendigkeit) mit Beginn zwischen Eintritt und 28 Tagen nach Austritt.",
        "Austritte, deren 28-Tage-Fenster im Zeitraum endete.",
        "Fenster-Ende (Austritt + 28 Tage) in den 12 Monaten bis Datenstand",
        "marts.teilnahmen",
        "Minijobs und geförderte Beschäftigung zählen nicht (SGB II § 48a, K2). Austritte, "
        "deren 28-Tage-Fenster noch offen ist, zählen erst, wenn es geschlossen ist: so "
        "drücken frische Austritte die Quote nicht künstlich.",
    ),
    Kpi(
        "in_arbeit_seit_start",
        "In Arbeit seit Programmstart",
        "In work since programme start",
        "count",
        "Personen (nicht Teilnahmen) mit mindestens einer Integration im Fenster einer ihrer "
        "Teilnahmen (Eintritt bis 28 Tage nach Austritt).",
        "Personen mit mindestens einer Teilnahme (zur Einordnung).",
        "Seit dem ersten Eintritt",
        "marts.teilnahmen",
    ),
    Kpi(
        "anwesenheitsquote",
        "Anwesenheitsquote",
        "Attendance rate",
        "rate",
        "Anwesende Stunden.",
        "Geplante Stunden: Termine bekannter Teilnahmen x Stunden je Termin "
        "(KOHORTE_SESSION_HOURS, Standard 3).",
        "Termine in den 12 Monaten bis Datenstand",
        "staging.stg_anwesenheit, marts.teilnahmen",
        "Termine ohne passende Teilnahme zählen nicht; sie erscheinen als Warnung der "
        "Datenprüfung.",
    ),
    Kpi(
        "abbruchquote",
        "Abbruchquote",
        "Dropout rate",
        "rate",
        "Austritte mit Austrittsgrund abbruch.",
        "Alle Austritte.",
        "Austritt in den 12 Monaten bis Datenstand",
        "marts.teilnahmen",
    ),
    Kpi(
        "verbleibsquote_6m",
        "Beschäftigt 6 Monate nach Austritt",
        "Employed 6 months after exit",
        "rate",
        "Austritte, deren Verbleib (Stichtag 150 bis 210 Tage nach Austritt, der nächste an "
        "6 Monaten) svb_beschaeftigt, ausbildung oder selbststaendig ist.",
        "Austritte, deren Nachbetrachtung fällig ist (Austritt + 6 Monate im Fenster).",
        "Fälligkeit (Austritt + 6 Monate) in den 12 Monaten bis Datenstand",
        "marts.teilnahmen",
        "Angelehnt an die Eingliederungsquote der BA. Fehlt die Verbleibsmeldung, zählt der "
        "Austritt als nicht beschäftigt (vorsichtige Schätzung).",
    ),
    Kpi(
        "beschaeftigt_bei_austritt",
        "Beschäftigt bei Austritt (ESF)",
        "In employment upon leaving (ESF)",
        "rate",
        "Austritte, deren letztes Ergebnis zwischen Eintritt und 28 Tagen nach Austritt eine "
        "Beschäftigung ist (svb_beschaeftigung, selbststaendigkeit, minijob, "
        "gefoerderte_beschaeftigung).",
        "Austritte, deren 28-Tage-Fenster im Zeitraum endete.",
        "Fenster-Ende (Austritt + 28 Tage) in den 12 Monaten bis Datenstand",
        "staging.stg_ergebnisse, marts.teilnahmen",
        "Gemeinsamer ESF+-Ergebnisindikator (VO 2021/1057): nur das letzte Ereignis im "
        "Fenster zählt; anders als bei der Integrationsquote zählen Minijobs und geförderte "
        "Beschäftigung mit, eine Ausbildung nicht (sie ist Bildung, nicht Beschäftigung).",
        section="weitere",
    ),
    Kpi(
        "tage_bis_integration",
        "Tage bis zur Integration (Median)",
        "Days to integration (median)",
        "days",
        "Median der Tage vom Eintritt bis zur ersten Integration, aus der Kaplan-Meier-Kurve: "
        "der erste Tag, an dem die Hälfte integriert ist. Noch nicht erreicht, solange die "
        "Kurve unter der Hälfte bleibt.",
        "Beobachtete Teilnahmen (Eintritt im Zeitraum).",
        "Eintritt in den 12 Monaten bis Datenstand, beobachtet bis zum Datenstand",
        "marts.teilnahmen",
        "Wer noch teilnimmt oder ohne Integration ausgetreten ist, wird beim Ende der "
        "Beobachtung (28 Tage nach Austritt oder Datenstand) zensiert, nicht als Misserfolg "
        "gezählt.",
        section="weitere",
    ),
    Kpi(
        "integrationen_k2",
        "Integrationen (K2-Zählung)",
        "Integrations (K2 count)",
        "count",
        "Integrationen (svb_beschaeftigung, ausbildung, selbststaendigkeit) im Fenster einer "
        "Teilnahme, höchstens eine je Person und Kalendermonat.",
        "-",
        "Beginn in den 12 Monaten bis Datenstand",
        "staging.stg_ergebnisse, marts.teilnahmen",
        "Gezählt werden Integrationen, nicht Personen (SGB II § 48a, K2).",
        section="weitere",
    ),
    Kpi(
        "minijobs_12m",
        "Minijobs",
        "Mini-jobs",
        "count",
        "Aufnahmen geringfügiger Beschäftigung im Fenster einer Teilnahme.",
        "-",
        "Beginn in den 12 Monaten bis Datenstand",
        "staging.stg_ergebnisse, marts.teilnahmen",
        "Getrennt ausgewiesen, nie als Integration gezählt.",
        section="weitere",
    ),
    Kpi(
        "gefoerderte_12m",
        "Geförderte Beschäftigung",
        "Subsidised employment",
        "count",
        "Aufnahmen öffentlich geförderter Beschäftigung im Fenster einer Teilnahme.",
        "-",
        "Beginn in den 12 Monaten bis Datenstand",
        "staging.stg_ergebnisse, marts.teilnahmen",
        "Getrennt ausgewiesen, nie als Integration gezählt.",
        section="weitere",
    ),
    Kpi(
        "praktika_12m",
        "Praktika",
        "Internships",
        "count",
        "Begonnene Praktika im Fenster einer Teilnahme.",
        "-",
        "Beginn in den 12 Monaten bis Datenstand",
        "staging.stg_ergebnisse, marts.teilnahmen",
        section="weitere",
    ),
    Kpi(
        "weiterbildungen_12m",
        "Weiterbildungen",
        "Further training",
        "count",
        "Begonnene Weiterbildungen im Fenster einer Teilnahme.",
        "-",
        "Beginn in den 12 Monaten bis Datenstand",
        "staging.stg_ergebnisse, marts.teilnahmen",
        section="weitere",
    ),
    Kpi(
        "bewerbungen_je_woche",
        "Bewerbungen je Teilnahmewoche",
        "Applications per participant-week",
        "ratio",
        "Bewerbungen (Summe von anzahl) bekannter Teilnahmen.",
        "Teilnahmewochen: geplante Termine / 3 (drei Termine je Woche).",
        "Datum in den 12 Monaten bis Datenstand",
        "staging.stg_aktivitaeten, staging.stg_anwesenheit, marts.teilnahmen",
        section="weitere",
    ),
    Kpi(
        "vorstellungsgespraeche_je_woche",
        "Vorstellungsgespräche je Teilnahmewoche",
        "Interviews per participant-week",
        "ratio",
        "Vorstellungsgespräche (Summe von anzahl) bekannter Teilnahmen.",
        "Teilnahmewochen: geplante Termine / 3 (drei Termine je Woche).",
        "Datum in den 12 Monaten bis Datenstand",
        "staging.stg_aktivitaeten, staging.stg_anwesenheit, marts.teilnahmen",
        section="weitere",
    ),
    Kpi(
        "arbeitgeberkontakte_je_woche",
        "Arbeitgeberkontakte je Teilnahmewoche",
        "Employer contacts per participant-week",
        "ratio",
        "Direkte Arbeitgeberkontakte (Summe von anzahl) bekannter Teilnahmen.",
        "Teilnahmewochen: geplante Termine / 3 (drei Termine je Woche).",
        "Datum in den 12 Monaten bis Datenstand",
        "staging.stg_aktivitaeten, staging.stg_anwesenheit, marts.teilnahmen",
        section="weitere",
    ),
    Kpi(
        "unentschuldigt_quote",
        "Unentschuldigte Fehlzeiten",
        "Unexcused absence rate",
        "rate",
        "Termine mit Status unentschuldigt.",
        "Alle geplanten Termine bekannter Teilnahmen.",
        "Termine in den 12 Monaten bis Datenstand",
        "staging.stg_anwesenheit, marts.teilnahmen",
        section="weitere",
    ),
)

WINDOW_12M_EN = "12 months to the as-of date"
WEEKS_EN = "Participant-weeks: scheduled sessions / 3."
ENGLISH: dict[tuple[str, str], str] = {
    (
        "aktive_teilnehmende",
        "numerator",
    ): "Participations entered by the as-of date, not ended before it.",
    ("aktive_teilnehmende", "window"): "Reference day: the as-of date",
    ("eintritte_12m", "numerator"): "Participations entering in the window.",
    ("eintritte_12m", "window"): WINDOW_12M_EN,
    ("austritte_12m", "numerator"): "Participations ending in the window.",
    ("austritte_12m", "window"): WINDOW_12M_EN,
    ("integrationsquote", "numerator"): "Exits with an integration (insured employment, "
    "apprenticeship or self-employment) starting between entry and 28 days after exit.",
    ("integrationsquote", "denominator"): "Exits whose 28-day window closed in the window.",
    ("integrationsquote", "window"): "End of the 28-day window in the 12 months to the as-of date",
    ("in_arbeit_seit_start", "numerator"): "Persons (not participations) with an integration "
    "in the window of one of their participations.",
    ("in_arbeit_seit_start", "denominator"): "Persons with at least one participation.",
    ("in_arbeit_seit_start", "window"): "Since the first entry",
    ("anwesenheitsquote", "numerator"): "Hours attended.",
    ("anwesenheitsquote", "denominator"): "Hours scheduled: sessions of known participations "
    "x hours per session.",
    ("anwesenheitsquote", "window"): "Sessions in the 12 months to the as-of date",
    ("abbruchquote", "numerator"): "Exits with reason 'dropped out'.",
    ("abbruchquote", "denominator"): "All exits.",
    ("abbruchquote", "window"): "Exit in the 12 months to the as-of date",
    ("verbleibsquote_6m", "numerator"): "Exits employed (insured, apprenticeship or "
    "self-employed) at the follow-up nearest to six months after exit.",
    ("verbleibsquote_6m", "denominator"): "Exits whose follow-up is due in the window.",
    ("verbleibsquote_6m", "window"): "Follow-up due (exit + 6 months) in the 12 months",
    ("beschaeftigt_bei_austritt", "numerator"): "Exits whose last outcome between entry and "
    "28 days after exit is a job (insured, self-employed, mini-job or subsidised).",
    ("beschaeftigt_bei_austritt", "denominator"): "Exits whose 28-day window closed in the window.",
    ("beschaeftigt_bei_austritt", "window"): "End of the 28-day window in the 12 months",
    ("integrationen_k2", "numerator"): "Integrations in the window of a participation, at "
    "most one per person and calendar month.",
    ("integrationen_k2", "window"): WINDOW_12M_EN,
    ("minijobs_12m", "numerator"): "Mini-jobs taken up in the window of a participation.",
    ("minijobs_12m", "window"): WINDOW_12M_EN,
    ("gefoerderte_12m", "numerator"): "Subsidised jobs taken up in the window of a participation.",
    ("gefoerderte_12m", "window"): WINDOW_12M_EN,
    ("praktika_12m", "numerator"): "Internships started in the window of a participation.",
    ("praktika_12m", "window"): WINDOW_12M_EN,
    ("weiterbildungen_12m", "numerator"): "Further training started in the window of a "
    "participation.",
    ("weiterbildungen_12m", "window"): WINDOW_12M_EN,
    ("bewerbungen_je_woche", "numerator"): "Applications of known participations.",
    ("bewerbungen_je_woche", "denominator"): WEEKS_EN,
    ("bewerbungen_je_woche", "window"): WINDOW_12M_EN,
    ("tage_bis_integration", "numerator"): "Median days from entry to the first integration, "
    "from the Kaplan-Meier curve: the first day on which half are integrated. Not reached "
    "while the curve stays below one half.",
    ("tage_bis_integration", "denominator"): "Participations observed (entry in the window).",
    ("tage_bis_integration", "window"): "Entry in the 12 months to the as-of date, observed "
    "until the as-of date",
    ("vorstellungsgespraeche_je_woche", "numerator"): "Interviews of known participations.",
    ("vorstellungsgespraeche_je_woche", "denominator"): WEEKS_EN,
    ("vorstellungsgespraeche_je_woche", "window"): WINDOW_12M_EN,
    ("arbeitgeberkontakte_je_woche", "numerator"): "Direct employer contacts of known "
    "participations.",
    ("arbeitgeberkontakte_je_woche", "denominator"): WEEKS_EN,
    ("arbeitgeberkontakte_je_woche", "window"): WINDOW_12M_EN,
    ("unentschuldigt_quote", "numerator"): "Sessions missed without excuse.",
    ("unentschuldigt_quote", "denominator"): "All scheduled sessions of known participations.",
    ("unentschuldigt_quote", "window"): WINDOW_12M_EN,
}

BY_ID = {kpi.id: kpi for kpi in CATALOGUE}
UNIT_TEXT = {
    "count": "a count",
    "rate": "a rate (share)",
    "ratio": "a ratio",
    "days": "a median in days",
}


@dataclass(frozen=True)
class KpiValue:
    """A KPI as read from a published warehouse."""

    kpi: Kpi
    value: float | None
    numerator: float | None
    denominator: float | None
    window_start: dt.date | None
    window_end: dt.date | None


def read_kpis(con: duckdb.DuckDBPyConnection) -> list[KpiValue]:
    """All headline KPIs, in catalogue order."""
    rows = con.execute(
        "select kennzahl, quote, zaehler, nenner, fenster_von, fenster_bis from marts.kennzahlen "
        "where periode = 'aktuell'"
    ).fetchall()
    found = {row[0]: row for row in rows}
    values = []
    for kpi in CATALOGUE:
        _, rate, numerator, denominator, start, end = found[kpi.id]
        value = float(rate) if kpi.unit in ("rate", "ratio") and rate is not None else None
        if kpi.unit in ("count", "days"):
            value = None if numerator is None else float(numerator)
        values.append(
            KpiValue(
                kpi,
                value,
                None if numerator is None else float(numerator),
                None if denominator is None else float(denominator),
                start,
                end,
            )
        )
    return values


def render_markdown() -> str:
    """``docs/kpis.md`` from the catalogue."""
    lines = [
        "# KPI catalogue",
        "",
        "<!-- Generated by `kohorte docs` from kohorte/kpis.py. Do not edit by hand. -->",
        "",
        "Every KPI is computed in the warehouse (`sql/marts/`), from the published data only.",
        "Windows end at the data's **as-of date** (Datenstand): the latest date found in the",
        'deliveries, never later than the day of the load. "12 months" means the half-open',
        "interval (as-of − 12 months, as-of]. Definitions follow ../shared/DOMAIN.md: an",
        "*integration* is the start of work subject to social insurance (svB), an apprenticeship",
        "or self-employment (SGB II § 48a, K2); mini-jobs and subsidised employment are never",
        "mixed in. The status *upon leaving* uses the ESF 28-day window.",
        "",
        "Outcomes and sessions belong to the participation whose window holds them (entry to",
        "28 days after exit, and before the same person's next entry).",
        "",
        "Every KPI is also computed for the same window one year earlier (`periode =",
        "'vorjahr'` in `marts.kennzahlen`) as the baseline the dashboard's trend compares",
        "with. The baseline uses today's data, so late deliveries improve it instead of",
        "freezing an old, partial view.",
        "",
    ]
    for kpi in CATALOGUE:
        lines += [
            f"## {kpi.label_de} (`{kpi.id}`)",
            "",
            f"*{kpi.label_en}*, {UNIT_TEXT[kpi.unit]}.",
            "",
            f"- **Numerator / count:** {kpi.numerator}",
            f"- **Denominator:** {kpi.denominator}",
            f"- **Window:** {kpi.window}",
            f"- **Source:** `{kpi.source}`",
        ]
        if kpi.note:
            lines.append(f"- **Note:** {kpi.note}")
        lines.append("")
    lines += [
        "## Time to first integration (`marts.integrationsverlauf`)",
        "",
        "A Kaplan-Meier curve of the share integrated by day since entry, per entry month",
        "(`kohorte` = `YYYY-MM`) and overall (`gesamt`). A participation is observed from entry",
        "until its first integration (the event) or until its observation ends: 28 days after",
        "exit, or the as-of date if that is earlier. Participants still active, or who left",
        "without an integration, are *censored* at that point, not counted as failures, so",
        "young cohorts are not made to look worse than they are. Columns: `tage` (days since",
        "entry), `unter_risiko` (still observed that day), `ereignisse`, `zensiert`,",
        "`anteil_integriert` (1 - S(t)). The median time is the first day at which",
        "`anteil_integriert` reaches 0.5; where it never does, the median is *not reached*.",
        "Curves are shown only while at least the small-count threshold is still at risk.",
        "",
        "## Rates by month (`marts.monatszahlen`, query `ueberblick__monatsquoten`)",
        "",
        "Every rate also by calendar month, with the same month a year earlier as baseline:",
        "integration rate, status upon leaving and employment 6 months after exit by month",
        "of exit; attendance, dropout and unexcused absence by month of the session or exit.",
        "Numerator and denominator follow the definitions above, except that a month's",
        "exits all count at once. A month is **provisional** while its numbers can still",
        "change: it is the running month, or some of its exits still have an open 28-day",
        "window (integration, status upon leaving) or a follow-up not yet due (6 months).",
        "The dashboard draws provisional months as hollow diamonds. The same table macro",
        "(`marts.monatszahlen_fuer`) serves the dashboard's filters.",
        "",
    ]
    return "\n".join(lines)


def write_docs(root: Path) -> None:
    """Render the generated documentation files below ``root``."""
    from kohorte.contract import render_markdown as contract_markdown

    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "kpis.md").write_text(render_markdown(), encoding="utf-8")
    (root / "docs" / "data-contract.md").write_text(contract_markdown(), encoding="utf-8")
    from kohorte.sandbox import render_markdown as analyst_markdown

    (root / "docs" / "analyst-tables.md").write_text(analyst_markdown(), encoding="utf-8")

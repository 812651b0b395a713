"""The KPI catalogue: one definition per KPI. From it come the SQL of
``marts.kennzahlen_fuer`` (each period of ``kohorte.define.periods``, any selection), the
monthly rates, the dashboard's cards and labels, ``kohorte kpis``, the exports, the
analysts' ``kennzahlen`` and ``docs/kpis.md``.

A KPI aggregates facts at one grain (``FACTS``): participations (``marts.auswahl``, one
row each, events owned by the rule of ``marts.fenster``) or participation-months
(``marts.teilnahme_monate``). Its numerator and denominator are SQL aggregates over the
fact row ``t`` within the period ``p`` (``p.stichtag``, ``p.window_start``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from kohorte.define import periods
from kohorte.define.contract import markdown_table
from kohorte.define.periods import DEFAULT as DEFAULT_PERIOD
from kohorte.define.periods import Period

# a KPI's window from the date each fact row is counted on: (start, reference date]
WINDOW = "{d} > p.window_start and {d} <= p.stichtag"
# the facts a KPI aggregates, as the generated SQL joins them to the periods; a
# participation-month's parts lie wholly inside or outside each window (abschnitt_ende)
FACTS = {
    "teilnahmen": "left join teilnahmen as t on {window}",
    "monate": "left join monate as t on " + WINDOW.format(d="t.abschnitt_ende"),
    "perioden": "",
}
# Numerators count with ``count(*) filter (where ...)``: a period without facts gets one
# row of nulls from the left join, and DuckDB's count_if() returns NULL over it, not 0.


@dataclass(frozen=True)
class Texts:
    """What a KPI is called and how it is defined, in one language."""

    label: str
    numerator: str
    denominator: str
    window: str
    note: str = ""


@dataclass(frozen=True)
class Monthly:
    """A KPI by calendar month (``marts.monatszahlen``): the month a fact row counts in,
    and the columns its numerator, denominator and still-open count are stored in."""

    month_sql: str
    numerator: str
    denominator: str | None = None
    still_open: tuple[str, str] | None = None  # (column, SQL): rows whose verdict may change
    decimal: bool = False  # hours, not counts


# exits whose 28-day window, or whose 6-month follow-up, is still ahead
OPEN_28 = (
    "austritte_fenster_offen",
    "count(*) filter (where not t.integrationsfenster_geschlossen)",
)
OPEN_6M = ("verbleib_offen", "count(*) filter (where not t.verbleib_faellig)")


@dataclass(frozen=True)
class Kpi:
    """One KPI: its measure over the facts, its window, unit, direction and texts."""

    id: str
    # "count", "rate" (a share, shown in %), "ratio" (e.g. per participant-week) or "days"
    # (a median duration; the denominator is the number of participations observed)
    unit: str
    # True: higher is better; False: lower is better; None: neutral (a count of events)
    higher_is_better: bool | None
    facts: str
    numerator_sql: str
    denominator_sql: str
    de: Texts
    en: Texts
    # the date a fact row is counted on (in the period's window), or a whole join condition
    date_sql: str | None = None
    window_sql: str | None = None
    # the first day whose facts the window holds, for the cards' "von" (the window itself
    # is (p.window_start, p.stichtag])
    start_sql: str = "(p.window_start + interval 1 day)"
    # by calendar month in marts.monatszahlen (and, for rates, the monthly chart)
    monthly: Monthly | None = None
    source: str = "marts.teilnahmen"
    # the persons retention deleted (``archive_stand``, alias ``a``) are added back
    with_archive: bool = False
    # "kern": headline cards; "programmjahr": the programme year so far; "weitere":
    # outcomes and activities
    section: str = "kern"

    @property
    def label_de(self) -> str:
        return self.label("de")

    @property
    def label_en(self) -> str:
        return self.label("en")

    def label(self, lang: str, period: Period = DEFAULT_PERIOD) -> str:
        """The KPI's name in the UI language, for the span shown."""
        return self.text("label", lang, period)

    def text(self, part: str, lang: str, period: Period = DEFAULT_PERIOD) -> str:
        """label, numerator, denominator, window or note in the UI language, its span
        (``{zeitraum}``) named as ``period`` names it."""
        return periods.render(getattr(self.en if lang == "en" else self.de, part), period, lang)

    @property
    def join_condition(self) -> str:
        """The facts' join condition for one period."""
        if self.window_sql is not None:
            return self.window_sql
        return WINDOW.format(d=self.date_sql) if self.date_sql else ""


# the programme year to the reference date (``p.programmjahr_start``: the first of the
# month KOHORTE_PROGRAMME_YEAR_START, 1 = January, on or before it)
WINDOW_PY = "{d} >= p.programmjahr_start and {d} <= p.stichtag"
WINDOW_PY_DE = "Programmjahr bis Datenstand"
WINDOW_PY_EN = "The programme year to the as-of date"
EXIT_28 = "t.austritt + interval 28 day"
EXIT_28_FIRST = "(p.window_start - interval 27 day)"  # the first exit whose window closes in it
EXIT_6M = "t.austritt + interval 6 month"
# the KPI windows of the chosen span (kohorte/define/periods.py names it)
WINDOW_DE = "{zeitraum} bis Datenstand"
WINDOW_EN = "{zeitraum} to the as-of date"
WINDOW_IN_DE = "{im_zeitraum} bis Datenstand"  # "Beginn …", after a noun
WINDOW_IN_EN = "{im_zeitraum} to the as-of date"
WINDOW_28_DE = f"Fenster-Ende (Austritt + 28 Tage) {WINDOW_IN_DE}"
WINDOW_28_EN = f"End of the 28-day window {WINDOW_IN_EN}"
CLOSED_DE = "Austritte, deren 28-Tage-Fenster im Zeitraum endete."
CLOSED_EN = "Exits whose 28-day window closed in the window."
WEEKS = "sum(t.termine) / 3"
WEEKS_DE = "Teilnahmewochen: geplante Termine / 3 (drei Termine je Woche)."
WEEKS_EN = "Participant-weeks: scheduled sessions / 3."
EXITS = "count(t.teilnahme_id)"


def _outcome_count(
    kpi_id: str,
    column: str,
    de: str,
    en: str,
    label_de: str,
    label_en: str,
    note_de: str = "",
    note_en: str = "",
) -> Kpi:
    """A count of outcomes that participations own, by the outcome's start."""
    return Kpi(
        kpi_id, "count", None, "monate", f"sum(t.{column})", "null",
        Texts(label_de, de, "-", f"Beginn {WINDOW_IN_DE}", note_de),
        Texts(label_en, en, "-", f"Start {WINDOW_IN_EN}", note_en),
        source="marts.teilnahme_monate", section="weitere",
    )  # fmt: skip


def _per_week(kpi_id: str, column: str, label_de: str, label_en: str, de: str, en: str) -> Kpi:
    """Activities per participant-week (three scheduled sessions make one week)."""
    return Kpi(
        kpi_id, "ratio", True, "monate", f"sum(t.{column})", WEEKS,
        Texts(label_de, f"{de} (Summe von anzahl, Standard 1) der Teilnahmen.", WEEKS_DE,
              f"Datum {WINDOW_IN_DE}"),
        Texts(label_en, f"{en} (sum of anzahl, default 1) of participations.", WEEKS_EN,
              f"Date {WINDOW_IN_EN}"),
        source="marts.teilnahme_monate", section="weitere",
    )  # fmt: skip


CATALOGUE: tuple[Kpi, ...] = (
    Kpi(
        "aktive_teilnehmende",
        "count",
        None,
        "teilnahmen",
        EXITS,
        "null",
        Texts(
            "Aktive Teilnehmende",
            "Teilnahmen mit Eintritt am oder vor dem Datenstand und ohne Austritt davor "
            "(ein Austritt am Datenstand zählt noch als aktiv).",
            "-",
            "Stichtag: Datenstand",
        ),
        Texts(
            "Active participants",
            "Participations entered by the as-of date, not ended before it (an exit on "
            "the as-of date still counts as active).",
            "-",
            "Reference day: the as-of date",
        ),
        window_sql="marts.laeuft(t.eintritt, t.austritt, p.stichtag)",  # marts/laeuft.sql
        start_sql="p.stichtag",
    ),
    Kpi(
        "eintritte_12m",
        "count",
        None,
        "teilnahmen",
        EXITS,
        "null",
        Texts("Eintritte ({zeitraum})", "Teilnahmen mit Eintritt im Fenster.", "-", WINDOW_DE),
        Texts("Entries ({zeitraum})", "Participations entering in the window.", "-", WINDOW_EN),
        date_sql="t.eintritt",
        monthly=Monthly("t.eintritt_monat", "eintritte"),
    ),
    Kpi(
        "austritte_12m",
        "count",
        None,
        "teilnahmen",
        EXITS,
        "null",
        Texts("Austritte ({zeitraum})", "Teilnahmen mit Austritt im Fenster.", "-", WINDOW_DE),
        Texts("Exits ({zeitraum})", "Participations ending in the window.", "-", WINDOW_EN),
        date_sql="t.austritt",
    ),
    Kpi(
        "integrationsquote",
        "rate",
        True,
        "teilnahmen",
        "count(*) filter (where t.integriert_bis_28_tage)",
        EXITS,
        Texts(
            "Integrationsquote",
            "Austritte mit einer Integration (sozialversicherungspflichtige Beschäftigung, "
            "Ausbildung oder Selbstständigkeit) mit Beginn zwischen Eintritt und 28 Tagen "
            "nach Austritt.",
            CLOSED_DE,
            WINDOW_28_DE,
            "Minijobs und geförderte Beschäftigung zählen nicht (SGB II § 48a, K2). Austritte, "
            "deren 28-Tage-Fenster noch offen ist, zählen erst, wenn es geschlossen ist: so "
            "drücken frische Austritte die Quote nicht künstlich.",
        ),
        Texts(
            "Integration rate",
            "Exits with an integration (insured employment, apprenticeship or "
            "self-employment) starting between entry and 28 days after exit.",
            CLOSED_EN,
            WINDOW_28_EN,
            "Mini-jobs and subsidised employment do not count (SGB II § 48a, K2). Exits "
            "count once their 28-day window has closed.",
        ),
        date_sql=EXIT_28,
        start_sql=EXIT_28_FIRST,
        monthly=Monthly("t.austritt_monat", "austritte_integriert", "austritte", OPEN_28),
    ),
    Kpi(
        "in_arbeit_seit_start",
        "count",
        None,
        "teilnahmen",
        "count(*) filter (where t.erste_integration_der_person"
        " and t.erste_integration_datum <= p.stichtag)"
        " + any_value(a.integriert)",
        "count(*) filter (where t.erste_teilnahme_der_person) + any_value(a.eingetreten)",
        Texts(
            "In Arbeit seit Programmstart",
            "Personen (nicht Teilnahmen) mit mindestens einer Integration im Fenster einer "
            "ihrer Teilnahmen (Eintritt bis 28 Tage nach Austritt). Eine Person zählt bei "
            "der Teilnahme, der ihre erste Integration gehört.",
            "Personen mit mindestens einer Teilnahme (zur Einordnung), gezählt bei ihrer "
            "ersten Teilnahme.",
            "Seit dem ersten Eintritt",
        ),
        Texts(
            "In work since programme start",
            "Persons (not participations) with an integration in the window of one of "
            "their participations, counted at the participation owning the first one.",
            "Persons with at least one participation, counted at their first.",
            "Since the first entry",
        ),
        window_sql="t.eintritt <= p.stichtag",
        start_sql="(select min(eintritt) from teilnahmen)",
        with_archive=True,
    ),
    Kpi(
        "in_arbeit_programmjahr",
        "count",
        True,
        "teilnahmen",
        "count(*) filter (where t.erste_integration_der_person)"
        " + any_value(a.integriert_programmjahr)",
        "null",
        Texts(
            "In Arbeit im Programmjahr",
            "Personen, deren erste Integration (wie bei „In Arbeit seit Programmstart“) im "
            "Programmjahr begann. Über alle Programmjahre zusammen ergibt das „In Arbeit "
            "seit Programmstart“.",
            "-",
            WINDOW_PY_DE,
            "Das Programmjahr beginnt am Ersten des eingestellten Monats (Standard: Januar). "
            "Verglichen wird mit demselben Stand ein Jahr früher.",
        ),
        Texts(
            "In work this programme year",
            'Persons whose first integration (as in "In work since programme start") '
            "started in the programme year; over all programme years this adds up to "
            '"In work since programme start".',
            "-",
            WINDOW_PY_EN,
            "The programme year starts on the first of the configured month (default: January), "
            "compared with the same point a year earlier.",
        ),
        window_sql=WINDOW_PY.format(d="t.erste_integration_datum"),
        start_sql="p.programmjahr_start",
        with_archive=True,
        section="programmjahr",
    ),
    Kpi(
        "arbeit_in_8_wochen",
        "rate",
        True,
        "teilnahmen",
        "count(*) filter (where t.integriert_waehrend)",
        EXITS,
        Texts(
            "Arbeit gefunden während der 8 Wochen",
            "Austritte mit einer Integration, die spätestens am Tag nach dem Austritt "
            "beginnt (wer am Tag vor dem ersten Arbeitstag austritt, fand die Arbeit "
            "während der Teilnahme).",
            "Austritte im Programmjahr (gezählt ab dem Tag nach dem Austritt, wenn das "
            "Ergebnis feststeht).",
            WINDOW_PY_DE,
            "Strenger als die Integrationsquote: eine Arbeit, die erst in den 28 Tagen nach "
            "dem Austritt beginnt, zählt hier nicht.",
        ),
        Texts(
            "Found work within the 8 weeks",
            "Exits with an integration starting by the day after leaving.",
            "Exits in the programme year (counted from the day after the exit, when the "
            "verdict is final).",
            WINDOW_PY_EN,
            "Stricter than the integration rate: a job starting in the 28 days after "
            "leaving does not count here.",
        ),
        window_sql=WINDOW_PY.format(d="(t.austritt + interval 1 day)"),
        start_sql="p.programmjahr_start",
        section="programmjahr",
    ),
    Kpi(
        "anwesenheitsquote",
        "rate",
        True,
        "monate",
        "sum(t.stunden)",
        "sum(t.termine) * any_value(b.session_hours)",
        Texts(
            "Anwesenheitsquote",
            "Anwesende Stunden, je Termin höchstens die Terminlänge.",
            "Geplante Stunden: Termine der Teilnahmen (auch entschuldigte) x Stunden je "
            "Termin (eingestellt, Standard 3 Stunden).",
            f"Termine {WINDOW_IN_DE}",
            "Termine ohne passende Teilnahme zählen nicht; sie erscheinen als Warnung der "
            "Datenprüfung.",
        ),
        Texts(
            "Attendance rate",
            "Hours attended, at most the session length per session.",
            "Hours scheduled: sessions of participations (excused ones too) x hours per session.",
            f"Sessions {WINDOW_IN_EN}",
            "Sessions outside every participation do not count; the data checks warn.",
        ),
        monthly=Monthly("t.monat", "stunden_anwesend", "stunden_geplant", decimal=True),
        source="marts.teilnahme_monate",
    ),
    Kpi(
        "abbruchquote",
        "rate",
        False,
        "teilnahmen",
        "count(*) filter (where t.austrittsgrund = 'abbruch')",
        EXITS,
        Texts(
            "Abbruchquote",
            "Austritte mit Austrittsgrund abbruch.",
            "Alle Austritte.",
            f"Austritt {WINDOW_IN_DE}",
        ),
        Texts(
            "Dropout rate",
            "Exits with reason 'dropped out'.",
            "All exits.",
            f"Exit {WINDOW_IN_EN}",
        ),
        date_sql="t.austritt",
        monthly=Monthly("t.austritt_monat", "abbrueche", "austritte"),
    ),
    Kpi(
        "verbleibsquote_6m",
        "rate",
        True,
        "teilnahmen",
        "count(*) filter (where t.verbleib_beschaeftigt)",
        EXITS,
        Texts(
            "Beschäftigt 6 Monate nach Austritt",
            "Austritte, deren Verbleib (Stichtag 150 bis 210 Tage nach Austritt, der "
            "nächste an 6 Kalendermonaten; bei gleichem Abstand der frühere) "
            "sozialversicherungspflichtig beschäftigt, in Ausbildung oder selbstständig ist.",
            "Austritte, deren Nachbetrachtung fällig ist (Austritt + 6 Kalendermonate im Fenster).",
            f"Fälligkeit (Austritt + 6 Monate) {WINDOW_IN_DE}",
            "Angelehnt an die Eingliederungsquote der BA. Fehlt die Verbleibsmeldung, zählt "
            "der Austritt als nicht beschäftigt (vorsichtige Schätzung).",
        ),
        Texts(
            "Employed 6 months after exit",
            "Exits employed (insured, apprenticeship or self-employed) at the follow-up "
            "nearest to six calendar months after exit (150 to 210 days; of two equally "
            "near, the earlier).",
            "Exits whose follow-up is due in the window.",
            f"Follow-up due (exit + 6 months) {WINDOW_IN_EN}",
            "After the BA's Eingliederungsquote. A missing follow-up counts as not employed.",
        ),
        date_sql=EXIT_6M,
        start_sql="(p.window_start - interval 6 month + interval 1 day)",
        monthly=Monthly("t.austritt_monat", "verbleib_beschaeftigt", "austritte", OPEN_6M),
    ),
    Kpi(
        "beschaeftigt_bei_austritt",
        "rate",
        True,
        "teilnahmen",
        "count(*) filter (where t.beschaeftigt_bei_austritt)",
        EXITS,
        Texts(
            "Beschäftigt bei Austritt (ESF)",
            "Austritte, deren letztes Ergebnis zwischen Eintritt und 28 Tagen nach Austritt "
            "eine Beschäftigung ist (sozialversicherungspflichtig, selbstständig, Minijob oder "
            "gefördert); liegen am letzten Tag mehrere Ergebnisse, genügt "
            "eine Beschäftigung darunter.",
            CLOSED_DE,
            WINDOW_28_DE,
            "Gemeinsamer ESF+-Ergebnisindikator (VO 2021/1057): nur das letzte Ereignis im "
            "Fenster zählt; anders als bei der Integrationsquote zählen Minijobs und "
            "geförderte Beschäftigung mit, eine Ausbildung nicht (sie ist Bildung, nicht "
            "Beschäftigung).",
        ),
        Texts(
            "In employment upon leaving (ESF)",
            "Exits whose last outcome between entry and 28 days after exit is a job "
            "(insured, self-employed, mini-job or subsidised); of several outcomes on that "
            "last day, one job suffices.",
            CLOSED_EN,
            WINDOW_28_EN,
            "ESF+ common result indicator (Reg. 2021/1057): only the last event counts.",
        ),
        date_sql=EXIT_28,
        start_sql=EXIT_28_FIRST,
        monthly=Monthly("t.austritt_monat", "austritte_beschaeftigt", "austritte", OPEN_28),
        section="weitere",
    ),
    Kpi(
        "praktikum_oder_weiterbildung",
        "rate",
        True,
        "teilnahmen",
        "count(*) filter (where t.praktikum_oder_weiterbildung)",
        EXITS,
        Texts(
            "Praktikum oder Weiterbildung",
            "Austritte, bei denen zwischen Eintritt und Austritt ein Praktikum oder eine "
            "Weiterbildung begann.",
            "Alle Austritte.",
            f"Austritt {WINDOW_IN_DE}",
        ),
        Texts(
            "Internship or further training",
            "Exits with an internship or further training starting between entry and exit.",
            "All exits.",
            f"Exit {WINDOW_IN_EN}",
        ),
        date_sql="t.austritt",
        section="weitere",
    ),
    Kpi(
        "tage_bis_integration",
        "days",
        False,
        "perioden",
        "(select min(s.tage) from km_survival as s where s.periode = p.periode "
        "and s.ueberlebend <= 0.5)",
        "(select count(*) from km_observed as o where o.periode = p.periode)",
        Texts(
            "Tage bis zur Integration (Median)",
            "Median der Tage vom Eintritt bis zur ersten Integration, aus der "
            "Kaplan-Meier-Kurve: der erste Tag, an dem die Hälfte integriert ist. Noch nicht "
            "erreicht, solange die Kurve unter der Hälfte bleibt.",
            "Beobachtete Teilnahmen (Eintritt im Zeitraum).",
            f"Eintritt {WINDOW_IN_DE}, beobachtet bis zum Datenstand",
            "Wer noch teilnimmt oder ohne Integration ausgetreten ist, wird beim Ende der "
            "Beobachtung (28 Tage nach Austritt oder Datenstand) zensiert, nicht als "
            "Misserfolg gezählt. Die Kurve wird auf 12 Nachkommastellen gerundet, so ist "
            "genau die Hälfte auch genau 0,5.",
        ),
        Texts(
            "Days to integration (median)",
            "Median days from entry to the first integration, from the Kaplan-Meier curve: "
            "the first day on which half are integrated. Not reached while the curve stays "
            "below one half.",
            "Participations observed (entry in the window).",
            f"Entry {WINDOW_IN_EN}, observed until the as-of date",
        ),
        section="weitere",
    ),
    Kpi(
        "integrationen_k2",
        "count",
        None,
        "monate",
        "sum(t.integrationen_k2)",
        "null",
        Texts(
            "Integrationen (K2-Zählung)",
            "Integrationen (sozialversicherungspflichtige Beschäftigung, Ausbildung, "
            "Selbstständigkeit) im Fenster "
            "einer Teilnahme, höchstens eine je Person und Kalendermonat (die erste des "
            "Monats; am selben Tag die erste Art nach Namen).",
            "-",
            f"Beginn {WINDOW_IN_DE}",
            "Gezählt werden Integrationen, nicht Personen (SGB II § 48a, K2).",
        ),
        Texts(
            "Integrations (K2 count)",
            "Integrations in the window of a participation, at most one per person and "
            "calendar month.",
            "-",
            f"Start {WINDOW_IN_EN}",
        ),
        source="marts.teilnahme_monate",
        section="weitere",
    ),
    _outcome_count(
        "minijobs_12m",
        "minijobs",
        "Aufnahmen geringfügiger Beschäftigung im Fenster einer Teilnahme.",
        "Mini-jobs taken up in the window of a participation.",
        "Minijobs",
        "Mini-jobs",
        "Getrennt ausgewiesen, nie als Integration gezählt.",
        "Shown apart, never counted as an integration.",
    ),
    _outcome_count(
        "gefoerderte_12m",
        "gefoerderte",
        "Aufnahmen öffentlich geförderter Beschäftigung im Fenster einer Teilnahme.",
        "Subsidised jobs taken up in the window of a participation.",
        "Geförderte Beschäftigung",
        "Subsidised employment",
        "Getrennt ausgewiesen, nie als Integration gezählt.",
        "Shown apart, never counted as an integration.",
    ),
    _outcome_count(
        "praktika_12m",
        "praktika",
        "Begonnene Praktika im Fenster einer Teilnahme.",
        "Internships started in the window of a participation.",
        "Praktika",
        "Internships",
    ),
    _outcome_count(
        "weiterbildungen_12m",
        "weiterbildungen",
        "Begonnene Weiterbildungen im Fenster einer Teilnahme.",
        "Further training started in the window of a participation.",
        "Weiterbildungen",
        "Further training",
    ),
    _per_week(
        "bewerbungen_je_woche",
        "bewerbungen",
        "Bewerbungen je Teilnahmewoche",
        "Applications per participant-week",
        "Bewerbungen",
        "Applications",
    ),
    _per_week(
        "vorstellungsgespraeche_je_woche",
        "vorstellungsgespraeche",
        "Vorstellungsgespräche je Teilnahmewoche",
        "Interviews per participant-week",
        "Vorstellungsgespräche",
        "Interviews",
    ),
    _per_week(
        "arbeitgeberkontakte_je_woche",
        "arbeitgeberkontakte",
        "Arbeitgeberkontakte je Teilnahmewoche",
        "Employer contacts per participant-week",
        "Direkte Arbeitgeberkontakte",
        "Direct employer contacts",
    ),
    Kpi(
        "unentschuldigt_quote",
        "rate",
        False,
        "monate",
        "sum(t.unentschuldigt)",
        "sum(t.termine)",
        Texts(
            "Unentschuldigte Fehlzeiten",
            "Termine mit Status unentschuldigt.",
            "Alle geplanten Termine der Teilnahmen.",
            f"Termine {WINDOW_IN_DE}",
        ),
        Texts(
            "Unexcused absence rate",
            "Sessions missed without excuse.",
            "All scheduled sessions of participations.",
            f"Sessions {WINDOW_IN_EN}",
        ),
        monthly=Monthly("t.monat", "termine_unentschuldigt", "termine"),
        source="marts.teilnahme_monate",
        section="weitere",
    ),
)

BY_ID = {kpi.id: kpi for kpi in CATALOGUE}
# the rates the dashboard shows by month (same definitions, grouped by month)
MONTHLY = tuple(kpi for kpi in CATALOGUE if kpi.monthly and kpi.unit == "rate")
UNIT_TEXT = {
    "count": "a count",
    "rate": "a rate (share)",
    "ratio": "a ratio",
    "days": "a median in days",
}


def kpi_selects() -> str:
    """The union of every KPI's aggregate for both periods: the body of
    ``marts.kennzahlen_fuer`` (``sql/marts/kennzahlen.sql``), one SELECT per KPI."""
    parts = []
    for kpi in CATALOGUE:
        join = FACTS[kpi.facts].format(window=kpi.join_condition)
        archive = "inner join archive_stand as a using (periode)" if kpi.with_archive else ""
        group = (
            ""
            if kpi.facts == "perioden"
            else "group by p.periode, p.stichtag, p.window_start, p.programmjahr_start"
        )
        # no facts in the window: a count or rate is 0 of 0; a median stays "not reached"
        numerator, denominator = kpi.numerator_sql, kpi.denominator_sql
        if kpi.unit != "days":
            numerator = f"coalesce({numerator}, 0)"
            if denominator != "null":
                denominator = f"coalesce({denominator}, 0)"
        parts.append(
            f"select p.periode, '{kpi.id}' as kennzahl, {numerator} as zaehler, "
            f"{denominator} as nenner, {kpi.start_sql} as fenster_von\n"
            f"from periods as p cross join build as b {archive} {join}\n{group}"
        )
    return "\n\nunion all\n".join(parts)


def monthly_rates_sql() -> str:
    """The ``values`` rows of the monthly rates (query ``ueberblick__monatsquoten``)."""
    rows = []
    for kpi in MONTHLY:
        m = kpi.monthly
        still_open = f"m.{m.still_open[0]}" if m.still_open else "0"
        rows.append(f"('{kpi.id}', m.{m.numerator}, m.{m.denominator}, {still_open})")
    return ",\n            ".join(rows)


def monthly_columns() -> dict[str, tuple[str, str, str]]:
    """Every column of ``marts.monatszahlen`` that a KPI defines: name -> (month SQL,
    aggregate SQL over the facts, SQL type), in catalogue order; a column that several
    KPIs share (``austritte``) is defined the same way by each."""
    columns: dict[str, tuple[str, str, str]] = {}
    for kpi in CATALOGUE:
        m = kpi.monthly
        if m is None:
            continue
        kind = "decimal(12, 2)" if m.decimal else "bigint"
        parts = [(m.numerator, kpi.numerator_sql), (m.denominator, kpi.denominator_sql)]
        if m.still_open:
            parts.append(m.still_open)
        for name, sql in parts:
            if name is None:
                continue
            column = (m.month_sql, sql, kind)
            assert columns.setdefault(name, column) == column, f"{name} defined twice"
    return columns


def monthly_sql() -> dict[str, str]:
    """The generated parts of ``sql/marts/monatszahlen.sql``: one CTE per fact grain and
    month column, their joins, and the columns with the retention archive added back."""
    groups: dict[tuple[str, str], list[str]] = {}
    facts = {kpi.monthly.month_sql: kpi.facts for kpi in CATALOGUE if kpi.monthly}
    for name, (month, sql, _) in monthly_columns().items():
        groups.setdefault((facts[month], month), []).append(f"{sql} as {name}")
    ctes, joins, alias = [], [], {}
    for index, ((fact, month), columns) in enumerate(groups.items()):
        source = "teilnahmen" if fact == "teilnahmen" else "monate"
        ctes.append(
            f"g{index} as (\n    select {month} as monat, {', '.join(columns)}\n"
            f"    from {source} as t cross join build as b\n"
            f"    where {month} is not null\n    group by 1\n)"
        )
        joins.append(f"left join g{index} on g{index}.monat = m.monat")
        for column in columns:
            alias[column.rsplit(" as ", 1)[1]] = f"g{index}"
    retained, final = [], []
    for name, (_, _, kind) in monthly_columns().items():
        retained.append(f"coalesce({alias[name]}.{name}, 0)::{kind} as {name}")
        final.append(f"(r.{name} + coalesce(z.{name}, 0))::{kind} as {name}")
    return {
        "monthly_groups": ",\n\n".join(ctes),
        "monthly_joins": "\n    ".join(joins),
        "monthly_retained": ",\n        ".join(retained),
        "monthly_final": ",\n        ".join(final),
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


def read_kpis(con: duckdb.DuckDBPyConnection, period: Period = DEFAULT_PERIOD) -> list[KpiValue]:
    """All headline KPIs of the period, in catalogue order."""
    rows = con.execute(
        "select kennzahl, quote, zaehler, nenner, fenster_von, fenster_bis from marts.kennzahlen "
        "where periode = $periode",
        {"periode": period.current},
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


DIRECTION = {True: "higher is better", False: "lower is better", None: "neutral"}


# The generated parts of docs/kpis.md (between cog markers; ``kohorte docs``): one
# section per KPI and the monthly columns. The prose around them is Markdown in the file.


def kpis_markdown() -> str:
    """One section per KPI of the catalogue."""
    lines = []
    for kpi in CATALOGUE:
        lines += [
            f"## {kpi.label('de')} (`{kpi.id}`)",
            "",
            f"*{kpi.label('en')}*, {UNIT_TEXT[kpi.unit]}, {DIRECTION[kpi.higher_is_better]}.",
            "",
            f"- **Numerator / count:** {kpi.text('numerator', 'de')}",
            f"- **Denominator:** {kpi.text('denominator', 'de')}",
            f"- **Window:** {kpi.text('window', 'de')}",
            f"- **Source:** `{kpi.source}`",
            f"- **SQL:** numerator `{kpi.numerator_sql}`, denominator `{kpi.denominator_sql}`",
        ]
        year = kpi.text("window", "de", periods.PROGRAMME_YEAR)
        if year != kpi.text("window", "de"):
            lines.insert(-2, f"- **Window, programme-year view:** {year}")
        if kpi.de.note:
            lines.append(f"- **Note:** {kpi.text('note', 'de')}")
        lines.append("")
    return "\n".join(lines)


def monthly_columns_markdown() -> str:
    """The columns of ``marts.monatszahlen``, each with the KPI aggregate it comes from."""
    rows = [(f"`{n}`", f"`{m}`", f"`{sql}`") for n, (m, sql, _) in monthly_columns().items()]
    return markdown_table(("column", "month of", "aggregate"), rows)

"""Every label of the dashboard, German first; English switchable."""

from __future__ import annotations

import threading

import pandas as pd
import streamlit as st

from kohorte.build.warehouse import FULL, INCREMENTAL
from kohorte.intake.report import FILE_STATUSES
from kohorte.present import charts

LANGUAGES = {"de": "Deutsch", "en": "English"}

TEXTS: dict[str, dict[str, str]] = {
    **charts.TEXTS,  # the charts' titles and axes, shared with the PDF reports
    "app_title": {"de": "Kohorte", "en": "Kohorte"},
    "language": {"de": "Sprache", "en": "Language"},
    "page_overview": {"de": "Überblick", "en": "Overview"},
    "as_of": {"de": "Datenstand", "en": "Data as of"},
    "last_load": {"de": "zuletzt erfolgreich geladen", "en": "last successful load"},
    "no_data": {
        "de": "Noch keine Daten veröffentlicht. Bitte `make run` oder `kohorte load` ausführen.",
        "en": "No data published yet. Run `make run` or `kohorte load`.",
    },
    "of": {"de": "von", "en": "of"},
    "withheld": {
        "de": "nicht angezeigt (Schutz kleiner Fallzahlen)",
        "en": "withheld (small-count protection)",
    },
    "protected": {
        "de": "nicht angezeigt: sonst wäre eine kleine Fallzahl an anderer Stelle errechenbar",
        "en": "not shown: a small count elsewhere could be worked out from it",
    },
    "nothing_to_count": {
        "de": "keine Fälle in dieser Auswahl",
        "en": "no cases in this selection",
    },
    "points": {"de": "Pp.", "en": "pp"},
    "kpi": {"de": "Kennzahl", "en": "KPI"},
    "more_kpis": {"de": "Ergebnisse und Aktivitäten", "en": "Outcomes and activities"},
    "vs_last_year": {"de": "ggü. Vorjahr", "en": "vs. last year"},
    "window": {"de": "Zeitraum", "en": "Window"},
    "numerator": {"de": "Zähler", "en": "Numerator"},
    "denominator": {"de": "Nenner", "en": "Denominator"},
    "monthly_title": {
        "de": "Eintritte und Austritte je Monat",
        "en": "Entries and exits per month",
    },
    "entries": {"de": "Eintritte", "en": "Entries"},
    "exits": {"de": "Austritte", "en": "Exits"},
    "active_month_end": {"de": "Aktive am Monatsende", "en": "Active at month end"},
    "suppressed": {
        "de": "nicht angezeigt: weniger als {n} Fälle",
        "en": "not shown: fewer than {n} cases",
    },
    "small_counts": {
        "de": "Werte unter {n} werden zum Schutz der Teilnehmenden nicht gezeigt",
        "en": "values below {n} are not shown, to protect participants",
    },
    "line_is_active": {
        "de": "Linie: aktive Teilnehmende am Monatsende",
        "en": "Line: active participants at month end",
    },
    "sign_in_title": {"de": "Anmeldung", "en": "Sign in"},
    "sign_in": {"de": "Anmelden", "en": "Sign in"},
    "sign_out": {"de": "Abmelden", "en": "Sign out"},
    "user_name": {"de": "Benutzername", "en": "User name"},
    "password": {"de": "Passwort", "en": "Password"},
    "sign_in_failed": {
        "de": "Benutzername oder Passwort ist falsch.",
        "en": "User name or password is wrong.",
    },
    "sign_in_locked": {
        "de": "Zu viele Fehlversuche: Das Konto ist bis {until} Uhr gesperrt.",
        "en": "Too many failed attempts: the account is locked until {until}.",
    },
    "sign_in_oidc_hint": {
        "de": "Die Anmeldung erfolgt über das Konto Ihrer Behörde.",
        "en": "You sign in with your organisation's account.",
    },
    "sign_in_oidc": {"de": "Mit Behördenkonto anmelden", "en": "Sign in with organisation account"},
    "sign_in_no_role": {
        "de": "Ihr Konto hat keine Rolle in Kohorte. Bitte wenden Sie sich an die Teamleitung.",
        "en": "Your account has no role in Kohorte. Please ask your team lead.",
    },
    "role_teamleitung": {"de": "Teamleitung", "en": "team lead"},
    "role_coach": {"de": "Coach", "en": "coach"},
    "role_analyse": {"de": "Analyse", "en": "analyst"},
    "role_leitung": {"de": "Leitung", "en": "management"},
    "access_denied": {
        "de": "Diese Daten gehören nicht zu Ihrer Rolle. Der Versuch wurde protokolliert.",
        "en": "These data are outside your role. The attempt has been logged.",
    },
    "page_audit": {"de": "Protokoll", "en": "Audit log"},
    "page_sql": {"de": "SQL", "en": "SQL"},
    "sql_query": {"de": "Abfrage (eine SELECT-Anweisung)", "en": "Query (one SELECT statement)"},
    "sql_help": {
        "de": "„Abfrage ausführen“ führt sie aus. Nur die pseudonymisierten Analyse-Tabellen "
        "rechts; keine Dateien, Zeit- und Speicherlimit.",
        "en": '"Run query" runs it. Only the pseudonymised analyst tables on the right; no '
        "files, time and memory limits.",
    },
    "alert_hint": {
        "de": "Details auf dem Server: `kohorte status`, die Protokolle in `logs/` und die "
        "Prefect-Oberfläche. Die Warnung verschwindet mit der nächsten erfolgreichen Ladung.",
        "en": "Details on the server: `kohorte status`, the logs in `logs/` and the Prefect "
        "UI. The alert goes away with the next successful load.",
    },
    "sql_run": {"de": "Abfrage ausführen", "en": "Run query"},
    "sql_rows": {"de": "{total}, {shown} gezeigt", "en": "{total}, {shown} shown"},
    "row": {"de": "Zeile", "en": "row"},
    "rows": {"de": "Zeilen", "en": "rows"},
    "sql_examples": {"de": "Beispiele", "en": "Examples"},
    "sql_history": {"de": "Mein Verlauf", "en": "My history"},
    "sql_schema": {"de": "Tabellen", "en": "Tables"},
    "audit_user": {"de": "Benutzer", "en": "User"},
    "audit_action": {"de": "Aktion", "en": "Action"},
    "audit_role": {"de": "Rolle", "en": "Role"},
    "audit_time": {"de": "Zeit", "en": "Time"},
    "audit_details": {"de": "Details", "en": "Details"},
    "audit_from": {"de": "Von", "en": "From"},
    "audit_to": {"de": "Bis", "en": "To"},
    "audit_intact": {
        "de": "Die Hash-Kette des Protokolls ist lückenlos.",
        "en": "The audit log's hash chain is intact.",
    },
    "audit_broken": {
        "de": "Das Protokoll wurde verändert: {problems}",
        "en": "The audit log has been altered: {problems}",
    },
    "audit_kept": {
        "de": "Einträge werden {days} Tage aufbewahrt.",
        "en": "Entries are kept for {days} days.",
    },
    "no_search_role": {
        "de": "Die Suche nach Kundennummer ist Teamleitung und Coaches vorbehalten.",
        "en": "Searching by customer number is for team leads and coaches only.",
    },
    "rates_title": {"de": "Quoten je Monat", "en": "Rates by month"},
    "rate_choice": {"de": "Quote", "en": "Rate"},
    "rate": {"de": "Quote", "en": "Rate"},
    "this_year": {"de": "Berichtsjahr", "en": "This year"},
    "previous_year": {"de": "Vorjahr", "en": "Previous year"},
    "rolling": {"de": "Schnitt über 3 Monate", "en": "3-month average"},
    "weeks_fallback": {
        "de": "Je Eintrittswoche wären fast alle Felder zu klein (unter {n} Fällen) und "
        "blieben leer: das Dreieck zeigt die Kohorten deshalb nach Eintrittsmonat.",
        "en": "By entry week nearly every cell would be too small (under {n} cases) and "
        "stay empty: the triangle therefore shows the cohorts by entry month.",
    },
    "final": {"de": "endgültig", "en": "final"},
    "provisional": {"de": "vorläufig", "en": "provisional"},
    "status": {"de": "Stand", "en": "Status"},
    "rates_note": {
        "de": "Austritte zählen im Monat des Austritts. Vorläufig (hohle Raute): Werte, die "
        "sich noch ändern können, weil das 28-Tage-Fenster oder die Nachbefragung nach "
        "6 Monaten noch aussteht oder der Monat noch läuft. Quoten mit weniger als {n} Fällen "
        "im Nenner werden nicht gezeigt. Die kräftige Linie ist der Schnitt über den Monat "
        "und die zwei davor: sie glättet die schwankenden Einzelmonate und zeigt sich oft "
        "auch dort, wo ein einzelner Monat zu wenige Fälle hat.",
        "en": "Exits count in their month of exit. Provisional (hollow diamond): values that "
        "can still change because the 28-day window or the 6-month follow-up is still "
        "pending, or the month is still running. Rates with fewer than {n} cases in the "
        "denominator are not shown. The bold line is the average over the month and the two "
        "before it: it smooths the jumpy single months and often shows where a single "
        "month has too few cases.",
    },
    "days_value": {"de": "{n} Tage", "en": "{n} days"},
    "not_reached": {"de": "nicht erreicht", "en": "not reached"},
    "days_delta": {"de": "Tage", "en": "days"},
    "observed": {"de": "{n} beobachtet", "en": "{n} observed"},
    "participation": {"de": "Teilnahme", "en": "participation"},
    "participations": {"de": "Teilnahmen", "en": "participations"},
    "raster": {"de": "Kohorten nach", "en": "Cohorts by"},
    "period": {"de": "Zeitraum der Kennzahlen", "en": "Period of the KPIs"},
    "sql_no_downloads": {
        "de": "Für dieses Ergebnis gibt es keine Downloads: ein Wert lässt sich nicht als "
        "Datei schreiben.",
        "en": "This result has no downloads: a value cannot be written to a file.",
    },
    "raster_monat": {"de": "Eintrittsmonat", "en": "Entry month"},
    "raster_woche": {"de": "Eintrittswoche", "en": "Entry week"},
    "attendance_rate": {"de": "Anwesenheitsquote", "en": "Attendance rate"},
    "warnings": {
        "de": "{n} Datenprüfung(en) mit Warnungen; Details auf der Seite Datenstand.",
        "en": "{n} data check(s) with warnings; details on the data status page.",
    },
    "error": {
        "de": "Die Daten konnten nicht gelesen werden. Der Fehler wurde protokolliert.",
        "en": "The data could not be read. The error has been logged.",
    },
}

TEXTS.update(
    {
        "page_status": {"de": "Datenstand", "en": "Data status"},
        "published": {"de": "Veröffentlicht", "en": "Published"},
        "next_run": {"de": "Nächster nächtlicher Lauf", "en": "Next nightly run"},
        "runs_title": {"de": "Ladeläufe", "en": "Load runs"},
        "files_title": {"de": "Gelieferte Dateien", "en": "Delivered files"},
        "checks_title": {"de": "Datenprüfungen", "en": "Data checks"},
        "problems_title": {
            "de": "Abgelehnte Dateien und Zeilen, Hinweise",
            "en": "Rejected files and lines, notes",
        },
        "no_problems": {
            "de": "Keine abgelehnten Dateien oder Zeilen.",
            "en": "No rejected files or lines.",
        },
        "report_gone": {
            "de": "Der Bericht liegt nicht mehr in der Quarantäne.",
            "en": "The report is no longer in the quarantine.",
        },
        "col_run": {"de": "Lauf", "en": "Run"},
        "col_status": {"de": "Status", "en": "Status"},
        "col_started": {"de": "Beginn", "en": "Started"},
        "col_files": {"de": "Dateien", "en": "Files"},
        "col_loaded": {"de": "geladen", "en": "loaded"},
        "col_partial": {"de": "teilweise", "en": "partly"},
        "col_quarantined": {"de": "Quarantäne", "en": "quarantined"},
        "col_duplicate": {"de": "Duplikate", "en": "duplicates"},
        "col_deferred": {"de": "zurückgestellt", "en": "deferred"},
        "col_rows_accepted": {"de": "Zeilen angenommen", "en": "Rows accepted"},
        "col_rows_rejected": {"de": "Zeilen abgelehnt", "en": "Rows rejected"},
        "col_seconds": {"de": "Dauer (s)", "en": "Duration (s)"},
        "col_build_mode": {"de": "Aufbau", "en": "Build"},
        "col_file": {"de": "Datei", "en": "File"},
        "col_kind": {"de": "Art", "en": "Kind"},
        "col_encoding": {"de": "Format", "en": "Format"},
        "col_message": {"de": "Meldung", "en": "Message"},
        "col_check": {"de": "Prüfung", "en": "Check"},
        "col_severity": {"de": "Schwere", "en": "Severity"},
        "col_failing": {"de": "Auffällige Zeilen", "en": "Failing rows"},
        "col_passed": {"de": "bestanden", "en": "passed"},
        **{f"status_{status}": {"de": de, "en": en} for status, (de, en) in FILE_STATUSES.items()},
        "status_published": {"de": "veröffentlicht", "en": "published"},
        "status_running": {"de": "läuft", "en": "running"},
        "status_failed": {"de": "fehlgeschlagen", "en": "failed"},
        "status_error": {"de": "Fehler", "en": "error"},
        "status_warn": {"de": "Warnung", "en": "warning"},
    }
)

TEXTS.update(
    {
        "page_cohorts": {"de": "Kohorten", "en": "Cohorts"},
        "filters": {"de": "Filter", "en": "Filters"},
        "entry_from": {"de": "Eintritt ab", "en": "Entry from"},
        "entry_to": {"de": "Eintritt bis", "en": "Entry until"},
        "site": {"de": "Standort", "en": "Site"},
        "coach": {"de": "Coach", "en": "Coach"},
        "triangle_pick": {
            "de": "Ein Klick auf eine Zeile wählt die Kohorte; die Liste unten zeigt ihre "
            "Teilnahmen.",
            "en": "Click a row to choose its cohort; the list below shows its participations.",
        },
        "cohort_filter": {"de": "Kohorte (Monat oder Woche)", "en": "Cohort (month or week)"},
        "gender": {"de": "Geschlecht", "en": "Gender"},
        "lzb": {"de": "Langzeitleistungsbezug", "en": "Long-term benefit receipt"},
        "curves_note": {
            "de": "Jede Linie beginnt am Eintrittstag bei 0 % und zeigt, welcher Anteil einer "
            "Eintrittskohorte nach so vielen Tagen eine Arbeit gefunden hat. Wer noch teilnimmt "
            "oder ohne Arbeit ausgeschieden ist, zählt mit, solange wir wissen, wie es ihm geht "
            "(bis 28 Tage nach dem Austritt), und danach nicht mehr: weder als Erfolg noch als "
            "Misserfolg (Kaplan-Meier-Schätzung).",
            "en": "Each line starts on the day of entry at 0% and shows the share of an entry "
            "cohort that has found work after so many days. Those still taking part, or who "
            "left without work, count as long as we know how they are doing (up to 28 days "
            "after leaving), and after that not at all: neither as success nor as failure "
            "(Kaplan-Meier estimate).",
        },
        "funnel_title": {"de": "Vom Eintritt zur Integration", "en": "From entry to integration"},
        "step": {"de": "Schritt", "en": "Step"},
        "share_previous": {
            "de": "Ein echter Trichter: jeder Schritt zählt nur, wer auch alle vorigen erreicht "
            "hat. In Klammern der Anteil am vorigen Schritt (nie auf 100 % aufgerundet).",
            "en": "A true funnel: each step counts only those who reached every step before. "
            "In brackets the share of the previous step (never rounded up to 100%).",
        },
        "step_eintritt": {"de": "Eintritt", "en": "Entry"},
        "step_regelmaessig": {
            "de": "regelmäßig anwesend (≥ 70 %)",
            "en": "attended regularly (≥ 70%)",
        },
        "step_bewerbung": {"de": "Bewerbung geschrieben", "en": "Applied"},
        "step_vorstellungsgespraech": {"de": "Vorstellungsgespräch", "en": "Interview"},
        "step_integration": {"de": "Integration", "en": "Integration"},
        "participants_title": {"de": "Teilnahmen der Auswahl", "en": "Participations selected"},
        "col_pid": {"de": "Pseudonym", "en": "Pseudonym"},
        "col_entry": {"de": "Eintritt", "en": "Entry"},
        "col_exit": {"de": "Austritt", "en": "Exit"},
        "col_exit_reason": {"de": "Austrittsgrund", "en": "Exit reason"},
        "col_applications": {"de": "Bewerbungen", "en": "Applications"},
        "col_interviews": {"de": "Vorstellungsgespräche", "en": "Interviews"},
        "col_first_integration": {"de": "Erste Integration", "en": "First integration"},
        "col_integration_kind": {"de": "Art", "en": "Kind"},
    }
)

TEXTS.update(
    {
        "page_people": {"de": "Teilnehmende", "en": "Participants"},
        "people_hint": {
            "de": "Eine Zeile wählen, um die Zeitleiste der Person zu sehen.",
            "en": "Select a row to see the person's timeline.",
        },
        "find_person": {
            "de": "Kundennummer suchen (wird nur verschlüsselt verglichen)",
            "en": "Find a customer number (compared only as a keyed hash)",
        },
        "not_found": {"de": "Keine Teilnahme zu dieser Nummer.", "en": "No participation found."},
        "timeline_title": {"de": "Zeitleiste", "en": "Timeline"},
        "lane_period": {"de": "Teilnahme", "en": "Participation"},
        "anwesenheit": {"de": "Anwesenheit", "en": "Attendance"},
        "aktivitaet": {"de": "Aktivitäten", "en": "Activities"},
        "ergebnis": {"de": "Ergebnisse", "en": "Outcomes"},
        "verbleib": {"de": "Verbleib", "en": "Follow-up"},
        "date": {"de": "Datum", "en": "Date"},
        "value": {"de": "Wert", "en": "Value"},
        "col_sessions": {"de": "Termine", "en": "Sessions"},
        "col_attended": {"de": "anwesend", "en": "attended"},
        "col_unexcused": {"de": "unentschuldigt", "en": "unexcused"},
        "col_followup": {"de": "Verbleib (6 Monate)", "en": "Follow-up (6 months)"},
    }
)

TEXTS.update(
    {
        "page_coaches": {"de": "Coaches", "en": "Coaches"},
        "coach_note": {
            "de": "Auswertung je Coach, mit Zustimmung des Personalrats eingeschaltet. "
            "Kleine Fallzahlen sind geschützt.",
            "en": "Per-coach figures, switched on with the staff council's consent. "
            "Small counts are protected.",
        },
    }
)

TEXTS.update(
    {
        "attention_title": {
            "de": "Heute: wer braucht Aufmerksamkeit",
            "en": "Today: who needs attention",
        },
        "attention_hint": {
            "de": "{n} · Stand {as_of} · am dringendsten oben · eine Zeile anklicken "
            "öffnet die Zeitleiste",
            "en": "{n} · as of {as_of} · most urgent first · click a row to open the timeline",
        },
        "person": {"de": "Person", "en": "person"},
        "persons": {"de": "Personen", "en": "people"},
        "attention_none": {
            "de": "Heute niemand: alle laufenden Teilnahmen sind im Takt (Stand {as_of}).",
            "en": "Nobody today: every running participation is on track (as of {as_of}).",
        },
        "attention_by_coach": {"de": "je Coach", "en": "by coach"},
        "attention_file": {
            "de": "Die Schwellen der Liste konnten nicht gelesen werden, es gelten die "
            "Standardwerte: {message}",
            "en": "The list's thresholds could not be read; the defaults apply: {message}",
        },
        "targets_file": {
            "de": "Die Ziele (ziele.toml) konnten nicht gelesen werden und werden nicht "
            "gezeigt: {message}",
            "en": "The targets (ziele.toml) could not be read and are not shown: {message}",
        },
        "target": {"de": "Ziel", "en": "Target"},
        "programme_year_title": {
            "de": "Programmjahr {year} ({start} bis {end})",
            "en": "Programme year {year} ({start} to {end})",
        },
        "reset_filters": {"de": "alle zurücksetzen", "en": "reset all"},
        "choose": {"de": "Bitte wählen", "en": "Please choose"},
        "integration_counts_title": {
            "de": "Welche Integrationszahl ist welche?",
            "en": "Which integration figure is which?",
        },
        "integration_counts": {
            "de": "- **Integrationsquote** (Zähler): Austritte im gewählten Zeitraum (12 Monate "
            "oder Programmjahr), deren "
            "Integration zwischen Eintritt und 28 Tagen nach Austritt begann; je Teilnahme "
            "einmal.\n"
            "- **Integrationen (K2-Zählung)**: Integrationen mit Beginn im gewählten "
            "Zeitraum, je Person und Kalendermonat höchstens eine (Zählweise der "
            "SGB-II-Statistik), auch von Teilnahmen, die noch laufen.\n"
            "- **In Arbeit seit Programmstart**: Personen (nicht Teilnahmen), die seit dem "
            "ersten Eintritt in Arbeit kamen, jede nur einmal.\n"
            "- **In Arbeit im Programmjahr**: dieselben Personen, gezählt im Programmjahr "
            "ihrer ersten Integration.\n"
            "- **Trichter** (Seite Kohorten): Teilnahmen der Auswahl, die regelmäßig kamen, "
            "sich bewarben, ein Gespräch hatten und integriert wurden, alle Schritte "
            "zusammen; über die ganze Laufzeit, nicht nur den gewählten Zeitraum.",
            "en": "- **Integration rate** (numerator): exits in the chosen period (12 months or "
            "programme year) whose "
            "integration started between entry and 28 days after exit; once per "
            "participation.\n"
            "- **Integrations (K2 count)**: integrations starting in the chosen period, at "
            "most one per person and calendar month (the SGB II statistics' count), running "
            "participations included.\n"
            "- **In work since programme start**: persons (not participations) who found "
            "work since the first entry, each once.\n"
            "- **In work this programme year**: the same persons, counted in the programme "
            "year of their first integration.\n"
            "- **Funnel** (Cohorts page): participations of the selection that attended "
            "regularly, applied, had an interview and were integrated, every step together; "
            "all time, not only the chosen period.",
        },
        "page_caseload": {"de": "Mein Fallbestand", "en": "My caseload"},
        "caseload_title": {"de": "Meine laufenden Teilnahmen", "en": "My running participations"},
        "caseload_hint": {
            "de": "{n} laufend · Anwesenheit seit Eintritt · nächster Schritt: das letzte "
            "Ergebnis (Arbeit, Praktikum, Weiterbildung) · eine Zeile anklicken öffnet die "
            "Zeitleiste",
            "en": "{n} running · attendance since entry · next step: the latest outcome "
            "(work, internship, further training) · click a row to open the timeline",
        },
        "caseload_none": {
            "de": "Zurzeit keine laufende Teilnahme in dieser Auswahl.",
            "en": "No running participation in this selection right now.",
        },
        "col_next_step": {"de": "Nächster Schritt", "en": "Next step"},
        "col_flags": {"de": "Hinweise", "en": "Flags"},
        "col_week": {"de": "Woche", "en": "Week"},
        "col_reasons": {"de": "Grund", "en": "Reason"},
        "col_last_session": {"de": "Letzter Termin", "en": "Last session"},
    }
)

TEXTS.update(
    {
        "no_schedule": {
            "de": "Nächster nächtlicher Lauf: kein Zeitplan aktiv, `make serve` startet ihn.",
            "en": "Next nightly run: no schedule active, `make serve` starts it.",
        },
        "notice_last_load": {
            "de": "Letzte Ladung ({when}): {n} abgelehnt oder nur teilweise geladen. Was "
            "warum abgelehnt wurde, steht im Bericht:",
            "en": "Last load ({when}): {n} rejected or only partly loaded. What was rejected "
            "and why is in the report:",
        },
        "delivery": {"de": "Lieferung", "en": "delivery"},
        "deliveries": {"de": "Lieferungen", "en": "deliveries"},
        "notice_report": {
            "de": "{file} ({status}): Bericht auf der Seite Datenstand",
            "en": "{file} ({status}): report on the data status page",
        },
        "audit_all_users": {"de": "alle Benutzer", "en": "all users"},
        "audit_all_actions": {"de": "alle Aktionen", "en": "all actions"},
    }
)

TEXTS.update(
    {
        # the head of every download (dashboard/tables.py)
        "no_filters": {"de": "keine Filter", "en": "no filters"},
        "export_kpis": {"de": "Kennzahlen", "en": "KPIs"},
        "export_coaches": {"de": "Kennzahlen je Coach", "en": "KPIs by coach"},
        "export_query": {"de": "Eigene Abfrage", "en": "Own query"},
        "window_from": {"de": "Zeitraum von", "en": "Window from"},
        "window_to": {"de": "Zeitraum bis", "en": "Window to"},
    }
)

# Display labels of the contract's code values (kohorte/define/contract.py); a test checks that
# every code has one in both languages.
CODE_LABELS: dict[str, dict[str, str]] = {
    "regulaer": {"de": "regulär beendet", "en": "completed"},
    "arbeitsaufnahme": {"de": "Arbeitsaufnahme", "en": "took up work"},
    "ausbildung": {"de": "Ausbildung", "en": "apprenticeship"},
    "abbruch": {"de": "Abbruch", "en": "dropped out"},
    "krankheit": {"de": "Krankheit", "en": "illness"},
    "sonstiges": {"de": "Sonstiges", "en": "other"},
    "w": {"de": "weiblich", "en": "female"},
    "m": {"de": "männlich", "en": "male"},
    "d": {"de": "divers", "en": "diverse"},
    "ja": {"de": "ja", "en": "yes"},
    "nein": {"de": "nein", "en": "no"},
    "anwesend": {"de": "anwesend", "en": "present"},
    "entschuldigt": {"de": "entschuldigt", "en": "excused"},
    "unentschuldigt": {"de": "unentschuldigt", "en": "unexcused"},
    "bewerbung": {"de": "Bewerbung", "en": "application"},
    "vorstellungsgespraech": {"de": "Vorstellungsgespräch", "en": "interview"},
    "arbeitgeberkontakt": {"de": "Arbeitgeberkontakt", "en": "employer contact"},
    "beratung": {"de": "Beratung", "en": "counselling"},
    "svb_beschaeftigung": {"de": "svB-Beschäftigung", "en": "insured employment"},
    "selbststaendigkeit": {"de": "Selbstständigkeit", "en": "self-employment"},
    "minijob": {"de": "Minijob", "en": "mini-job"},
    "gefoerderte_beschaeftigung": {"de": "geförderte Beschäftigung", "en": "subsidised job"},
    "praktikum": {"de": "Praktikum", "en": "internship"},
    "weiterbildung": {"de": "Weiterbildung", "en": "further training"},
    "svb_beschaeftigt": {"de": "svB-beschäftigt", "en": "in insured employment"},
    "selbststaendig": {"de": "selbstständig", "en": "self-employed"},
    "arbeitslos": {"de": "arbeitslos", "en": "unemployed"},
    "massnahme": {"de": "in Maßnahme", "en": "in a programme"},
    "unbekannt": {"de": "unbekannt", "en": "unknown"},
    # how a night built the warehouse
    FULL: {"de": "vollständig", "en": "full"},
    INCREMENTAL: {"de": "nur Neues", "en": "incremental"},
}


def code(value: object) -> str:
    """The display label of a code value; anything else unchanged."""
    if not isinstance(value, str):
        return "" if pd.isna(value) else str(value)
    labels = CODE_LABELS.get(value)
    return labels[lang()] if labels else value


KPI_LABELS: dict[str, dict[str, str]] = {}  # filled from kohorte.define.kpis by the app


def _from_url() -> str:
    value = st.query_params.get("lang", "de")
    return value if value in LANGUAGES else "de"


# The language of the session's current script run. A page asks for it hundreds of times a
# run (every label), and each reading of st.query_params costs; the URL's choice is read
# once at the start of a run (pin_language). A script thread serves one session only, and
# the language changes only by a new run, so a pinned value is never another person's.
_pinned = threading.local()


def pin_language() -> str:
    """Read the language from the URL for this run (the app calls it first thing)."""
    _pinned.value = _from_url()
    return _pinned.value


def lang() -> str:
    """The current language: from the URL (?lang=en), else German."""
    return getattr(_pinned, "value", None) or _from_url()


def t(key: str, **values: object) -> str:
    """The label ``key`` in the current language."""
    text = TEXTS[key][lang()]
    return text.format(**values) if values else text


TEXTS.update(
    {
        "page_impact": {"de": "Wirkung", "en": "Impact"},
        "page_reports": {"de": "Berichte", "en": "Reports"},
        "reports_intro": {
            "de": "Der Monatsbericht für die Geschäftsführung als PDF/A, mit denselben Zahlen "
            "wie auf den Kennzahl-Karten des Cockpits. Er entsteht am Ersten jedes Monats um "
            "06:00 Uhr von selbst; hier lässt er sich für jeden Monat neu erstellen.",
            "en": "The monthly report for the management as PDF/A, with the same figures as "
            "this cockpit's KPI cards. It is made by itself on the first of each month at "
            "06:00; here it can be made again for any month.",
        },
        "report_month": {"de": "Monat", "en": "Month"},
        "report_make": {"de": "Bericht erstellen", "en": "Make the report"},
        "report_making": {"de": "Bericht wird erstellt …", "en": "Making the report …"},
        "report_made": {"de": "{title} erstellt.", "en": "{title} made."},
        "reports_kept": {"de": "Erstellte Berichte", "en": "Reports made"},
        "report_download": {"de": "Herunterladen", "en": "Download"},
        "report_written": {"de": "erstellt {when}, {size} KiB", "en": "made {when}, {size} KiB"},
        "report_as_of": {"de": "Datenstand {as_of}", "en": "data as of {as_of}"},
        "impact_none": {
            "de": "Keine Vergleichsgruppe geliefert: ohne Dateien vergleichsgruppe* gibt es "
            "keine Wirkungsschätzung (siehe docs/data-contract.md).",
            "en": "No comparison group delivered: without files vergleichsgruppe* there is no "
            "impact estimate (see docs/data-contract.md).",
        },
        "impact_question": {
            "de": "Hätten sie auch ohne das Programm Arbeit gefunden?",
            "en": "Would they have found work anyway?",
        },
        "impact_no_estimate": {
            "de": "Keine Schätzung der Wirkung, weil:",
            "en": "No estimate of the effect, because:",
        },
        "impact_treated": {"de": "Teilnehmende in Arbeit", "en": "Participants in work"},
        "impact_controls": {"de": "Vergleichsgruppe in Arbeit", "en": "Comparison group in work"},
        "impact_naive": {"de": "Einfacher Unterschied", "en": "Naive difference"},
        "impact_persons": {"de": "{n} Personen", "en": "{n} persons"},
        "impact_pp": {"de": "{v} Pp.", "en": "{v} pts"},
        "impact_interval": {
            "de": "95-%-Intervall {low} bis {high}",
            "en": "95% interval {low} to {high}",
        },
        "impact_naive_help": {
            "de": "Anteil in Arbeit der Teilnehmenden minus Anteil der Vergleichsgruppe, ohne "
            "Anpassung: so sähe es aus, wenn beide Gruppen gleich wären.",
            "en": "Participants' share in work minus the comparison group's, unadjusted: what "
            "it would be if both groups were alike.",
        },
        "impact_estimators": {"de": "Geschätzte Wirkung", "en": "Estimated effect"},
        "impact_diagnostics": {"de": "Prüfung der Vergleichbarkeit", "en": "Diagnostics"},
        "impact_balance": {
            "de": "Ausgewogenheit der Merkmale (standardisierte Mittelwertdifferenz)",
            "en": "Balance of the attributes (standardised mean difference)",
        },
        "impact_balance_help": {
            "de": "Nach der Anpassung sollte jedes Merkmal zwischen den roten Linien liegen "
            "(|SMD| ≤ {limit}).",
            "en": "After adjustment every attribute should lie between the red lines "
            "(|SMD| ≤ {limit}).",
        },
        "impact_overlap": {
            "de": "Überlappung der Teilnahmewahrscheinlichkeit",
            "en": "Overlap of the propensity score",
        },
        "impact_support": {
            "de": "Außerhalb des gemeinsamen Bereichs: {off} Teilnehmende; ohne passende "
            "Vergleichsperson: {unmatched}; Vergleichspersonen, die selbst teilnehmen und "
            "deshalb nicht mitzählen: {both}.",
            "en": "Outside the common support: {off} participants; without a close enough "
            "comparison person: {unmatched}; comparison persons who take part themselves and "
            "so do not count: {both}.",
        },
        "impact_attributes": {
            "de": "Berücksichtigte Merkmale: {names}.",
            "en": "Attributes adjusted for: {names}.",
        },
        "impact_scopes": {"de": "Nach Standort und Eintrittsjahr", "en": "By site and entry year"},
        "impact_scope": {"de": "Bereich", "en": "Scope"},
        "impact_value": {"de": "Wert", "en": "Value"},
        "impact_reason": {"de": "Hinweis", "en": "Note"},
        "impact_assumption_title": {
            "de": "Was die Schätzung annimmt",
            "en": "What the estimate assumes",
        },
        "impact_assumption": {
            "de": "Die Schätzung vergleicht Teilnehmende mit Personen der Vergleichsgruppe, "
            "die ihnen in den berücksichtigten Merkmalen gleichen (Matching), oder gewichtet "
            "die Vergleichsgruppe so, dass sie ihnen darin gleicht (Gewichtung). Sie nimmt an, "
            "dass sich beide Gruppen **nur in diesen Merkmalen** unterscheiden, soweit es die "
            "Chance auf Arbeit betrifft. Das gilt nicht, wenn Teilnehmende etwa motivierter "
            "sind, von Coaches nach Aussicht auf Erfolg ausgewählt wurden oder die "
            "Vergleichsgruppe anders befragt wurde: dann ist die Wirkung über- oder "
            "unterschätzt, und kein Intervall zeigt das an. Das Intervall ist das 95-%-"
            "Bootstrap-Intervall aus {resamples} Wiederholungen (fester Startwert: gleiche "
            "Daten, gleiches Intervall).",
            "en": "The estimate compares participants with comparison persons who resemble "
            "them in the attributes adjusted for (matching), or weights the comparison group "
            "to resemble them (weighting). It assumes that the groups differ **only in these "
            "attributes** as far as the chance of work goes. That fails if participants are, "
            "say, more motivated, were chosen by coaches for their prospects, or the "
            "comparison group was followed up differently: the effect is then over- or "
            "underestimated, and no interval shows it. The interval is the 95% bootstrap "
            "interval of {resamples} resamples (a fixed seed: same data, same interval).",
        },
        "smd": {"de": "SMD", "en": "SMD"},
        "attribute": {"de": "Merkmal", "en": "Attribute"},
        "score": {"de": "Teilnahmewahrscheinlichkeit", "en": "Propensity score"},
        "score_from": {"de": "ab", "en": "from"},
        "share_of_group": {"de": "Anteil der Gruppe", "en": "Share of the group"},
        "group_teilnahme": {"de": "Teilnehmende", "en": "Participants"},
        "group_vergleich": {"de": "Vergleichsgruppe", "en": "Comparison group"},
    }
)

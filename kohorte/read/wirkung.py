"""The impact estimate as every output shows it (page, ``kohorte wirkung``): read from the
marts the nightly build wrote (``kohorte.build.wirkung``), put into words in the reader's
language, and protected against small counts. Nothing here fits a model."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from kohorte.define import wirkung as rule
from kohorte.read import disclosure, fmt
from kohorte.read.access import IMPACT, Principal

ESTIMATORS = ("matching", "gewichtung")
ESTIMATOR_LABELS = {
    "matching": ("Matching (nächster Nachbar)", "Matching (nearest neighbour)"),
    "gewichtung": ("Gewichtung (inverse Wahrscheinlichkeit)", "Weighting (inverse probability)"),
}
STAGE_LABELS = {
    "vorher": ("vor der Anpassung", "before adjustment"),
    "matching": ("nach Matching", "after matching"),
    "gewichtung": ("nach Gewichtung", "after weighting"),
}
SCOPE_LABELS = {
    "gesamt": ("Gesamt", "overall"),
    "standort": ("Standort", "site"),
    "jahr": ("Eintrittsjahr", "entry year"),
}


def report(
    con: duckdb.DuckDBPyConnection,
    threshold: int,
    lang: str = "de",
    principal: Principal | None = None,
) -> dict | None:
    """The whole estimate, or None for a warehouse built before it existed; for a signed-in
    ``principal`` only if her role may see it (AccessDenied otherwise)."""
    if principal is not None:
        principal.require(IMPACT)
    try:
        rows = con.sql("select * from marts.wirkung").df()
        balance = con.sql("select * from marts.wirkung_balance").df()
        overlap = con.sql("select * from marts.wirkung_ueberlappung").df()
    except duckdb.CatalogException:
        return None
    scopes = [_scope(row, threshold, lang) for row in rows.to_dict("records")]
    overall = next((s for s in scopes if s["bereich"] == "gesamt"), None)
    return {
        # delivered: even if every comparison person also takes part (the reasons say why
        # there is no estimate then)
        "vergleichsgruppe": bool(
            (rows["bereich"] == "gesamt").any()
            and rows.loc[rows["bereich"] == "gesamt", ["vergleich", "vergleich_auch_teilnehmende"]]
            .fillna(0)
            .to_numpy()
            .sum()
            > 0
        ),
        "gesamt": overall,
        # by site, then by entry year, each in its natural order (the build fits the
        # largest first)
        "bereiche": sorted(
            (s for s in scopes if s["bereich"] != "gesamt"),
            key=lambda s: (list(SCOPE_LABELS).index(s["bereich"]), s["wert"]),
        ),
        "balance": _balance(balance[balance["bereich"] == "gesamt"], lang),
        "ueberlappung": _overlap(overlap[overlap["bereich"] == "gesamt"], threshold),
        "methode": {
            "resamples": rule.RESAMPLES,
            "seed": rule.SEED,
            "caliper_sd": rule.CALIPER_SD,
            "max_smd": rule.MAX_SMD,
            "min_treated": rule.MIN_TREATED,
            "min_controls": rule.MIN_CONTROLS,
        },
    }


def _scope(row: dict, threshold: int, lang: str) -> dict:
    treated, controls = _count(row["teilnehmende"], threshold), _count(row["vergleich"], threshold)
    shown = bool(row["gezeigt"])
    estimates = {}
    for name in ESTIMATORS:
        estimates[name] = {
            "label": ESTIMATOR_LABELS[name][lang != "de"],
            "att": _value(row, f"att_{name}") if shown else None,
            "von": _value(row, f"att_{name}_von") if shown else None,
            "bis": _value(row, f"att_{name}_bis") if shown else None,
            "teilnehmende": _count(row.get(f"teilnehmende_{name}"), threshold),
        }
    return {
        "bereich": row["bereich"],
        "bereich_label": SCOPE_LABELS[row["bereich"]][lang != "de"],
        "wert": row["wert"],
        "teilnehmende": treated,
        "vergleich": controls,
        "quote_teilnehmende": _rate(row, "quote_teilnehmende", row["teilnehmende"], threshold),
        "quote_vergleich": _rate(row, "quote_vergleich", row["vergleich"], threshold),
        "naiv": _value(row, "naiv") if treated is not None and controls is not None else None,
        "schaetzungen": estimates,
        "gezeigt": shown,
        "satz": sentence(estimates[rule.HEADLINE], lang) if shown else None,
        "gruende": [_words(r, rule.REASONS, lang) for r in json.loads(row["gruende"] or "[]")],
        "hinweise": [_words(n, rule.NOTES, lang) for n in json.loads(row["hinweise"] or "[]")],
        "merkmale": [rule.attribute_label(a, lang) for a in _names(row["merkmale"])],
        "ausserhalb_stuetzbereich": _count(row.get("ausserhalb_stuetzbereich"), threshold),
        "ohne_partner": _count(row.get("ohne_partner"), threshold),
        "vergleich_auch_teilnehmende": _count(row.get("vergleich_auch_teilnehmende"), threshold),
        "stichproben": _int(row.get("stichproben")),
        # the counts of this scope withheld as small (shown as "<3", JSON null)
        "zurueckgehalten": sorted(
            name for name in COUNTS if disclosure.is_small(_int(row.get(name)), threshold)
        ),
        "schwelle": threshold,
    }


COUNTS = ("teilnehmende", "vergleich", "ausserhalb_stuetzbereich", "ohne_partner",
          "vergleich_auch_teilnehmende")  # fmt: skip


def count_text(scope: dict, name: str, lang: str = "de") -> str:
    """A count of a scope as every output shows it: "<3" if withheld, "–" if missing."""
    if name in scope["zurueckgehalten"]:
        return fmt.withheld(scope["schwelle"])
    return fmt.number(scope[name], lang)


def sentence(estimate: dict, lang: str = "de") -> str | None:
    """The estimate in one plain sentence: "Ohne das Programm wären schätzungsweise 9 bis
    17 von 100 Teilnehmenden weniger in Arbeit." (the interval, in persons per hundred)."""
    low, high = estimate["von"], estimate["bis"]
    if low is None or high is None:
        return None
    low_n, high_n = round(low * 100), round(high * 100)
    if lang != "de":
        if low_n >= 0:
            return (
                f"Without the programme, an estimated {low_n} to {high_n} fewer in every 100 "
                "participants would be in work."
            )
        if high_n <= 0:
            return (
                f"Without the programme, an estimated {-high_n} to {-low_n} more in every 100 "
                "participants would be in work."
            )
        return (
            f"The estimate ranges from {-low_n} more to {high_n} fewer in 100 participants in "
            "work without the programme: an effect cannot be told from none."
        )
    if low_n >= 0:
        return (
            f"Ohne das Programm wären schätzungsweise {low_n} bis {high_n} von 100 "
            "Teilnehmenden weniger in Arbeit."
        )
    if high_n <= 0:
        return (
            f"Ohne das Programm wären schätzungsweise {-high_n} bis {-low_n} von 100 "
            "Teilnehmenden mehr in Arbeit."
        )
    return (
        f"Die Schätzung reicht von {-low_n} mehr bis {high_n} weniger von 100 Teilnehmenden "
        "in Arbeit ohne das Programm: eine Wirkung ist von keiner nicht zu unterscheiden."
    )


def _words(item: dict, texts: dict, lang: str) -> str:
    """A reason or note as a sentence, its numbers and names in the reader's language."""
    values = {}
    for key, value in item.items():
        if key == "code":
            continue
        if key in ("share", "minimum"):
            value = fmt.percent(value, lang, decimals=1)
        elif key == "limit":
            value = fmt.number(value, lang, decimals=1)
        elif key == "names":
            value = ", ".join(rule.attribute_label(n, lang) for n in value)
        elif key == "name":
            value = rule.attribute_label(value, lang)
        elif key == "side":
            value = rule.GROUPS[value][lang != "de"]
        elif isinstance(value, int):
            value = fmt.number(value, lang)
        values[key] = value
    return texts[item["code"]][lang != "de"].format(**values)


def _balance(frame: pd.DataFrame, lang: str) -> list[dict]:
    return [
        {
            "merkmal": rule.attribute_label(row["merkmal"], lang),
            "stufe": STAGE_LABELS[row["stufe"]][lang != "de"],
            "smd": float(row["smd"]),
        }
        for row in frame.to_dict("records")
    ]


def _overlap(frame: pd.DataFrame, threshold: int) -> list[dict]:
    """The histogram's counts, small ones withheld (and a second one in a group where one
    alone could be recovered from the group's total, which the page shows)."""
    if frame.empty:
        return []
    grid = frame.pivot_table(index="gruppe", columns="von", values="n", aggfunc="sum")
    hidden = disclosure.protect_table(grid, threshold, column_totals=False).hidden
    totals = grid.sum(axis=1)
    rows = []
    for row in frame.to_dict("records"):
        withheld = bool(hidden.loc[row["gruppe"], row["von"]])
        rows.append(
            {
                "gruppe": row["gruppe"],
                "von": float(row["von"]),
                "bis": float(row["bis"]),
                "n": None if withheld else int(row["n"]),
                # the band's share of its group: two groups of any size side by side
                "anteil": None if withheld else float(row["n"] / totals[row["gruppe"]]),
                "zurueckgehalten": withheld,
            }
        )
    return rows


def _names(text: str | None) -> list[str]:
    return [n for n in (text or "").split(", ") if n]


def _count(value, threshold: int) -> int | None:
    value = _int(value)
    return None if value is None or disclosure.is_small(value, threshold) else value


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _value(row: dict, name: str) -> float | None:
    value = row.get(name)
    return None if value is None or pd.isna(value) else float(value)


def _rate(row: dict, name: str, denominator, threshold: int) -> float | None:
    value = _value(row, name)
    if value is None or _int(denominator) is None or denominator < threshold:
        return None
    return disclosure.protect_rate(value * denominator, denominator, threshold)


def text(result: dict | None, lang: str = "de") -> str:
    """The estimate as lines of plain text (the command line's output)."""
    de = lang == "de"
    if result is None or not result["vergleichsgruppe"]:
        return (
            "Keine Vergleichsgruppe geliefert (Dateien vergleichsgruppe*): keine Schätzung."
            if de
            else "No comparison group delivered (files vergleichsgruppe*): no estimate."
        )
    overall = result["gesamt"]
    points = (
        (lambda v: fmt.number(None if v is None else v * 100, lang, 1) + " Pp.")
        if de
        else (lambda v: fmt.number(None if v is None else v * 100, lang, 1) + " pts")
    )
    lines = [
        ("Wirkung auf die Teilnehmenden (Arbeit zur Nachbefragung)" if de
         else "Effect on participants (in work at the follow-up)"),
        f"  {'Teilnehmende' if de else 'Participants'}: {count_text(overall, 'teilnehmende', lang)}"
        f", {'in Arbeit' if de else 'in work'} {fmt.percent(overall['quote_teilnehmende'], lang)}",
        f"  {'Vergleichsgruppe' if de else 'Comparison group'}: "
        f"{count_text(overall, 'vergleich', lang)}, {'in Arbeit' if de else 'in work'} "
        f"{fmt.percent(overall['quote_vergleich'], lang)}",
        f"  {'Einfacher Unterschied' if de else 'Naive difference'}: {points(overall['naiv'])}",
    ]  # fmt: skip
    for estimate in overall["schaetzungen"].values():
        interval = ""
        if estimate["von"] is not None:
            low, high = (fmt.number(estimate[end] * 100, lang, 1) for end in ("von", "bis"))
            interval = f" ({low} {'bis' if de else 'to'} {high})"
        lines.append(f"  {estimate['label']}: {points(estimate['att'])}{interval}")
    if overall["satz"]:
        lines.append(overall["satz"])
    lines += [f"  – {reason}" for reason in overall["gruende"]]
    lines += [f"  Hinweis: {note}" if de else f"  Note: {note}" for note in overall["hinweise"]]
    return "\n".join(lines)

"""The impact estimate (Wirkung): what the programme changes against a comparison group.

One definition, read by the nightly estimate (``kohorte.build.wirkung``), the page, the
command line and ``docs/kpis.md``: the outcome compared, the method's settings, and the
conditions under which a point estimate is shown at all.

The question: of the participants, how many more are in work at the follow-up than would
have been without the programme? The answer is the average effect on the treated (ATT), in
percentage points, estimated from a comparison group of non-participants the Jobcenter
delivers, adjusted for the attributes both groups share (selection on observables).
"""

from __future__ import annotations

from kohorte.define.contract import IN_WORK_AT_FOLLOW_UP, MERKMAL_PREFIX

# In work at the follow-up, as for the follow-up KPIs: the six-month follow-up after exit
# for participants, the comparison group's own follow-up for them.
IN_WORK = IN_WORK_AT_FOLLOW_UP

# The propensity score: a logistic regression of participation on the shared attributes.
# Nearest-neighbour matching (one comparison person per participant, with replacement) on
# the logit of the score, within a caliper of 0.2 standard deviations of that logit
# (Austin 2011, the common choice); inverse probability weighting with ATT weights
# (participants 1, comparison persons p / (1 - p)).
CALIPER_SD = 0.2
# the estimator the plain sentence speaks of (both are shown beside each other)
HEADLINE = "gewichtung"

# The confidence interval: percentiles 2.5 and 97.5 of a bootstrap that resamples
# participants and comparison persons separately and fits the score again each time.
# Seeded, so the same data give the same interval every night.
RESAMPLES = 500
SEED = 20260101
LEVEL = 0.95

# No point estimate unless the data can carry one.
MIN_TREATED = 50
MIN_CONTROLS = 100
MAX_SMD = 0.1  # |standardised mean difference| of every attribute after adjustment
MIN_SUPPORT_SHARE = 0.9  # of participants inside the common support (and matched)

# The comparison group's follow-up must lie as far after its reference date as the
# participants' lies after their entry: medians within this many days, or a warning.
FOLLOW_UP_TOLERANCE_DAYS = 45

# Estimates by site and by entry year: at most this many of each, the largest first (each
# costs its bootstrap; a region's sites fit, a nation's 400 would take the night).
SUBGROUP_LIMIT = 30

# What the estimate says beside its figures, shown but not hiding them: (German, English).
NOTES: dict[str, tuple[str, str]] = {
    "one_side": (
        "Merkmal {name} liegt nur für {side} vor und wird nicht berücksichtigt.",
        "Attribute {name} exists for {side} only and is not used.",
    ),
    "incomplete": (
        "{n} Personen ohne alle verwendeten Merkmale werden nicht berücksichtigt.",
        "{n} persons without every attribute used are left out.",
    ),
    "timing": (
        "Die Nachbefragung liegt bei Teilnehmenden im Mittel {t} Tage nach dem Eintritt, "
        "bei der Vergleichsgruppe {v} Tage nach dem Stichtag: mehr als {tolerance} Tage "
        "Unterschied, die Ergebnisse sind nur eingeschränkt vergleichbar.",
        "Participants' follow-up lies {t} days after entry (median), the comparison "
        "group's {v} days after its reference date: more than {tolerance} days apart, so "
        "the outcomes are only partly comparable.",
    ),
}

# Why no point estimate is shown: (German, English), by reason.
REASONS: dict[str, tuple[str, str]] = {
    "too_few_treated": (
        "Zu wenige Teilnehmende mit Verbleib (mindestens {minimum} nötig, {n} vorhanden).",
        "Too few participants with a follow-up ({minimum} needed, {n} there).",
    ),
    "too_few_controls": (
        "Zu wenige Vergleichspersonen mit Verbleib (mindestens {minimum} nötig, {n} vorhanden).",
        "Too few comparison persons with a follow-up ({minimum} needed, {n} there).",
    ),
    "balance": (
        "Die Gruppen sind nach der Anpassung nicht vergleichbar genug: {names} weichen "
        "um mehr als {limit} Standardabweichungen ab.",
        "The groups are not balanced enough after adjustment: {names} differ by more "
        "than {limit} standard deviations.",
    ),
    "overlap": (
        "Zu wenig Überlappung: nur {share} der Teilnehmenden haben vergleichbare "
        "Personen in der Vergleichsgruppe (mindestens {minimum} nötig).",
        "Too little overlap: only {share} of participants have comparable persons in "
        "the comparison group (at least {minimum} needed).",
    ),
    "separation": (
        "Die Merkmale trennen Teilnehmende und Vergleichsgruppe vollständig: es gibt "
        "keine vergleichbaren Personen.",
        "The attributes separate participants and comparison group completely: there "
        "are no comparable persons.",
    ),
}

# The two groups, as the sentences name them: (German, English).
GROUPS = {
    "teilnahme": ("Teilnehmende", "participants"),
    "vergleich": ("Vergleichspersonen", "comparison persons"),
}

# The attributes the estimate adjusts for, as pages and sentences name them; an attribute
# merkmal_<name> of the deliveries is named by its <name>.
ATTRIBUTE_LABELS: dict[str, tuple[str, str]] = {
    "alter": ("Alter", "Age"),
    "langzeitleistungsbezug": ("Langzeitleistungsbezug", "Long-term benefit receipt"),
    "berufsabschluss": ("Berufsabschluss", "Vocational qualification"),
    "geschlecht_m": ("Geschlecht männlich", "Gender male"),
    "geschlecht_d": ("Geschlecht divers", "Gender diverse"),
}


def attribute_label(name: str, lang: str = "de") -> str:
    """How an attribute is named on pages and in sentences."""
    if name in ATTRIBUTE_LABELS:
        return ATTRIBUTE_LABELS[name][lang != "de"]
    words = name.removeprefix(MERKMAL_PREFIX).replace("_", " ")
    return words[:1].upper() + words[1:]


def settings_markdown() -> str:
    """The method's settings and the conditions for a point estimate, for docs/kpis.md."""
    from kohorte.define.contract import markdown_table

    rows = [
        ("outcome: in work at the follow-up", ", ".join(f"`{c}`" for c in IN_WORK)),
        ("caliper of the matching", f"{CALIPER_SD:g} standard deviations of the score's logit"),
        ("bootstrap resamples", f"{RESAMPLES} (seed {SEED})"),
        ("interval", f"percentiles {(1 - LEVEL) / 2 * 100:g} and {(1 + LEVEL) / 2 * 100:g}"),
        ("the plain sentence speaks of", HEADLINE),
        ("fewest participants with a follow-up", str(MIN_TREATED)),
        ("fewest comparison persons with a follow-up", str(MIN_CONTROLS)),
        ("largest |SMD| of an attribute after adjustment", f"{MAX_SMD:g}"),
        ("least share of participants matched", f"{MIN_SUPPORT_SHARE:.0%}"),
        ("follow-up timing: medians at most apart", f"{FOLLOW_UP_TOLERANCE_DAYS} days"),
        ("estimates by site and by entry year, at most", f"{SUBGROUP_LIMIT} each"),
    ]
    reasons = [(f"`{code}`", de) for code, (de, _en) in REASONS.items()]
    return (
        markdown_table(("setting", "value"), rows)
        + "\nNo point estimate is shown when:\n\n"
        + markdown_table(("reason", "sentence on the page"), reasons)
    )

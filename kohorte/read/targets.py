"""A card against its target (``kohorte.define.targets``), as every output says it."""

from __future__ import annotations

from dataclasses import dataclass

from kohorte.define.targets import Target
from kohorte.read import fmt
from kohorte.read.cards import SHOWN, Card

WORDS = {
    "de": {
        "mindestens": "mindestens",
        "hoechstens": "höchstens",
        "target": "Ziel",
        "met": "erreicht",
        "share": "{p} erreicht",
        "below": "{d} darunter",
        "above": "{d} darüber",
        "missed": "nicht erreicht",
        "points": "Pp.",
    },
    "en": {
        "mindestens": "at least",
        "hoechstens": "at most",
        "target": "Target",
        "met": "met",
        "share": "{p} reached",
        "below": "{d} below",
        "above": "{d} above",
        "missed": "not met",
        "points": "pp",
    },
}


@dataclass(frozen=True)
class Progress:
    """The target line under a card; ``share`` (0 to 1) for a bar where a count grows
    towards a minimum; ``met`` None where the value may not be shown."""

    text: str
    share: float | None
    met: bool | None


def target_value(target: Target, unit: str, lang: str) -> str:
    """The target as written on a card: "100", "33,3 %"."""
    return fmt.kpi_value(target.value, unit, lang)


def progress(card: Card, target: Target, lang: str) -> Progress:
    """How far the card's value is from its target. A value the read layer withholds
    (a small count, a protected figure) gets the target alone, never a distance that
    would give the value away."""
    words = WORDS[lang]
    head = f"{words['target']}: {words[target.direction]} "
    head += target_value(target, card.kpi.unit, lang)
    if card.state != SHOWN or card.value is None:
        return Progress(head, None, None)
    met = target.met(card.value)
    if card.kpi.unit == "rate" and not met:
        distance = f"{fmt.number(abs(card.value - target.value) * 100, lang, 1)} {words['points']}"
        side = "below" if card.value < target.value else "above"
        return Progress(f"{head} · {words[side].format(d=distance)}", None, False)
    if card.kpi.unit == "count" and target.direction == "mindestens" and target.value > 0:
        share = min(card.value / target.value, 1.0)
        shown = fmt.share(share, lang, 0)  # 99,6 % of the way is not "100 %"
        said = words["met"] if met else words["share"].format(p=shown)
        return Progress(f"{head} · {said}", share, met)
    return Progress(f"{head} · {words['met'] if met else words['missed']}", None, met)

"""The impact estimate: hand-computed fixtures for both estimators and the balance, the
conditions under which no point estimate is shown, and a planted effect recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kohorte import demo
from kohorte.build import wirkung
from kohorte.define import wirkung as rule


def _sample(treated_x, treated_y, control_x, control_y):
    x = np.array([*treated_x, *control_x], float)[:, None]
    treated = np.array([True] * len(treated_x) + [False] * len(control_x))
    outcome = np.array([*treated_y, *control_y], float)
    return x, treated, outcome


def test_weighting_by_hand_on_a_saturated_score():
    """One yes/no attribute: the score is each cell's share of participants (x = 0: 2 of 6,
    so 1/3; x = 1: 4 of 6, so 2/3), and a comparison person weighs p / (1 - p): 1/2 at
    x = 0, 2 at x = 1. Participants in work: 4 of 6. Comparison, weighted:
    (1/2 * 1 + 2 * 1) / (1/2 * 4 + 2 * 2) = 2,5 / 6. Effect: 4/6 - 2,5/6 = 1/4.
    Naive: 4/6 - 2/6 = 1/3. Balance: participants have x = 1 in 4 of 6, the comparison
    group in 2 of 6; both variances (n - 1) are 4/15, so the SMD before is
    (1/3) / sqrt(4/15) = 0,6455; after weighting the comparison group's mean of x is
    (2 * 2) / 6 = 4/6, as the participants': SMD 0."""
    x, treated, outcome = _sample(
        [0, 0, 1, 1, 1, 1], [1, 0, 1, 1, 1, 0], [0, 0, 0, 0, 1, 1], [1, 0, 0, 0, 1, 0]
    )
    point = wirkung.fit(x, treated, outcome, ["x"])
    assert point.scores[:6] == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3], abs=1e-6)
    assert point.att["gewichtung"] == pytest.approx(1 / 4, abs=1e-6)
    assert point.control_rate["gewichtung"] == pytest.approx(2.5 / 6, abs=1e-6)
    assert point.smd["vorher"]["x"] == pytest.approx((1 / 3) / np.sqrt(4 / 15), abs=1e-6)
    assert point.smd["gewichtung"]["x"] == pytest.approx(0, abs=1e-6)
    assert point.off_support == 0


def test_matching_by_hand_with_one_attribute():
    """One continuous attribute: the score's logit is a + b * x, so the nearest comparison
    person on it is the nearest on x, and the caliper (0,2 standard deviations of the
    logit) is 0,2 * sd(x) = 0,2 * 3,02 = 0,60 on x. Participant x = 10 lies beyond the
    comparison group's largest x (8): outside the common support. x = 4,8 has its nearest
    at 6 (1,2 away): no partner. x = 1, 2, 3 match 0,9, 2,05 and 3,5 (in work: 1, 0, 1
    against 0, 1, 0), so the effect is 2/3 - 1/3 = 1/3."""
    x, treated, outcome = _sample(
        [1, 2, 3, 4.8, 10], [1, 0, 1, 1, 1], [0.9, 2.05, 3.5, 6, 7, 0, 8], [0, 1, 0, 1, 1, 0, 0]
    )
    point = wirkung.fit(x, treated, outcome, ["x"])
    assert rule.CALIPER_SD * x.std() == pytest.approx(0.604, abs=0.001)
    assert (point.off_support, point.unmatched) == (1, 1)
    assert point.treated_rate["matching"] == pytest.approx(2 / 3)
    assert point.control_rate["matching"] == pytest.approx(1 / 3)
    assert point.att["matching"] == pytest.approx(1 / 3)
    # balance after matching: participants 1, 2, 3 (mean 2) against 0,9, 2,05, 3,5 (2,15)
    spread = np.sqrt((np.var([1, 2, 3, 4.8, 10], ddof=1) + np.var(x[5:], ddof=1)) / 2)
    assert point.smd["matching"]["x"] == pytest.approx((2 - 2.15) / spread)


def _world(treated: int, controls: int, shift: float = 0.0, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = treated + controls
    frame = pd.DataFrame(
        {
            "teilnahme": [True] * treated + [False] * controls,
            "in_arbeit": rng.random(n) < 0.3,
            "a": rng.normal(size=n),
        }
    )
    frame.loc[frame["teilnahme"], "a"] += shift
    return frame


def test_too_few_persons_give_reasons_and_no_estimate():
    result = wirkung.estimate(_world(49, 99), ["a"], resamples=10)
    assert not result.shown and not result.att
    assert [r["code"] for r in result.reasons] == ["too_few_treated", "too_few_controls"]
    assert result.reasons[0] == {"code": "too_few_treated", "minimum": 50, "n": 49}
    assert result.naive is not None  # the naive difference is always there


def test_attributes_that_separate_the_groups_give_no_estimate():
    frame = _world(60, 120)
    frame["a"] = frame["teilnahme"].astype(float)
    result = wirkung.estimate(frame, ["a"], resamples=10)
    assert [r["code"] for r in result.reasons] == ["separation"] and not result.att


def test_thin_overlap_is_said_and_hides_the_estimate():
    """Participants shifted four standard deviations: most have no comparable person."""
    result = wirkung.estimate(_world(80, 200, shift=4.0), ["a"], resamples=20)
    assert "overlap" in [r["code"] for r in result.reasons]
    assert result.off_support + result.unmatched > 0.1 * 80
    assert not result.shown


def test_an_attribute_without_variation_is_not_used():
    frame = _world(60, 120)
    frame["konstant"] = 1.0
    result = wirkung.estimate(frame, ["a", "konstant"], resamples=10)
    assert result.attributes == ["a"]


def test_the_same_data_give_the_same_interval():
    world = pd.DataFrame(demo.comparison_world(3, 0.1))
    first, again = (wirkung.estimate(world, list(demo.MERKMALE), resamples=60) for _ in range(2))
    assert first.interval == again.interval and first.att == again.att
    assert first.shown and first.failed_resamples == 0


@pytest.mark.slow
@pytest.mark.parametrize("effect", [0.1, 0.0])
def test_a_planted_effect_is_covered_and_the_naive_difference_misses_it(effect):
    """Eight seeds with the nightly settings (500 resamples): the interval covers the
    planted effect in at least seven for both estimators, and the naive difference is off
    by more than five points on average (longer unemployment makes taking part likelier
    and work less likely). ``scripts/wirkung_coverage.py`` runs 50 seeds."""
    covered = {name: 0 for name in wirkung.ESTIMATORS}
    naive = []
    for seed in range(8):
        world = pd.DataFrame(demo.comparison_world(seed, effect))
        result = wirkung.estimate(world, list(demo.MERKMALE), seed=rule.SEED + seed)
        assert result.shown, result.reasons
        naive.append(result.naive)
        for name in wirkung.ESTIMATORS:
            low, high = result.interval[name]
            covered[name] += low <= effect <= high
    assert min(covered.values()) >= 7, covered
    assert np.mean(naive) < effect - 0.05

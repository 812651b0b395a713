"""How often the impact estimate's interval covers a planted effect (``make wirkung-check``).

For each seed, ``kohorte.demo.comparison_world`` draws participants and a comparison group
whose attributes drive both taking part and finding work, with a known effect planted on
the participants. The estimate (``kohorte.build.wirkung``, with the nightly build's
settings) should cover the planted effect in about 95 % of the seeds, and the naive
difference should miss it. Prints one table per planted effect.

    python scripts/wirkung_coverage.py [--seeds 50] [--effects 0.1,0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from kohorte import demo
from kohorte.build import wirkung
from kohorte.define import wirkung as rule


def run(seeds: int, effect: float) -> dict[str, dict[str, float]]:
    """Coverage, mean estimate, mean interval width per estimator, and the naive mean."""
    found: dict[str, list] = {name: [] for name in wirkung.ESTIMATORS}
    naive = []
    for seed in range(seeds):
        world = pd.DataFrame(demo.comparison_world(seed, effect))
        result = wirkung.estimate(world, list(demo.MERKMALE), seed=rule.SEED + seed)
        naive.append(result.naive)
        for name in wirkung.ESTIMATORS:
            low, high = result.interval[name]
            found[name].append((result.att[name], low, high, result.shown))
    figures = {}
    for name, rows in found.items():
        att, low, high, shown = (np.array(column) for column in zip(*rows, strict=True))
        figures[name] = {
            "coverage": float(((low <= effect) & (effect <= high)).mean()),
            "mean": float(att.mean()),
            "width": float((high - low).mean()),
            "shown": float(shown.mean()),
        }
    figures["naive"] = {"mean": float(np.mean(naive))}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--effects", default="0.1,0")
    args = parser.parse_args()
    for effect in (float(e) for e in args.effects.split(",")):
        started = time.perf_counter()
        figures = run(args.seeds, effect)
        seconds = time.perf_counter() - started
        print(f"\nplanted effect {effect * 100:+.1f} points, {args.seeds} seeds, "
              f"{rule.RESAMPLES} resamples each ({seconds:.0f} s)")  # fmt: skip
        print("| estimator | covered | mean estimate | mean interval width | shown |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name in wirkung.ESTIMATORS:
            f = figures[name]
            print(f"| {name} | {f['coverage']:.0%} | {f['mean'] * 100:+.1f} | "
                  f"{f['width'] * 100:.1f} | {f['shown']:.0%} |")  # fmt: skip
        print(f"| naive difference | | {figures['naive']['mean'] * 100:+.1f} | | |")


if __name__ == "__main__":
    main()

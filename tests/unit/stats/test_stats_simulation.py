"""Simulation: repeated stratified samples from a known population, raked to age and sex
margins; the 95% intervals for the population mean must cover the truth 93–97% of the time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey_pipeline.stats import Design

REPS = 1000


def _population(rng: np.random.Generator) -> pd.DataFrame:
    n = 20_000
    region = rng.choice(["north", "south"], size=n, p=[0.3, 0.7])
    age = rng.choice(["18-34", "35-54", "55+"], size=n, p=[0.3, 0.4, 0.3])
    sex = rng.choice(["f", "m"], size=n)
    mu = 40 + 8 * (age == "35-54") + 15 * (age == "55+") + 6 * (sex == "f") + 5 * (region == "north")
    y = mu + rng.normal(0, 12, size=n)
    return pd.DataFrame({"region": region, "age": age, "sex": sex, "y": y})


def test_raked_interval_coverage():
    rng = np.random.default_rng(5)
    pop = _population(rng)
    truth = pop["y"].mean()
    margins = {"age": pop["age"].value_counts().to_dict(), "sex": pop["sex"].value_counts().to_dict()}
    sizes = {"north": 150, "south": 150}  # north oversampled
    groups = {k: g.index.to_numpy() for k, g in pop.groupby("region")}
    covered = 0
    for _ in range(REPS):
        idx = np.concatenate([rng.choice(groups[r], size=m, replace=False) for r, m in sizes.items()])
        s = pop.loc[idx].reset_index(drop=True)
        npop = s["region"].map({r: len(g) for r, g in groups.items()})
        s["w"] = npop / s["region"].map(sizes)
        s["N"] = npop
        d = Design(s, weights="w", strata="region", fpc="N").rake(margins)
        res = d.mean("y")
        covered += bool(res["ci_low"].iloc[0] <= truth <= res["ci_high"].iloc[0])
    coverage = covered / REPS
    print(f"coverage of raked 95% intervals: {coverage:.3f}")
    assert 0.93 <= coverage <= 0.97

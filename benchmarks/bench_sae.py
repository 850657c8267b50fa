"""Benchmark: survey_pipeline.stats.fay_herriot at many areas.

Synthetic areas (fixed seed): three covariates plus an intercept, sampling variances between
0.01 and 0.08, a variance component of 0.03, and 5% of the areas without a sample. Times the
whole call (fit, per-area EBLUP and MSE, the tidy tables) for each method, best of
``--repeat`` runs.

    python benchmarks/bench_sae.py [--areas 1000 5000 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from survey_pipeline.stats import fay_herriot


def areas(m: int, seed: int = 1) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"area{i}" for i in range(m)], name="area")
    X = pd.DataFrame(rng.normal(size=(m, 3)), index=idx, columns=["x1", "x2", "x3"])
    X.insert(0, "(Intercept)", 1.0)
    D = rng.uniform(0.01, 0.08, m)
    y = X.to_numpy() @ np.array([0.5, 0.3, -0.2, 0.1]) + rng.normal(scale=np.sqrt(0.03), size=m)
    y = y + rng.normal(scale=np.sqrt(D))
    y[rng.random(m) < 0.05] = np.nan
    return pd.Series(y, index=idx), pd.Series(D, index=idx), X


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--areas", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'areas':>8} {'method':>6} {'iterations':>10} {'seconds':>9}")
    for m in args.areas:
        y, D, X = areas(m)
        for method in ("REML", "ML", "FH"):
            best = np.inf
            for _ in range(args.repeat):
                t = time.perf_counter()
                fit = fay_herriot(y, D, X, method)
                best = min(best, time.perf_counter() - t)
            print(f"{m:>8} {method:>6} {fit.iterations:>10} {best:>9.4f}")


if __name__ == "__main__":
    main()

"""Benchmark: the whole analysis core (weighting, all indicators, all groups, comparisons).

The fixture city's clean responses are resampled (with replacement) to N responses spread over
5 waves and 30 neighborhoods (6 districts); targets are the resampled frame's own margins x 50.
Then :func:`survey_pipeline.analysis.results.analyze_frame` runs with the default settings (four
demographic groups, every indicator of the resident instrument, every comparison kind).

    python benchmarks/bench_analysis.py [--sizes 100000 1000000] [--beats] [--small-area both]

``--beats``: 3 beats per neighborhood, 30% of respondents giving theirs (as the fixture city);
``--small-area on|off|both``: with or without the modeled (Fay–Herriot) estimates (``both``
runs the analysis twice and prints the time the modeling adds). Prints the wall time of each
stage and the number of rows of each results table.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the repository's root, not benchmarks/, on the path
    sys.path.insert(0, str(ROOT))

from survey_pipeline.analysis import results as results_module  # noqa: E402
from survey_pipeline.analysis.results import analyze_frame  # noqa: E402
from survey_pipeline.analysis.settings import AnalysisSettings, WeightingSettings  # noqa: E402
from tests.unit.analysis.fixture_city import city_frame, city_instrument  # noqa: E402

WAVES = [f"{2022 + i}-spring" for i in range(5)]
N_NBHD = 30


def synthetic(n: int, seed: int = 1, beats: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    base = city_frame()
    rng = np.random.default_rng(seed)
    f = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
    f["response_id"] = [f"b{i}" for i in range(n)]
    f["wave"] = np.asarray(WAVES)[rng.integers(0, len(WAVES), n)]
    nb = rng.integers(1, N_NBHD + 1, n)
    f["neighborhood"] = nb.astype(str)
    f["district"] = np.char.add("d", ((nb - 1) // 5).astype(str))
    f["beat"] = None
    if beats:
        b = np.char.add(nb.astype(str), np.char.add("-", rng.integers(1, 4, n).astype(str))).astype(object)
        f["beat"] = np.where(rng.random(n) < 0.3, b, None)
    rows = []
    for var in ("age_group", "sex", "race_ethnicity", "tenure", "neighborhood"):
        col = f[var].replace({"no_rent": "rent", "another_gender": None, "aian": "other", "nhpi": "other",
                              "other_race": "other", "multiracial": "other"}) if var != "neighborhood" else f[var]
        cnt = col.groupby(f["wave"]).value_counts()
        for (w, c), k in cnt.items():
            rows.append({"wave": w, "area": "city", "variable": var, "category": c, "population": 50.0 * k})
    t = pd.DataFrame(rows)
    # every margin of a wave must describe the same total
    tot = t[t["variable"] == "neighborhood"].groupby("wave")["population"].sum()
    t["population"] = t["population"] * t["wave"].map(tot) / t.groupby(["wave", "variable"])["population"].transform("sum")
    return f, t


_ORIGINAL = results_module._modeled_tasks
_CAPTURED: list[tuple] = []


def _capture(*args):
    _CAPTURED.append(args)
    return _ORIGINAL(*args)


def main() -> None:
    results_module._modeled_tasks = _capture  # keeps the modeling's inputs to time it alone
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    ap.add_argument("--beats", action="store_true", help="3 beats per neighborhood, 30%% of respondents giving theirs")
    ap.add_argument("--small-area", choices=["on", "off", "both"], default="on")
    a = ap.parse_args()
    inst = city_instrument()
    modes = {"on": [True], "off": [False], "both": [False, True]}[a.small_area]
    for n in a.sizes:
        t0 = time.perf_counter()
        frame, targets = synthetic(n, beats=a.beats)
        build = time.perf_counter() - t0
        took = {}
        for sae in modes:
            stamps = [("start", time.perf_counter())]
            t1 = time.perf_counter()
            run = analyze_frame(frame, inst, targets=targets,
                                weighting=WeightingSettings(recode={"tenure": {"no_rent": "rent"}}, trim=None),
                                settings=AnalysisSettings(small_area=sae),
                                progress=lambda m, st=stamps: st.append((m, time.perf_counter())))
            t2 = time.perf_counter()
            took[sae] = t2 - t1
            stamps.append(("end", t2))
            stages = ", ".join(f"{a_[0]} {b_[1] - a_[1]:.1f}s" for a_, b_ in itertools.pairwise(stamps))
            sizes = ", ".join(f"{k} {len(v):,}" for k, v in run.tables.items())
            print(f"n={n:>9,}  small_area={'on' if sae else 'off'}  build {build:5.1f}s  "
                  f"analysis {t2 - t1:6.1f}s  [{stages}]")
            print(f"             rows: {sizes}")
        if len(took) == 2:
            print(f"             modeling adds {took[True] - took[False]:.1f}s "
                  f"({(took[True] - took[False]) / took[False]:.0%} of the analysis without it)")
        if True in took and _CAPTURED:
            # the modeling alone, in this process (it runs beside the comparisons in the analysis)
            tasks, finish = _ORIGINAL(*_CAPTURED[-1])
            t3 = time.perf_counter()
            rows, _diag = finish([t() for t in tasks])
            print(f"             modeling alone (one process): {time.perf_counter() - t3:.1f}s for "
                  f"{len(rows):,} modeled rows")


if __name__ == "__main__":
    main()

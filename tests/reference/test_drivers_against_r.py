"""Key-driver models on the demo's raked (and trimmed) design, against R's survey package.

``export_drivers_frame.py`` wrote the last demo wave's analysis frame (``drivers_frame.csv``) and
its raking margins (``drivers_margins.csv``); ``make_drivers.R`` fitted the models with
``calibrate(calfun = "raking")``, the analysis' trimming and ``svyglm`` and wrote
``r_drivers.csv``. CI only reads them. Here the design is built as the analysis builds it
(strata = wave, rake to the margins within the analysis' bounds, trim at 6 x the mean weight)
and :func:`~survey_pipeline.analysis.drivers.fit_drivers` (the function the ``drivers`` table
calls) is compared at 1e-8 relative: coefficients, SEs, interval limits, p-values and df,
citywide and in each district.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.analysis.drivers import fit_drivers
from survey_pipeline.stats import Design

HERE = Path(__file__).parent
RTOL = 1e-8
DRIVERS = ["sat_police_response", "sat_police_visibility", "sat_police_prevention", "sat_police_communication"]
CASES = [f"{y} {a}" for y in ("sat_police_overall", "trust_overall") for a in ("city", "central", "east", "north", "south")]


@cache
def design() -> Design:
    fr = pd.read_csv(HERE / "drivers_frame.csv", keep_default_na=True)
    mg = pd.read_csv(HERE / "drivers_margins.csv", keep_default_na=False)
    fr = fr.assign(wave="2026-spring")
    margins = {("wave", f"m_{v}"): {("2026-spring", c): float(p) for c, p in zip(g["category"], g["population"],
                                                                                   strict=True)}
               for v, g in mg.groupby("variable", sort=False)}
    d = Design(fr, weights="w0", strata="wave", lonely_psu="adjust").rake(margins, bounds=(0.1, 12.0),
                                                                            max_iter=500, tol=1e-13)
    return d.trim(upper={"2026-spring": 6.0 * float(d.weights.mean())}, by="wave")


@cache
def r_values() -> pd.DataFrame:
    return pd.read_csv(HERE / "r_drivers.csv").set_index(["case", "term", "quantity"])["value"]


@pytest.mark.parametrize("case", CASES)
def test_driver_model_matches_r(case):
    d = design()
    outcome, area = case.split()
    y = d.data[outcome].to_numpy(float)
    x = d.data[DRIVERS].to_numpy(float)
    dom = np.ones(d.n, bool) if area == "city" else (d.data["district"] == area).to_numpy()
    rows, _r2 = fit_drivers(d, y, x, DRIVERS, dom)
    r = r_values()
    assert d.trim_report is not None and d.trim_report.n_trimmed_high == 6  # the trimming is exercised
    for q, col in (("estimate", "estimate"), ("se", "se"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("p", "p")):
        want = np.array([r[(case, t, q)] for t in DRIVERS])
        assert rows[col].to_numpy(float) == pytest.approx(want, rel=RTOL), q
    assert rows["df"].iloc[0] == r[(case, "(model)", "df")]
    assert rows["n"].iloc[0] == r[(case, "(model)", "n")]


def test_intercept_and_full_design_df_differ():
    """The df is that of the complete cases in the domain (R), not the whole design's: the
    p-values would differ beyond the tolerance otherwise (so the comparison above checks it)."""
    d = design()
    n = int(r_values()[("trust_overall central", "(model)", "n")])
    assert r_values()[("trust_overall central", "(model)", "df")] == n - 1 + 1 - 5
    assert d.degf - 4 != n - 5

"""The analysis' direct estimate rows of domains against R (r_domain_rows.csv, made by
make_domain_rows.R; CI needs no R), end to end through ``estimate_indicators`` on the analysis'
own raked design (strata = wave, a PSU per respondent).

Each domain row (a wave's city, wave x neighborhood, wave x neighborhood x sex) has R's
``degf(subset(design, domain))`` as its df, the logit interval of ``svyciprop`` on that subset,
the t interval of the mean on that df, and the Korn-Graubard interval with that df and the
domain's respondents, at 1e-8 relative. R's own ``svyciprop(method = "beta")`` uses ``nrow()`` of
the subset, which for a calibrated design is the whole sample; the test shows how little that
moves the interval (make_domain_rows.R).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.analysis.indicators import estimate_indicators
from survey_pipeline.analysis.settings import AnalysisSettings

from .test_pairs_against_r import _raked, _specs, city

HERE = Path(__file__).parent
RTOL = 1e-8


@cache
def r_values() -> pd.Series:
    r = pd.read_csv(HERE / "r_domain_rows.csv")
    return r.set_index(["case", "domain", "quantity"])["value"]


def _rows(ci_method: str) -> pd.DataFrame:
    d = _raked(city(), {"area": "neighborhood"})
    est = estimate_indicators(d, _specs(), AnalysisSettings(groups=("sex",), min_n=5, ci_method=ci_method),
                              levels=["city", "neighborhood"])
    est = est[(est["area_level"] == "neighborhood") | (est["group_dim"] == "all")]
    case = np.where(est["area_level"] == "city", "city",
                    np.where(est["group_dim"] == "all", "neighborhood", "neighborhood:sex"))
    dom = np.where(est["area_level"] == "city", est["wave"],
                   np.where(est["group_dim"] == "all", est["wave"] + " " + est["area"],
                            est["wave"] + " " + est["area"] + " " + est["group"]))
    return est.assign(case=case, domain=dom)


@pytest.mark.parametrize("ci_method", ["logit", "beta"])
def test_domain_rows_match_r(ci_method):
    r = r_values()
    est = _rows(ci_method)
    assert len(est) == 2 * (3 + 12 + 24)
    checked = 0
    for row in est.itertuples():
        key = "share" if row.statistic == "share" else "score"
        assert row.df == r[(row.case, row.domain, "df")], (row.case, row.domain)
        assert row.estimate == pytest.approx(r[(row.case, row.domain, f"{key}:estimate")], rel=RTOL)
        assert row.se == pytest.approx(r[(row.case, row.domain, f"{key}:se")], rel=RTOL)
        suffix = ":beta" if key == "share" and ci_method == "beta" else ""
        assert row.ci_low == pytest.approx(r[(row.case, row.domain, f"{key}:ci_low{suffix}")], rel=RTOL)
        assert row.ci_high == pytest.approx(r[(row.case, row.domain, f"{key}:ci_high{suffix}")], rel=RTOL)
        if key == "share":
            assert row.n == r[(row.case, row.domain, "share:n")]
        checked += 1
    assert checked == len(est)
    # the domains' df are far below the whole design's (717): a neighborhood-sex cell has 6-57
    assert est.loc[est["case"] == "neighborhood:sex", "df"].max() < 60
    assert (est["df"] < 717).all()


def test_r_korn_graubard_with_nrow_is_wider():
    """R's svyciprop(method = "beta") on a subset of a calibrated design takes nrow() = the whole
    sample (720) where Korn & Graubard's degrees-of-freedom adjustment has the domain's sample
    size: its effective n is (t_719 / t_df)^2 times smaller than with the domain's respondents,
    so its interval holds the analysis' one: 0.0005 wider at a wave's city (df 239), up to 0.03
    in a neighborhood (df 20-103) and 0.11 in a neighborhood-sex cell of 7 respondents (df 6)."""
    r = r_values().unstack("quantity")
    assert (r["share:ci_low:beta_nrow"] <= r["share:ci_low:beta"] + 1e-12).all()
    assert (r["share:ci_high:beta_nrow"] >= r["share:ci_high:beta"] - 1e-12).all()
    wider = (r["share:ci_high:beta_nrow"] - r["share:ci_low:beta_nrow"]) - (r["share:ci_high:beta"] - r["share:ci_low:beta"])
    assert wider.loc["city"].max() < 0.001 and 0.1 < wider.loc["neighborhood:sex"].max() < 0.15

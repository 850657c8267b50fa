"""Covariance of domain means, area pairs and difference-in-differences against R's survey.

``make_pairs.R`` writes ``city_three.csv`` (a small synthetic three-wave city) and
``r_pairs.csv``; CI only reads them (R version in ``r_session_pairs.txt``). On the analysis'
own design (strata = wave, every row its own PSU, raked to joint wave x variable margins) R
linearizes ratios of domain totals with ``svycontrast``; on the api designs (strata + fpc,
clusters + fpc, a lonely PSU) it is ``vcov(svyby(..., covmat = TRUE))``. Compared at 1e-8
relative (covariances: 1e-8 of the largest variance), per-cell and row-level paths.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.analysis._domains import cell_domains
from survey_pipeline.stats import Design, DomainMeans

HERE = Path(__file__).parent
RTOL = 1e-8
WAVES = ["w1", "w2", "w3"]
POP = {
    "w1": {"age": {"young": 5200, "mid": 6800, "old": 8000}, "sex": {"female": 10400, "male": 9600},
           "area": {"A": 7000, "B": 6000, "C": 5000, "D": 2000}},
    "w2": {"age": {"young": 5000, "mid": 7000, "old": 8400}, "sex": {"female": 10600, "male": 9800},
           "area": {"A": 7200, "B": 6100, "C": 5000, "D": 2100}},
    "w3": {"age": {"young": 5100, "mid": 7100, "old": 8300}, "sex": {"female": 10700, "male": 9800},
           "area": {"A": 7300, "B": 6200, "C": 4900, "D": 2100}},
}


def _raked(df: pd.DataFrame, names: dict[str, str] | None = None) -> Design:
    names = names or {}
    margins = {("wave", names.get(v, v)): {(w, c): float(p) for w in POP for c, p in POP[w][v].items()}
               for v in ("age", "sex", "area")}
    return Design(df.rename(columns=names), weights="w0", strata="wave").rake(margins, max_iter=200, tol=1e-13)


@cache
def city() -> pd.DataFrame:
    return pd.read_csv(HERE / "city_three.csv")


@cache
def design() -> Design:
    return _raked(city())


@cache
def r_values() -> pd.DataFrame:
    r = pd.read_csv(HERE / "r_pairs.csv")
    return r.pivot_table(index=["case", "domain"], columns="quantity", values="value")


def _dm(path: str) -> DomainMeans:
    d = design()
    if path == "cells":
        cd = cell_domains(d, ["wave", "area", "age", "sex"])
        assert cd is not None
        return cd.dm
    return DomainMeans(d)


def _cov_of(case: str, labels: list[str]) -> np.ndarray:
    ref = r_values().loc[case]["cov"]
    return np.array([[ref.loc[f"{a}|{b}"] for b in labels] for a in labels])


@pytest.mark.parametrize("path", ["cells", "rows"])
@pytest.mark.parametrize("var", ["y", "score"])
def test_covariance_of_wave_area_means(var, path):
    dm = _dm(path)
    cov = dm.covariance(var, ["wave", "area"])
    labels = [f"{w} {a}" for w, a in cov.index]
    ref = _cov_of(f"cov:{var}", labels)
    assert cov.shape == (12, 12)
    assert cov.to_numpy() == pytest.approx(ref, rel=RTOL, abs=RTOL * np.max(np.diag(ref)))
    # waves are strata raked on their own: R has no covariance across waves either
    wave = np.array([lab.split()[0] for lab in labels])
    assert np.max(np.abs(ref[np.not_equal.outer(wave, wave)])) < 1e-12 * np.max(np.diag(ref))
    # ... but the areas of one wave covary through the raking
    same = np.equal.outer(wave, wave) & ~np.eye(12, dtype=bool)
    assert np.max(np.abs(ref[same])) > 1e-3 * np.max(np.diag(ref))
    m = r_values().loc[f"mean:{var}"].loc[labels]
    means = dm.means(var, [["wave", "area"]])[0]
    assert means["estimate"].to_numpy() == pytest.approx(m["estimate"].to_numpy(), rel=RTOL)
    assert means["se"].to_numpy() == pytest.approx(m["se"].to_numpy(), rel=RTOL)


@pytest.mark.parametrize("path", ["cells", "rows"])
@pytest.mark.parametrize("var", ["y", "score"])
def test_pairwise_contrasts(var, path):
    got = _dm(path).pairwise_contrasts(var, "wave", ["wave", "area"])
    got.index = got["wave"] + " " + got["area"] + " " + got["area_ref"]
    ref = r_values().loc[f"pair:{var}"]
    assert len(got) == len(ref) == 18
    got = got.loc[ref.index]
    assert got["diff"].to_numpy() == pytest.approx(ref["diff"].to_numpy(), rel=RTOL)
    assert got["se_diff"].to_numpy() == pytest.approx(ref["se_diff"].to_numpy(), rel=RTOL)
    # ignoring the covariance (what area_pairs did) is off by more than the tolerance
    assert np.max(np.abs(ref["se_diff_independent"] / ref["se_diff"] - 1)) > 1e-3


def _specs():
    from survey_pipeline.analysis.indicators import IndicatorSpec

    return [IndicatorSpec("y", "safety", "share", "item", ("y",), "share answering 1", positive=(1.0,)),
            IndicatorSpec("score", "safety", "score", "item", ("score",), "mean score")]


@pytest.mark.parametrize("path", ["cells", "rows"])
def test_area_pairs_rows_match_r(path):
    """End to end: the comparisons table's area_pair rows (areas as districts). With the
    weighting-cell columns ``_m_*`` (as weight_waves adds them) the cell path is used."""
    from survey_pipeline.analysis.comparisons import compare_all
    from survey_pipeline.analysis.indicators import estimate_indicators
    from survey_pipeline.analysis.settings import AnalysisSettings

    df = city().assign(_m_age=city()["age"], _m_sex=city()["sex"]) if path == "cells" else city()
    d = _raked(df, {"area": "district"})
    assert (cell_domains(d, ["wave", "district"]) is not None) == (path == "cells")
    specs = _specs()
    est = estimate_indicators(d, specs, AnalysisSettings(groups=("sex",), min_n=5), levels=["city", "district"])
    comp = compare_all(d, est, specs, WAVES, min_n=5)
    for var in ("y", "score"):
        rows = comp[(comp["kind"] == "area_pair") & (comp["indicator"] == var)]
        rr = r_values().loc[f"pair:{var}"]
        assert len(rows) == len(rr)
        idx = rows["wave"] + " " + rows["area"] + " " + rows["area_ref"]
        got = pd.DataFrame({"se": rows["se"].to_numpy(float), "estimate": rows["estimate"].to_numpy(float)},
                           index=idx.to_numpy()).loc[rr.index]
        assert got["se"].to_numpy() == pytest.approx(rr["se_diff"].to_numpy(), rel=RTOL), var
        assert got["estimate"].to_numpy() == pytest.approx(rr["diff"].to_numpy(), rel=RTOL), var


@pytest.mark.parametrize("path", ["cells", "rows"])
@pytest.mark.parametrize("start", ["w2", "w3"])
def test_did_rows_match_r(start, path):
    """The evaluation's DiD rows: treated A and B, pre waves pooled, one row per post wave."""
    from survey_pipeline.analysis.evaluation import did
    from survey_pipeline.analysis.settings import Evaluation

    df = city().assign(_m_age=city()["age"], _m_sex=city()["sex"]) if path == "cells" else city()
    d = _raked(df, {"area": "neighborhood"})
    assert (cell_domains(d, ["wave", "neighborhood"]) is not None) == (path == "cells")
    out = did(d, _specs(), Evaluation("effort", ("A", "B"), start), WAVES, min_n=5)
    posts = WAVES[WAVES.index(start):]
    assert len(out) == 2 * len(posts)
    for var in ("y", "score"):
        rows = out[out["indicator"] == var].set_index("wave")
        rr = r_values().loc[f"did:{var}"]
        for post in posts:
            ref = rr.loc[f"start={start} post={post}"]
            assert rows.loc[post, "estimate"] == pytest.approx(ref["diff"], rel=RTOL)
            assert rows.loc[post, "se"] == pytest.approx(ref["se_diff"], rel=RTOL)
        # the sum of the four variances (what did used) is off by more than the tolerance
        assert max(abs(rr.loc[f"start={start} post={p}", "se_diff_independent"]
                       / rr.loc[f"start={start} post={p}", "se_diff"] - 1) for p in posts) > 1e-3


def _api(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / f"api{name}.csv")


def _api_designs() -> dict[str, tuple[Design, list[str], list[str]]]:
    strat = _api("strat")
    lonely = pd.concat([strat[strat["stype"] != "H"], strat[strat["stype"] == "H"].iloc[:1]])
    by = ["awards", "sch.wide"]
    out = {"api-strat:awards.sch.wide": (Design(strat, weights="pw", strata="stype", fpc="fpc"), by, by),
           "api-clus1:stype": (Design(_api("clus1"), weights="pw", clusters="dnum", fpc="fpc"), ["stype"],
                               ["stype"])}
    for opt in ("adjust", "average"):
        out[f"api-lonely-{opt}:awards.sch.wide"] = (
            Design(lonely, weights="pw", strata="stype", fpc="fpc", lonely_psu=opt), by, by)
    return out


@pytest.mark.parametrize("case", ["api-strat:awards.sch.wide", "api-clus1:stype", "api-lonely-adjust:awards.sch.wide",
                                  "api-lonely-average:awards.sch.wide"])
@pytest.mark.parametrize("cells", [True, False])
def test_covariance_on_api_designs(case, cells):
    d, by, cell_cols = _api_designs()[case]
    dm = DomainMeans(d, cells=cell_cols if cells else None)
    cov = dm.covariance("api00", by)
    labels = [".".join(map(str, k if isinstance(k, tuple) else (k,))) for k in cov.index]
    ref = _cov_of(case, labels)
    assert cov.to_numpy() == pytest.approx(ref, rel=RTOL, abs=RTOL * np.max(np.diag(ref)))
    est = r_values().loc[case]["estimate"].dropna().loc[labels]
    assert dm.means("api00", [by])[0]["estimate"].to_numpy() == pytest.approx(est.to_numpy(), rel=RTOL)

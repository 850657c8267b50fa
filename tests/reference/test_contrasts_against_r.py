"""Area vs rest of the city and group vs rest on a raked design, against R's survey package.

``make_contrasts.R`` writes ``city_small.csv`` (a small synthetic two-wave city) and
``r_contrasts.csv``; CI only reads them. The design is the analysis' own (strata = wave, every
row its own PSU, raked to joint wave x variable margins); both sides of each difference are
domains of that one design, so the SE of the difference includes their covariance. Compared at
1e-8 relative, for the per-cell path (``CellDomains``) and the row-level path.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.analysis._domains import cell_domains
from survey_pipeline.analysis.comparisons import contrasts
from survey_pipeline.stats import Design

HERE = Path(__file__).parent
RTOL = 1e-8

POP = {
    "w1": {"age": {"young": 5200, "mid": 6800, "old": 8000}, "sex": {"female": 10400, "male": 9600},
           "area": {"A": 7000, "B": 6000, "C": 5000, "D": 2000}},
    "w2": {"age": {"young": 5000, "mid": 7000, "old": 8400}, "sex": {"female": 10600, "male": 9800},
           "area": {"A": 7200, "B": 6100, "C": 5000, "D": 2100}},
}

# case -> (parent, child, known)
CASES = {
    "area_vs_rest": (["wave"], ["wave", "area"], None),
    "group_area_vs_rest": (["wave", "sex"], ["wave", "sex", "area"], None),
    "group_vs_rest": (["wave", "area"], ["wave", "area", "age"], "age"),
    "group_vs_rest_city": (["wave"], ["wave", "age"], "age"),
}


@cache
def design() -> Design:
    df = pd.read_csv(HERE / "city_small.csv")
    margins = {("wave", v): {(w, c): float(p) for w in POP for c, p in POP[w][v].items()} for v in ("age", "sex", "area")}
    return Design(df, weights="w0", strata="wave").rake(margins, max_iter=200, tol=1e-13)


@cache
def r_values() -> pd.DataFrame:
    r = pd.read_csv(HERE / "r_contrasts.csv")
    return r.pivot_table(index=["case", "domain"], columns="quantity", values="value")


@pytest.mark.parametrize("path", ["cells", "rows"])
@pytest.mark.parametrize("var", ["y", "score"])
@pytest.mark.parametrize("case", list(CASES))
def test_contrast_matches_r(case, var, path):
    d = design()
    parent, child, known = CASES[case]
    cd = cell_domains(d, ["wave", "area", "age", "sex"]) if path == "cells" else None
    if path == "cells":
        assert cd is not None
    got = contrasts(d, d.data[var].to_numpy(float), parent, child, known=known, cd=cd)
    got["domain"] = got[child].astype(str).agg(" ".join, axis=1)
    ref = r_values().loc[f"{case}:{var}"]
    m = got.set_index("domain").loc[ref.index]
    assert len(m) == len(ref) > 0
    for q in ("estimate", "se", "estimate_ref", "se_ref", "diff", "se_diff"):
        assert m[q].to_numpy(float) == pytest.approx(ref[q].to_numpy(float), rel=RTOL), q
    # the covariance matters: ignoring it would be off by more than the tolerance
    indep = np.sqrt(m["se"] ** 2 + m["se_ref"] ** 2).to_numpy(float)
    assert np.max(np.abs(indep / m["se_diff"].to_numpy(float) - 1)) > 1e-3


def test_comparisons_table_rows_match_r():
    """End to end: the comparison rows of a group's area vs rest and of the equity view."""
    from survey_pipeline.analysis.comparisons import compare_all
    from survey_pipeline.analysis.indicators import IndicatorSpec, estimate_indicators
    from survey_pipeline.analysis.settings import AnalysisSettings

    d0 = design()
    d = Design(d0.data.rename(columns={"area": "district", "age": "age_group"}), weights="w0", strata="wave").rake(
        {("wave", {"age": "age_group", "area": "district"}.get(v, v)): {(w, c): float(p) for w in POP
                                                                        for c, p in POP[w][v].items()}
         for v in ("age", "sex", "area")}, max_iter=200, tol=1e-13)
    spec = IndicatorSpec("y", "safety", "share", "item", ("y",), "share answering 1", positive=(1.0,))
    est = estimate_indicators(d, [spec], AnalysisSettings(groups=("age_group", "sex"), min_n=5),
                              levels=["city", "district"])
    comp = compare_all(d, est, [spec], ["w1", "w2"], min_n=5).set_index(["kind", "area_level", "group_dim"])
    ref = r_values()
    checks = [(("area_vs_rest", "district", "all"), "area_vs_rest:y", lambda r: f"{r.wave} {r.area}"),
              (("area_vs_rest", "district", "sex"), "group_area_vs_rest:y", lambda r: f"{r.wave} {r.group} {r.area}"),
              (("group_vs_rest", "district", "age_group"), "group_vs_rest:y", lambda r: f"{r.wave} {r.area} {r.group}"),
              (("group_vs_rest", "city", "age_group"), "group_vs_rest_city:y", lambda r: f"{r.wave} {r.group}")]
    for key, case, dom in checks:
        rows = comp.loc[key]
        rr = ref.loc[case]
        assert len(rows) == len(rr), case
        got = pd.Series(rows["se"].to_numpy(float), index=[dom(r) for r in rows.itertuples()])
        est_ = pd.Series(rows["estimate"].to_numpy(float), index=got.index)
        assert got.loc[rr.index].to_numpy() == pytest.approx(rr["se_diff"].to_numpy(float), rel=RTOL), case
        assert est_.loc[rr.index].to_numpy() == pytest.approx(rr["diff"].to_numpy(float), rel=RTOL), case

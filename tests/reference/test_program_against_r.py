"""Peer benchmarks against R (numbers in r_program.csv, made by make_program.R; CI needs no R).

Three agencies are three independent samples (the api data's simple random, stratified and
cluster samples); per school type, each agency against the program mean with the SE of the
difference, Welch-Satterthwaite df, t, p and Benjamini-Hochberg p-values, at 1e-8 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.program import peer_benchmarks
from survey_pipeline.stats import Design

HERE = Path(__file__).parent
RTOL = 1e-8


def _python() -> pd.DataFrame:
    rd = {k: pd.read_csv(HERE / f"api{k}.csv") for k in ("srs", "strat", "clus1")}
    for d in rd.values():
        d["met"] = (d["sch.wide"] == "Yes").astype(float)
    designs = {"srs": Design(rd["srs"], weights="pw", fpc="fpc"),
               "strat": Design(rd["strat"], weights="pw", strata="stype", fpc="fpc"),
               "clus1": Design(rd["clus1"], weights="pw", clusters="dnum", fpc="fpc")}
    rows = []
    for name, d in designs.items():
        design_df = float(d.mean("api00")["df"].iloc[0])  # R's degf(design), as svyby reports
        for ind in ("api00", "met"):
            by = d.mean(ind, by="stype")
            for _, r in by.iterrows():
                rows.append({"member": name, "wave": "w", "period": r["stype"], "indicator": ind,
                             "statistic": "mean", "estimate": r["estimate"], "se": r["se"], "df": design_df,
                             "reliability": "ok"})
    return peer_benchmarks(pd.DataFrame(rows), adjust="fdr_bh", min_members=3)


def test_peer_benchmarks_match_r():
    r = pd.read_csv(HERE / "r_program.csv")
    py = _python().set_index(["member", "period", "indicator"])
    assert len(py) == 18
    checked = 0
    for (member, period, ind), g in r.groupby(["member", "period", "indicator"]):
        row = py.loc[(member, period, ind)]
        for q, v in zip(g["quantity"], g["value"], strict=True):
            if q == "df_design":
                continue
            got = float(row[q])
            assert got == pytest.approx(float(v), rel=RTOL, abs=1e-300), (member, period, ind, q)
            checked += 1
    assert checked == 18 * 13


def test_r_reference_tests_something():
    """The reference has differences that are clearly not zero, and some p-values below 0.05."""
    r = pd.read_csv(HERE / "r_program.csv")
    d = r[r["quantity"] == "diff"]["value"].abs()
    assert (d > 1).any()
    assert (r[r["quantity"] == "p_adj"]["value"] < 0.05).any()
    assert np.isfinite(r["value"]).all()

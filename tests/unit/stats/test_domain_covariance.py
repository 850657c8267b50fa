"""DomainMeans.covariance / contrasts / pairwise_contrasts against Design.difference (1e-9).

The reference covariance of two domain means comes from the public Design methods only:
``cov(a, b) = (var a + var b - var(a - b)) / 2`` with ``var(a - b)`` from
:meth:`Design.difference` (the full linearization covariance, R's svycontrast) and the
variances from :meth:`Design.mean`. R's own numbers are in ``tests/reference`` (make_pairs.R).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from survey_pipeline.stats import Design, DesignError, DomainMeans, EstimationError
from survey_pipeline.stats import domains as domains_mod

REF = Path(__file__).resolve().parents[2] / "reference"
RTOL = 1e-9


def _pop():
    pop = pd.read_csv(REF / "apipop.csv")
    return {"stype": pop["stype"].value_counts().to_dict(), "sch.wide": pop["sch.wide"].value_counts().to_dict()}


def _data(apistrat: pd.DataFrame) -> pd.DataFrame:
    df = apistrat.copy()
    df.loc[df.index[::9], "api00"] = np.nan
    df.loc[df.index[::13], "awards"] = None  # rows outside every domain stay in the design
    df["dom"] = np.where(df["awards"].isna(), None, df["stype"] + "|" + df["awards"].fillna(""))
    return df


def _reference_cov(d: Design, var: str, by: str) -> tuple[list, np.ndarray]:
    """The covariance matrix of the means of ``var`` by ``by`` from Design.mean and .difference."""
    m = d.mean(var, by=by)
    labs = m[by].tolist()
    v = np.diag(m["se"].to_numpy(float) ** 2)
    for i, j in itertools.combinations(range(len(labs)), 2):
        vd = d.difference(var, by, labs[i], labs[j])["se"].iloc[0] ** 2
        v[i, j] = v[j, i] = (v[i, i] + v[j, j] - vd) / 2
    return labs, v


def _designs(df: pd.DataFrame) -> dict[str, Design]:
    base = Design(df, weights="pw", strata="stype", fpc="fpc")
    return {"raked": base.rake(_pop()), "poststratified": base.poststratify("stype", _pop()["stype"]),
            "two steps": base.rake(_pop()).poststratify("sch.wide", _pop()["sch.wide"]), "plain": base}


@pytest.mark.parametrize("which", ["raked", "poststratified", "two steps", "plain"])
@pytest.mark.parametrize("cells", [["stype", "awards", "sch.wide"], None])
def test_covariance_equals_design_difference(apistrat, which, cells):
    d = _designs(_data(apistrat))[which]
    dm = DomainMeans(d, cells=cells)
    # the cell path needs at most one calibration step
    assert dm.uses_cells == (cells is not None and which != "two steps")
    labs, ref = _reference_cov(d, "api00", "dom")
    got = dm.covariance("api00", ["stype", "awards"])
    assert [f"{a}|{b}" for a, b in got.index] == labs
    assert got.to_numpy() == pytest.approx(ref, rel=RTOL, abs=1e-9 * np.max(np.abs(ref)))
    assert np.allclose(got.to_numpy(), got.to_numpy().T, rtol=1e-12, atol=0)
    if which == "raked":
        # the sch.wide margin crosses the strata: it couples domains of different strata
        off = ref[~np.eye(len(labs), dtype=bool)]
        assert np.max(np.abs(off)) > 1e-3 * np.max(np.diag(ref))
    # strata are sampled independently: no covariance between domains of different strata
    # unless a calibration margin crosses them (sch.wide in the raked designs)
    if which in ("plain", "poststratified"):
        strat = np.array([lab.split("|")[0] for lab in labs])
        assert np.all(got.to_numpy()[np.not_equal.outer(strat, strat)] == pytest.approx(0, abs=1e-12))


@pytest.mark.parametrize("cells", [["stype", "awards", "sch.wide"], None])
def test_contrasts_are_l_v_l(apistrat, cells):
    """A difference-in-differences across strata and a pooled domain, and arbitrary rows."""
    d = _designs(_data(apistrat))["raked"]
    dm = DomainMeans(d, cells=cells)
    labs, ref = _reference_cov(d, "api00", "dom")
    ds = dm.domains(["stype", "awards"])
    means = d.mean("api00", by="dom")["estimate"].to_numpy()
    rng = np.random.default_rng(3)
    lmat = np.zeros((5, len(labs)))
    lmat[0, [0, 1, 2, 3]] = [1, -1, -1, 1]  # (E Yes - E No) - (H Yes - H No)
    lmat[1, [1, 5]] = [1, -1]
    lmat[2] = rng.normal(size=len(labs))
    lmat[3, 4] = 2.0  # one domain: twice its SE
    got = dm.contrasts("api00", ds, sparse.csr_matrix(lmat), names=list("abcde"))
    assert got["contrast"].tolist() == list("abcde")
    assert got["estimate"].to_numpy() == pytest.approx(lmat @ means, rel=1e-12, abs=1e-12)
    want = np.sqrt(np.einsum("ij,jk,ik->i", lmat, ref, lmat))
    assert got["se"].to_numpy() == pytest.approx(want, rel=RTOL, abs=1e-12)
    assert got["se"].iloc[4] == 0.0 and got["estimate"].iloc[4] == 0.0  # an all-zero row
    # dense weights and arrays give the same numbers
    arr = dm.contrast_arrays(d.data["api00"].to_numpy(float), ds, lmat)
    assert arr["se"] == pytest.approx(got["se"].to_numpy(), rel=1e-12)
    t = got["ci_high"] - got["estimate"]
    assert t.iloc[0] / got["se"].iloc[0] == pytest.approx(1.972, abs=1e-3)  # t quantile on 197 df


def test_blocks_do_not_change_the_numbers(apistrat, monkeypatch):
    d = _designs(_data(apistrat))["raked"]
    dm = DomainMeans(d, cells=["stype", "awards", "sch.wide"])
    ds = dm.domains(["stype", "sch.wide", "awards"])
    nd = len(ds)
    lmat = sparse.random(40, nd, density=0.2, random_state=np.random.default_rng(5), format="csr")
    lmat = sparse.vstack([lmat, sparse.identity(nd, format="csr")], format="csr")
    monkeypatch.setattr(domains_mod, "_BLOCK", 10**6)  # every component in one block
    whole = dm.contrast_arrays("api00", ds, lmat)
    for size, dense in ((1, 0), (2, 10**6), (8, 0), (8, 10**6)):  # sparse and dense coefficients
        monkeypatch.setattr(domains_mod, "_BLOCK", size)
        monkeypatch.setattr(domains_mod, "_DENSE", dense)
        small = dm.contrast_arrays("api00", ds, lmat)
        assert small["se"] == pytest.approx(whole["se"], rel=1e-12)
    # the identity rows are the domain means themselves
    own = dm.means("api00", [ds])[0]
    assert whole["se"][40:] == pytest.approx(own["se"].to_numpy(), rel=1e-10)
    assert whole["estimate"][40:] == pytest.approx(own["estimate"].to_numpy(), rel=1e-12)


@pytest.mark.parametrize("cells", [["stype", "awards"], None])
def test_pairwise_contrasts(apistrat, cells):
    df = _data(apistrat)
    d = _designs(df)["raked"]
    dm = DomainMeans(d, cells=cells)
    got = dm.pairwise_contrasts("api00", "stype", ["stype", "awards"])
    # E, H, M each have awards No / Yes: one pair per stratum, a before b in label order
    assert got[["stype", "awards", "stype_ref", "awards_ref"]].values.tolist() == [
        ["E", "No", "E", "Yes"], ["H", "No", "H", "Yes"], ["M", "No", "M", "Yes"]]
    for r in got.itertuples():
        ref = d.difference("api00", "dom", f"{r.stype}|{r.awards}", f"{r.stype_ref}|{r.awards_ref}").iloc[0]
        assert r.diff == pytest.approx(ref["estimate"], rel=1e-12)
        assert r.se_diff == pytest.approx(ref["se"], rel=RTOL)
        assert r.ci_low == pytest.approx(ref["ci_low"], rel=RTOL)
        assert r.diff == pytest.approx(r.estimate - r.estimate_ref, rel=1e-12)
    # all pairs of a parent with three or more children, ordered
    a = dm.pairwise_arrays("api00", [], ["stype"])
    assert list(zip(a["a"], a["b"], strict=True)) == [(0, 1), (0, 2), (1, 2)]
    with pytest.raises(EstimationError, match="does not lie inside one domain"):
        dm.pairwise_arrays("api00", "awards", ["stype"])


def test_clusters_share_psus(apiclus1):
    """General path with clusters and fpc: domains in the same PSUs covary."""
    df = apiclus1.copy()
    df.loc[df.index[::7], "api00"] = np.nan
    d = Design(df, weights="pw", clusters="dnum", fpc="fpc")
    dm = DomainMeans(d, cells=["stype"])
    assert not dm.uses_cells
    labs, ref = _reference_cov(d, "api00", "stype")
    got = dm.covariance("api00", "stype")
    assert got.index.tolist() == labs
    assert got.to_numpy() == pytest.approx(ref, rel=RTOL)
    assert np.max(np.abs(ref - np.diag(np.diag(ref)))) > 1e-2 * np.max(np.diag(ref))


@pytest.mark.parametrize("option", ["adjust", "average", "remove", "certainty"])
@pytest.mark.parametrize("cells", [["sch.wide", "awards"], None])
def test_lonely_psu(apistrat, option, cells):
    lonely = pd.concat([apistrat[apistrat["stype"] != "H"], apistrat[apistrat["stype"] == "H"].iloc[:1]])
    lonely = lonely.assign(dom=lonely["sch.wide"] + "|" + lonely["awards"])
    d = Design(lonely, weights="pw", strata="stype", fpc="fpc", lonely_psu=option)
    _labs, ref = _reference_cov(d, "api00", "dom")
    got = DomainMeans(d, cells=cells).covariance("api00", ["sch.wide", "awards"])
    assert got.to_numpy() == pytest.approx(ref, rel=RTOL, abs=1e-9 * np.max(np.abs(ref)))


def test_empty_domains_and_bad_weights(apistrat):
    df = _data(apistrat)
    df.loc[(df["stype"] == "H") & (df["awards"] == "Yes"), "api00"] = np.nan
    d = _designs(df)["raked"]
    for cells in (["stype", "awards"], None):
        dm = DomainMeans(d, cells=cells)
        ds = dm.domains(["stype", "awards"])
        cov = dm.covariance("api00", ds)
        hy = list(cov.index).index(("H", "Yes"))
        assert np.isnan(cov.to_numpy()[hy]).all() and np.isnan(cov.to_numpy()[:, hy]).all()
        assert np.isfinite(np.delete(np.delete(cov.to_numpy(), hy, 0), hy, 1)).all()
        pw = dm.pairwise_contrasts("api00", "stype", ds).set_index("stype")
        assert np.isnan(pw.loc["H", "se_diff"]) and np.isnan(pw.loc["H", "diff"])
        assert np.isfinite(pw.loc["E", "se_diff"])
        with pytest.raises(DesignError, match="one column per domain"):
            dm.contrasts("api00", ds, np.ones((2, 3)))
        with pytest.raises(DesignError, match="finite"):
            dm.contrasts("api00", ds, np.full((1, len(ds)), np.nan))
        with pytest.raises(DesignError, match="one name per row"):
            dm.contrasts("api00", ds, np.ones((2, len(ds))), names=["x"])

"""DomainMeans: variance-only domain means against Design.mean (1e-10) and R's svyby (1e-8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.stats import Design, DesignError, DomainMeans, EstimationError

REF = Path(__file__).resolve().parents[2] / "reference"

COLS = ["estimate", "se", "n", "deff"]


def _check(got: pd.DataFrame, ref: pd.DataFrame, by: list[str], rel: float = 1e-10) -> None:
    m = got.merge(ref, on=by, suffixes=("", "_ref"))
    assert len(m) == len(ref) == len(got)
    for c in COLS:
        assert m[c].to_numpy(float) == pytest.approx(m[f"{c}_ref"].to_numpy(float), rel=rel, nan_ok=True), c


def _with_missing(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[::9], "api00"] = np.nan
    return out


def test_general_path_equals_design_mean_with_clusters_and_missing(apiclus1):
    d = Design(_with_missing(apiclus1), weights="pw", clusters="dnum", fpc="fpc")
    dm = DomainMeans(d)
    assert not dm.uses_cells  # clustered: general path
    sets = [dm.domains("stype"), dm.domains(["stype", "sch.wide"])]
    for by, got in zip([["stype"], ["stype", "sch.wide"]], dm.means("api00", sets), strict=True):
        _check(got, d.mean("api00", by=by), by)


@pytest.mark.parametrize("jitter", [False, True])
def test_cell_path_equals_design_mean_after_raking(apistrat, jitter):
    df = _with_missing(apistrat)
    if jitter:  # weights that vary within cells: the full per-row moments
        df["pw"] = df["pw"] * np.random.default_rng(1).uniform(0.8, 1.2, len(df))
    d = Design(df, weights="pw", strata="stype", fpc="fpc")
    pop = pd.read_csv(REF / "apipop.csv")
    r = d.rake({"stype": pop["stype"].value_counts().to_dict(),
                "sch.wide": pop["sch.wide"].value_counts().to_dict()})
    dm = DomainMeans(r, cells=["stype", "sch.wide", "awards"])
    assert dm.uses_cells
    assert (dm._base_cell is None) == jitter
    bys = [["stype"], ["sch.wide"], ["stype", "awards"], ["sch.wide", "awards"]]
    sets = [dm.domains(b) for b in bys]
    for by, got in zip(bys, dm.means("api00", sets), strict=True):
        _check(got, r.mean("api00", by=by), by)
    # the same numbers from the general path
    gen = DomainMeans(r)
    for by, got in zip(bys, gen.means("api00", bys), strict=True):
        _check(got, r.mean("api00", by=by), by)


def test_design_domain_means_and_count(apisrs):
    d = Design(apisrs, weights="pw", fpc="fpc")
    dk = (apisrs["awards"] == "Yes").to_numpy(float)
    got = d.domain_means("api00", by="stype", count=dk, cells=["stype"])
    _check(got, d.mean("api00", by="stype"), ["stype"])
    assert got["count"].tolist() == apisrs.groupby("stype")["awards"].apply(lambda s: (s == "Yes").sum()).tolist()
    assert got["sum_weights"].to_numpy() == pytest.approx(apisrs.groupby("stype")["pw"].sum().to_numpy())
    t = d.mean("api00", by="stype")
    assert got["ci_low"].to_numpy() == pytest.approx(t["ci_low"].to_numpy(), rel=1e-10)


@pytest.mark.parametrize("option", ["adjust", "average", "remove", "certainty"])
def test_lonely_psu_options_match_design_mean(apistrat, option):
    lonely = pd.concat([apistrat[apistrat["stype"] != "H"], apistrat[apistrat["stype"] == "H"].iloc[:1]])
    d = Design(lonely, weights="pw", strata="stype", fpc="fpc", lonely_psu=option)
    for cells in (None, ["sch.wide"]):
        got = DomainMeans(d, cells=cells).means("api00", [["sch.wide"]])[0]
        _check(got, d.mean("api00", by="sch.wide"), ["sch.wide"])


def test_complement_means_equal_the_explicit_rest(apistrat):
    df = _with_missing(apistrat)
    df.loc[df.index[::13], "awards"] = None  # rows without a domain belong to the rest
    d = Design(df, weights="pw", strata="stype", fpc="fpc")
    pop = pd.read_csv(REF / "apipop.csv")
    r = d.poststratify("stype", pop["stype"].value_counts().to_dict())
    for cells in (["stype", "awards"], None):
        dm = DomainMeans(r, cells=cells)
        got = dm.complement_means("api00", dm.domains("stype"), dm.domains(["stype", "awards"]))
        for row in got.itertuples():
            # the rest as the non-missing rows of y (a domain of the full design, as Design documents)
            rest = ((df["stype"] == row.stype) & (df["awards"] != row.awards)).to_numpy()
            ref = r.mean_of_array(np.where(rest, df["api00"].to_numpy(float), np.nan)).iloc[0]
            assert row.estimate == pytest.approx(ref["estimate"], rel=1e-10)
            assert row.se == pytest.approx(ref["se"], rel=1e-9)
            assert row.n == ref["n"]


def _rest_reference(design_of, df: pd.DataFrame, var: str, parent: list[str], child: list[str],
                    known: str | None = None) -> pd.DataFrame:
    """Each child domain vs the rest of its parent from Design.difference (full covariance)."""
    rows = []
    for key, _g in df.groupby(child, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        mine = np.logical_and.reduce([(df[c] == k).to_numpy() for c, k in zip(child, key, strict=True)])
        par = np.logical_and.reduce([np.ones(len(df), bool)]
                                    + [(df[c] == k).to_numpy() for c, k in zip(child, key, strict=True)
                                       if c in parent])
        if known is not None:
            par &= df[known].notna().to_numpy()
        side = np.where(mine, "a", np.where(par, "r", None))
        d = design_of(df.assign(_side=side))
        ref = d.difference(var, "_side", "a", "r").iloc[0]
        rows.append({**dict(zip(child, key, strict=True)), "diff": ref["estimate"], "se_diff": ref["se"]})
    return pd.DataFrame(rows)


def _check_rest(got: pd.DataFrame, ref: pd.DataFrame, child: list[str]) -> None:
    m = got.merge(ref, on=child, suffixes=("", "_x"))
    assert len(m) == len(ref) == len(got) > 1
    for c in ("diff", "se_diff"):
        assert m[c].to_numpy(float) == pytest.approx(m[f"{c}_x"].to_numpy(float), rel=1e-9), c


@pytest.mark.parametrize("cells", [["stype", "sch.wide", "awards"], None])
def test_rest_contrasts_equal_design_difference_after_raking(apistrat, cells):
    df = _with_missing(apistrat)
    df.loc[df.index[::13], "awards"] = None  # rows without a domain belong to the rest
    pop = pd.read_csv(REF / "apipop.csv")

    def design_of(data):
        return Design(data, weights="pw", strata="stype", fpc="fpc").rake(
            {"stype": pop["stype"].value_counts().to_dict(),
             "sch.wide": pop["sch.wide"].value_counts().to_dict()})

    r = design_of(df)
    dm = DomainMeans(r, cells=cells)
    assert dm.uses_cells == (cells is not None)
    for parent, child in ((["stype"], ["stype", "awards"]), ([], ["awards"]), (["sch.wide"], ["sch.wide", "stype"])):
        got = dm.rest_contrasts("api00", dm.domains(parent), dm.domains(child))
        _check_rest(got, _rest_reference(design_of, df, "api00", parent, child), child)
        # the sides are the domain means and the complement means
        own = dm.means("api00", [dm.domains(child)])[0]
        rest = dm.complement_means("api00", dm.domains(parent), dm.domains(child))
        assert got["se"].to_numpy() == pytest.approx(own["se"].to_numpy(), rel=1e-10)
        assert got["se_ref"].to_numpy() == pytest.approx(rest["se"].to_numpy(), rel=1e-10)
        assert got["n_eff_ref"].to_numpy() == pytest.approx(rest["n_eff"].to_numpy(), rel=1e-10)
        assert got["diff"].to_numpy() == pytest.approx((own["estimate"] - rest["estimate"]).to_numpy(), rel=1e-12)
        if parent != ["sch.wide"]:  # (there the sides differ by stratum: no covariance)
            # the covariance of the sides matters
            indep = np.sqrt(got["se"] ** 2 + got["se_ref"] ** 2)
            assert np.max(np.abs(indep / got["se_diff"] - 1)) > 1e-3


def test_rest_contrasts_known_and_clusters(apistrat, apiclus1):
    df = apistrat.copy()
    df.loc[df.index[::7], "awards"] = None
    pop = pd.read_csv(REF / "apipop.csv")

    def design_of(data):
        return Design(data, weights="pw", strata="stype", fpc="fpc").poststratify(
            "stype", pop["stype"].value_counts().to_dict())

    r = design_of(df)
    child = ["stype", "awards"]
    ref = _rest_reference(design_of, df, "api00", ["stype"], child, known="awards")
    for cells in (["stype", "awards"], None):
        dm = DomainMeans(r, cells=cells)
        parent = dm.restrict(dm.domains("stype"), "awards")
        assert (dm._cell_codes(parent) is not None) == (cells is not None)  # stays on the cell path
        _check_rest(dm.rest_contrasts("api00", parent, dm.domains(child)), ref, child)
        _check_rest(dm.rest_contrasts("api00", "stype", child, known="awards"), ref, child)
    # clusters: the two sides share PSUs (general path)
    def clus(data):
        return Design(data, weights="pw", clusters="dnum", fpc="fpc")

    got = DomainMeans(clus(apiclus1)).rest_contrasts("api00", [], ["stype"])
    _check_rest(got, _rest_reference(clus, apiclus1, "api00", [], ["stype"]), ["stype"])


@pytest.mark.parametrize("cells", [["stype", "sch.wide", "awards"], None])
def test_rest_contrast_arrays_many_equal_one_at_a_time(apistrat, cells):
    df = _with_missing(apistrat)
    df.loc[df.index[::11], "awards"] = None
    pop = pd.read_csv(REF / "apipop.csv")
    r = Design(df, weights="pw", strata="stype", fpc="fpc").rake(
        {"stype": pop["stype"].value_counts().to_dict(), "sch.wide": pop["sch.wide"].value_counts().to_dict()})
    dm = DomainMeans(r, cells=cells)
    ys = [df["api00"].to_numpy(float), df["api99"].to_numpy(float), (df["api00"] > 650).astype(float).to_numpy()]
    pairs = [(dm.domains([]), dm.domains(["awards"])), (dm.domains(["stype"]), dm.domains(["stype", "sch.wide"])),
             (dm.domains(["stype"]), dm.domains(["stype", "awards"]), "awards")]
    many = dm.rest_contrast_arrays_many(ys, pairs)
    assert len(many) == 3 and all(len(row) == 3 for row in many)
    for y, row in zip(ys, many, strict=True):
        for (within, domains, *known), got in zip(pairs, row, strict=True):
            one = dm.rest_contrast_arrays(y, within, domains, *known)
            assert set(got) == set(one)
            for k in one:  # the same operations: the same numbers, bit for bit
                np.testing.assert_array_equal(got[k], one[k], err_msg=k)


@pytest.mark.parametrize("option", ["adjust", "average"])
def test_rest_contrasts_lonely_psu(apistrat, option):
    lonely = pd.concat([apistrat[apistrat["stype"] != "H"], apistrat[apistrat["stype"] == "H"].iloc[:1]])

    def design_of(data):
        return Design(data, weights="pw", strata="stype", fpc="fpc", lonely_psu=option)

    ref = _rest_reference(design_of, lonely, "api00", [], ["sch.wide"])
    for cells in (None, ["sch.wide"]):
        got = DomainMeans(design_of(lonely), cells=cells).rest_contrasts("api00", [], ["sch.wide"])
        _check_rest(got, ref, ["sch.wide"])


def test_refuses_bad_input(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    dm = DomainMeans(d, cells=["stype"])
    with pytest.raises(DesignError, match="one value per row"):
        dm.means(np.ones(3), [["stype"]])
    with pytest.raises(DesignError, match="not in the data"):
        dm.domains(["stype", "no_such_column"])
    with pytest.raises(EstimationError, match="inside one domain"):
        dm.complement_means("api00", dm.domains("sch.wide"), dm.domains("stype"))
    with pytest.raises(EstimationError, match="inside one domain"):
        dm.rest_contrasts("api00", dm.domains("sch.wide"), dm.domains("stype"))
    with pytest.raises(DesignError, match="known"):
        dm.restrict(dm.domains("stype"), np.ones(3, bool))


# ---------------------------------------------------------------------------------- R's svyby

def _r(case: str) -> pd.DataFrame:
    r = pd.read_csv(REF / "r_results.csv")
    r = r[r["case"] == case]
    return r.pivot(index="domain", columns="quantity", values="value")


def _vs_r(case: str, got: pd.DataFrame, col: str, quantities) -> None:
    ref = _r(case)
    g = got.set_index(got[col].astype(str))
    assert len(ref) == len(g) > 1
    for q in quantities:
        assert g.loc[ref.index, q].to_numpy(float) == pytest.approx(ref[q].to_numpy(float), rel=1e-8), (case, q)


def test_against_r_svyby(apistrat, apiclus1, apisrs):
    clus2 = pd.read_csv(REF / "apiclus2.csv")
    designs = {"srs": Design(apisrs, weights="pw", fpc="fpc"),
               "strat": Design(apistrat, weights="pw", strata="stype", fpc="fpc"),
               "clus1": Design(apiclus1, weights="pw", clusters="dnum", fpc="fpc"),
               "clus2": Design(clus2, weights="pw", clusters=["dnum", "snum"])}
    for name, d in designs.items():
        got = DomainMeans(d, cells=["stype"]).means("api00", [["stype"]])[0]
        _vs_r(f"{name}:mean:api00:by:stype", got, "stype", ("estimate", "se", "deff", "ci_low", "ci_high"))
    pop = pd.read_csv(REF / "apipop.csv")
    stype, sch = pop["stype"].value_counts().to_dict(), pop["sch.wide"].value_counts().to_dict()
    for name in ("strat", "clus1", "srs"):
        d = designs[name]
        for label, w in ((f"{name}+rake:stype,sch.wide", d.rake({"stype": stype, "sch.wide": sch})),
                         (f"{name}+poststratify:stype", d.poststratify("stype", stype)),
                         (f"{name}+calibrate:linear:api99",
                          d.calibrate({"_N": len(pop), "api99": float(pop["api99"].sum())}))):
            dm = DomainMeans(w, cells=["stype", "sch.wide"])
            by_type, by_sch = dm.means("api00", [dm.domains("stype"), dm.domains("sch.wide")])
            _vs_r(f"{label}:mean:api00:by:stype", by_type, "stype", ("estimate", "se"))
            _vs_r(f"{label}:mean:api00:by:sch.wide", by_sch, "sch.wide", ("estimate", "se"))


def test_effective_n_of_an_unweighted_simple_random_sample_is_n():
    """Weights of 1 (a project without targets): R's deff is infinite there (its reference is
    sampling without replacement from N = sum of weights = n), but the effective sample size the
    reliability rules use is against sampling with replacement, so it is n, not 0."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.normal(size=200), "g": rng.integers(0, 3, 200).astype(str), "w": 1.0})
    d = Design(df, weights="w")
    whole = d.mean("y")
    assert np.isinf(whole["deff"]).all()
    assert whole["n_eff"].iloc[0] == pytest.approx(200, rel=1e-12)
    # domains: n_d^2 (n-1) / (n (n_d-1)), the linearized domain variance of an SRS
    for res in (d.mean("y", by="g"), d.domain_means("y", by="g")):
        n = res["n"].to_numpy(float)
        assert np.isinf(res["deff"]).all()
        np.testing.assert_allclose(res["n_eff"], n * n * 199 / (200 * (n - 1)), rtol=1e-10)
    # weighted: n_eff = s^2 / var, so a design effect of ~1 gives n_eff close to n, never 0
    df["w"] = rng.uniform(50, 60, 200)
    res = Design(df, weights="w").mean("y", by="g")
    assert ((res["n_eff"] > 0.9 * res["n"]) & (res["n_eff"] < 1.1 * res["n"])).all()

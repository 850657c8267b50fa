"""Key drivers (``survey_pipeline.analysis.drivers``) on small synthetic designs with a planted driver."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.analysis.drivers import DRIVER_COLUMNS, driver_models, drivers_table
from survey_pipeline.analysis.indicators import ESTIMATE_COLUMNS, indicator_specs
from survey_pipeline.instrument.load import load_instrument
from survey_pipeline.stats import Design

POLICE = ["sat_police_response", "sat_police_visibility", "sat_police_prevention", "sat_police_communication"]


@cache
def inst():
    return load_instrument("resident")


def _codes(rng, positive: np.ndarray) -> np.ndarray:
    """Satisfied (4, 5) where ``positive``, else 1-3, on the 5-point scales."""
    return np.where(positive, rng.integers(4, 6, len(positive)), rng.integers(1, 4, len(positive))).astype(float)


def city(n: int = 3000, seed: int = 7, planted: str = "sat_police_response", effect: float = 0.5) -> pd.DataFrame:
    """Two waves; trust = 0.15 + ``effect`` x satisfied with ``planted`` + 0.05 x each other police
    item (a linear probability); overall police satisfaction = 0.2 + 0.3 x prevention + noise;
    district ``tiny`` has 40 respondents; some answers missing."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    sat = {v: (latent * 0.5 + rng.normal(size=n)) > 0 for v in POLICE}
    p_trust = 0.15 + effect * sat[planted] + sum(0.05 * sat[v] for v in POLICE if v != planted)
    p_overall = 0.2 + 0.3 * sat["sat_police_prevention"] + 0.1 * sat["sat_police_response"]
    df = pd.DataFrame({v: _codes(rng, s) for v, s in sat.items()})
    df["trust_overall"] = _codes(rng, rng.random(n) < p_trust)
    df["sat_police_overall"] = _codes(rng, rng.random(n) < p_overall)
    for v in [*POLICE, "trust_overall"]:  # about 5% don't know
        dk = rng.random(n) < 0.05
        df.loc[dk, v] = np.nan
        df[f"{v}__missing"] = np.where(dk, "dont_know", None)
    df["wave"] = np.where(np.arange(n) < n // 2, "w1", "w2")
    df["district"] = np.where(np.arange(n) % (n // 40) == 0, "tiny", np.where(rng.random(n) < 0.5, "north", "south"))
    df["w"] = rng.uniform(0.5, 2.0, n)
    return df


def _table(df: pd.DataFrame, **kw) -> pd.DataFrame:
    d = Design(df, weights="w", strata="wave")
    return drivers_table(d, indicator_specs(inst()), inst(), pd.DataFrame(columns=ESTIMATE_COLUMNS), ["w1", "w2"], **kw)


def test_models_of_the_resident_instrument():
    models = {m.outcome.indicator: [d.indicator for d in m.drivers] for m in driver_models(indicator_specs(inst()), inst())}
    assert models == {"sat_police_overall": POLICE, "trust_overall": POLICE}


@pytest.mark.parametrize("planted", ["sat_police_response", "sat_police_communication"])
def test_the_planted_driver_of_trust_is_recovered(planted):
    t = _table(city(planted=planted))
    assert list(t.columns[:6]) == DRIVER_COLUMNS[:6] and {"label_en", "label_es"} <= set(t.columns)
    for wave in ("w1", "w2"):
        m = t[(t["outcome"] == "trust_overall") & (t["wave"] == wave) & (t["area_level"] == "city")]
        top = m.sort_values("rank").iloc[0]
        assert top["driver"] == planted and top["rank"] == 1
        assert top["ci_low"] < 0.5 < top["ci_high"]  # the planted effect is inside the interval
        others = m[m["driver"] != planted]
        assert (others["coefficient"] < top["ci_low"]).all()  # and clearly above the others
        assert top["p_adj"] < 0.001 and top["reliability"] == "ok"
    over = t[(t["outcome"] == "sat_police_overall") & (t["wave"] == "w2") & (t["area_level"] == "city")]
    assert over.sort_values("rank")["driver"].iloc[0] == "sat_police_prevention"


def test_no_driver_planted_gives_no_significant_driver():
    t = _table(city(effect=0.05))  # every item 0.05: none stands out
    m = t[(t["outcome"] == "trust_overall") & (t["area_level"] == "city")]
    assert (m["coefficient"].between(-0.1, 0.2)).all()


def test_complete_cases_and_the_size_rule():
    df = city()
    t = _table(df)
    m = t[(t["outcome"] == "trust_overall") & (t["wave"] == "w1")]
    cc = df[df["wave"] == "w1"][[*POLICE, "trust_overall"]].notna().all(axis=1)
    assert m[m["area_level"] == "city"]["n"].iloc[0] == cc.sum() < (df["wave"] == "w1").sum()
    tiny = m[m["area"] == "tiny"]
    assert len(tiny) == 4 and (tiny["reliability"] == "suppress").all() and tiny["coefficient"].isna().all()
    assert "fewer than the 100 a driver model needs" in tiny["reliability_reason"].iloc[0]
    big = m[m["area"] == "north"]
    assert (big["reliability"] == "ok").all() and big["coefficient"].notna().all()
    # a stricter rule suppresses the districts too
    strict = _table(df, min_cases=2000)
    assert (strict[strict["area_level"] == "district"]["reliability"] == "suppress").all()


def test_a_district_is_a_domain_of_the_whole_design():
    """Estimates in a district equal a fit on the district's rows alone; the variance is that of
    a domain of the whole wave (its stratum), which differs from the fit on the subset only by the
    with-replacement factor n/(n-1) of the stratum instead of the subset's (the influence sums to
    zero inside the domain)."""
    from survey_pipeline.stats import svyglm_arrays

    df = city()
    t = _table(df)
    row = t[(t["outcome"] == "trust_overall") & (t["wave"] == "w2") & (t["area"] == "north")]
    sub = df[(df["wave"] == "w2") & (df["district"] == "north")].reset_index(drop=True)
    d = Design(sub, weights="w")
    x = np.column_stack([(sub[v] >= 4).astype(float).where(sub[v].notna()) for v in POLICE])
    y = (sub["trust_overall"] >= 4).astype(float).where(sub["trust_overall"].notna()).to_numpy()
    ref = svyglm_arrays(d, y, x, POLICE)
    assert row["coefficient"].to_numpy() == pytest.approx(ref["estimate"].to_numpy()[1:], rel=1e-10)
    n_h, n_s = int((df["wave"] == "w2").sum()), len(sub)
    factor = np.sqrt(n_h / (n_h - 1) / (n_s / (n_s - 1)))
    assert row["se"].to_numpy() == pytest.approx(ref["se"].to_numpy()[1:] * factor, rel=1e-10)
    assert row["df"].iloc[0] == ref["df"].iloc[0]

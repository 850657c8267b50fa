"""Error cases: every one must raise a StatsError subclass with a useful message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.stats import (
    ConvergenceError,
    Design,
    DesignError,
    EstimationError,
    StatsError,
    WeightingError,
    adjust_pvalues,
    proportion_ci,
)

STYPE = {"E": 4421, "H": 755, "M": 1018}
SCH = {"Yes": 5122, "No": 1072}


def test_errors_are_value_errors():
    assert issubclass(StatsError, ValueError)
    assert issubclass(ConvergenceError, WeightingError)


def test_lonely_psu_fails_by_default_naming_the_stratum():
    df = pd.DataFrame({"w": [1.0, 1, 1, 1, 1], "s": ["a", "a", "b", "c", "c"],
                       "psu": [1, 2, 3, 4, 5], "y": [1.0, 2, 3, 4, 5]})
    with pytest.raises(DesignError, match=r"\['b'\].*only one PSU.*lonely_psu"):
        Design(df, weights="w", strata="s", clusters="psu")


@pytest.mark.parametrize("option", ["certainty", "remove", "adjust", "average"])
def test_lonely_psu_options_give_finite_variance(option):
    df = pd.DataFrame({"w": [1.0, 1, 1, 1, 1], "s": ["a", "a", "b", "c", "c"],
                       "psu": [1, 2, 3, 4, 5], "y": [1.0, 2, 3, 4, 5]})
    res = Design(df, weights="w", strata="s", clusters="psu", lonely_psu=option).mean("y")
    assert np.isfinite(res["se"].iloc[0])


def test_lonely_certainty_equals_remove_and_average_scales():
    df = pd.DataFrame({"w": [1.0, 2, 1, 1, 3], "s": ["a", "a", "b", "c", "c"],
                       "psu": [1, 2, 3, 4, 5], "y": [1.0, 2, 3, 4, 5]})
    v = {o: Design(df, weights="w", strata="s", clusters="psu", lonely_psu=o).mean("y")["se"]
         .iloc[0] ** 2 for o in ("certainty", "remove", "average")}
    assert v["certainty"] == pytest.approx(v["remove"])
    assert v["average"] == pytest.approx(v["remove"] * 3 / 2)


@pytest.mark.parametrize("bad", ["Fail", "adj", "", None, "fail "])
def test_bad_lonely_option_rejected(apistrat, bad):
    with pytest.raises(DesignError, match="not a valid option"):
        Design(apistrat, weights="pw", lonely_psu=bad)


def test_unknown_column(apistrat):
    with pytest.raises(DesignError, match="'pww' is not in the data"):
        Design(apistrat, weights="pww")
    d = Design(apistrat, weights="pw")
    with pytest.raises(DesignError, match="'nope'"):
        d.mean("nope")


def test_bad_weights(apistrat):
    df = apistrat.assign(pw=apistrat["pw"].where(apistrat.index != 3))
    with pytest.raises(DesignError, match=r"rows \[3\]"):
        Design(df, weights="pw")


def test_fpc_must_be_constant_in_stratum(apistrat):
    df = apistrat.assign(fpc=apistrat["fpc"] + (apistrat.index == 0))
    with pytest.raises(DesignError, match="varies within stratum"):
        Design(df, weights="pw", strata="stype", fpc="fpc")


def test_bad_method_names(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    with pytest.raises(DesignError):
        d.proportion("sch.wide", level="Yes", method="logi")
    with pytest.raises(DesignError):
        d.calibrate({"_N": 6194}, method="Linear")
    with pytest.raises(DesignError):
        d.chisq("sch.wide", "stype", statistic="f")
    with pytest.raises(DesignError):
        d.replicate("jk")
    with pytest.raises(EstimationError):
        proportion_ci([0.5], [0.1], 10, [20], method="wald")
    with pytest.raises(StatsError):
        adjust_pvalues([0.1], method="fdr")


def test_unknown_proportion_level(apistrat):
    d = Design(apistrat, weights="pw")
    with pytest.raises(EstimationError, match=r"'yes' does not occur in column 'sch\.wide'"):
        d.proportion("sch.wide", level="yes")


def test_poststratify_unknown_level_and_empty_cell(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    with pytest.raises(WeightingError, match=r"\['M'\].*no population target"):
        d.poststratify("stype", {"E": 4421, "H": 755})
    with pytest.raises(WeightingError, match=r"\['X'\].*empty cell"):
        d.poststratify("stype", {**STYPE, "X": 10})


def test_rake_disagreeing_totals(apistrat):
    d = Design(apistrat, weights="pw")
    with pytest.raises(WeightingError, match="same population total"):
        d.rake({"stype": STYPE, "sch.wide": {"Yes": 5122, "No": 1000}})


def test_rake_non_convergence(apistrat):
    d = Design(apistrat, weights="pw")
    with pytest.raises(ConvergenceError, match="did not converge"):
        d.rake({"stype": STYPE, "sch.wide": SCH}, max_iter=1, tol=1e-14)
    with pytest.raises(ConvergenceError):
        d.rake({"stype": STYPE, "sch.wide": SCH}, bounds=(0.999, 1.001))


def test_calibrate_errors(apistrat):
    d = Design(apistrat, weights="pw")
    with pytest.raises(WeightingError, match="finite bounds"):
        d.calibrate({"_N": 6194, "api99": 3914069}, method="logit")
    with pytest.raises(ConvergenceError):
        d.calibrate({"_N": 6194, "api99": 3914069 * 1.5}, method="logit", bounds=(0.9, 1.1))
    with pytest.raises(WeightingError, match="missing values"):
        d.calibrate({"_N": 6194, "acs.46": 1000.0})


def test_difference_unknown_domain(apistrat):
    d = Design(apistrat, weights="pw")
    with pytest.raises(EstimationError, match="'Maybe'"):
        d.difference("api00", by="sch.wide", a="Yes", b="Maybe")


def test_trim_impossible(apistrat):
    d = Design(apistrat, weights="pw")
    with pytest.raises(WeightingError, match="Raise upper"):
        d.trim(upper=1.0)

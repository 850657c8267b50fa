"""Design-based survey statistics: Taylor linearization, weighting, replicate variance.

A general library with no knowledge of the surveys it serves; it imports nothing else from
``survey_pipeline``. Start with :class:`Design`::

    from survey_pipeline.stats import Design

    d = Design(df, weights="pw", strata="stype", fpc="fpc")
    d.mean("api00", by="stype")                       # tidy DataFrame, one row per domain
    r = d.rake({"stype": {"E": 4421, "H": 755, "M": 1018},
                "sch.wide": {"Yes": 5122, "No": 1072}})
    r.proportion("sch.wide", level="Yes", method="beta")
    r.weighting_report                                # iterations, remaining margin error

Thousands of domain means (variances only) in one pass: :class:`DomainMeans`::

    dm = DomainMeans(r, cells=["stype", "sch.wide"])
    by_type, by_both = dm.means("api00", [dm.domains("stype"), dm.domains(["stype", "sch.wide"])])

and, where domains are compared, their covariance (calibration, shared PSUs, stratum centring)::

    dm.covariance("api00", ["stype", "sch.wide"])                 # the matrix of the means
    dm.pairwise_contrasts("api00", "stype", ["stype", "sch.wide"])  # every pair within a type
    dm.contrasts("api00", ["stype", "sch.wide"], [[1, -1, -1, 1, 0, 0]])  # any l'm

Area-level small-area estimation (Fay–Herriot EBLUP and MSE, as R's ``sae``)::

    fit = fay_herriot(direct, vardir, X, method="REML")   # X includes the intercept column
    fit.estimates[["eblup", "mse", "synthetic", "gamma"]]; fit.variance; fit.coefficients

Numbers are checked against R's survey and sae packages (tests/reference). References: Lumley (2010)
*Complex Surveys*; Rao & Scott (1984); Korn & Graubard (1998); Deville & Särndal (1992);
Parker et al. (2017) NCHS presentation standards for proportions; Fay & Herriot (1979);
Prasad & Rao (1990); Datta & Lahiri (2000); Rao & Molina (2015); Molina & Marhuenda (2015).
"""

from __future__ import annotations

from .design import DOMAIN_DF_OPTIONS, LONELY_PSU_OPTIONS, Design, DomainDF, LonelyPSU, check_option
from .domains import DomainMeans, DomainSet
from .errors import ConvergenceError, DesignError, EstimationError, StatsError, WeightingError
from .proportion import CI_METHODS, CIMethod, proportion_ci
from .regression import svyglm, svyglm_arrays
from .reliability import AdjustMethod, adjust_pvalues, nchs_reliability
from .replicate import ReplicateDesign
from .sae import (
    BACK_TRANSFORMS,
    FH_METHODS,
    FH_TRANSFORMS,
    GVF_METHODS,
    BackTransform,
    FayHerriotResult,
    FHMethod,
    FHTransform,
    GVFMethod,
    GVFResult,
    fay_herriot,
    smooth_vardir,
)
from .weighting import (
    CAL_METHODS,
    CalMethod,
    TrimReport,
    WeightingReport,
    calibrate_weights,
    rake_weights,
    trim_weights,
    weight_diagnostics,
)

__all__ = [
    "BACK_TRANSFORMS",
    "CAL_METHODS",
    "CI_METHODS",
    "DOMAIN_DF_OPTIONS",
    "FH_METHODS",
    "FH_TRANSFORMS",
    "GVF_METHODS",
    "LONELY_PSU_OPTIONS",
    "AdjustMethod",
    "BackTransform",
    "CIMethod",
    "CalMethod",
    "ConvergenceError",
    "Design",
    "DesignError",
    "DomainDF",
    "DomainMeans",
    "DomainSet",
    "EstimationError",
    "FHMethod",
    "FHTransform",
    "FayHerriotResult",
    "GVFMethod",
    "GVFResult",
    "LonelyPSU",
    "ReplicateDesign",
    "StatsError",
    "TrimReport",
    "WeightingError",
    "WeightingReport",
    "adjust_pvalues",
    "calibrate_weights",
    "check_option",
    "fay_herriot",
    "nchs_reliability",
    "proportion_ci",
    "rake_weights",
    "smooth_vardir",
    "svyglm",
    "svyglm_arrays",
    "trim_weights",
    "weight_diagnostics",
]

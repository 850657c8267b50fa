"""Design-based survey statistics: Taylor linearization, weighting, replicate variance.

A general library with no knowledge of the surveys it serves; it imports nothing else from
``survey_pipeline``. Start with :class:`Design`.
"""

from __future__ import annotations

from .design import LONELY_PSU_OPTIONS, Design, LonelyPSU, check_option
from .errors import ConvergenceError, DesignError, EstimationError, StatsError, WeightingError
from .proportion import CI_METHODS, CIMethod, proportion_ci
from .regression import svyglm
from .reliability import AdjustMethod, adjust_pvalues, nchs_reliability
from .replicate import ReplicateDesign
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
    "CAL_METHODS",
    "CI_METHODS",
    "LONELY_PSU_OPTIONS",
    "AdjustMethod",
    "CIMethod",
    "CalMethod",
    "ConvergenceError",
    "Design",
    "DesignError",
    "EstimationError",
    "LonelyPSU",
    "ReplicateDesign",
    "StatsError",
    "TrimReport",
    "WeightingError",
    "WeightingReport",
    "adjust_pvalues",
    "calibrate_weights",
    "check_option",
    "nchs_reliability",
    "proportion_ci",
    "rake_weights",
    "svyglm",
    "trim_weights",
    "weight_diagnostics",
]

"""Exceptions raised by :mod:`survey_pipeline.stats`.

Every message says what was wrong, where (column, level, stratum) and how to fix it.
All derive from :class:`StatsError`, itself a :class:`ValueError`, so callers that do not care
about the detail can catch ``ValueError``.
"""

from __future__ import annotations

__all__ = ["ConvergenceError", "DesignError", "EstimationError", "StatsError", "WeightingError"]


class StatsError(ValueError):
    """Base class of every error raised by the statistics core."""


class DesignError(StatsError):
    """The survey design is malformed: bad weights, a lonely PSU, an unknown option or column."""


class WeightingError(StatsError):
    """Post-stratification, raking, calibration or trimming targets cannot be applied."""


class ConvergenceError(WeightingError):
    """An iterative weighting or fitting procedure did not converge."""


class EstimationError(StatsError):
    """An estimate cannot be computed (empty domain, unknown level, degenerate variable)."""

"""The community-survey layer: weights per wave, indicators, comparisons, priorities, evaluation.

A pure core (functions of a wide clean frame, an :class:`~survey_pipeline.instrument.model.Instrument`
and targets, returning DataFrames) with thin store-backed commands (``survey-pipeline weight`` and
``analyze``). The results tables are documented in ``docs/results.md``.
"""

from __future__ import annotations

from survey_pipeline.results.sentences import Words, finding_sentence

from .prepare import GROUP_DIMS, derive_groups, wide_from_codes
from .settings import AnalysisSettings, Evaluation, WeightingSettings, load_settings
from .weighting import WeightingResult, area_lookup, read_targets, wave_targets, weight_waves

__all__ = [
    "GROUP_DIMS",
    "AnalysisSettings",
    "Evaluation",
    "WeightingResult",
    "WeightingSettings",
    "Words",
    "area_lookup",
    "derive_groups",
    "finding_sentence",
    "load_settings",
    "read_targets",
    "wave_targets",
    "weight_waves",
    "wide_from_codes",
]

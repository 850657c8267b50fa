"""survey-pipeline: the open-source survey pipeline for community policing.

Public API (everything the CLI and dashboard can do is a library call first):

- :func:`load_instrument` — load and validate an instrument (a path or a bundled template name).
- :func:`validate_instrument` — the same, returning every problem instead of raising.
- :mod:`survey_pipeline.stats` — design-based survey statistics (think R ``survey``).
- :mod:`survey_pipeline.errors` — the exception tree.
"""

from __future__ import annotations

from survey_pipeline.errors import Problem, SurveyPipelineError
from survey_pipeline.instrument import (
    Instrument,
    list_templates,
    load_instrument,
    validate_instrument,
)

__version__ = "0.1.0"

__all__ = [
    "Instrument",
    "Problem",
    "SurveyPipelineError",
    "__version__",
    "list_templates",
    "load_instrument",
    "validate_instrument",
]

"""survey-pipeline: the open-source survey pipeline for community policing.

Public API (everything the CLI and dashboard can do is a library call first):

- :func:`load_instrument` — load and validate an instrument template (a path or a bundled name).
- :mod:`survey_pipeline.stats` — design-based survey statistics (think R ``survey``).
- :mod:`survey_pipeline.errors` — the exception tree.
"""

from __future__ import annotations

from survey_pipeline.errors import SurveyPipelineError

__version__ = "0.1.0"

__all__ = ["SurveyPipelineError", "__version__"]

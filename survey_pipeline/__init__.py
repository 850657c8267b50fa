"""survey-pipeline: the open-source survey pipeline for community policing.

Public API (everything the CLI and dashboard can do is a library call first):

- :func:`load_instrument` — load and validate an instrument (a path or a bundled template name).
- :func:`validate_instrument` — the same, returning every problem instead of raising.
- :func:`export_instrument` — deploy it: XLSForm, paper (HTML), codebook, Qualtrics TXT, LimeSurvey TSV.
- :func:`read_areas` — an agency's neighborhoods, districts and beats from CSV or GeoJSON.
- :class:`Project` / :func:`init_project` — a survey project folder (``survey.toml``).
- :func:`ingest` — load one platform export into the project's store (:class:`IngestSummary`).
- :class:`Store` — the DuckDB warehouse; :meth:`Store.read_clean_wave` gives the wide clean wave.
- :mod:`survey_pipeline.stats` — design-based survey statistics (think R ``survey``).
- :mod:`survey_pipeline.errors` — the exception tree.
"""

from __future__ import annotations

from survey_pipeline.errors import Problem, SurveyPipelineError
from survey_pipeline.ingest.pipeline import IngestSummary, ingest
from survey_pipeline.instrument import (
    Instrument,
    export_instrument,
    list_templates,
    load_instrument,
    read_areas,
    validate_instrument,
)
from survey_pipeline.project import Project, init_project
from survey_pipeline.store import Store

__version__ = "0.1.0"

__all__ = [
    "IngestSummary",
    "Instrument",
    "Problem",
    "Project",
    "Store",
    "SurveyPipelineError",
    "__version__",
    "export_instrument",
    "ingest",
    "init_project",
    "list_templates",
    "load_instrument",
    "read_areas",
    "validate_instrument",
]

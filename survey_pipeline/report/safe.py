"""Moved to :mod:`survey_pipeline.safe` (ingest and the instrument exports use it too); kept so
``from survey_pipeline.report.safe import ...`` keeps working."""

from survey_pipeline.safe import FORMULA_START, neutralise, safe_text

__all__ = ["FORMULA_START", "neutralise", "safe_text"]

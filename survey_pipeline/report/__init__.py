"""Excel and HTML reports built from the results tables (``docs/report.md``).

The reading and labelling of the results tables (:mod:`survey_pipeline.report.data`) and the
spreadsheet formula neutraliser (:mod:`survey_pipeline.report.safe`) are shared with the dashboard.
"""

from survey_pipeline.report.data import headline_indicators, read_results_tables
from survey_pipeline.report.safe import neutralise, safe_text

__all__ = ["headline_indicators", "neutralise", "read_results_tables", "safe_text"]

"""Excel and HTML reports built from the results tables (``docs/report.md``).

:func:`write_report` reads only the results tables of a project and writes an Excel workbook or a
self-contained HTML page; :func:`build_report` returns the content without writing it. The
reading and labelling of the results tables (:mod:`survey_pipeline.report.data`) and the
spreadsheet formula neutraliser (:mod:`survey_pipeline.report.safe`) are shared with the dashboard.
"""

from survey_pipeline.report.content import Report, build_report, report_from_tables
from survey_pipeline.report.data import headline_indicators, read_results_tables
from survey_pipeline.report.safe import neutralise, safe_text
from survey_pipeline.report.write import FORMATS, ReportError, write_report

__all__ = ["FORMATS", "Report", "ReportError", "build_report", "headline_indicators", "neutralise",
           "read_results_tables", "report_from_tables", "safe_text", "write_report"]

"""Excel and HTML reports built from the results tables (``docs/report.md``).

:func:`write_report` reads only the results tables of a project and writes an Excel workbook or a
self-contained HTML page (or a PDF printed from it); :func:`build_report` returns the content
without writing it. The reading and labelling of the results tables and the finding sentences
come from the read-side layer :mod:`survey_pipeline.results`, shared with the dashboard; the
spreadsheet formula neutraliser is :mod:`survey_pipeline.safe`.
"""

from survey_pipeline.report.content import Report, build_report, report_from_tables
from survey_pipeline.report.write import FORMATS, ReportError, write_report
from survey_pipeline.results.tables import headline_indicators, read_results_tables
from survey_pipeline.safe import neutralise, safe_text

__all__ = ["FORMATS", "Report", "ReportError", "build_report", "headline_indicators", "neutralise",
           "read_results_tables", "report_from_tables", "safe_text", "write_report"]

"""``write_report``: a project's results tables to an Excel workbook, an HTML page or a PDF."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from survey_pipeline.errors import SurveyPipelineError
from survey_pipeline.report.content import Report, build_report

__all__ = ["FORMATS", "ReportError", "write_report"]

#: Output file extension -> format.
FORMATS = {".xlsx": "xlsx", ".html": "html", ".pdf": "pdf"}


class ReportError(SurveyPipelineError):
    """A report cannot be written where or in the format asked."""


def _format_of(out: Path) -> str:
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ReportError(f"{out}: unknown report format '{out.suffix or '(no extension)'}'.", file=out,
                          rule="report-format", fix="Name the output FILE.xlsx (Excel workbook), FILE.html (web page) or FILE.pdf (PDF, printed with Chromium).")
    return fmt


def write_report(project: str | Path, out: str | Path, *, wave: str | None = None, language: str = "en") -> Report:
    """Build the report of ``project`` and write it to ``out`` (format from the extension).

    The file is written to a temporary name next to ``out`` and renamed, so a failed write never
    leaves a half-written report.

    Parameters
    ----------
    project
        The survey project folder (holds ``warehouse.duckdb``).
    out
        ``*.xlsx`` for an Excel workbook, ``*.html`` for a self-contained web page, ``*.pdf`` for
        the web page printed by headless Chromium (page numbers, repeated table headers).
    wave
        The wave reported on (default: the latest analysed wave).
    language
        ``en`` or ``es``.

    Returns
    -------
    Report
        What was written.

    Raises
    ------
    ReportError
        Unknown extension, missing output folder, or the file cannot be written.
    survey_pipeline.report.pdf.PdfError
        A PDF was asked for and Chromium is missing or fails (the message says what to install).
    ProjectError
        The project has no results yet, or the wave or language is unknown.
    """
    out = Path(out)
    fmt = _format_of(out)
    if not out.parent.is_dir():
        raise ReportError(f"{out}: the folder {out.parent} does not exist.", file=out, rule="report-folder",
                          fix="Create the folder first or write the report elsewhere.")
    if fmt == "pdf":
        from survey_pipeline.report.pdf import require_chromium

        require_chromium(out)  # say so before building the report
    report = build_report(project, wave=wave, language=language)
    if fmt == "xlsx":
        from survey_pipeline.report.xlsx import write_xlsx as writer
    elif fmt == "pdf":
        from survey_pipeline.report.pdf import write_pdf as writer
    else:
        from survey_pipeline.report.html import write_html as writer
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        writer(report, tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; a report is an ordinary file
        os.replace(tmp, out)
    except OSError as exc:
        raise ReportError(f"{out}: cannot write the report ({exc.strerror or exc}).", file=out, rule="report-write",
                          fix="Close the file if a spreadsheet program has it open, check the disk space, and retry.") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return report

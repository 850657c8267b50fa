"""`survey-pipeline report`: an Excel workbook, an HTML page or a PDF from a project's results tables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from survey_pipeline.cli._app import app, out
from survey_pipeline.i18n import languages

#: The report's languages: those with a message catalog (survey_pipeline/i18n/locale).
LanguageOption = StrEnum("LanguageOption", {lang: lang for lang in languages()})


@app.command("report")
def report_cmd(
    project: Path = typer.Option(..., "--project", help="The survey project folder (holds warehouse.duckdb)."),
    out_file: Path = typer.Option(..., "--out", help="FILE.xlsx (Excel workbook), FILE.html (self-contained web page) or FILE.pdf (printed with headless Chromium)."),
    wave: str | None = typer.Option(None, "--wave", help="The wave to report on (default: the latest analysed wave)."),
    language: LanguageOption = typer.Option("en", "--language", case_sensitive=True,
                                            help="Language of the report's text and the indicators' labels."),
) -> None:
    """Write the report city leaders read: summary, one sheet or section per topic, methodology.

    Reads only the results tables (run `survey-pipeline run` first). Exits with code 2 when the
    project has no results, the wave is unknown, the file extension is not .xlsx, .html or .pdf,
    or a PDF is asked for and Chromium is not installed (a PDF is the HTML report printed by headless
    Chromium, with page numbers and table headers repeated on every page).

    Example: survey-pipeline report --project riverton --out council-packet.pdf --wave 2026-spring --language es
    """
    from survey_pipeline.report import write_report

    rep = write_report(project, out_file, wave=wave, language=language.value)
    sections = ", ".join(s.title for s in rep.sections)
    out.print(f"wrote {out_file} ({rep.wave_label}; {sections})", markup=False)

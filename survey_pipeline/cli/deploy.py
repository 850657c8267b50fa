"""`survey-pipeline instrument export ...`: deploy an instrument to a survey platform or paper."""

from __future__ import annotations

from pathlib import Path

import typer

from survey_pipeline.cli._app import instrument_app, out
from survey_pipeline.instrument import load_instrument
from survey_pipeline.instrument.areas import read_areas
from survey_pipeline.instrument.deploy import FORMATS, check_format, export_instrument


@instrument_app.command("export")
def export(
    path: str = typer.Argument(..., help="An instrument YAML file, or a bundled template name (resident, partner, agency_self_assessment)."),
    fmt: str = typer.Option(..., "--format", "-f", help=f"Export format: {', '.join(FORMATS)}."),
    out_file: Path = typer.Option(..., "--out", "-o", help="The file to write (.xlsx for xlsform/codebook, .html for paper, .txt for qualtrics-txt/limesurvey-tsv)."),
    agency: str | None = typer.Option(None, "--agency", help="The agency's name, printed on the form and the codebook."),
    areas: Path | None = typer.Option(None, "--areas", help="A CSV or GeoJSON of the agency's neighborhoods (code, neighborhood, optional district, beat, zip)."),
    language: list[str] | None = typer.Option(None, "--language", "-l", help="A language to include (repeatable; default all; paper and qualtrics-txt take one)."),
    module: list[str] | None = typer.Option(None, "--module", "-m", help="An optional module to include (repeatable; default all)."),
) -> None:
    """Export an instrument as XLSForm, a paper questionnaire, a codebook, Qualtrics TXT or LimeSurvey TSV.

    Example: survey-pipeline instrument export resident --format xlsform --areas areas.csv --agency "Springfield PD" --out resident.xlsx
    """
    fmt = check_format(fmt)
    inst = load_instrument(path)
    area_list = read_areas(areas) if areas is not None else None
    written = export_instrument(inst, fmt, out_file, agency=agency, areas=area_list,
                                languages=list(language) if language else None,
                                modules=list(module) if module else None)
    out.print(f"{written}: {fmt} export of {inst.id} {inst.version}", markup=False)

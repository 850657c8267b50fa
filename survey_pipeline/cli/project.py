"""`survey-pipeline init`: create a survey project folder (from a template, or from an export)."""

from __future__ import annotations

from pathlib import Path

import typer

from survey_pipeline.cli._app import app, out
from survey_pipeline.project import init_project


@app.command("init")
def init(
    directory: Path = typer.Argument(..., help="The project folder to create (may exist, must not hold a survey.toml)."),
    instrument: str = typer.Option("resident", "--instrument", help="A bundled template name or a path to an instrument YAML."),
    areas: Path | None = typer.Option(None, "--areas", help="CSV (neighborhood,district,beat) or GeoJSON of neighborhoods; copied into the project."),
    from_export: Path | None = typer.Option(None, "--from-export", help="Start from a city's own export: draft the instrument from it, "
                                            "register it as a wave, derive the areas from its area column(s), write review.xlsx."),
    codebook: Path | None = typer.Option(None, "--codebook", help="With --from-export: a codebook CSV (variable, question text, value labels)."),
    platform: str = typer.Option("auto", "--platform", help="With --from-export: the platform that wrote the export (auto: detect)."),
    wave: str = typer.Option("w1", "--wave", help="With --from-export: the wave id of the export."),
) -> None:
    """Create a survey project: a folder with a commented survey.toml, exports/ and mappings/.

    With --from-export, a working project from a city's own export: instrument.yaml drafted from
    it, the export in exports/ listed as a wave (with its mode when the platform or the file name
    says it), areas.csv derived from its area column(s) unless --areas is given, a vendor weight
    column used as base weights, and review.xlsx to check what was inferred. Then: survey-pipeline
    run --project DIR.

    Example: survey-pipeline init my-survey --from-export resident_survey.csv --codebook dictionary.csv
    """
    if from_export is None:
        if codebook is not None:
            from survey_pipeline.errors import ProjectError

            raise ProjectError("--codebook needs --from-export.", rule="codebook-without-export",
                               fix="Pass the export too: survey-pipeline init DIR --from-export FILE --codebook FILE.")
        proj = init_project(directory, instrument=instrument, areas=areas)
        out.print(f"created {proj.toml_path} (instrument {instrument}"
                  + (f", areas {proj.areas_file.name}" if proj.areas_file else "") + ").", markup=False)
        out.print(f"Next: put the exports in {directory / 'exports'} and run "
                  f"survey-pipeline ingest EXPORT --project {directory} --wave ID --mode web", markup=False)
        return
    from survey_pipeline.start import init_from_export

    r = init_from_export(directory, from_export, codebook=codebook, areas=areas, platform=platform, wave=wave)
    inf = r.inferred
    out.print(f"created {r.project.toml_path} from {from_export.name} ({inf.get('platform')}):", markup=False)
    out.print(f"  instrument {r.instrument_file.name}: {inf.get('questions')} questions, {inf.get('scales')} scales, "
              f"{inf.get('choice_lists')} choice lists, {inf.get('multi')} multi-select, {inf.get('text')} text, "
              f"{inf.get('integer')} numeric", markup=False)
    out.print(f"  wave {r.wave}: exports/{r.export.name}, mode {r.mode}", markup=False)
    if r.areas:
        out.print(f"  areas: {r.areas['file']}" + (f" ({r.areas['areas']} areas, derived from the data)"
                                                   if r.areas.get("derived") else ""), markup=False)
    for note in r.notes:
        out.print(f"  {note}", markup=False)
    out.print(f"Next: check {r.review_file} (edit it in Excel), then run: survey-pipeline run --project {directory}",
              markup=False)

"""`survey-pipeline init`: create a survey project folder."""

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
) -> None:
    """Create a survey project: a folder with a commented survey.toml, exports/ and mappings/.

    Example: survey-pipeline init my-survey --instrument resident --areas neighborhoods.csv
    """
    proj = init_project(directory, instrument=instrument, areas=areas)
    out.print(f"created {proj.toml_path} (instrument {instrument}"
              + (f", areas {proj.areas_file.name}" if proj.areas_file else "") + ").", markup=False)
    out.print(f"Next: put the exports in {directory / 'exports'} and run "
              f"survey-pipeline ingest EXPORT --project {directory} --wave ID --mode web", markup=False)

"""`survey-pipeline dashboard`: serve the Dash dashboard of a project's results."""

from __future__ import annotations

from pathlib import Path

import typer

from survey_pipeline.cli._app import app, err


@app.command("dashboard")
def dashboard(
    project: Path = typer.Option(..., "--project", help="The survey project folder (holds warehouse.duckdb)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (loopback by default)."),
    port: int = typer.Option(8050, "--port", min=1, max=65535, help="TCP port."),
    workers: int | None = typer.Option(
        None, "--workers", min=1,
        help="Worker processes of the production server (gunicorn); default: one per CPU core (2 to 8)."),
    threads: int | None = typer.Option(
        None, "--threads", min=1, help="Threads per worker process; default: 4."),
    debug: bool = typer.Option(False, "--debug", help="Dash's development server (reloader and dev tools), one process."),
) -> None:
    """Serve the dashboard city leaders browse, from the project's results tables.

    Serves with gunicorn: several worker processes, each with a few threads, share the results
    read once at start (and each re-reads them when the store changes). Exits with code 2 when the
    project has no results yet.

    Example: survey-pipeline dashboard --project riverton --port 8050 --workers 2 --threads 4
    """
    from dash_app.serve import serve  # imported here: dash is only needed by this command

    # raises ProjectError (exit 2) when there are no results, SurveyPipelineError for bad options
    serve(project, host=host, port=port, workers=workers, threads=threads, debug=debug,
          announce=lambda line: err.print(line, markup=False))

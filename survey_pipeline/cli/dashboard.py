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
    debug: bool = typer.Option(False, "--debug", help="Dash debug mode (reloader and dev tools)."),
) -> None:
    """Serve the dashboard city leaders browse, from the project's results tables.

    Exits with code 2 when the project has no results yet.

    Example: survey-pipeline dashboard --project riverton --port 8050
    """
    from dash_app import create_app  # imported here: dash is only needed by this command

    dash_app = create_app(project)  # raises ProjectError (exit 2) when there are no results
    err.print(f"Serving {project} on http://{host}:{port}/ (Ctrl+C to stop)", markup=False)
    dash_app.run(host=host, port=port, debug=debug)

"""`survey-pipeline demo`: the fixture city, run end to end."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from survey_pipeline.cli._app import app, out


@app.command("demo")
def demo(
    directory: Path = typer.Option(Path("demo-project"), "--dir", help="Folder for the demo project (made or refreshed)."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Stop after the pipeline; do not start the dashboard."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface the dashboard listens on."),
    port: int = typer.Option(8050, "--port", min=1, max=65535, help="TCP port of the dashboard."),
) -> None:
    """Copy the fixture city (Riverton) into a project folder, run the pipeline on it, and serve the dashboard.

    Example: survey-pipeline demo --dir demo-project --no-serve
    """
    from survey_pipeline.demo import run_demo

    result = run_demo(directory)
    table = Table(title=f"Demo project: {result.project_dir}")
    for col in ("wave", "platform", "rows read", "kept", "quarantined", "analysed"):
        table.add_column(col, justify="right" if col not in ("wave", "platform") else "left")
    for s in result.ingests:
        table.add_row(s.wave, s.platform, str(s.rows_read), str(s.rows_kept), str(s.rows_quarantined), str(s.analysed))
    out.print(table)
    for path in result.deployed:
        out.print(f"deployed: {path}", markup=False)
    for path in result.reports:
        out.print(f"report: {path}", markup=False)
    if result.analysis is not None:
        summary = result.analysis.summary
        out.print(f"analysis: {summary['estimates']} estimates ({summary['suppressed']} suppressed), "
                  f"{summary.get('modeled', 0)} modeled ({summary.get('modeled_suppressed', 0)} suppressed), "
                  f"{summary['comparisons']} comparisons", markup=False)
        for finding in summary.get("findings", [])[:5]:
            out.print(f"  finding: {finding}", markup=False)
    out.print(f"stages run: {', '.join(result.stages)}", markup=False)
    if no_serve:
        out.print(f"Browse it with: survey-pipeline dashboard --project {result.project_dir}", markup=False)
        return
    from dash_app.serve import serve  # as `survey-pipeline dashboard` serves it (gunicorn workers)

    serve(result.project_dir, host=host, port=port,
          announce=lambda line: out.print(line.replace("Serving", "Serving the Riverton dashboard from", 1), markup=False))

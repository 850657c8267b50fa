"""`survey-pipeline run`: ingest what is new, weight and analyze."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from survey_pipeline.cli._app import app, out


@app.command("run")
def run(
    project: Path = typer.Option(..., "--project", help="The survey project folder (with survey.toml)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    jobs: int = typer.Option(None, "--jobs", show_default=False,
                             help="Processes at work: workers read and recode the next exports while this one "
                                  "writes the current one, and the analysis runs its independent pieces side by "
                                  "side (default: 2 with 2 or more CPUs, else 1; 1: everything in this process, "
                                  "one step after the other). The store and the results are the same either way."),
) -> None:
    """Ingest every export listed in survey.toml that is not loaded yet, then weight and analyze.

    Example: survey-pipeline run --project riverton --jobs 2
    """
    from survey_pipeline.run import run_project

    if as_json:
        result = run_project(project, jobs=jobs)
    else:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=out,
                      transient=True) as bar:
            task = bar.add_task("starting")
            result = run_project(project, on_step=lambda msg: bar.update(task, description=msg), jobs=jobs)
    summary = result.analysis.summary if result.analysis is not None else {}
    if as_json:
        out.print(json.dumps({"ingests": [s.to_dict() for s in result.ingests], "analysis": summary,
                              "review": result.review}, default=str), markup=False)
        return
    if result.review is not None:
        ch = result.review["changed"]
        out.print(f"review.xlsx was newer than the instrument: rebuilt {Path(result.review['file']).name} from it "
                  f"({len(ch)} question(s) changed{': ' + ', '.join(ch[:10]) if ch else ''}"
                  f"{' ...' if len(ch) > 10 else ''}); the exports were loaded again with it.", markup=False)
    t = Table(title=f"run: {project}")
    for col in ("file", "wave", "status", "rows read", "kept", "quarantined", "analysed"):
        t.add_column(col)
    for s in result.ingests:
        t.add_row(Path(s.file).name, s.wave, s.status, str(s.rows_read), str(s.rows_kept),
                  str(s.rows_quarantined), str(s.analysed))
    out.print(t)
    out.print(f"analysis: {summary.get('estimates')} estimates ({summary.get('suppressed')} suppressed), "
              f"{summary.get('comparisons')} comparisons", markup=False)
    for finding in summary.get("findings", [])[:8]:
        out.print(f"  finding: {finding}", markup=False)

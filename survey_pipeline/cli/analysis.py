"""`survey-pipeline weight` and `survey-pipeline analyze`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from survey_pipeline.cli._app import app, out


@app.command("weight")
def weight_cmd(
    project: Path = typer.Option(..., "--project", help="The survey project folder (with survey.toml)."),
    as_json: bool = typer.Option(False, "--json", help="Print the diagnostics as JSON."),
) -> None:
    """Weight every wave to the census targets (the targets file of survey.toml) and store weights and diagnostics.

    Example: survey-pipeline weight --project my-survey
    """
    from survey_pipeline.analysis.results import weight_project

    wr = weight_project(project)
    d = wr.diagnostics[wr.diagnostics["area_level"] == "city"]
    if as_json:
        out.print(json.dumps(d.to_dict(orient="records"), default=str), markup=False)
        return
    t = Table(title=f"weights: {project}")
    for c in ("wave", "metric", "value", "detail"):
        t.add_column(c)
    for r in d.itertuples():
        t.add_row(str(r.wave), str(r.metric), f"{r.value:.4g}", r.detail if isinstance(r.detail, str) else "")
    out.print(t)


@app.command("analyze")
def analyze_cmd(
    project: Path = typer.Option(..., "--project", help="The survey project folder (with survey.toml)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    jobs: int = typer.Option(None, "--jobs", show_default=False,
                             help="Processes the analysis uses for its independent pieces (default: 2 with 2 or "
                                  "more CPUs, else 1; 1: everything in this process). The results are the same "
                                  "either way."),
) -> None:
    """Weight, estimate every indicator, compare areas and waves, and write the results tables at once.

    Example: survey-pipeline analyze --project my-survey
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from survey_pipeline.analysis.results import analyze_project

    if as_json:
        run = analyze_project(project, jobs=jobs)
        out.print(json.dumps(run.summary, default=str), markup=False)
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=out,
                  transient=True) as bar:
        task = bar.add_task("reading the store")
        run = analyze_project(project, progress=lambda msg: bar.update(task, description=msg), jobs=jobs)
    s = run.summary
    t = Table(title=f"analysis: {project}")
    t.add_column("what")
    t.add_column("value", overflow="fold")
    for k in ("waves", "responses", "indicators", "estimates", "suppressed", "modeled", "modeled_suppressed",
              "comparisons"):
        if k in s:
            t.add_row(k.replace("_", " "), ", ".join(s[k]) if isinstance(s[k], list) else str(s[k]))
    for f in s["findings"]:
        t.add_row("finding", f)
    out.print(t)

"""`survey-pipeline program run`: many agencies' projects, then peer and outside benchmarks."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from survey_pipeline.cli._app import app, err, out

program_app = typer.Typer(
    help="Programs of many agencies: run every member, then peer benchmarks.\n\n"
         "Example: survey-pipeline program run my-program",
    no_args_is_help=True,
)
app.add_typer(program_app, name="program")


@program_app.command("run")
def run(
    directory: Path = typer.Argument(..., help="The program folder (with program.toml)."),
    scheduler: str = typer.Option(None, "--scheduler", show_default=False,
                                  help="A Dask distributed scheduler (tcp://host:8786) to run the members on "
                                       "(default: [program] scheduler, else local processes)."),
    jobs: int = typer.Option(None, "--jobs", show_default=False,
                             help="Local processes, one member each (default: [program] jobs)."),
    retries: int = typer.Option(None, "--retries", show_default=False,
                                help="Tries again a member whose task crashed this often (default: [program] retries)."),
    force: bool = typer.Option(False, "--force", help="Run every member, changed or not."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run every member whose project changed (ingest, weight, analyze) as independent tasks, then
    publish peer benchmarks (and benchmarks.csv's outside ones) into every member's results.

    Example: survey-pipeline program run tri-county --scheduler tcp://10.0.0.5:8786
    """
    from survey_pipeline.program import run_program

    res = run_program(directory, scheduler=scheduler, jobs=jobs, retries=retries, force=force,
                      on_step=None if as_json else (lambda m: err.print(m, markup=False)))
    b = res.benchmarks
    if as_json:
        out.print(json.dumps({"executor": res.executor, "seconds": round(res.seconds, 2), "members": res.members,
                              "published": res.published, "benchmark_rows": 0 if b is None else len(b)},
                             indent=2, default=str), markup=False)
    else:
        t = Table(title=f"program {directory} ({res.executor})")
        for c in ("member", "status", "seconds", "note"):
            t.add_column(c)
        for m in res.members:
            t.add_row(m["member"], m["status"], f"{m.get('seconds', 0):.1f}",
                      (m.get("error") or m.get("published") or "").splitlines()[0] if (m.get("error") or m.get("published")) else "")
        out.print(t)
        n_peer = 0 if b is None else int((b["source"] == "program").sum())
        n_ext = 0 if b is None else int((b["source"] == "external").sum())
        out.print(f"{n_peer} peer and {n_ext} outside benchmark rows; published to {len(res.published)} member(s) "
                  f"in {res.seconds:.1f} s.", markup=False)
    if res.failed:
        raise typer.Exit(2)

"""`survey-pipeline instrument ...` commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from survey_pipeline.cli._app import err, instrument_app, out
from survey_pipeline.instrument import validate_instrument


@instrument_app.command("validate")
def validate(
    path: str = typer.Argument(..., help="An instrument YAML file, or a bundled template name (resident, partner, agency_self_assessment)."),
    as_json: bool = typer.Option(False, "--json", help="Print the problems as JSON."),
) -> None:
    """Check an instrument and print every problem at once (exit 2 when any error).

    Example: survey-pipeline instrument validate instruments/resident.yaml
    """
    inst, problems = validate_instrument(path)
    errors = [p for p in problems.items if p.severity == "error"]
    warnings = [p for p in problems.items if p.severity != "error"]
    if as_json:
        out.print(json.dumps({
            "file": problems.file,
            "valid": not errors,
            "problems": [p.__dict__ for p in problems.items],
        }, indent=2, ensure_ascii=False), markup=False)
    else:
        for p in errors:
            err.print(f"error: {p}", markup=False)
        for p in warnings:
            err.print(f"warning: {p}", markup=False)
        if not errors and inst is not None:
            n_vars = len(inst.variables())
            out.print(f"{Path(problems.file).name}: valid — {inst.id} {inst.version}, {len(inst.questions())} questions, "
                      f"{n_vars} variables, languages {', '.join(inst.languages)}"
                      + (f", {len(warnings)} warning(s)" if warnings else ""), markup=False)
        else:
            err.print(f"{problems.file}: {len(errors)} error(s), {len(warnings)} warning(s).", markup=False)
    if errors:
        raise typer.Exit(2)

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


@instrument_app.command("review")
def review_cmd(
    project: Path = typer.Argument(..., help="The project folder (its instrument must be a YAML file of the project)."),
) -> None:
    """Write PROJECT/review.xlsx: one row per question of the project's instrument, to check and edit in Excel.

    Example: survey-pipeline instrument review my-survey
    """
    from survey_pipeline.start import write_project_review

    path = write_project_review(project)
    out.print(f"wrote {path}. Edit it, then: survey-pipeline run --project {project}", markup=False)


@instrument_app.command("apply-review")
def apply_review_cmd(
    project: Path = typer.Argument(..., help="The project folder holding review.xlsx."),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Rebuild the project's instrument YAML from PROJECT/review.xlsx (run does it when the workbook is newer).

    Example: survey-pipeline instrument apply-review my-survey
    """
    from survey_pipeline.start import apply_project_review

    got = apply_project_review(project)
    if as_json:
        out.print(json.dumps(got, indent=2, ensure_ascii=False), markup=False)
        return
    ch = got["changed"]
    out.print(f"rebuilt {got['file']} from review.xlsx: {len(ch)} question(s) changed"
              + (f" ({', '.join(ch[:15])}{' ...' if len(ch) > 15 else ''})" if ch else "")
              + (f"; base weights from '{got['weight']}'" if got["weight"] else "") + ".", markup=False)
    out.print(f"Next: survey-pipeline run --project {project} (loads the exports again with the new instrument)",
              markup=False)

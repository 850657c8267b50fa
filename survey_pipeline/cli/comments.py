"""`survey-pipeline comments`: the review workbook of the comment codes, out and back in."""

from __future__ import annotations

from pathlib import Path

import typer

from survey_pipeline.cli._app import app, out

comments_app = typer.Typer(
    help="Residents' comments coded into themes: export the codes for review, import the corrections.\n\n"
         "Example: survey-pipeline comments export --project riverton --out review.xlsx",
    no_args_is_help=True,
)
app.add_typer(comments_app, name="comments")


@comments_app.command("export")
def export_cmd(
    project: Path = typer.Option(..., "--project", help="The survey project folder (holds warehouse.duckdb)."),
    out_file: Path = typer.Option(..., "--out", help="The review workbook to write (.xlsx)."),
) -> None:
    """Write the review workbook: one row per comment with its (redacted) text, the rule that coded
    each theme, one column per theme (1 = coded, blank = not) and a 'reviewed' column.

    Reads the codes of the last analysis (run `survey-pipeline analyze` or `run` first). Correct the
    theme cells, put 1 in 'reviewed' on the rows you checked, then `survey-pipeline comments import`.

    Example: survey-pipeline comments export --project riverton --out review.xlsx
    """
    from survey_pipeline.analysis.comment_review import export_review

    n = export_review(project, out_file)
    out.print(f"wrote {out_file} ({n} comments)", markup=False)


@comments_app.command("import")
def import_cmd(
    review_file: Path = typer.Argument(..., help="The review workbook (from `comments export`, edited)."),
    project: Path = typer.Option(..., "--project", help="The survey project folder (holds warehouse.duckdb)."),
) -> None:
    """Store the corrections of a review workbook; they win over the lexicon on every rerun.

    A row is a correction when 'reviewed' is 1 or its theme cells differ from the exported codes.
    Nothing is stored when any row is invalid (every problem is listed with its row and column).
    Rerun `survey-pipeline analyze` to update the theme estimates.

    Example: survey-pipeline comments import review.xlsx --project riverton
    """
    from survey_pipeline.analysis.comment_review import import_review

    res = import_review(project, review_file)
    out.print(f"stored {res.corrected} corrected comment(s) of {res.rows} row(s) from {review_file}; "
              f"run survey-pipeline analyze --project {project} to update the estimates", markup=False)

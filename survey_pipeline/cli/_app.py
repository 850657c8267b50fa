"""The typer application objects shared by the command modules (no commands here)."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="survey-pipeline",
    help="The open-source survey pipeline for community policing.\n\nExample: survey-pipeline instrument validate resident",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
instrument_app = typer.Typer(
    help="Survey instruments: validate, export, import.\n\nExample: survey-pipeline instrument validate resident",
    no_args_is_help=True,
)
app.add_typer(instrument_app, name="instrument")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _print_version(value: bool) -> None:
    if value:
        from survey_pipeline import __version__

        out.print(f"survey-pipeline {__version__}", markup=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="On an internal error (a bug), print the Python traceback too."),
) -> None:
    """The open-source survey pipeline for community policing.

    Example: survey-pipeline instrument validate resident
    """
    # --debug is taken out of the arguments and honoured by cli.main(); declared here for --help.

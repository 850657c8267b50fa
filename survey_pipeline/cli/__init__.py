"""The `survey-pipeline` command: parses arguments, calls the library, prints.

Each command lives in a module of this package and is a thin shell over a library function.
Library errors (`SurveyPipelineError`) become one clear message on stderr and exit code 2; a
traceback shown to a user is a bug.
"""

from __future__ import annotations

import sys

import click
import typer

try:  # typer >= 0.20 vendors click: its usage errors are not click's classes
    from typer._click.exceptions import ClickException as _TyperClickException
except ImportError:  # pragma: no cover - older typer uses click itself
    _TyperClickException = click.exceptions.ClickException

from survey_pipeline.cli import analysis as _analysis  # noqa: F401  (registers commands)
from survey_pipeline.cli import dashboard as _dashboard  # noqa: F401  (registers commands)
from survey_pipeline.cli import demo as _demo  # noqa: F401  (registers commands)
from survey_pipeline.cli import deploy as _deploy  # noqa: F401  (registers commands)
from survey_pipeline.cli import importer as _importer  # noqa: F401  (registers commands)
from survey_pipeline.cli import ingest as _ingest  # noqa: F401  (registers commands)
from survey_pipeline.cli import instrument as _instrument  # noqa: F401  (registers commands)
from survey_pipeline.cli import plan as _plan  # noqa: F401  (registers commands)
from survey_pipeline.cli import program as _program  # noqa: F401  (registers commands)
from survey_pipeline.cli import project as _project  # noqa: F401  (registers commands)
from survey_pipeline.cli import report as _report  # noqa: F401  (registers commands)
from survey_pipeline.cli import run as _run  # noqa: F401  (registers commands)
from survey_pipeline.cli._app import app, err
from survey_pipeline.errors import SurveyPipelineError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 user error)."""
    try:
        rc = app(args=argv, standalone_mode=False, prog_name="survey-pipeline")
    except SurveyPipelineError as exc:
        err.print(f"error: {exc.render()}", markup=False)
        return 2
    except (click.exceptions.Exit, typer.Exit) as exc:
        return exc.exit_code
    except (click.exceptions.Abort, typer.Abort):
        err.print("Aborted.")
        return 1
    except (click.exceptions.ClickException, _TyperClickException) as exc:
        exc.show()
        return 2
    except KeyboardInterrupt:
        err.print("Interrupted.")
        return 130
    return rc if isinstance(rc, int) else 0


def entry() -> None:  # pragma: no cover - console script
    sys.exit(main())

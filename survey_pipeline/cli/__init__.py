"""The `survey-pipeline` command: parses arguments, calls the library, prints.

Each command lives in a module of this package and is a thin shell over a library function.
Library errors (`SurveyPipelineError`) become one clear message on stderr and exit code 2; a
traceback shown to a user is a bug. Any other exception is that bug: the last line of defence in
:func:`main` prints one message tagged ``[internal-error]`` naming the command, the file when known
and the step where it happened, asks for a bug report, and exits with code 2; the traceback is
printed only with the global ``--debug`` flag (``survey-pipeline --debug run ...``). Tests fail when
``internal-error`` shows up (the fuzz and bad-project tests look for it).
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click
import typer

try:  # typer >= 0.20 vendors click: its usage errors are not click's classes
    from typer._click.exceptions import ClickException as _TyperClickException
except ImportError:  # pragma: no cover - older typer uses click itself
    _TyperClickException = click.exceptions.ClickException

from survey_pipeline.cli import analysis as _analysis  # noqa: F401  (registers commands)
from survey_pipeline.cli import comments as _comments  # noqa: F401  (registers commands)
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

__all__ = ["INTERNAL_ERROR", "app", "main"]

INTERNAL_ERROR = "internal-error"
"""The rule of the message :func:`main` prints for an exception that is not a SurveyPipelineError."""


def _command_name(argv: list[str]) -> str:
    words = []
    for a in argv:
        if a.startswith("-"):
            break
        words.append(a)
        if len(words) == 2:
            break
    return " ".join(["survey-pipeline", *words[:2]]) if words else "survey-pipeline"


def _file_of(exc: BaseException, argv: list[str]) -> str | None:
    for attr in ("filename", "path", "file"):
        v = getattr(exc, attr, None)
        if isinstance(v, str | os.PathLike) and str(v):
            return str(v)
    for a in argv:
        if not a.startswith("-") and ("/" in a or "." in a):
            try:
                if Path(a).exists():
                    return a
            except (OSError, ValueError):
                continue
    return None


def _step_of(exc: BaseException) -> str:
    """The innermost survey-pipeline function on the traceback (module.function)."""
    step = "?"
    for fr in traceback.extract_tb(exc.__traceback__):
        f = fr.filename.replace("\\", "/")
        if "/survey_pipeline/" in f or "/dash_app/" in f:
            mod = f.rsplit("/survey_pipeline/", 1)[-1] if "/survey_pipeline/" in f else "dash_app/" + f.rsplit("/dash_app/", 1)[-1]
            step = f"{mod.removesuffix('.py').replace('/', '.')}.{fr.name} (line {fr.lineno})"
    return step


def _internal_error(exc: BaseException, argv: list[str], debug: bool) -> int:
    if debug:
        err.print("".join(traceback.format_exception(exc)), markup=False)
    file = _file_of(exc, argv)
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    err.print(f"error: [{INTERNAL_ERROR}] {_command_name(argv)}: an unexpected {type(exc).__name__}"
              + (f" ({text})" if text else "") + (f" while working on {file}" if file else "")
              + f", in step {_step_of(exc)}. This is a bug in survey-pipeline, not in your files: please report it "
              "with the command you ran" + ("" if debug else " and the traceback that --debug prints (run again with "
                                                             "survey-pipeline --debug ...)") + ".", markup=False)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 user error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # the global --debug comes before the command (`dashboard --debug` is the dashboard's own option)
    lead = next((i for i, a in enumerate(argv) if not a.startswith("-")), len(argv))
    debug = "--debug" in argv[:lead]
    argv = [a for i, a in enumerate(argv) if not (i < lead and a == "--debug")]
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
    except Exception as exc:  # the last line of defence: a bug, said as one message (see the module docstring)
        return _internal_error(exc, argv, debug)
    return rc if isinstance(rc, int) else 0


def entry() -> None:  # pragma: no cover - console script
    sys.exit(main())

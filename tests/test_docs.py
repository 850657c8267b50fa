"""Every command has help text ending with an example, and the README shows the two commands."""

from __future__ import annotations

from pathlib import Path

import typer.main

from survey_pipeline.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _commands(group, prefix: tuple[str, ...] = ()):
    # typer may vendor its own click, so recognise groups by their `commands`, not by class
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        yield path, cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, path)


def test_every_command_has_help_with_an_example():
    root = typer.main.get_command(app)
    found = list(_commands(root))
    names = {" ".join(p) for p, _ in found}
    assert {"instrument validate", "instrument export", "instrument import", "plan"} <= names, names
    for path, cmd in found:
        text = cmd.help or ""
        assert text.strip(), f"'{' '.join(path)}' has no help"
        assert "Example:" in text, f"'{' '.join(path)}' help lacks an 'Example:' line"


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[:800]
    assert "make demo" in head and "make test" in head


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_version_flag(capsys):
    from survey_pipeline import __version__
    from survey_pipeline.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"survey-pipeline {__version__}"

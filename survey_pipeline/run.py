"""`survey-pipeline run`: every export listed in survey.toml that is not loaded yet, then weights and analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from survey_pipeline.errors import ProjectError


@dataclass
class RunResult:
    """What one run did: the ingests (loaded or already loaded) and the analysis summary."""

    ingests: list = field(default_factory=list)
    analysis: object | None = None


def run_project(root: str | Path, *, progress=None, on_step=None) -> RunResult:
    """Ingest every export of ``survey.toml`` not loaded yet (loaded files are no-ops), then analyze.

    Raises
    ------
    ProjectError
        When ``survey.toml`` lists no exports.
    """
    from survey_pipeline.analysis.results import analyze_project
    from survey_pipeline.ingest.pipeline import ingest
    from survey_pipeline.project import Project

    project = Project.load(root)
    specs = [(w, e) for w in project.waves.values() for e in w.exports]
    if not specs:
        raise ProjectError(
            f"{project.toml_path}: no exports are listed, so there is nothing to run.",
            file=project.toml_path, rule="no-exports",
            fix='List each wave\'s files: [[waves]] id = "2026q1" exports = [{file = "exports/web.csv", mode = "web"}].',
        )
    result = RunResult()
    for wave, spec in specs:
        if on_step:
            on_step(f"ingest {spec.file} ({wave.id})")
        result.ingests.append(ingest(project, project.root / spec.file, wave.id, mode=spec.mode,
                                     platform=spec.platform, progress=progress))
    if on_step:
        on_step("weight and analyze")
    result.analysis = analyze_project(project.root, progress=on_step)
    return result

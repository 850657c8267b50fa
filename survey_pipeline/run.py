"""`survey-pipeline run`: every export listed in survey.toml that is not loaded yet, then weights and analysis."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
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
    from survey_pipeline.ingest.pipeline import _default_reader, ingest
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
    todo = _not_loaded(project, [project.root / spec.file for _, spec in specs])
    # the next export not loaded yet is read in a second thread while this one is recoded and
    # written (the C parser and DuckDB's append release the GIL): the exports are still
    # ingested one at a time, in order, each in its own transaction
    with ThreadPoolExecutor(1) as pool:
        reads: dict[int, Future] = {}

        def read_ahead(i: int) -> None:
            nxt = next((j for j in range(i, len(specs)) if j in todo and j not in reads), None)
            if nxt is not None:
                reads[nxt] = pool.submit(_default_reader, project.root / specs[nxt][1].file, specs[nxt][1].platform)

        for i, (wave, spec) in enumerate(specs):
            if on_step:
                on_step(f"ingest {spec.file} ({wave.id})")
            read_ahead(i)
            reader = None
            if i in reads:
                reader = (lambda fut: lambda _path, _platform: fut.result())(reads[i])
                read_ahead(i + 1)
            result.ingests.append(ingest(project, project.root / spec.file, wave.id, mode=spec.mode,
                                         platform=spec.platform, progress=progress, reader=reader))
            reads.pop(i, None)
    if on_step:
        on_step("weight and analyze")
    result.analysis = analyze_project(project.root, progress=on_step)
    return result


def _not_loaded(project, paths: list[Path]) -> set[int]:
    """Positions of the exports whose content (SHA-256) the store does not hold yet."""
    from survey_pipeline.ingest.pipeline import _sha256
    from survey_pipeline.store import Store

    todo = {i for i, p in enumerate(paths) if p.is_file()}
    if not project.store_path.exists():
        return todo
    with Store(project.store_path, read_only=True) as store:
        return {i for i in todo if store.source_by_sha(_sha256(paths[i])) is None}

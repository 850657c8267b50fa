"""`survey-pipeline run`: every export listed in survey.toml that is not loaded yet, then weights and analysis.

With ``jobs`` > 1, worker processes read, map, recode and flag the next exports
(:func:`~survey_pipeline.ingest.pipeline.prepare_export`, no store) while this process writes the
current one (:func:`~survey_pipeline.ingest.pipeline.commit_export`), in the listed order: the
store ends up exactly as with ``jobs=1``, one export after the other.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from survey_pipeline.errors import IngestError, ProjectError


@dataclass
class RunResult:
    """What one run did: the ingests (loaded or already loaded) and the analysis summary."""

    ingests: list = field(default_factory=list)
    analysis: object | None = None
    review: dict | None = None  # review.xlsx applied first (survey_pipeline.start.apply_project_review)


def run_project(root: str | Path, *, progress=None, on_step=None, jobs: int | None = None) -> RunResult:
    """Ingest every export of ``survey.toml`` not loaded yet (loaded files are no-ops), then analyze.

    Parameters
    ----------
    root
        The project folder.
    progress
        Passed to each ingest: ``progress(step, done, total)``.
    on_step
        Called with the name of each stage (``ingest FILE (WAVE)``, ``weight and analyze`` ...).
    jobs
        Processes at work: worker processes prepare the next exports (read, map, recode, flag)
        while this process writes the current one, and the analysis runs its independent pieces
        in ``jobs`` processes (:mod:`survey_pipeline.analysis._parallel`); 1 does everything in
        this process, one step after the other. Default:
        :func:`~survey_pipeline.analysis._parallel.default_jobs`. Neither the store nor the
        results depend on it.

    Raises
    ------
    ProjectError
        When ``survey.toml`` lists no exports, or ``jobs`` is below 1.
    IngestError
        As :func:`~survey_pipeline.ingest.pipeline.ingest`; the exports before the failing one stay
        loaded, nothing of the failing one is written.
    """
    from survey_pipeline.analysis._parallel import check_jobs, default_jobs
    from survey_pipeline.analysis.results import analyze_project
    from survey_pipeline.ingest.pipeline import ingest
    from survey_pipeline.project import check_project
    from survey_pipeline.start import apply_project_review, review_is_newer

    jobs = default_jobs() if jobs is None else check_jobs(jobs)
    review = None
    if review_is_newer(root):  # the analyst edited review.xlsx: the instrument is rebuilt from it
        if on_step:
            on_step("review.xlsx is newer than the instrument: rebuilding the instrument from it")
        review = apply_project_review(root)
    project = check_project(root)  # survey.toml, its files, the instrument and the store's, before any work
    # exports loaded with the instrument before the review are loaded again with the new one
    reload = review is not None and project.store_path.exists()
    specs = [(w, e) for w in project.waves.values() for e in w.exports]
    if not specs:
        raise ProjectError(
            f"{project.toml_path}: no exports are listed, so there is nothing to run.",
            file=project.toml_path, rule="no-exports",
            fix='List each wave\'s files: [[waves]] id = "2026q1" exports = [{file = "exports/web.csv", mode = "web"}].',
        )
    result = RunResult(review=review)
    if jobs == 1 or len(specs) == 1 or reload:
        for wave, spec in specs:
            if on_step:
                on_step(f"ingest {spec.file} ({wave.id})")
            result.ingests.append(ingest(project, project.root / spec.file, wave.id, mode=spec.mode,
                                         platform=spec.platform, progress=progress, replace=reload))
    else:
        with _Prefetch(project, specs, jobs) as prefetch:
            for i, (wave, spec) in enumerate(specs):
                if on_step:
                    on_step(f"ingest {spec.file} ({wave.id})")
                result.ingests.append(prefetch.ingest(i, progress))
    if on_step:
        on_step("weight and analyze")
    result.analysis = analyze_project(project.root, progress=on_step, jobs=jobs)
    return result


# --- ingest with exports prepared ahead in worker processes ---------------------------------------

_PROJECTS: dict = {}
"""Projects loaded in a worker process (by folder): one load per worker, not per export."""


def _worker_init() -> None:
    """In each worker process: lower priority than the process writing the store (it holds up the
    run; the workers only prepare ahead), and exit at once when that process is gone (killed):
    a worker never idles on, holding the terminal's pipes."""
    import threading
    from multiprocessing.connection import wait

    with contextlib.suppress(AttributeError, OSError):  # not on POSIX: same priority
        os.nice(_WORKER_NICENESS)
    parent = multiprocessing.parent_process()
    if parent is not None:
        def watch() -> None:
            wait([parent.sentinel])
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


_WORKER_NICENESS = 5
"""How much lower the workers' scheduling priority is than the main process's."""

_WAITING = 1
"""Exports prepared ahead beyond one per worker: a worker that is done starts the next export
while its result waits for its turn (at most ``jobs + _WAITING`` exports on their way)."""


def _prepare_in_worker(root: str, export: str, sha: str, wave: str, mode: str, platform: str):
    """Run in a worker process: :func:`~survey_pipeline.ingest.pipeline.prepare_export` of one export."""
    from survey_pipeline.ingest.pipeline import prepare_export
    from survey_pipeline.project import Project

    proj = _PROJECTS.get(root)
    if proj is None:
        proj = _PROJECTS[root] = Project.load(root)
    return prepare_export(proj, Path(export), sha, wave, mode, platform)


class _Prefetch:
    """Exports prepared ahead, in order, by ``jobs`` worker processes; committed here one by one.

    At most ``jobs + _WAITING`` exports are being prepared or wait, prepared, for their turn (the
    bounded look-ahead). An export is prepared ahead only when its preparation cannot depend on
    the exports before it: it is not loaded yet (by sha256, in the store or earlier in the list),
    its mapping file is its own, and its checks pass; every other export is ingested at its turn
    in this process, exactly as with ``jobs=1`` (which also raises its errors, in order).
    """

    def __init__(self, project, specs: list, jobs: int):
        self.project = project
        self.specs = specs
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[int, Future] = {}
        self.plans: dict[int, tuple[Path, str, str]] = {}  # spec index -> (export, sha256, mode)
        self.next = 0  # the next spec index to consider for preparing ahead
        self.loaded: set[str] = set()  # sha256 loaded, or to load before the next spec
        self.mappings: set[Path] = set()  # mapping files of the specs planned so far
        self.planned: dict[int, tuple[Path, str, str] | None] = {}
        self.off = False  # True: every export is ingested in this process

    def __enter__(self) -> _Prefetch:
        self.loaded = _store_shas(self.project.store_path)
        # a worker helps only when two exports or more are to be prepared: one alone is read here
        eligible = 0
        while eligible < 2 and len(self.planned) < len(self.specs):
            eligible += self._plan(len(self.planned)) is not None
        self.off = eligible < 2
        self._top_up()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.pool is None:
            return
        if exc_type is not None:  # an error or an interrupt: stop the workers now, not after their export
            for f in self.futures.values():
                f.cancel()
            for proc in list((getattr(self.pool, "_processes", None) or {}).values()):
                if proc.is_alive():
                    proc.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None

    def _plan(self, i: int) -> tuple[Path, str, str] | None:
        """(export, sha256, mode) when spec ``i`` can be prepared ahead, else None (first called in order)."""
        if i in self.planned:
            return self.planned[i]
        from survey_pipeline.errors import SurveyPipelineError
        from survey_pipeline.ingest.mapping import mapping_path
        from survey_pipeline.ingest.pipeline import _resolve_mode, checked_sha256

        wave, spec = self.specs[i]
        export = self.project.root / spec.file
        mpath = mapping_path(self.project.root, wave.id, export)
        own_mapping = mpath not in self.mappings  # else it reads the mapping an earlier export writes
        self.mappings.add(mpath)
        try:
            sha = checked_sha256(export, spec.platform)
            mode = _resolve_mode(self.project, wave.id, export, spec.mode)
        except SurveyPipelineError:  # raised at its turn, by the in-process ingest
            self.planned[i] = None
            return None
        new = sha not in self.loaded
        self.loaded.add(sha)
        self.planned[i] = (export, sha, mode) if own_mapping and new else None
        return self.planned[i]

    def _top_up(self) -> None:
        """Submit the next exports to prepare while fewer than ``jobs + _WAITING`` are on their way."""
        while not self.off and len(self.futures) < self.jobs + _WAITING and self.next < len(self.specs):
            i = self.next
            self.next += 1
            plan = self._plan(i)
            if plan is None:
                continue
            if self.pool is None:
                self.project.contact_salt()  # created once, here: never by two workers at once
                # spawn (not fork): this process holds DuckDB's threads
                self.pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_worker_init)
            export, sha, mode = plan
            wave, spec = self.specs[i]
            try:
                self.futures[i] = self.pool.submit(_prepare_in_worker, str(self.project.root), str(export), sha,
                                                   wave.id, mode, spec.platform)
            except BrokenProcessPool:  # a worker died: the export waiting for it says so; no more ahead
                self.next = len(self.specs)
                return
            self.plans[i] = plan

    def ingest(self, i: int, progress):
        """Ingest spec ``i``: its prepared result when it was prepared ahead, else in this process."""
        from survey_pipeline.ingest.pipeline import commit_export, ingest

        wave, spec = self.specs[i]
        fut = self.futures.get(i)
        if fut is None:
            result = ingest(self.project, self.project.root / spec.file, wave.id, mode=spec.mode,
                            platform=spec.platform, progress=progress)
            self._top_up()
            return result
        export, sha, planned_mode = self.plans[i]

        def prepared(mode: str, tick):
            try:
                got = fut.result()
            except BrokenProcessPool as exc:
                raise IngestError(
                    f"{export}: the worker process preparing this export stopped unexpectedly ({exc}); "
                    "nothing of this export was written.", file=export, rule="worker-stopped",
                    fix="Check the machine's free memory (the system stops a process that takes too much), "
                        "then run again; --jobs 1 ingests in one process and needs less memory.") from None
            del self.futures[i]
            self._top_up()  # the free worker starts on the next export while this one is written
            if mode != planned_mode:  # pragma: no cover - the mode is resolved the same way twice
                from survey_pipeline.ingest.pipeline import prepare_export

                return prepare_export(self.project, export, sha, wave.id, mode, spec.platform, tick=tick)
            for step, k in (("mapping", 1), ("recoding", 2), ("quality", 3)):
                tick(step, k)
            return got

        try:
            result = commit_export(self.project, export, sha, wave.id, spec.mode, prepared, progress)
        finally:
            if i in self.futures:  # not taken (an error, or loaded meanwhile by another program)
                self.futures.pop(i).cancel()
        self._top_up()
        return result


def _store_shas(path: Path) -> set[str]:
    """The sha256 of every export the store holds (empty when there is no store yet)."""
    from survey_pipeline.errors import StoreError
    from survey_pipeline.store import Store

    if not path.exists():
        return set()
    try:
        with Store(path, read_only=True) as store:
            return set(store.query("SELECT sha256 FROM sources")["sha256"])
    except StoreError:  # not readable now: the ingest at each export's turn says why
        return set()

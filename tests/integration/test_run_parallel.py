"""`run` with exports prepared in worker processes (jobs=2) writes exactly what jobs=1 writes.

The project: 5 generic exports resampled from the fixture city (speeders, duplicates, tests ...),
with response ids and e-mails repeated across exports, so the flags that need the store
(duplicate_id, duplicate_contact) and the store's unique response ids are exercised.
"""

from __future__ import annotations

import importlib
import multiprocessing
import pickle
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from benchmarks.bench_run import WAVES, make_project
from survey_pipeline.errors import IngestError, Problem, ProjectError, SurveyPipelineError
from survey_pipeline.run import run_project
from survey_pipeline.store import Store

ROWS = 1000  # 200 per export


_REAL_ANALYZE = importlib.import_module("survey_pipeline.analysis.results").analyze_project


@pytest.fixture(autouse=True)
def _no_analysis(monkeypatch):
    """The ingests are under test: the analysis (the same for both) is skipped, to keep this fast."""
    import survey_pipeline.analysis.results as results

    monkeypatch.setattr(results, "analyze_project", lambda root, progress=None, jobs=None: None)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("par") / "project"
    make_project(root, ROWS)
    exports = [root / "exports" / f"{w}.csv" for w in WAVES]
    first = pd.read_csv(exports[0], dtype=str, keep_default_na=False)
    first.loc[:19, "email"] = [f"person{i}@example.org" for i in range(20)]
    first.to_csv(exports[0], index=False)
    third = pd.read_csv(exports[2], dtype=str, keep_default_na=False)
    third.loc[:9, "response_id"] = first.loc[:9, "response_id"].to_numpy()  # ids seen in an earlier export
    third.loc[10:14, "response_id"] = ""  # no platform id: the store makes one
    third.loc[20:29, "email"] = [f"Person{i}@example.org " for i in range(10)]  # contacts seen before
    third.to_csv(exports[2], index=False)
    return root


def _copy(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest)
    return dest


TABLES = {
    "sources": "SELECT * EXCLUDE (loaded_at) FROM sources",
    "waves": "SELECT * FROM waves",
    "variables": "SELECT * FROM variables",
    "responses": "SELECT * FROM responses",
    "answers": "SELECT * FROM answers",
    "open_text": "SELECT * FROM open_text",
    "quarantine": "SELECT * FROM quarantine",
    "flags": "SELECT * FROM flags",
}


def content(root: Path) -> dict[str, pd.DataFrame]:
    """Every ingest table of the store (sources without their load time), rows sorted."""
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        out = {}
        for name, sql in TABLES.items():
            df = con.execute(sql).df()
            out[name] = df.sort_values(list(df.columns)).reset_index(drop=True)
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def sequential(base, tmp_path_factory) -> tuple[Path, list]:
    import survey_pipeline.analysis.results as results

    root = _copy(base, tmp_path_factory.mktemp("seq") / "project")
    with pytest.MonkeyPatch.context() as mp:
        analyses = []
        mp.setattr(results, "analyze_project", lambda root, progress=None, jobs=None: analyses.append(jobs))
        res = run_project(root, jobs=1)
    assert analyses == [1]  # the analysis gets the run's jobs
    return root, res.ingests


def test_parallel_run_writes_what_the_sequential_run_writes(base, sequential, tmp_path):
    seq_root, seq_ingests = sequential
    root = _copy(base, tmp_path / "project")
    steps: list[tuple[str, int]] = []
    marks: list[str] = []
    res = run_project(root, jobs=2, progress=lambda step, i, n: steps.append((step, i)), on_step=marks.append)
    want, got = content(seq_root), content(root)
    assert want["responses"]["flag_duplicate_id"].sum() >= 10  # the cases above are really there
    assert want["responses"]["flag_duplicate_contact"].sum() >= 10
    assert want["responses"]["response_id"].str.contains("~s3r").sum() == 10
    for name in TABLES:
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)
    # the summaries too (what the CLI prints), and the mapping files
    assert [s.to_json().replace(str(root), "ROOT") for s in res.ingests] == \
        [s.to_json().replace(str(seq_root), "ROOT") for s in seq_ingests]
    for f in sorted((seq_root / "mappings").iterdir()):
        assert (root / "mappings" / f.name).read_text() == f.read_text()
    # progress from this process, in order: one ingest mark per export, then the analysis
    assert [m for m in marks if m.startswith("ingest")] == [f"ingest exports/{w}.csv ({w})" for w in WAVES]
    assert marks.index("weight and analyze") == len(WAVES)
    assert [i for _, i in steps] == [0, 1, 2, 3, 4, 6] * len(WAVES)
    assert not multiprocessing.active_children()  # the workers are gone


def test_a_rerun_parses_nothing_and_starts_no_worker(sequential, monkeypatch):
    root, _ = sequential
    pipeline = importlib.import_module("survey_pipeline.ingest.pipeline")
    run = importlib.import_module("survey_pipeline.run")

    def no_read(*a, **k):
        raise AssertionError("an already loaded export was read, or a worker started")

    monkeypatch.setattr(pipeline, "_default_reader", no_read)
    monkeypatch.setattr(run, "ProcessPoolExecutor", no_read)
    before = content(root)
    res = run_project(root, jobs=2)
    assert {s.status for s in res.ingests} == {"already loaded"}
    for name in TABLES:
        pd.testing.assert_frame_equal(content(root)[name], before[name], obj=name)


def _break_second(root: Path) -> Path:
    """The second export becomes an export of another instrument."""
    bad = root / "exports" / f"{WAVES[1]}.csv"
    pd.DataFrame({"foo": ["1", "2"], "bar": ["x", "y"], "baz": ["a", "b"]}).to_csv(bad, index=False)
    return bad


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_error_in_the_second_export_keeps_the_first(base, tmp_path, jobs):
    root = _copy(base, tmp_path / "project")
    bad = _break_second(root)
    with pytest.raises(IngestError) as err:
        run_project(root, jobs=jobs)
    e = err.value
    assert (e.rule, e.file) == ("different-instrument", str(bad))
    assert str(e).startswith(f"{bad}: only 0 of 3 answer columns match instrument")
    with Store(root / "warehouse.duckdb", read_only=True) as store:
        assert store.sources()["file_name"].tolist() == [f"{WAVES[0]}.csv"]
        assert store.counts()["responses"] == ROWS // len(WAVES)
    # the mapping of the failing export is written (to map it by hand); none of the later ones
    assert sorted(p.name for p in (root / "mappings").iterdir()) == [
        f"{WAVES[0]}__{WAVES[0]}.csv", f"{WAVES[1]}__{WAVES[1]}.csv"]
    assert not multiprocessing.active_children()


def test_the_error_reads_the_same_with_one_or_two_jobs(base, tmp_path):
    msgs = []
    for jobs in (1, 2):
        root = _copy(base, tmp_path / f"p{jobs}")
        _break_second(root)
        (root / "exports" / f"{WAVES[3]}.csv").unlink()  # a later problem is never reached
        with pytest.raises(IngestError) as err:
            run_project(root, jobs=jobs)
        msgs.append((err.value.render().replace(str(root), "ROOT"), err.value.rule, err.value.fix.replace(str(root), "ROOT")))
    assert msgs[0] == msgs[1]


def test_a_killed_worker_is_a_clear_error(base, tmp_path, monkeypatch):
    import survey_pipeline.run as run

    root = _copy(base, tmp_path / "project")
    monkeypatch.setattr(run, "_prepare_in_worker", _die)
    with pytest.raises(IngestError) as err:
        run_project(root, jobs=2)
    assert err.value.rule == "worker-stopped"
    assert "stopped unexpectedly" in str(err.value) and "--jobs 1" in err.value.fix
    assert not (root / "warehouse.duckdb").exists() or Store(root / "warehouse.duckdb", read_only=True).counts()["responses"] == 0
    assert not multiprocessing.active_children()


def _die(*args):
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def test_an_interrupt_stops_the_workers(base, tmp_path):
    root = _copy(base, tmp_path / "project")

    def interrupt(step: str) -> None:
        if step.startswith(f"ingest exports/{WAVES[1]}"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_project(root, jobs=2, on_step=interrupt)
    assert not multiprocessing.active_children()
    with Store(root / "warehouse.duckdb", read_only=True) as store:
        assert store.sources()["file_name"].tolist() == [f"{WAVES[0]}.csv"]


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_jobs_below_one_is_refused(base, jobs):
    with pytest.raises(ProjectError) as err:
        run_project(base, jobs=jobs)
    assert err.value.rule == "jobs" and "--jobs 1" in err.value.fix


def test_errors_cross_process_boundaries_intact():
    p = Problem(file="a.csv", rule="r", message="m", fix="f", row=3, column="c")
    for exc in (IngestError("a.csv: bad.", file="a.csv", rule="r", fix="do this"),
                ProjectError("bad project", [p], file=Path("x/survey.toml"), rule="r2", fix="f2"),
                SurveyPipelineError("plain")):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc)
        assert (str(back), back.render(), back.file, back.rule, back.fix, back.problems) == \
            (str(exc), exc.render(), exc.file, exc.rule, exc.fix, exc.problems)


def test_cli_jobs_is_passed_on_and_checked(base, monkeypatch, capsys):
    from survey_pipeline.cli import main
    from survey_pipeline.run import RunResult

    got = []
    real = importlib.import_module("survey_pipeline.run").run_project
    monkeypatch.setattr("survey_pipeline.run.run_project", lambda root, jobs=None, **k: got.append(jobs) or RunResult())
    assert main(["run", "--project", str(base), "--json", "--jobs", "1"]) == 0
    assert main(["run", "--project", str(base), "--json"]) == 0
    assert got == [1, None]  # None: the default (2 with 2 CPUs or more)
    monkeypatch.setattr("survey_pipeline.run.run_project", real)
    assert main(["run", "--project", str(base), "--jobs", "0"]) == 2
    msg = capsys.readouterr().err
    assert "--jobs 0" in msg and "Fix: Pass --jobs 1" in " ".join(msg.split())
    monkeypatch.setattr(importlib.import_module("survey_pipeline.analysis.results"), "analyze_project", _REAL_ANALYZE)
    assert main(["analyze", "--project", str(base), "--jobs", "0"]) == 2  # refused before any work
    msg = capsys.readouterr().err
    assert "--jobs 0" in msg and "Fix: Pass --jobs 1" in " ".join(msg.split())

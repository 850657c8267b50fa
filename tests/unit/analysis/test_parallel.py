"""run_tasks: results in the tasks' order whoever runs them; failures and dead workers redone here."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from survey_pipeline.analysis import _parallel
from survey_pipeline.analysis._parallel import run_tasks, workers
from survey_pipeline.errors import AnalysisError

pytestmark = pytest.mark.skipif(not _parallel._can_fork(), reason="needs fork (Linux)")


def test_results_in_task_order_from_both_processes():
    pid = os.getpid()
    got = run_tasks([lambda i=i: (i, os.getpid(), np.arange(i)) for i in range(12)], n_workers=2)
    assert [g[0] for g in got] == list(range(12))
    assert all(np.array_equal(g[2], np.arange(i)) for i, g in enumerate(got))
    # the parent computed some, a forked child the others (each task takes long enough to share)
    slow = run_tasks([lambda: (__import__("time").sleep(0.05), os.getpid())[1] for _ in range(8)], n_workers=2)
    assert pid in slow and len(set(slow)) == 2


def test_one_worker_runs_everything_here_in_order():
    seen = []
    got = run_tasks([lambda i=i: seen.append(i) or os.getpid() for i in range(5)], n_workers=1)
    assert seen == list(range(5)) and set(got) == {os.getpid()}


def test_a_task_failing_in_the_child_raises_here_with_its_own_type():
    parent = os.getpid()

    def boom():
        if os.getpid() != parent:
            raise RuntimeError("child")
        raise AnalysisError("the task's own error", rule="x", fix="y")

    tasks = [boom] * 2 + [lambda: 1] * 4
    with pytest.raises(AnalysisError, match="own error"):
        run_tasks(tasks, n_workers=2)


def test_a_task_that_fails_only_in_the_child_is_redone_here():
    parent = os.getpid()

    def flaky(i):
        if os.getpid() != parent:
            raise MemoryError
        return i

    assert run_tasks([lambda i=i: flaky(i) for i in range(6)], n_workers=2) == list(range(6))


def test_a_dead_child_loses_nothing():
    parent = os.getpid()

    def die_in_child(i):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return i * i

    assert run_tasks([lambda i=i: die_in_child(i) for i in range(6)], n_workers=2) == [i * i for i in range(6)]


def test_workers_from_the_environment(monkeypatch):
    monkeypatch.setenv("SURVEY_PIPELINE_WORKERS", "1")
    assert workers() == 1
    monkeypatch.setenv("SURVEY_PIPELINE_WORKERS", "two")
    with pytest.raises(AnalysisError, match="SURVEY_PIPELINE_WORKERS"):
        workers()
    monkeypatch.delenv("SURVEY_PIPELINE_WORKERS")
    assert workers() == min(2, os.cpu_count() or 1)


def test_jobs_of_a_using_block_come_first(monkeypatch):
    from survey_pipeline.analysis._parallel import using
    from survey_pipeline.errors import ProjectError

    monkeypatch.setenv("SURVEY_PIPELINE_WORKERS", "2")
    with using(1):
        assert workers() == 1
        assert run_tasks([os.getpid, os.getpid, os.getpid]) == [os.getpid()] * 3  # all here
        with using(2):
            assert workers() == 2
        assert workers() == 1
    with using(None):
        assert workers() == 2
    with pytest.raises(ProjectError, match="--jobs 0"), using(0):
        pass


@pytest.mark.slow
def test_analysis_on_two_processes_is_the_serial_analysis(monkeypatch):
    """Every results table bit for bit, whichever process computed which batch."""
    from survey_pipeline.analysis.results import analyze_frame
    from survey_pipeline.analysis.settings import AnalysisSettings, Evaluation, WeightingSettings
    from survey_pipeline.analysis.weighting import read_targets
    from tests.unit.analysis.fixture_city import city_dir, city_frame, city_instrument, ground_truth

    frame, inst = city_frame(), city_instrument()
    targets = read_targets(city_dir() / "census_targets.csv")
    effort = ground_truth()["planted"]["problem_solving"]
    ev = Evaluation("effort", tuple(str(c) for c in effort["neighborhoods"]), effort["from_wave"], ())

    def run(n):
        monkeypatch.setenv("SURVEY_PIPELINE_WORKERS", str(n))
        return analyze_frame(frame.copy(), inst, targets=targets, settings=AnalysisSettings(groups=("sex",), evaluations=(ev,)),
                             weighting=WeightingSettings(recode={"tenure": {"no_rent": "rent"}})).tables

    one, two = run(1), run(2)
    assert set(one) == set(two)
    for name in one:
        assert one[name].equals(two[name]), name
    assert len(two["comparisons"]) > 1000 and len(two["priorities"]) > 100
    assert (two["comparisons"]["kind"] == "did").any()


def test_a_worker_ends_with_its_parent(tmp_path):
    """A killed analysis leaves no worker computing on."""
    import subprocess
    import sys
    import time

    script = tmp_path / "victim.py"
    pidfile = tmp_path / "child.pid"
    script.write_text(
        "import os, time\n"
        "from survey_pipeline.analysis._parallel import run_tasks\n"
        f"def slow():\n    open({str(pidfile)!r}, 'a').write(f'{{os.getpid()}}\\n'); time.sleep(60)\n"
        "run_tasks([slow, slow], n_workers=2)\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "PYTHONPATH": os.getcwd()})
    # starting Python with pandas and a worker can take tens of seconds on a loaded machine
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (pidfile.exists() and len(pidfile.read_text().split()) == 2):
        if proc.poll() is not None:
            pytest.fail(f"the analysis process ended early with exit code {proc.returncode}")
        time.sleep(0.1)
    if not (pidfile.exists() and len(pidfile.read_text().split()) == 2):
        proc.kill()
        pytest.fail("the two tasks did not start within 180 s")
    pids = [int(p) for p in pidfile.read_text().split()]
    child = next(p for p in pids if p != proc.pid)
    proc.kill()
    proc.wait()
    for _ in range(300):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the worker outlived its parent")

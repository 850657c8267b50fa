"""Independent pieces of the analysis on two cores: forked workers, results in a fixed order.

The analysis is mostly many small numpy and pandas operations that hold the GIL, so threads do
not help; a forked process sees the whole analysis state (design, caches) without copying it.
:func:`run_tasks` runs a list of zero-argument callables, the current process and ``workers - 1``
forked children taking them in list order from a shared counter (so a long task listed first
starts first), and returns their results in list order: the output never depends on which process
ran which task, or when. A task must be pure (its result only depends on its inputs; what a child
caches is lost) and its result picklable (numeric arrays travel fastest).

A task that fails in a child, or a child that dies (killed, out of memory), is run again in the
current process, so an error surfaces with its own type and traceback, as in a serial run.

The number of processes is the ``jobs`` of the innermost :func:`using` block (``run --jobs``,
``analyze --jobs``, ``run_project``/``analyze_project(jobs=...)``), else ``SURVEY_PIPELINE_WORKERS`` when set
(``1``: everything in the current process), else 2 where this process may use 2 or more CPUs
and processes can be forked (Linux), else 1.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import TypeVar

from survey_pipeline.errors import AnalysisError, ProjectError

__all__ = ["default_jobs", "run_named", "run_tasks", "timed_block", "using", "workers"]

T = TypeVar("T")

_ENV = "SURVEY_PIPELINE_WORKERS"
_MAX = 2  # the analysis' pieces are few and large: more processes only add memory
_IN_CHILD = False
_JOBS: list[int] = []  # the jobs of the open `using` blocks, innermost last


def default_jobs() -> int:
    """2 when this process may use 2 or more CPUs, else 1 (the pieces of the run and the analysis
    are few and large: more processes would only add memory)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return min(_MAX, cpus)


def check_jobs(jobs) -> int:
    """``jobs`` when it is a whole number from 1.

    Raises
    ------
    ProjectError
        Otherwise (rule ``jobs``).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ProjectError(f"--jobs {jobs!r}: the number of processes must be a whole number, at least 1.",
                           rule="jobs", fix="Pass --jobs 1 to work in this process only, or --jobs 2 (the default "
                                            "on a machine with 2 or more CPUs).")
    return jobs


@contextmanager
def using(jobs: int | None):
    """Within the block, :func:`run_tasks` uses ``jobs`` processes (None: the default of
    :func:`workers`)."""
    if jobs is None:
        yield
        return
    _JOBS.append(check_jobs(jobs))
    try:
        yield
    finally:
        _JOBS.pop()


def workers() -> int:
    """The number of processes :func:`run_tasks` uses (see the module docstring).

    Raises
    ------
    AnalysisError
        ``SURVEY_PIPELINE_WORKERS`` is set to something other than a whole number from 1.
    """
    if _JOBS:
        return _JOBS[-1] if _can_fork() else 1
    raw = os.environ.get(_ENV)
    if raw is not None and raw.strip():
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise AnalysisError(f"environment variable {_ENV}={raw!r}: not a whole number from 1.",
                                rule="workers", fix=f"Set {_ENV} to 1 (one process) or 2, or unset it.")
        return n if _can_fork() else 1
    return default_jobs() if _can_fork() else 1


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods()


def _die_with(parent: int) -> None:
    """Have the kernel end this (child) process when ``parent`` ends (a killed analysis leaves no
    worker computing on: Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before the request
        os._exit(1)


def run_tasks(tasks: Sequence[Callable[[], T]], n_workers: int | None = None) -> list[T]:
    """The results of ``tasks``, in their order, computed by up to ``n_workers`` processes.

    Parameters
    ----------
    tasks : sequence of callables
        Pure, zero-argument callables (see the module docstring).
    n_workers : int, optional
        Processes to use, the current one included (default: :func:`workers`). 1 runs every
        task here, in order.
    """
    n_workers = workers() if n_workers is None else n_workers
    if n_workers <= 1 or len(tasks) <= 1 or _IN_CHILD:
        return [t() for t in tasks]
    ctx = mp.get_context("fork")
    counter = ctx.Value("i", 0)

    def take() -> int:
        with counter.get_lock():
            i = counter.value
            counter.value = i + 1
        return i

    results: dict[int, T] = {}
    channels = []
    procs = []
    for _ in range(min(n_workers, len(tasks)) - 1):
        recv, send = ctx.Pipe(duplex=False)

        def child(send=send, recv=recv, parent=os.getpid()) -> None:
            global _IN_CHILD
            _IN_CHILD = True  # a task's own run_tasks runs in this process
            _die_with(parent)
            recv.close()
            while (i := take()) < len(tasks):
                try:
                    send.send((i, True, tasks[i]()))
                except BaseException:  # the parent runs it again and raises it there
                    break
            send.close()

        with warnings.catch_warnings():
            # Python 3.12+ warns about forking a process with threads (BLAS, progress bars);
            # the child only computes and writes to its pipe
            warnings.simplefilter("ignore", DeprecationWarning)
            p = ctx.Process(target=child, daemon=True)
            p.start()
        send.close()
        procs.append(p)
        channels.append(recv)

    def drain(recv) -> None:
        # read the child's results as they come (a child blocked on a full pipe would wait for us)
        try:
            while True:
                i, ok, out = recv.recv()
                if ok:
                    results[i] = out
        except (EOFError, OSError):
            pass
        finally:
            recv.close()

    readers = [threading.Thread(target=drain, args=(r,), daemon=True) for r in channels]
    for t in readers:
        t.start()
    try:
        while (i := take()) < len(tasks):
            results[i] = tasks[i]()
    except BaseException:
        for p in procs:  # nothing more to wait for
            p.terminate()
        raise
    finally:
        for t in readers:
            t.join()
        for p in procs:
            p.join()
    # what a child did not deliver (it failed, or died): here, in order
    return [results[i] if i in results else tasks[i]() for i in range(len(tasks))]


def run_named(tasks: Sequence[tuple[str, Callable[[], T]]], timings: dict[str, dict] | None = None) -> list[T]:
    """:func:`run_tasks` of ``(name, task)`` pairs; with ``timings``, each task's wall and CPU
    seconds (measured in the process that ran it) are added up per name into
    ``timings[name] = {"seconds", "cpu_seconds", "tasks"}``. The tasks run side by side, so a
    name's seconds are its own work, not a share of the stage's elapsed time."""
    if timings is None:
        return run_tasks([t for _name, t in tasks])

    def timed(task: Callable[[], T]) -> Callable[[], tuple[T, float, float]]:
        def run() -> tuple[T, float, float]:
            wall, cpu = time.perf_counter(), _cpu()
            out = task()
            return out, time.perf_counter() - wall, _cpu() - cpu
        return run

    got = run_tasks([timed(t) for _name, t in tasks])
    for (name, _task), (_out, wall, cpu) in zip(tasks, got, strict=True):
        _add(timings, name, wall, cpu)
    return [out for out, _wall, _cpu in got]


@contextmanager
def timed_block(timings: dict[str, dict] | None, name: str):
    """Within the block, the wall and CPU seconds (this process and the children it waited for,
    e.g. :func:`run_tasks`' workers) are added to ``timings[name]`` as by :func:`run_named`."""
    wall, cpu = time.perf_counter(), _cpu()
    try:
        yield
    finally:
        if timings is not None:
            _add(timings, name, time.perf_counter() - wall, _cpu() - cpu)


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended and were waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _add(timings: dict[str, dict], name: str, wall: float, cpu: float) -> None:
    t = timings.setdefault(name, {"seconds": 0.0, "cpu_seconds": 0.0, "tasks": 0})
    t["seconds"] += wall
    t["cpu_seconds"] += cpu
    t["tasks"] += 1

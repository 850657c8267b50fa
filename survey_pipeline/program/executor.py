"""Where a program's independent tasks run: local processes, or a Dask distributed cluster.

One interface, :class:`Executor`: ``run(fn, keys, args)`` calls ``fn(*args[i])`` for each key and
returns one :class:`Outcome` per key, in the order given, whatever happened. A task that raises
is tried again up to ``retries`` times (a crash, a killed process or a lost worker); the others
go on. Tasks must be top-level functions of an importable module (they are pickled).

- :class:`LocalExecutor`: a ``spawn`` process pool of ``jobs`` processes (today's ``--jobs``).
- :class:`DaskExecutor`: an existing ``distributed`` scheduler (``tcp://host:8786``), which
  already reschedules the tasks of a worker that dies. Dask is an optional dependency
  (``pip install "survey-pipeline[program]"``).
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

from survey_pipeline.errors import ProgramError

__all__ = ["DaskExecutor", "Executor", "LocalExecutor", "Outcome", "make_executor"]


@dataclass
class Outcome:
    """What became of one task: its value, or the error of its last attempt."""

    key: str
    ok: bool
    value: Any = None
    error: str | None = None
    attempts: int = 1


class Executor(Protocol):
    name: str

    def run(self, fn: Callable, keys: Sequence[str], args: Sequence[tuple]) -> list[Outcome]: ...


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


class LocalExecutor:
    """Tasks in ``jobs`` local processes (``spawn``: nothing of this process is inherited)."""

    name = "local"

    def __init__(self, jobs: int = 2, retries: int = 1):
        if jobs < 1:
            raise ProgramError(f"jobs = {jobs}: at least one process is needed.", rule="bad-jobs",
                               fix="Pass --jobs 1 or more.")
        self.jobs, self.retries = jobs, retries

    def run(self, fn: Callable, keys: Sequence[str], args: Sequence[tuple]) -> list[Outcome]:
        outcomes = {k: Outcome(k, ok=False, attempts=0) for k in keys}
        todo = list(zip(keys, args, strict=True))
        for _attempt in range(self.retries + 1):
            if not todo:
                break
            failed = []
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(self.jobs, len(todo)), mp_context=ctx) as pool:
                futs = {pool.submit(fn, *a): (k, a) for k, a in todo}
                for fut in as_completed(futs):
                    k, a = futs[fut]
                    o = outcomes[k]
                    o.attempts += 1
                    try:
                        o.value, o.ok, o.error = fut.result(), True, None
                    except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
                        o.error = f"the process running it stopped ({exc})"
                        failed.append((k, a))
                    except Exception as exc:  # reported per task, the others go on
                        o.error = _describe(exc)
                        failed.append((k, a))
            todo = failed
        return [outcomes[k] for k in keys]


class DaskExecutor:
    """Tasks on a Dask ``distributed`` cluster at ``address`` (or a ``Client`` given directly)."""

    name = "dask"

    def __init__(self, address: str | None = None, retries: int = 1, client=None):
        try:
            import distributed
        except ImportError as exc:
            raise ProgramError("Dask distributed is not installed, so a scheduler cannot be used.",
                               rule="no-dask", fix='pip install "survey-pipeline[program]" (or dask[distributed]), '
                                                   "or run without --scheduler (local processes).") from exc
        self._distributed = distributed
        self.retries = retries
        self._own = client is None
        if client is None:
            try:
                client = distributed.Client(address, set_as_default=False, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise ProgramError(f"cannot reach the Dask scheduler at {address} ({exc}).", rule="no-scheduler",
                                   fix="Start it (dask scheduler; dask worker ADDRESS) or check the address.") from exc
        self.client = client

    def close(self) -> None:
        if self._own:
            self.client.close()

    def run(self, fn: Callable, keys: Sequence[str], args: Sequence[tuple]) -> list[Outcome]:
        futs = [self.client.submit(fn, *a, key=f"survey-pipeline-{k}-{id(self)}", pure=False, retries=self.retries)
                for k, a in zip(keys, args, strict=True)]
        out = []
        for k, f in zip(keys, futs, strict=True):
            try:
                out.append(Outcome(k, ok=True, value=f.result()))
            except Exception as exc:  # reported per task, the others go on
                out.append(Outcome(k, ok=False, error=_describe(exc), attempts=self.retries + 1))
        return out


def make_executor(scheduler: str | None, jobs: int, retries: int) -> Executor:
    """A :class:`DaskExecutor` when ``scheduler`` is an address, else a :class:`LocalExecutor`."""
    if scheduler:
        return DaskExecutor(scheduler, retries=retries)
    return LocalExecutor(jobs, retries=retries)

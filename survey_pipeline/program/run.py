"""`survey-pipeline program run`: every member's pipeline as an independent task, then benchmarks.

1. **Members.** Each member whose inputs changed since its last successful run (or that has no
   store yet) runs :func:`survey_pipeline.run.run_project` as one task on the executor (local
   processes, or Dask). A member's store is updated all or nothing: the task copies the store to
   ``warehouse.duckdb.program-backup`` first and deletes the copy only when the run finished; a
   task that fails puts the copy back, and a task that finds a copy left by a killed attempt
   puts it back before it starts. A failed member is reported (its last published results, if
   any, still count); the others finish.
2. **Benchmarks.** The program reads only what members published: the city-level, all-respondent
   headline estimates (``share`` and ``score`` rows of ``estimates``), read-only. It computes the
   peer benchmarks (:func:`~survey_pipeline.program.benchmarks.peer_benchmarks`) and the outside
   ones (``benchmarks.csv``), writes all of them to ``program.duckdb`` and each member's own rows
   to the ``benchmarks`` table of its store (one transaction per member; a member whose rows did
   not change is not written).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from survey_pipeline.errors import ProgramError, SurveyPipelineError

from .benchmarks import BENCHMARK_COLUMNS, external_benchmarks, peer_benchmarks
from .config import Program, load_program, read_external_benchmarks
from .executor import Executor, make_executor

__all__ = ["ProgramResult", "member_fingerprint", "read_member_estimates", "run_member", "run_program"]

STORE_FILE = "warehouse.duckdb"
BACKUP_SUFFIX = ".program-backup"
_ABSENT = b"survey-pipeline: no store before this run\n"
_SKIP_NAMES = {STORE_FILE, STORE_FILE + ".wal", STORE_FILE + BACKUP_SUFFIX, STORE_FILE + ".wal" + BACKUP_SUFFIX}


def member_fingerprint(path: str | Path) -> str:
    """A hash of what a member's run depends on: every file of its project folder (name, size,
    modification time), except the store and its backups, and the package version."""
    from importlib.metadata import PackageNotFoundError, version

    root = Path(path)
    h = hashlib.sha256()
    try:
        h.update(version("survey-pipeline").encode())
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        h.update(b"dev")
    for p in sorted(root.rglob("*")):
        if p.name in _SKIP_NAMES or p.name.startswith(".") or not p.is_file():
            continue
        st = p.stat()
        h.update(f"{p.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _restore(store: Path, backup: Path) -> None:
    """Put the store back as it was before the interrupted run (``backup`` marks 'no store')."""
    wal = store.with_name(store.name + ".wal")
    with contextlib.suppress(FileNotFoundError):
        wal.unlink()
    if backup.read_bytes()[: len(_ABSENT)] == _ABSENT and backup.stat().st_size == len(_ABSENT):
        with contextlib.suppress(FileNotFoundError):
            store.unlink()
        backup.unlink()
    else:
        os.replace(backup, store)


def run_member(path: str, member_id: str = "") -> dict:
    """Run one member's pipeline (ingest what is new, weight, analyze) all or nothing.

    Top-level so that local processes and Dask workers can run it. A user error in the member's
    project (a bad export, a broken survey.toml) is returned as ``{"ok": False, "error": ...}``
    (trying again would not help); anything else raises, so the executor tries again.
    """
    from survey_pipeline.run import run_project

    root = Path(path)
    store = root / STORE_FILE
    backup = root / (STORE_FILE + BACKUP_SUFFIX)
    if backup.exists():  # an earlier attempt was killed mid-run: roll it back first
        _restore(store, backup)
    tmp = backup.with_name(backup.name + ".tmp")
    if store.exists():
        shutil.copyfile(store, tmp)
    else:
        tmp.write_bytes(_ABSENT)
    os.replace(tmp, backup)  # the backup exists whole, or not at all
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        result = run_project(root, jobs=1)
    except SurveyPipelineError as exc:
        _restore(store, backup)
        return {"member": member_id, "ok": False, "error": exc.render(), "seconds": time.perf_counter() - t0}
    except BaseException:
        _restore(store, backup)
        raise
    backup.unlink()  # the run is complete: this is the commit
    summary = result.analysis.summary if result.analysis is not None else {}
    return {"member": member_id, "ok": True, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0, "peak_rss_mb": _peak_rss_mb(),
            "loaded": sum(1 for s in result.ingests if s.status == "loaded"),
            "estimates": summary.get("estimates"), "fingerprint": member_fingerprint(root)}


def _peak_rss_mb() -> float | None:
    """The peak resident memory of this process so far, in MB (None where it cannot be read)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


_HEADLINE_SQL = """
SELECT wave, indicator, statistic, estimate, se, df, n, reliability
FROM estimates
WHERE area_level = 'city' AND group_dim = 'all' AND statistic IN ('share', 'score')
ORDER BY wave, indicator, statistic
"""


def read_member_estimates(program: Program) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every member's published headline estimates (read-only), in the program's periods and
    indicator ids; and, per member, why it has none (no store, no results)."""
    frames, missing = [], {}
    for m in program.members:
        store = m.path / STORE_FILE
        if not store.exists():
            missing[m.id] = "no store yet"
            continue
        try:
            con = duckdb.connect(str(store), read_only=True)
        except duckdb.Error as exc:
            missing[m.id] = f"store cannot be opened ({exc})"
            continue
        try:
            est = con.execute(_HEADLINE_SQL).df()
        except duckdb.CatalogException:
            missing[m.id] = "no results yet"
            continue
        finally:
            con.close()
        est.insert(0, "member", m.id)
        est["period"] = est["wave"].map(lambda w, m=m: m.waves.get(w, w))
        est["indicator"] = est["indicator"].map(lambda i, m=m: m.crosswalk.get(i, i))
        frames.append(est)
    if not frames:
        return pd.DataFrame(columns=["member", "wave", "indicator", "statistic", "estimate", "se", "df", "n",
                                     "reliability", "period"]), missing
    return pd.concat(frames, ignore_index=True), missing


def _shared(est: pd.DataFrame, program: Program) -> pd.DataFrame:
    if program.indicators:
        unknown = sorted(set(program.indicators) - set(est["indicator"]))
        if unknown and not est.empty:
            raise ProgramError(f"{program.toml_path}: indicators {unknown} are published by no member.",
                               file=program.toml_path, rule="unknown-indicator",
                               fix="Use the members' indicator ids (their results' `indicators` table), "
                                   "or map them with a member's crosswalk.")
        return est[est["indicator"].isin(program.indicators)]
    n = est.groupby(["indicator", "statistic"])["member"].transform("nunique")
    return est[n >= program.min_members]


@dataclass
class ProgramResult:
    """What one `program run` did."""

    members: list[dict] = field(default_factory=list)
    benchmarks: pd.DataFrame | None = None
    published: list[str] = field(default_factory=list)
    executor: str = "local"
    seconds: float = 0.0

    @property
    def failed(self) -> list[dict]:
        return [m for m in self.members if m["status"] == "failed"]


def _read_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _frame_hash(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes()).hexdigest()


def _publish(store: Path, rows: pd.DataFrame, peers: pd.DataFrame | None) -> bool:
    """Write a member's ``benchmarks`` (and ``benchmark_peers``) table in one transaction; False when
    the rows are already there."""
    con = duckdb.connect(str(store))
    try:
        try:
            old = con.execute("SELECT * FROM benchmarks ORDER BY ALL").df()
        except duckdb.CatalogException:
            old = None
        new = rows.sort_values(list(rows.columns)).reset_index(drop=True) if len(rows) else rows
        if old is not None and list(old.columns) == list(new.columns) and len(old) == len(new) and (
                _frame_hash(old.sort_values(list(old.columns)).reset_index(drop=True)) == _frame_hash(new)) and peers is None:
            return False
        con.execute("BEGIN TRANSACTION")
        con.register("_bench", new)
        con.execute("CREATE OR REPLACE TABLE benchmarks AS SELECT * FROM _bench")
        con.unregister("_bench")
        if peers is not None:
            con.register("_peers", peers)
            con.execute("CREATE OR REPLACE TABLE benchmark_peers AS SELECT * FROM _peers")
            con.unregister("_peers")
        else:
            con.execute("DROP TABLE IF EXISTS benchmark_peers")
        con.execute("COMMIT")
        return True
    finally:
        con.close()


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    text = {"member", "wave", "period", "indicator", "statistic", "source", "source_label", "year", "reliability",
            "adjust", "verdict"}
    for c in out.columns:
        if c in text:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        elif c == "significant":
            out[c] = out[c].astype(bool)
        else:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


def run_program(root: str | Path, *, scheduler: str | None = None, jobs: int | None = None,
                retries: int | None = None, force: bool = False, executor: Executor | None = None,
                on_step=None) -> ProgramResult:
    """Run every member that changed, then build and publish the benchmarks.

    Parameters
    ----------
    root
        The program folder (``program.toml``).
    scheduler, jobs, retries
        Override ``[program] scheduler``, ``jobs`` and ``retries``.
    force
        Run every member, changed or not.
    executor
        An executor to use instead of the one the settings name (tests pass a Dask ``LocalCluster``).
    on_step
        Called with a line of progress.
    """
    t0 = time.perf_counter()
    program = load_program(root)
    say = on_step or (lambda _msg: None)
    state = _read_state(program.state_path)
    todo, result = [], ProgramResult()
    for m in program.members:
        fp = member_fingerprint(m.path)
        has_store = (m.path / STORE_FILE).exists() and not (m.path / (STORE_FILE + BACKUP_SUFFIX)).exists()
        if force or not has_store or state.get(m.id, {}).get("fingerprint") != fp:
            todo.append(m)
        else:
            result.members.append({"member": m.id, "status": "unchanged", "seconds": 0.0})
    own = executor is None
    if executor is None:
        executor = make_executor(scheduler if scheduler is not None else program.scheduler,
                                 jobs if jobs is not None else program.jobs,
                                 retries if retries is not None else program.retries)
    result.executor = executor.name
    try:
        if todo:
            say(f"running {len(todo)} member(s) on {executor.name}")
            outcomes = executor.run(run_member, [m.id for m in todo], [(str(m.path), m.id) for m in todo])
            for m, o in zip(todo, outcomes, strict=True):
                if o.ok and o.value.get("ok"):
                    state[m.id] = {"fingerprint": o.value["fingerprint"], "finished": time.time()}
                    result.members.append({"member": m.id, "status": "ran", "seconds": o.value["seconds"],
                                           "cpu_seconds": o.value.get("cpu_seconds"),
                                           "peak_rss_mb": o.value.get("peak_rss_mb"), "attempts": o.attempts})
                else:
                    why = o.value["error"] if o.ok else o.error
                    backup = m.path / (STORE_FILE + BACKUP_SUFFIX)
                    if backup.exists():  # its process died mid-run: put the store back as it was
                        _restore(m.path / STORE_FILE, backup)
                    state.pop(m.id, None)
                    result.members.append({"member": m.id, "status": "failed", "error": why,
                                           "attempts": o.attempts})
    finally:
        if own and hasattr(executor, "close"):
            executor.close()
    tmp = program.state_path.with_name(program.state_path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, program.state_path)

    say("benchmarks")
    est, missing = read_member_estimates(program)
    for r in result.members:
        if r["member"] in missing:
            r["published"] = missing[r["member"]]
    shared = _shared(est, program)
    parts = [peer_benchmarks(shared, adjust=program.adjust, min_members=program.min_members, label=program.name)]
    if program.benchmarks_csv.exists():
        parts.append(external_benchmarks(est, read_external_benchmarks(program.benchmarks_csv), adjust=program.adjust))
    bench = _typed(pd.concat([p for p in parts if len(p)], ignore_index=True)) if any(len(p) for p in parts) \
        else _typed(pd.DataFrame(columns=BENCHMARK_COLUMNS))
    bench = bench.sort_values(["member", "source", "period", "indicator", "statistic", "source_label"],
                              kind="stable").reset_index(drop=True)
    result.benchmarks = bench

    con = duckdb.connect(str(program.store_path))
    try:
        con.execute("BEGIN TRANSACTION")
        con.register("_b", bench)
        con.execute("CREATE OR REPLACE TABLE benchmarks AS SELECT * FROM _b")
        con.register("_e", _typed(est.assign(significant=False)).drop(columns="significant"))
        con.execute("CREATE OR REPLACE TABLE member_estimates AS SELECT * FROM _e")
        con.execute("COMMIT")
    finally:
        con.close()

    labels = {m.id: m.label for m in program.members}
    for m in program.members:
        if m.id in missing:
            continue
        rows = bench[bench["member"] == m.id].drop(columns="member").reset_index(drop=True)
        peers = None
        if program.peers == "named":
            peers = _typed(shared.assign(significant=False)).drop(columns="significant")
            peers = peers[peers["member"] != m.id].assign(label=lambda d: d["member"].map(labels))
            peers = peers[peers["reliability"] != "suppress"].reset_index(drop=True)
        if _publish(m.path / STORE_FILE, rows, peers):
            result.published.append(m.id)
    result.seconds = time.perf_counter() - t0
    return result

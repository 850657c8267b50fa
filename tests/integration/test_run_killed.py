"""A `run` killed midway (SIGKILL, no clean-up) leaves the store as the last commit left it.

`run` is one transaction per new export (ingest) and one for the analysis (weights and every
results table). A kill inside either leaves the store byte-for-byte as before that transaction
(checked on every table's rows); rerunning `run` recovers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from survey_pipeline.analysis.results import RESULT_TABLES
from survey_pipeline.cli import main
from survey_pipeline.run import run_project
from tests.unit.analysis.fixture_city import city_dir

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


def _wave_toml(root: Path, city: Path, wave: str) -> str:
    src = next((city / "generic").glob(f"{wave}.csv*"))
    # ingest reads plain CSV; the committed fixture is gzipped
    pd.read_csv(src, dtype=str, keep_default_na=False).to_csv(root / "exports" / f"{wave}.csv", index=False)
    inv = pd.read_csv(city / "invitations.csv", dtype={"neighborhood": str})
    lines = ["[[waves]]", f'id = "{wave}"',
             f'exports = [{{file = "exports/{wave}.csv", platform = "generic", mode = "mail"}}]',
             "[waves.invitations]"]
    lines += [f'"{r.neighborhood}" = {int(r.invited)}' for r in inv[inv["wave"] == wave].itertuples()]
    return "\n".join(lines) + "\n"


def snapshot(db: Path) -> dict[str, tuple[int, str]]:
    """Row count and a content hash (row order ignored) of every table in the store."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for (t,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall():
            # the sum of the rows' hashes: order-free, and any changed, added or lost row shows
            n, h = con.execute(f'SELECT count(*), sum(hash(r)::HUGEINT)::VARCHAR FROM "{t}" AS r').fetchall()[0]
            out[t] = (n, h)
        return out
    finally:
        con.close()


KILLERS = {
    # the second export's ingest: killed while its answers are being inserted
    "ingest": """
        from survey_pipeline.store import Store
        def insert_answers(self, *args):
            os.kill(os.getpid(), signal.SIGKILL)
        Store._insert_wide_answers = insert_answers
    """,
    # the analysis: every results table already replaced inside the transaction, killed at commit
    "analysis": """
        import survey_pipeline.analysis.results as results
        orig = results.write_results
        class KillAtCommit:
            def __init__(self, con):
                self._con = con
            def __getattr__(self, name):
                return getattr(self._con, name)
            def commit(self):
                os.kill(os.getpid(), signal.SIGKILL)
        results.write_results = lambda con, tables: orig(KillAtCommit(con), tables)
    """,
}


def run_killed(root: Path, where: str) -> subprocess.CompletedProcess:
    code = "import os, signal\n" + textwrap.dedent(KILLERS[where]) + (
        "from survey_pipeline.run import run_project\n"
        f"run_project({str(root)!r})\n"
        "print('not killed')\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("killed")
    city = city_dir()
    areas = pd.read_csv(city / "areas.csv", dtype=str)
    pd.DataFrame({"neighborhood": areas["code"], "district": areas["district"]}).to_csv(tmp / "areas.csv", index=False)
    root = tmp / "proj"
    assert main(["init", str(root), "--instrument", "resident", "--areas", str(tmp / "areas.csv")]) == 0
    shutil.copy(city / "census_targets.csv", root / "targets.csv")
    with (root / "survey.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[targets]\nfile = "targets.csv"\n\n[weighting]\nrecode = {tenure = {no_rent = "rent"}}\n\n'
                 '[analysis]\ngroups = ["tenure"]\n\n'
                 + _wave_toml(root, city, "2024-spring"))
    run_project(root)  # the state a killed run must leave untouched
    with (root / "survey.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n" + _wave_toml(root, city, "2025-spring"))
    return root


def test_kill_during_ingest_leaves_every_table_as_it_was(project):
    before = snapshot(project / "warehouse.duckdb")
    p = run_killed(project, "ingest")
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    assert "not killed" not in p.stdout
    assert snapshot(project / "warehouse.duckdb") == before


def test_kill_during_the_analysis_commit_leaves_the_results_as_they_were(project):
    before = snapshot(project / "warehouse.duckdb")
    p = run_killed(project, "analysis")
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    after = snapshot(project / "warehouse.duckdb")
    # the new export's ingest committed before the analysis started (its own transaction) ...
    assert after["responses"][0] > before["responses"][0] and after["sources"][0] == before["sources"][0] + 1
    # ... but the weights and every results table are exactly the previous run's
    for t in RESULT_TABLES:
        assert after[t] == before[t], t
    # rerunning recovers: the export is already loaded and the analysis covers both waves
    res = run_project(project)
    assert [i.status for i in res.ingests] == ["already loaded", "already loaded"]
    con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
    try:
        waves = [w for (w,) in con.execute("SELECT DISTINCT wave FROM estimates ORDER BY 1").fetchall()]
    finally:
        con.close()
    assert waves == ["2024-spring", "2025-spring"]


def test_run_reads_only_the_exports_not_loaded_yet(project, tmp_path, monkeypatch):
    from survey_pipeline.ingest import pipeline

    root = tmp_path / "proj"
    shutil.copytree(project, root)
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    loaded = {f for (f,) in con.execute("SELECT file_name FROM sources").fetchall()}
    con.close()
    with (root / "survey.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n" + _wave_toml(root, city_dir(), "2026-spring"))
    read = []
    orig = pipeline._default_reader

    def counting(path, platform):
        read.append(Path(path).name)
        return orig(path, platform)

    monkeypatch.setattr(pipeline, "_default_reader", counting)
    res = run_project(root, jobs=1)  # read in this process (with jobs=2, workers read: see test_run_parallel)
    new = [f for f in ("2024-spring.csv", "2025-spring.csv", "2026-spring.csv") if f not in loaded]
    assert "2024-spring.csv" in loaded and "2026-spring.csv" in new
    assert read == new  # each new export read once, in order; loaded ones not read again
    assert [i.status for i in res.ingests][-1] == "loaded" and res.ingests[-1].rows_kept > 1000
    read.clear()
    res = run_project(root, jobs=2)
    assert read == [] and {i.status for i in res.ingests} == {"already loaded"}

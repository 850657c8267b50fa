"""`program run`: three generated agencies, on local processes and on a Dask LocalCluster.

The same program run by the two executors gives identical results tables; a killed worker's
member store ends as before or fully updated and a rerun completes; a second run does nothing;
benchmarks reach every member's store.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from survey_pipeline.cli import main
from survey_pipeline.program import LocalExecutor, run_program

TABLES = ("estimates", "comparisons", "priorities", "benchmarks")


@pytest.fixture(scope="module")
def template(program_template) -> Path:
    return program_template


def _copy(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def _tables(root: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for m in sorted((root / "members").iterdir()):
        con = duckdb.connect(str(m / "warehouse.duckdb"), read_only=True)
        try:
            for t in TABLES:
                df = con.execute(f"SELECT * FROM {t}").df()
                cols = [c for c in df.columns if c != "run_id"]
                out[f"{m.name}/{t}"] = df[cols].sort_values(cols).reset_index(drop=True)
        finally:
            con.close()
    return out


@pytest.fixture(scope="module")
def local_run(program_project) -> Path:
    return program_project


def test_benchmarks_reach_every_member(local_run):
    for m in sorted((local_run / "members").iterdir()):
        con = duckdb.connect(str(m / "warehouse.duckdb"), read_only=True)
        b = con.execute("SELECT * FROM benchmarks WHERE indicator = 'sat_police_overall' AND source = 'program'").df()
        ext = con.execute("SELECT * FROM benchmarks WHERE source = 'external'").df()
        con.close()
        # the outside references: Gallup (no SE) is a reference line only, the vendor norm (with an SE) is tested
        gallup = ext[ext["source_label"] == "Gallup confidence in police"]
        assert len(gallup) == 2 and (gallup["verdict"] == "reference only").all() and gallup["p"].isna().all()
        vendor = ext[ext["source_label"] == "Vendor norms"]
        assert len(vendor) == 2 and vendor["diff_se"].notna().all()
        assert set(b["period"]) == {"2024-spring", "2025-spring"}
        assert (b["n_members"] == 3).all()
        assert b["value"].between(b["min"], b["max"]).all()
        assert set(b["verdict"]) <= {"higher", "lower", "not clearly different"}
    prog = duckdb.connect(str(local_run / "program.duckdb"), read_only=True)
    n = prog.execute("SELECT count(DISTINCT member) FROM benchmarks").fetchone()[0]
    cols = [r[0] for r in prog.execute("DESCRIBE member_estimates").fetchall()]
    prog.close()
    assert n == 3
    assert "response_id" not in cols  # the program reads published results only


def test_second_run_does_nothing(local_run):
    before = _tables(local_run)
    res = run_program(local_run, jobs=2)
    assert [m["status"] for m in res.members] == ["unchanged"] * 3
    assert res.published == []
    after = _tables(local_run)
    for k in before:
        pd.testing.assert_frame_equal(before[k], after[k])


def test_dask_gives_identical_results(template, local_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    from survey_pipeline.program import DaskExecutor

    root = _copy(template, tmp_path / "p")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl, set_as_default=False) as client:
        res = run_program(root, executor=DaskExecutor(client=client))
    assert res.executor == "dask"
    assert [m["status"] for m in res.members] == ["ran"] * 3
    a, b = _tables(local_run), _tables(root)
    assert a.keys() == b.keys()
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k], check_exact=True)


def test_killed_worker_store_as_before_then_rerun_completes(template, local_run, tmp_path):
    psutil = pytest.importorskip("psutil")
    root = _copy(template, tmp_path / "p")
    stop = threading.Event()
    killed = []

    def killer():  # kill a worker process as soon as a member run has started
        me = psutil.Process()
        while not stop.is_set():
            if list((root / "members").glob("*/warehouse.duckdb.program-backup")):
                time.sleep(0.5)
                kids = [c for c in me.children(recursive=True)
                        if "spawn_main" in " ".join(c.cmdline()) and "resource_tracker" not in " ".join(c.cmdline())]
                if kids:
                    kids[-1].kill()
                    killed.append(kids[-1].pid)
                    return
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    res = run_program(root, executor=LocalExecutor(2, retries=0))
    stop.set()
    t.join()
    assert killed, "no worker was killed"
    failed = [m["member"] for m in res.members if m["status"] == "failed"]
    assert failed  # the pool broke: those members did not finish
    for mid in failed:  # as before: no store (these members had none), and no backup left behind
        assert not (root / "members" / mid / "warehouse.duckdb.program-backup").exists()
        assert not (root / "members" / mid / "warehouse.duckdb").exists()
    res2 = run_program(root, jobs=2)
    assert {m["member"] for m in res2.members if m["status"] == "ran"} == set(failed)
    a, b = _tables(local_run), _tables(root)
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k], check_exact=True)


def test_cli_reports_a_failed_member_and_exits_2(template, tmp_path, capsys):
    root = _copy(template, tmp_path / "p")
    (root / "members" / "agency_002" / "exports" / "2025-spring.csv").write_text("", encoding="utf-8")
    rc = main(["program", "run", str(root), "--jobs", "2", "--json"])
    out = capsys.readouterr().out
    assert rc == 2
    assert '"status": "failed"' in out and "agency_002" in out
    assert not (root / "members" / "agency_002" / "warehouse.duckdb").exists()
    assert (root / "members" / "agency_001" / "warehouse.duckdb").exists()

"""`benchmarks/bench_run.py` starts from a fresh clone (no PYTHONPATH) and prints its stage table,
peak memory and load averages, marking figures taken on a busy machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import bench_run

REPO = Path(__file__).resolve().parents[2]


def test_starts_without_pythonpath(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    got = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_run.py"), "--help"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    assert "--rows" in got.stdout


def test_load_note_only_above_the_limit():
    assert bench_run.load_note(1.5) == ""
    assert bench_run.load_note(2.34) == "taken at load 2.3: not a valid figure for the goal"


def test_stage_table_subtracts_the_runs_own_cpu():
    marks = [("ingest a.csv (w1)", 0.0, 0.0, 0.5), ("ingest b.csv (w2)", 10.0, 20.0, 2.4),
             ("weighting", 20.0, 30.0, 2.6), ("end", 30.0, 31.0, 3.0)]
    rows = {r["stage"]: r for r in bench_run.stage_table(marks, 0.5)}
    assert list(rows) == ["ingest", "weighting"]
    assert rows["ingest"]["seconds"] == pytest.approx(20.0)
    assert rows["ingest"]["cpu_seconds"] == pytest.approx(30.0)
    # first export: 2 CPU s per s of our own; load 2.4 -> 0.4 from others; second: 2.6 - 1.0 = 1.6
    assert rows["ingest"]["load_other"] == pytest.approx(1.6)
    assert rows["ingest"]["note"].startswith("taken at load 1.6")
    assert rows["weighting"]["load_other"] == pytest.approx(2.9)


def test_tiny_run_prints_the_table(tmp_path, monkeypatch, capsys):
    """The whole benchmark at 300 responses; the analysis is skipped (tested elsewhere, and slow on
    a busy machine), so the table holds the ingest and the analysis' first mark."""
    import survey_pipeline.analysis.results as results

    monkeypatch.setattr(results, "analyze_project", lambda root, progress=None, jobs=None: None)
    out = tmp_path / "run.json"
    monkeypatch.setattr(sys, "argv", ["bench_run.py", "--rows", "300", "--jobs", "1", "--out", str(out)])
    bench_run.main()
    text = capsys.readouterr().out
    assert "load average before:" in text and "load average after:" in text
    assert "peak memory: main process" in text
    lines = [ln for ln in text.splitlines() if ln.startswith(("open project", "ingest ", "total "))]
    assert [ln.split()[0] for ln in lines] == ["open", "ingest", "total"]
    got = json.loads(out.read_text())
    assert got["rows_kept"] > 0 and got["rows"] == 300
    assert got["seconds_by_stage"]["ingest"] > 0
    assert got["peak_rss_with_children_gb"] > 0
    assert got["valid_for_goal"] == (got["load_other_max"] <= 1.5)
    assert (got["note"] == "") == got["valid_for_goal"]
    if not got["valid_for_goal"]:
        assert "not a valid figure for the goal" in text

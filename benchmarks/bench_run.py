"""Benchmark: `survey-pipeline run` end to end (ingest every export, weight, analyze, write).

Generates a project in a temporary folder: the resident instrument, N responses over 5 waves
(one generic CSV export per wave, canonical codes, resampled from the fixture city's generic
exports with their dirt: speeders, duplicates, tests ...), 30 neighborhoods in 6 districts
(areas.csv), census targets (the fixture city's demographic margins and a neighborhood margin)
and invitations per neighborhood. Then times :func:`survey_pipeline.run.run_project` with the
stage of each moment (ingest of each export, weighting, indicators, comparisons, priorities,
writing) and the peak resident memory, and writes ``benchmarks/out/run.json``.

    .venv/bin/python benchmarks/bench_run.py --rows 1000000 [--keep DIR] [--jobs N]

(from the repository's root after ``make setup``; no ``PYTHONPATH`` needed). Sizes used in the
docs: ``--rows 200000`` (5 exports of 40,000) and ``--rows 1000000`` (5 exports of 200,000).

It prints a table of the stages (seconds, CPU seconds of the process and its workers, the 1-minute
load average at the stage's start and end), then the analysis' tasks inside the stages (estimates,
the contrasts made before the comparison tasks, comparisons, DiD, small-area, priorities,
importance, drivers ...: each one's own seconds and CPU seconds in the process that ran it; they
run side by side, so they add up to more than their stage), the peak memory (the main process's
``VmHWM``; the largest sum of the resident memory of the process and all its children, sampled
every 0.2 s; and the largest sum of their proportional set sizes, PSS, where a page a forked
worker shares with the main process counts once, not in each), and the load average before and
after the run. The load average counts this run's own busy
threads too, so each stage's load from *other* jobs is estimated as the load average at its end
minus the CPU seconds per second the run itself used in the stage. A figure whose stage saw more
than 1.5 from other jobs (or a run that started at load > 1.5) is marked "taken at load X: not
a valid figure for the goal" in the table and in the JSON.

With ``--keep DIR`` the project stays in DIR; ``bench_dashboard.py --project DIR`` then measures
the dashboard on the results of that 1,000,000-response project.

The export generator runs in a child process, so the peak memory is the run's own. Not a test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python benchmarks/bench_run.py` puts benchmarks/, not the root, on the path
    sys.path.insert(0, str(REPO))

from benchmarks.bench_ingest import _vm  # noqa: E402  (peak memory from /proc, one reader for both benchmarks)

LOAD_LIMIT = 1.5
"""Above this load average from other jobs, a figure is not valid for the issue's goal (load < 1)."""
FIXTURE = REPO / "data" / "fixtures" / "riverton"
WAVES = [f"{2022 + i}-spring" for i in range(5)]
N_NBHD = 30


def make_project(root: Path, rows: int, seed: int = 1) -> None:
    """Write survey.toml, areas.csv, targets.csv and one generic export per wave under ``root``."""
    rng = np.random.default_rng(seed)
    base = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                      for p in sorted((FIXTURE / "generic").glob("*.csv.gz"))], ignore_index=True)
    root.mkdir(parents=True)
    (root / "exports").mkdir()
    (root / "mappings").mkdir()
    districts = [f"district_{i + 1}" for i in range(N_NBHD // 5)]
    areas = pd.DataFrame({"code": [str(i + 1) for i in range(N_NBHD)],
                          "name": [f"Neighborhood {i + 1}" for i in range(N_NBHD)],
                          "district": [districts[i // 5] for i in range(N_NBHD)]})
    areas.to_csv(root / "areas.csv", index=False)
    pop = rng.integers(4000, 16000, N_NBHD)
    t = pd.read_csv(FIXTURE / "census_targets.csv", dtype=str)
    demo = t[(t["area"] == "city") & (t["variable"] != "neighborhood")
             & t["wave"].isin(["2026-spring", "all"])].assign(wave="all")
    nb = pd.DataFrame({"wave": "all", "area": "city", "variable": "neighborhood", "category": areas["code"],
                       "population": pop.astype(str)})
    pd.concat([demo, nb], ignore_index=True).to_csv(root / "targets.csv", index=False)
    per_wave = np.full(len(WAVES), rows // len(WAVES))
    per_wave[: rows % len(WAVES)] += 1
    lines = ['[project]', 'name = "bench"', '', '[instrument]', 'path = "resident"', '', '[areas]',
             'file = "areas.csv"', '', '[targets]', 'file = "targets.csv"', '',
             '[weighting]', 'recode = {tenure = {no_rent = "rent"}}', '']
    share = pop / pop.sum()
    for w, n in zip(WAVES, per_wave, strict=True):
        f = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
        f["response_id"] = np.char.add(f"{w}_", np.arange(n).astype(str))
        f["wave"] = w
        f["neighborhood"] = rng.choice(areas["code"].to_numpy(), n, p=share)
        f["zip_code"] = ""
        f["beat"] = ""
        if "email" in f.columns:  # the fixture's duplicate contacts would multiply with resampling
            f["email"] = ""
        path = root / "exports" / f"{w}.csv"
        f.to_csv(path, index=False)
        counts = f["neighborhood"].value_counts()
        lines += ['[[waves]]', f'id = "{w}"', f'exports = [{{file = "exports/{w}.csv", platform = "generic", mode = "web"}}]',
                  '[waves.invitations]',
                  *[f'"{a}" = {int(counts.get(c, 0) * 2.5) + 1}' for c, a in zip(areas["code"], areas["name"], strict=True)],
                  '']
    (root / "survey.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / ".contact_salt").write_text("0" * 64, encoding="utf-8")


def _tree_pids(root: int) -> list[int]:
    """``root`` and every process below it (from /proc/*/stat's parent ids)."""
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", "rb") as fh:
                    st = fh.read()
            except OSError:
                continue
            parent[int(d)] = int(st[st.rfind(b")") + 2:].split()[1])
    out, todo = [root], [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def _tree_usage(root: int) -> tuple[float, float]:
    """(GB resident, CPU seconds) of ``root`` and its live children, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    rss = cpu = 0.0
    for p in _tree_pids(root):
        try:
            with open(f"/proc/{p}/stat", "rb") as fh:
                st = fh.read()
        except OSError:
            continue
        f = st[st.rfind(b")") + 2:].split()
        cpu += (int(f[11]) + int(f[12])) / tick  # utime, stime
        rss += int(f[21]) * page / 1e9
    return rss, cpu


def _tree_pss(root: int) -> float:
    """GB of proportional set size of ``root`` and its live children (``/proc/PID/smaps_rollup``:
    a page shared by k processes, e.g. a forked worker's copy-on-write view of the analysis'
    frames, counts 1/k in each, so the sum counts it once; the RSS sum counts it k times)."""
    kb = 0
    for p in _tree_pids(root):
        try:
            with open(f"/proc/{p}/smaps_rollup", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Pss:"):
                        kb += int(line.split()[1])
                        break
        except OSError:
            continue
    return kb / 1e6


class TreeSampler:
    """Samples the resident memory of this process and its children every ``every`` seconds (the
    run's workers are children), and keeps the largest sum; :meth:`cpu` is the CPU seconds used so
    far by the process, its finished children and its live children."""

    PSS_EVERY = 10
    """PSS is read on every 10th sample (2 s): reading ``smaps_rollup`` walks a process's page
    tables and holds its memory-map lock, which slows the run it measures. At 1M responses, single
    runs on a quiet machine: 93.4 and 99.6 s read every 0.2 s, 92.7 s every 2 s, 87.7 s not read
    (runs of one code differ by about 5 s)."""

    def __init__(self, every: float = 0.2):
        self.every, self.peak_gb, self.peak_pss_gb = every, 0.0, 0.0
        self._n = 0
        self._stop = threading.Event()
        self._live_cpu: dict[int, float] = {}
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        rss, _ = _tree_usage(os.getpid())
        self.peak_gb = max(self.peak_gb, rss)
        if self._n % self.PSS_EVERY == 0:
            self.peak_pss_gb = max(self.peak_pss_gb, _tree_pss(os.getpid()))
        self._n += 1

    def cpu(self) -> float:
        """CPU seconds of this process and of all its children (finished or running)."""
        own = time.process_time()
        done = resource_children_cpu()
        _, tree = _tree_usage(os.getpid())
        me = os.times()
        live_children = max(0.0, tree - (me.user + me.system))
        return own + done + live_children

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def resource_children_cpu() -> float:
    """CPU seconds of the children that have finished (and were waited for)."""
    t = os.times()
    return t.children_user + t.children_system


def load_note(other: float) -> str:
    return f"taken at load {other:.1f}: not a valid figure for the goal" if other > LOAD_LIMIT else ""


def stage_table(marks: list[tuple[str, float, float, float]], load_before: float) -> list[dict]:
    """Stages from the ``(step, wall, cpu, load1)`` marks: seconds, CPU seconds, the load average at
    the stage's start and end, the load from other jobs (the end's load average minus this run's CPU
    per second in the stage, at least the load before the run for the first stage) and its note."""
    rows: dict[str, dict] = {}
    for (step, at, cpu0, l0), (_next, until, cpu1, l1) in itertools.pairwise(marks):
        name = "ingest" if step.startswith("ingest") else step
        wall, cpu = until - at, cpu1 - cpu0
        own = cpu / wall if wall > 0 else 0.0
        other = max(0.0, l1 - own)
        r = rows.setdefault(name, {"stage": name, "seconds": 0.0, "cpu_seconds": 0.0, "load_start": l0,
                                   "load_end": l1, "load_other": 0.0})
        r["seconds"] += wall
        r["cpu_seconds"] += cpu
        r["load_end"] = l1
        r["load_other"] = max(r["load_other"], other)
    for r in rows.values():
        r["note"] = load_note(r["load_other"])
    return list(rows.values())


def print_table(stages: list[dict], total: float, total_cpu: float, load_before: tuple, load_after: tuple,
                peak_main: float, peak_tree: float, worst: float, peak_pss: float = float("nan")) -> None:
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} (1, 5, 15 min)")
    print(f"{'stage':<36} {'seconds':>8} {'CPU s':>8} {'load start':>10} {'load end':>9} {'others':>7}")
    for r in stages:
        print(f"{r['stage'][:36]:<36} {r['seconds']:8.2f} {r['cpu_seconds']:8.2f} {r['load_start']:10.2f} "
              f"{r['load_end']:9.2f} {r['load_other']:7.2f}  {r['note']}")
    print(f"{'total':<36} {total:8.2f} {total_cpu:8.2f} {'':>10} {'':>9} {worst:7.2f}  {load_note(worst)}")
    print(f"load average after:  {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (1, 5, 15 min)")
    print(f"peak memory: main process {peak_main:.2f} GB (VmHWM); process and children together "
          f"{peak_tree:.2f} GB (largest sum of RSS, sampled every 0.2 s; pages the forked workers share "
          f"with it counted in each), {peak_pss:.2f} GB counting shared pages once (largest sum of PSS, "
          "sampled every 2 s)")


def print_tasks(tasks: dict[str, dict]) -> None:
    """The analysis' tasks (``AnalysisRun.summary["task_seconds"]``): each name's own wall and CPU
    seconds in the process that ran it. The tasks of a stage run side by side (``--jobs``
    processes), so their seconds add up to more than the stage's."""
    if not tasks:
        return
    print(f"{'analysis task (own time, side by side)':<36} {'seconds':>8} {'CPU s':>8} {'tasks':>6}")
    for name, t in tasks.items():
        print(f"  {name[:34]:<34} {t['seconds']:8.2f} {t['cpu_seconds']:8.2f} {t['tasks']:6d}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "run.json")
    ap.add_argument("--keep", type=Path, default=None,
                    help="build the project in this (new) folder and keep it, e.g. for "
                         "`bench_dashboard.py --project DIR`")
    ap.add_argument("--jobs", type=int, default=None,
                    help="processes of the run (`run --jobs`; default: 2 with 2 or more CPUs, 1: one process)")
    a = ap.parse_args()
    if a.keep is not None and a.keep.exists():
        ap.error(f"--keep {a.keep}: the folder exists; give a new one")
    from survey_pipeline.run import run_project

    with tempfile.TemporaryDirectory() as d:
        root = a.keep if a.keep is not None else Path(d) / "project"
        t = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(1) as pool:  # the generator's memory is not ours
            pool.apply(make_project, (root, a.rows))
        gen = time.perf_counter() - t
        size = sum(p.stat().st_size for p in (root / "exports").iterdir()) / 1e6
        print(f"generated {a.rows:,} responses in 5 exports ({size:.0f} MB) in {gen:.1f} s")
        marks: list[tuple[str, float, float, float]] = []
        load_before = os.getloadavg()
        with TreeSampler() as sampler:
            t0, c0 = time.perf_counter(), sampler.cpu()

            def mark(step: str) -> None:
                marks.append((step, time.perf_counter() - t0, sampler.cpu() - c0, os.getloadavg()[0]))

            mark("open project")
            res = run_project(root, on_step=mark, jobs=a.jobs)
            total = time.perf_counter() - t0
            marks.append(("end", total, sampler.cpu() - c0, os.getloadavg()[0]))
        load_after = os.getloadavg()
        stages = stage_table(marks, load_before[0])
        total_cpu = marks[-1][2]
        worst = max([load_before[0]] + [r["load_other"] for r in stages])
        peak = _vm("VmHWM")
        kept = sum(getattr(s, "rows_kept", 0) for s in res.ingests)
        summary = res.analysis.summary if res.analysis is not None else {}
    print_table(stages, total, total_cpu, load_before, load_after, peak, sampler.peak_gb, worst, sampler.peak_pss_gb)
    tasks = summary.get("task_seconds") or {}
    print_tasks(tasks)
    out = {"rows": a.rows, "jobs": a.jobs, "rows_kept": int(kept), "seconds_total": round(total, 2),
           "cpu_seconds_total": round(total_cpu, 2),
           "seconds_by_stage": {r["stage"]: round(r["seconds"], 2) for r in stages},
           "stages": [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()} for r in stages],
           "analysis_tasks": {n: {k: (round(v, 2) if isinstance(v, float) else v) for k, v in t.items()}
                              for n, t in tasks.items()},
           "peak_rss_gb": round(peak, 2), "peak_rss_with_children_gb": round(sampler.peak_gb, 2),
           "peak_pss_with_children_gb": round(sampler.peak_pss_gb, 2),
           "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in load_after],
           "load_other_max": round(worst, 2), "valid_for_goal": worst <= LOAD_LIMIT,
           "note": load_note(worst),
           "estimates": summary.get("estimates"), "comparisons": summary.get("comparisons"),
           "python": platform.python_version(), "machine": platform.machine(), "cpus": multiprocessing.cpu_count()}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()

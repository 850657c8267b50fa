"""Benchmark: `survey-pipeline run` end to end (ingest every export, weight, analyze, write).

Generates a project in a temporary folder: the resident instrument, N responses over 5 waves
(one generic CSV export per wave, canonical codes, resampled from the fixture city's generic
exports with their dirt: speeders, duplicates, tests ...), 30 neighborhoods in 6 districts
(areas.csv), census targets (the fixture city's demographic margins and a neighborhood margin)
and invitations per neighborhood. Then times :func:`survey_pipeline.run.run_project` with the
stage of each moment (ingest of each export, weighting, indicators, comparisons, priorities,
writing) and the peak resident memory, and writes ``benchmarks/out/run.json``.

    PYTHONPATH=. python benchmarks/bench_run.py --rows 1000000 [--keep DIR] [--jobs N]

With ``--keep DIR`` the project stays in DIR; ``bench_dashboard.py --project DIR`` then measures
the dashboard on the results of that 1,000,000-response project.

The export generator runs in a child process, so the peak memory is the run's own. Not a test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.bench_ingest import _vm  # peak memory from /proc (one reader for both benchmarks)

REPO = Path(__file__).resolve().parents[1]
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
        marks: list[tuple[str, float]] = []
        t0 = time.perf_counter()

        def mark(step: str) -> None:
            marks.append((step, time.perf_counter() - t0))

        res = run_project(root, on_step=mark, jobs=a.jobs)
        total = time.perf_counter() - t0
        marks.append(("end", total))
        stages: dict[str, float] = {}
        for (step, at), (_next, until) in itertools.pairwise(marks):
            name = "ingest" if step.startswith("ingest") else step
            stages[name] = stages.get(name, 0.0) + until - at
        peak = _vm("VmHWM")
        kept = sum(getattr(s, "rows_kept", 0) for s in res.ingests)
        summary = res.analysis.summary if res.analysis is not None else {}
    out = {"rows": a.rows, "jobs": a.jobs, "rows_kept": int(kept), "seconds_total": round(total, 2),
           "seconds_by_stage": {k: round(v, 2) for k, v in stages.items()}, "peak_rss_gb": round(peak, 2),
           "estimates": summary.get("estimates"), "comparisons": summary.get("comparisons"),
           "python": platform.python_version(), "machine": platform.machine(), "cpus": multiprocessing.cpu_count()}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

"""Ingest benchmark: a generated Qualtrics-style export of the resident template, N rows.

Run: python benchmarks/bench_ingest.py --rows 100000
Prints rows, wall and CPU seconds (total and at the start of each step) and memory (VmRSS at each
step, and the peak so far: VmHWM of /proc/self/status). The export is generated in a child process,
so the peak is the ingest's own. CPU seconds (this process, all its threads) are steadier than wall
seconds on a shared machine. Not a test.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from survey_pipeline import ingest, init_project


def make_export(inst, n: int, path: Path, seed: int = 1) -> None:
    """Numeric codes (as Qualtrics exports with 'use numeric values'), 5% blanks, metadata columns."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {
        "StartDate": np.full(n, "2026-03-01 10:00:00"), "EndDate": np.full(n, "2026-03-01 10:12:00"),
        "Status": np.full(n, "0"), "Progress": np.full(n, "100"),
        "Duration (in seconds)": rng.integers(60, 1500, n).astype(str), "Finished": np.full(n, "1"),
        "ResponseId": np.char.add("R_", np.arange(n).astype(str)),
    }
    for v in inst.variables():
        if v.type == "text":
            cols[v.name] = np.where(rng.random(n) < 0.1, "more patrols", "")
            continue
        if v.type in ("multi",):
            cols[v.name] = rng.integers(0, 2, n).astype(str)
            continue
        if v.type == "rank":
            cols[v.name] = np.where(rng.random(n) < 0.3, rng.integers(1, 4, n).astype(str), "")
            continue
        if v.type == "integer":
            cols[v.name] = rng.integers(18, 90, n).astype(str)
            continue
        choices, missing = inst.answer_options(v.answer_list)
        codes = np.array([str(c.code) for c in choices] + [str(m.code) for m in missing.values()])
        vals = codes[rng.integers(0, len(codes), n)]
        cols[v.name] = np.where(rng.random(n) < 0.05, "", vals)
    pd.DataFrame(cols).to_csv(path, index=False)


def _vm(field: str) -> float:
    """GB of a /proc/self/status field (VmHWM: peak resident memory; VmRSS: now)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def _generate(root: str, rows: int) -> None:
    proj = init_project(Path(root) / "p", instrument="resident")
    make_export(proj.instrument_model, rows, Path(root) / "export.csv")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        t = time.time()
        with multiprocessing.get_context("spawn").Pool(1) as pool:  # the generator's memory is not ours
            pool.apply(_generate, (str(d), args.rows))
        print(f"generated {args.rows} rows in {time.time() - t:.1f} s ({(d / 'export.csv').stat().st_size / 1e6:.0f} MB)")
        t0, c0 = time.time(), time.process_time()
        marks: list[tuple[str, float, float, float, float]] = []
        s = ingest(d / "p", d / "export.csv", "bench", mode="web",
                   progress=lambda step, i, n: marks.append((step, time.time() - t0, time.process_time() - c0,
                                                             _vm("VmRSS"), _vm("VmHWM"))))
        total, cpu = time.time() - t0, time.process_time() - c0
        print(f"ingest: {s.rows_read} rows read, {s.rows_kept} kept, {total:.1f} s ({cpu:.1f} s CPU), "
              f"peak memory (VmHWM) {_vm('VmHWM'):.2f} GB")
        for step, sec, csec, rss, hwm in marks:
            print(f"  {step:<9} at {sec:6.1f} s ({csec:6.1f} s CPU), {rss:.2f} GB now, {hwm:.2f} GB peak so far")


if __name__ == "__main__":
    main()

"""Ingest benchmark: a generated Qualtrics-style export of the resident template, N rows.

Run: PYTHONPATH=. python benchmarks/bench_ingest.py --rows 100000
Prints rows, seconds per step and peak memory (ru_maxrss). Not a test.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        proj = init_project(d / "p", instrument="resident")
        t = time.time()
        make_export(proj.instrument_model, args.rows, d / "export.csv")
        print(f"generated {args.rows} rows x {len(proj.instrument_model.variables()) + 7} columns in {time.time() - t:.1f} s "
              f"({(d / 'export.csv').stat().st_size / 1e6:.0f} MB)")
        t0 = time.time()
        marks: list[tuple[str, float]] = []
        s = ingest(proj, d / "export.csv", "bench", mode="web",
                   progress=lambda step, i, n: marks.append((step, time.time() - t0)))
        total = time.time() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"ingest: {s.rows_read} rows read, {s.rows_kept} kept, {total:.1f} s, peak RSS {peak:.0f} MB")
        print("  " + ", ".join(f"{step} at {sec:.1f} s" for step, sec in marks))


if __name__ == "__main__":
    main()

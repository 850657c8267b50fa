"""Benchmark: one rake of the run's shape with BLAS/OpenMP limited to one thread, and without.

A 200,000-response design raked to margins of 215 cells in all (wave x neighborhood 5 x 30, and
five demographic margins): ``Design.rake`` inverts the 215 x 215 matrix ``X'WX`` of the
calibration columns (``stable_pinv``). On a busy machine OpenBLAS's own threads spin-wait for a
core; ``survey_pipeline.stats._linalg.one_blas_thread`` limits them around that small algebra.
Runs the rake ``--repeat`` times each way, alternating, and prints the median and the largest time
of each with the load average before and after.

    .venv/bin/python benchmarks/bench_blas_threads.py [--rows 200000] [--repeat 7]

Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from survey_pipeline.stats import Design, _linalg  # noqa: E402


def frame(n: int, seed: int = 1) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    cols = {"wave_nbhd": [f"w{w}_n{k}" for w, k in zip(rng.integers(0, 5, n), rng.integers(0, 30, n), strict=True)]}
    sizes = {"age": 6, "sex": 2, "race": 6, "tenure": 3, "income": 48}  # 150 + 65 = 215 cells
    for v, k in sizes.items():
        cols[v] = [f"{v}{i}" for i in rng.integers(0, k, n)]
    df = pd.DataFrame(cols)
    margins = {c: {lv: float(cnt) * 3.0 for lv, cnt in df[c].value_counts().items()} for c in df.columns}
    return df, margins


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    df, margins = frame(a.rows)
    d = Design(df.assign(w=1.0), weights="w")
    print(f"{a.rows:,} rows, {sum(len(m) for m in margins.values())} calibration cells; "
          f"load before {os.getloadavg()[0]:.2f}")
    limited = _linalg.one_blas_thread
    g = d.rake(margins)._steps[0].ginv  # warm-up (first-call costs); its shape: the calibration cells
    x = sparse.random(a.rows, g.shape[0], density=6 / g.shape[0], random_state=1, format="csr")
    xtx = (x.T @ x).toarray()
    for what, call in (("rake", lambda: d.rake(margins)), ("stable_pinv 215x215", lambda: _linalg.stable_pinv(xtx))):
        times: dict[str, list[float]] = {"one thread": [], "default threads": []}
        for _ in range(a.repeat):
            for name in times:
                _linalg.one_blas_thread = limited if name == "one thread" else contextlib.nullcontext
                t = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - t)
        _linalg.one_blas_thread = limited
        for name, ts in times.items():
            print(f"  {what}, {name:<16} median {np.median(ts) * 1e3:8.1f} ms, largest {max(ts) * 1e3:8.1f} ms")
    print(f"load after {os.getloadavg()[0]:.2f} (1-minute load average; it includes this benchmark's own thread)")


if __name__ == "__main__":
    main()

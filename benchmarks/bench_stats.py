"""Benchmark: raking and calibration-aware domain means, against R's survey package.

Synthetic survey: 30 neighborhoods (strata) x 5 waves; each wave raked to age (5), sex (2),
race (5) and neighborhood (30) margins; then the 150 neighborhood-by-wave means of an outcome
with linearized SEs that account for the raking. Sizes 10k, 100k and 1M rows.

    python benchmarks/bench_stats.py [--sizes 10000 100000 1000000] [--r-sizes 10000]

When ``Rscript`` with the survey package is present, R does the same (``rake`` + ``svyby``)
on the R sizes and the ratio is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from survey_pipeline.stats import Design

AGES = ["18-24", "25-34", "35-49", "50-64", "65+"]
SEXES = ["f", "m"]
RACES = ["a", "b", "c", "d", "e"]
N_NBHD, N_WAVE = 30, 5
POP_PER_WAVE = 500_000.0
WALL = os.environ.get("BENCH_WALL") == "1"


def population_shares(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "age": rng.dirichlet(np.full(len(AGES), 8.0)),
        "sex": np.array([0.52, 0.48]),
        "race": rng.dirichlet(np.full(len(RACES), 4.0)),
        "nbhd": rng.dirichlet(np.full(N_NBHD, 20.0)),
    }


def make_survey(n: int, seed: int = 1) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    shares = population_shares(np.random.default_rng(0))
    wave = rng.integers(1, N_WAVE + 1, size=n)
    # the sample is skewed relative to the population (differential nonresponse)
    age = rng.choice(len(AGES), size=n, p=np.roll(shares["age"], 1))
    sex = rng.choice(2, size=n, p=[0.6, 0.4])
    race = rng.choice(len(RACES), size=n, p=np.roll(shares["race"], 2))
    nbhd = rng.integers(0, N_NBHD, size=n)
    y = (3 + 0.2 * age - 0.3 * sex + 0.1 * race + 0.02 * nbhd + 0.1 * wave
         + rng.normal(0, 1, size=n))
    n_wave = np.bincount(wave, minlength=N_WAVE + 1)[wave]
    w = POP_PER_WAVE / n_wave * rng.lognormal(0, 0.3, size=n)
    df = pd.DataFrame({
        "wave": wave,
        "age": np.array(AGES)[age],
        "sex": np.array(SEXES)[sex],
        "race": np.array(RACES)[race],
        "nbhd": np.char.add("n", nbhd.astype(str).astype(object).astype(str)),
        "y": y,
        "w": w,
    })
    margins: dict = {}
    for var, levels in (("age", AGES), ("sex", SEXES), ("race", RACES),
                        ("nbhd", [f"n{i}" for i in range(N_NBHD)])):
        margins[("wave", var)] = {
            (wv, lv): POP_PER_WAVE * shares[var][i]
            for wv in range(1, N_WAVE + 1) for i, lv in enumerate(levels)
        }
    return df, margins


def _clock() -> float:
    # CPU time of this process: robust to other work on a shared machine (set BENCH_WALL=1 for
    # wall-clock time)
    return time.perf_counter() if WALL else time.process_time()


def run_python(df: pd.DataFrame, margins: dict) -> tuple[float, float, pd.DataFrame]:
    t0 = _clock()
    d = Design(df, weights="w", strata="nbhd")
    r = d.rake(margins, tol=1e-8)
    t1 = _clock()
    res = r.mean("y", by=["nbhd", "wave"])
    t2 = _clock()
    return t1 - t0, t2 - t1, res


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
clock <- function() {
  p <- proc.time()
  if (Sys.getenv("BENCH_WALL") == "1") p[["elapsed"]] else p[["user.self"]] + p[["sys.self"]]
}
df <- read.csv(args[1], stringsAsFactors = FALSE)
mg <- read.csv(args[2], stringsAsFactors = FALSE)
t0 <- clock()
d <- svydesign(id = ~1, strata = ~nbhd, weights = ~w, data = df)
pops <- lapply(c("age", "sex", "race", "nbhd"), function(v) {
  m <- mg[mg$var == v, ]
  out <- data.frame(wave = m$wave, lev = m$level, Freq = m$total)
  names(out)[2] <- v
  out
})
r <- rake(d, list(~wave + age, ~wave + sex, ~wave + race, ~wave + nbhd), pops,
          control = list(maxit = 100, epsilon = 1e-6))
t1 <- clock()
b <- svyby(~y, ~nbhd + wave, r, svymean)
t2 <- clock()
cat(sprintf("%.6f %.6f\n", t1 - t0, t2 - t1))
write.csv(data.frame(nbhd = b$nbhd, wave = b$wave, estimate = coef(b), se = SE(b)),
          args[3], row.names = FALSE)
"""


def r_available() -> bool:
    if not shutil.which("Rscript"):
        return False
    ok = subprocess.run(["Rscript", "-e", "library(survey)"], capture_output=True)
    return ok.returncode == 0


def run_r(df: pd.DataFrame, margins: dict) -> tuple[float, float, pd.DataFrame]:
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        df.to_csv(tmpd / "data.csv", index=False)
        rows = [(key[1], wv, lv, tot) for key, cells in margins.items()
                for (wv, lv), tot in cells.items()]
        pd.DataFrame(rows, columns=["var", "wave", "level", "total"]).to_csv(
            tmpd / "margins.csv", index=False)
        (tmpd / "bench.R").write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(tmpd / "bench.R"), str(tmpd / "data.csv"),
                              str(tmpd / "margins.csv"), str(tmpd / "res.csv")],
                             capture_output=True, text=True, check=True)
        t_rake, t_dom = map(float, out.stdout.split()[-2:])
        return t_rake, t_dom, pd.read_csv(tmpd / "res.csv")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--r-sizes", type=int, nargs="*", default=[10_000])
    ap.add_argument("--repeat", type=int, default=3, help="Python runs per size; best is shown")
    args = ap.parse_args()
    have_r = r_available()
    print("times:", "wall clock" if WALL else "process CPU time")
    print(f"{'rows':>9} {'py rake s':>10} {'py 150 means s':>15} {'py total s':>11} "
          f"{'R rake s':>9} {'R 150 means s':>14} {'R/py (means)':>12} {'R/py (total)':>12}")
    for n in args.sizes:
        df, margins = make_survey(n)
        runs = [run_python(df, margins) for _ in range(args.repeat)]
        tr = min(r[0] for r in runs)
        td = min(r[1] for r in runs)
        res = runs[0][2]
        line = f"{n:>9} {tr:>10.3f} {td:>15.3f} {tr + td:>11.3f}"
        if have_r and n in args.r_sizes:
            rr, rd, rres = run_r(df, margins)
            m = res.merge(rres, on=["nbhd", "wave"], suffixes=("", "_r"))
            est_diff = float(np.max(np.abs(m["estimate"] - m["estimate_r"])))
            se_rel = float(np.max(np.abs(m["se"] / m["se_r"] - 1)))
            line += f" {rr:>9.3f} {rd:>14.3f} {rd / td:>12.0f} {(rr + rd) / (tr + td):>12.0f}"
            line += f"   (max |est diff| {est_diff:.1e}, max SE rel diff {se_rel:.1e})"
        print(line, flush=True)


if __name__ == "__main__":
    main()

"""Check that a change leaves the results tables unchanged: snapshot, then compare at 1e-12.

Runs :func:`survey_pipeline.analysis.results.analyze_frame` on the fixture city (default
settings: four demographic groups, every indicator and comparison kind, invitations, the
problem-solving evaluation) and on a 20,000-response resample of it over 5 waves and 30
neighborhoods (the benchmark's shape), and writes every results table to pickle files::

    python benchmarks/results_equal.py save /tmp/before     # on the old code
    python benchmarks/results_equal.py compare /tmp/before  # on the new code

``stores A B`` compares every table of two stores (``warehouse.duckdb``, or a program folder: every
member's store and ``program.duckdb``) the same way, e.g. a program run before and after a
change; the ``runs`` table and the ``sources.loaded_at`` timestamps are not compared::

    PYTHONPATH=. python benchmarks/results_equal.py stores /tmp/before-program /tmp/after-program

``compare`` exits 1 when a table differs: other rows or text, or a number off by more than
1e-12 relative (1e-12 absolute near zero); with ``--exact`` (``compare`` and ``stores``), a number
that is not the same double (bitwise; NaN where NaN), with no exception for round-off. The ``runs`` table (timestamps) is not compared.
Where a domain's variance is zero up to round-off in both tables (every valid answer in the
domain is the same, so ``se`` is the square root of the cancellation error of its moments,
below 1e-6 x max(1, |estimate|)), the columns computed from that round-off (``se``, ``ci_*``,
``t``, ``p``, ``p_adj``, ``deff``, ``n_eff``) are not compared; the rows, estimates, counts and
reliability still are. ``deff`` and ``n_eff`` divide by the domain's weighted variance, a
difference of moment sums that cancels in tiny domains (two or three answers): they are
compared at 1e-9.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the repository's root, not benchmarks/, on the path
    sys.path.insert(0, str(ROOT))

from survey_pipeline.analysis.results import analyze_frame  # noqa: E402
from survey_pipeline.analysis.settings import AnalysisSettings, Evaluation, WeightingSettings  # noqa: E402
from survey_pipeline.analysis.weighting import read_targets  # noqa: E402

RTOL = 1e-12


def runs() -> dict[str, dict[str, pd.DataFrame]]:
    from benchmarks.bench_analysis import synthetic
    from tests.unit.analysis.fixture_city import (
        city_dir,
        city_frame,
        city_instrument,
        ground_truth,
        invitations,
    )

    inst = city_instrument()
    effort = ground_truth()["planted"]["problem_solving"]
    ev = Evaluation("effort", tuple(str(c) for c in effort["neighborhoods"]), effort["from_wave"], ())
    out = {}
    city = analyze_frame(city_frame(), inst, targets=read_targets(city_dir() / "census_targets.csv"),
                         weighting=WeightingSettings(recode={"tenure": {"no_rent": "rent"}}),
                         settings=AnalysisSettings(evaluations=(ev,)), invitations=invitations())
    out["city"] = city.tables
    frame, targets = synthetic(20_000, seed=7)
    res = analyze_frame(frame, inst, targets=targets,
                        weighting=WeightingSettings(recode={"tenure": {"no_rent": "rent"}}, trim=None),
                        settings=AnalysisSettings())
    out["resample"] = res.tables
    return out


NOISE = ("se", "ci_low", "ci_high", "t", "p", "p_adj", "deff", "n_eff")


def _zero_se(df: pd.DataFrame) -> np.ndarray:
    se = np.abs(df["se"].to_numpy(float))
    # a table with ``se`` but no ``estimate`` (e.g. a coefficient's): the scale is 1
    est = df["estimate"].to_numpy(float) if "estimate" in df.columns else np.zeros(len(df))
    return se < 1e-6 * np.maximum(1.0, np.abs(est))


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, exact: bool = False) -> list[str]:
    """Differences between two results tables (empty when equal to ``RTOL``; with ``exact``,
    when every number is the same double, NaN where NaN)."""
    probs = []
    if list(a.columns) != list(b.columns):
        return [f"columns differ: {list(a.columns)} vs {list(b.columns)}"]
    if len(a) != len(b):
        return [f"{len(a)} rows vs {len(b)} rows"]
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(x):
            xa, ya = x.to_numpy(float), y.to_numpy(float)
            same_nan = np.isnan(xa) == np.isnan(ya)
            tol = 1e-9 if c in ("deff", "n_eff") else RTOL
            ok = same_nan & (np.isnan(xa) | ((xa == ya) if exact else np.isclose(xa, ya, rtol=tol, atol=tol)))
            if not exact and c in NOISE and "se" in a.columns and "estimate" in a.columns:
                ok |= _zero_se(a) & _zero_se(b)
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                probs.append(f"{c}: {int((~ok).sum())} values differ, first at row {i}: {xa[i]!r} vs {ya[i]!r}")
        else:
            xs = np.array(["\0NA" if pd.isna(v) else str(v) for v in x], dtype=object)
            ys = np.array(["\0NA" if pd.isna(v) else str(v) for v in y], dtype=object)
            bad = xs != ys
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                probs.append(f"{c}: {int(bad.sum())} values differ, first at row {i}: {xs[i]!r} vs {ys[i]!r}")
    return probs


_SKIP_COLUMNS = {"sources": {"loaded_at"}}


def _store_files(root: Path) -> dict[str, Path]:
    """``{name: store}``: the store itself, or a program folder's stores (members' and the program's)."""
    if root.is_file():
        return {root.name: root}
    found = {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*.duckdb"))}
    if not found:
        raise SystemExit(f"{root}: no .duckdb store in it")
    return found


def compare_stores(a: Path, b: Path, exact: bool = False) -> bool:
    """Print and return whether every table of the stores under ``a`` and ``b`` is the same."""
    import duckdb

    sa, sb = _store_files(a), _store_files(b)
    failed = False
    if sorted(sa) != sorted(sb):
        print(f"stores differ: {sorted(set(sa) ^ set(sb))}")
        failed = True
    for name in sorted(set(sa) & set(sb)):
        tabs = {}
        for side, path in (("a", sa[name]), ("b", sb[name])):
            con = duckdb.connect(str(path), read_only=True)
            try:
                names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                                   "WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
                tabs[side] = {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').df() for t in names if t != "runs"}
            finally:
                con.close()
        if sorted(tabs["a"]) != sorted(tabs["b"]):
            print(f"{name}: tables differ: {sorted(set(tabs['a']) ^ set(tabs['b']))}")
            failed = True
        for t in sorted(set(tabs["a"]) & set(tabs["b"])):
            x, y = (tabs[s][t].drop(columns=[c for c in _SKIP_COLUMNS.get(t, ()) if c in tabs[s][t].columns])
                    for s in ("a", "b"))
            probs = compare_frames(x, y, exact)
            print(f"{name:40s} {t:24s} {len(x):>8,} rows  {'same' if not probs else 'DIFFERENT'}")
            for p in probs:
                print(f"    {p}")
            failed |= bool(probs)
    return not failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["save", "compare", "stores"])
    ap.add_argument("folder", type=Path)
    ap.add_argument("other", type=Path, nargs="?", help="stores: the second store or program folder")
    ap.add_argument("--exact", action="store_true",
                    help="compare every number bitwise (the same double; NaN where NaN), not at 1e-12")
    a = ap.parse_args()
    if a.mode == "stores":
        if a.other is None:
            ap.error("stores needs two folders (or two .duckdb files)")
        return 0 if compare_stores(a.folder, a.other, a.exact) else 1
    tables = runs()
    failed = False
    for name, tabs in tables.items():
        for t, df in tabs.items():
            if t == "runs":
                continue
            path = a.folder / f"{name}__{t}.pkl"
            if a.mode == "save":
                path.parent.mkdir(parents=True, exist_ok=True)
                df.reset_index(drop=True).to_pickle(path)
                continue
            probs = compare_frames(pd.read_pickle(path), df.reset_index(drop=True), a.exact)
            print(f"{name:9s} {t:24s} {len(df):>8,} rows  {'same' if not probs else 'DIFFERENT'}")
            for p in probs:
                print(f"    {p}")
            failed |= bool(probs)
    if a.mode == "save":
        print(f"saved {sum(len(t) for t in tables.values())} tables to {a.folder}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

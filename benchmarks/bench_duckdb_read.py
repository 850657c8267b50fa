"""Benchmark: the reader (``read_export``) against DuckDB's ``read_csv`` on one generic export.

The question (issue 18): would reading exports with DuckDB make the ingest faster? The ingest's
recode works on the reader's frame of Python ``str`` cells, so DuckDB must hand back the same
cells. Each way runs in a fresh process (wall and CPU seconds, DuckDB's threads included):

- ``reader``: ``read_export`` (counting pass, pandas' C parser into one object matrix);
- ``duckdb-table``: ``read_csv`` (all columns VARCHAR) into a DuckDB table, and nothing else;
- ``duckdb-objects``: the same, then every column fetched as numpy object arrays (``fetchnumpy``);
- ``duckdb-shared``: the same, but each column through an ENUM of its distinct values, so that
  equal cells share one ``str`` as the reader's do (recode looks each distinct object up once).

    .venv/bin/python benchmarks/bench_duckdb_read.py [--rows 200000]

Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

WAYS = ("reader", "duckdb-table", "duckdb-objects", "duckdb-shared")


def make_export(path: Path, rows: int) -> int:
    """One export of ``rows`` responses resampled from the fixture city's generic exports."""
    import numpy as np
    import pandas as pd

    fixture = REPO / "data" / "fixtures" / "riverton" / "generic"
    base = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(fixture.glob("*.csv.gz"))],
                     ignore_index=True)
    rng = np.random.default_rng(1)
    f = base.iloc[rng.integers(0, len(base), rows)].reset_index(drop=True)
    f["response_id"] = np.char.add("r_", np.arange(rows).astype(str))
    f.to_csv(path, index=False)
    return f.shape[1]


def run_one(way: str, path: str, width: int) -> dict:
    import numpy as np

    t, c = time.perf_counter(), time.process_time()
    if way == "reader":
        from survey_pipeline.ingest.readers import read_export

        shape = read_export(path).frame.shape
    else:
        import duckdb

        con = duckdb.connect()
        spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
        con.execute(f"CREATE TEMP TABLE t AS SELECT * FROM read_csv(?, header=false, skip=1, delim=',', "
                    f"quote='\"', escape='\"', strict_mode=true, auto_detect=false, columns={spec})", [path])
        names = [f"c{i}" for i in range(width)]
        shape = (con.execute("SELECT count(*) FROM t").fetchall()[0][0], width)
        if way == "duckdb-objects":
            cols = con.execute("SELECT * FROM t").fetchnumpy()
            assert len(cols) == width
        elif way == "duckdb-shared":
            for n in names:
                con.execute(f"CREATE TYPE e_{n} AS ENUM (SELECT DISTINCT {n} FROM t WHERE {n} IS NOT NULL)")
            df = con.execute("SELECT " + ", ".join(f"{n}::e_{n} AS {n}" for n in names) + " FROM t").df()
            for n in names:
                cats = np.asarray(df[n].cat.categories, dtype=object)
                codes = df[n].cat.codes.to_numpy()
                col = cats[codes]
                col[codes < 0] = None
    return {"way": way, "wall": time.perf_counter() - t, "cpu": time.process_time() - c, "shape": list(shape)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_one(a.one[0], a.one[1], int(a.one[2]))))
        return
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "export.csv"
        width = make_export(path, a.rows)
        print(f"{a.rows:,} rows x {width} columns, {path.stat().st_size / 1e6:.0f} MB")
        for way in WAYS:
            load = os.getloadavg()[0]
            out = subprocess.run([sys.executable, __file__, "--one", way, str(path), str(width)],
                                 capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"  {way:<15} wall {r['wall']:6.2f} s  CPU {r['cpu']:6.2f} s  (load before {load:.1f})")


if __name__ == "__main__":
    main()

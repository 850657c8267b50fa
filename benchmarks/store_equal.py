"""Check that a change to the ingest leaves the store unchanged: snapshot, then compare.

Generates the benchmark project of ``bench_run.py`` (``--rows`` responses in 5 generic exports,
seeded: the same files every time), ingests every export with ``run_project`` (the analysis is
not run) and records, for each table of the store, its row count and ``sum(hash(row))`` — the
``answers`` view and the physical ``answer_cells`` included, ``sources`` without its load time::

    python benchmarks/store_equal.py save /tmp/before --rows 20000      # on the old code
    python benchmarks/store_equal.py compare /tmp/before --rows 20000   # on the new code

``compare`` exits 1 when a table differs. The row order inside a table is not compared.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TABLES = {
    "sources": "SELECT * EXCLUDE (loaded_at) FROM sources",
    "waves": "SELECT * FROM waves",
    "variables": "SELECT * FROM variables",
    "variable_keys": "SELECT * FROM variable_keys",
    "responses": "SELECT * FROM responses",
    "answer_cells": "SELECT * FROM answer_cells",
    "answers": "SELECT * FROM answers",
    "open_text": "SELECT * FROM open_text",
    "quarantine": "SELECT * FROM quarantine",
    "flags": "SELECT * FROM flags",
}


def snapshot(rows: int, jobs: int) -> dict[str, list]:
    import duckdb

    import survey_pipeline.analysis.results as results
    from benchmarks.bench_run import make_project
    from survey_pipeline.run import run_project

    results.analyze_project = lambda root, progress=None, jobs=None: None  # the ingest only
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "project"
        make_project(root, rows)
        run_project(root, jobs=jobs)
        con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
        try:
            out = {}
            for name, sql in TABLES.items():
                n, h = con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM ({sql}) t").fetchall()[0]
                out[name] = [int(n), str(h)]
            return out
        finally:
            con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["save", "compare"])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=1)
    a = ap.parse_args()
    got = snapshot(a.rows, a.jobs)
    path = a.folder / f"store_{a.rows}.json"
    if a.mode == "save":
        a.folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=2) + "\n", encoding="utf-8")
        print(f"saved {len(got)} tables to {path}")
        return 0
    want = json.loads(path.read_text(encoding="utf-8"))
    failed = False
    for name, (n, h) in got.items():
        same = want.get(name) == [n, h]
        failed |= not same
        print(f"{name:14s} {n:>12,} rows  {'same' if same else 'DIFFERENT (before: ' + str(want.get(name)) + ')'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

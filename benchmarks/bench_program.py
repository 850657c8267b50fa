"""Benchmark: `program run` of N generated agencies on a local Dask cluster (or local processes).

Generates a program (``data/fixtures/program_gen.py``: N agencies x W waves x ~R responses per
wave, sizes drawn from real city populations), then times :func:`survey_pipeline.program.run_program`
on a Dask ``LocalCluster`` of ``--workers`` single-threaded worker processes (``--executor local``:
a local process pool instead), and writes ``benchmarks/out/program.json`` with the time per agency
and a projection for a cluster.

    python -m benchmarks.bench_program --agencies 200 --waves 3 --responses 2000 --workers 2

Not a test. The projection assumes members are independent tasks of equal cost that keep every
worker busy (no shared bottleneck but the program's own benchmark step, measured separately) and
a shared filesystem as fast as local disk: time ~ agencies x (seconds per agency) / workers +
the benchmark step.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agencies", type=int, default=200)
    ap.add_argument("--waves", type=int, default=3)
    ap.add_argument("--responses", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--executor", choices=["dask", "local"], default="dask")
    ap.add_argument("--keep", type=Path, default=None, help="build the program in this new folder and keep it")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "program.json")
    a = ap.parse_args()

    from data.fixtures.program_gen import make_program
    from survey_pipeline.program import DaskExecutor, LocalExecutor, run_program

    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as d:
        root = a.keep if a.keep is not None else Path(d) / "program"
        t = time.perf_counter()
        who = make_program(root, a.agencies, waves=a.waves, responses=a.responses)
        gen = time.perf_counter() - t
        n_resp = int(who["responses_per_wave"].sum() * a.waves)
        print(f"generated {a.agencies} agencies, {n_resp:,} responses in {gen:.1f} s", flush=True)
        t = time.perf_counter()
        if a.executor == "dask":
            import distributed

            with distributed.LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                                          dashboard_address=None) as cl, \
                    distributed.Client(cl, set_as_default=False) as client:
                res = run_program(root, executor=DaskExecutor(client=client))
        else:
            res = run_program(root, executor=LocalExecutor(a.workers, retries=1))
        total = time.perf_counter() - t
        t = time.perf_counter()
        again = run_program(root, executor=LocalExecutor(1, retries=0))  # nothing changed: benchmarks only
        bench_step = time.perf_counter() - t
    ran = [m for m in res.members if m["status"] == "ran"]
    per_agency = sorted(m["seconds"] for m in ran)
    mean_agency = sum(per_agency) / max(len(per_agency), 1)
    out = {
        "agencies": a.agencies, "waves": a.waves, "responses_per_wave_mean": a.responses, "responses": n_resp,
        "executor": a.executor, "workers": a.workers, "seconds_total": round(total, 1),
        "failed": len(res.failed), "benchmark_rows": len(res.benchmarks),
        "seconds_per_agency_mean": round(mean_agency, 2),
        "seconds_per_agency_p50": round(per_agency[len(per_agency) // 2], 2) if per_agency else None,
        "seconds_per_agency_max": round(per_agency[-1], 2) if per_agency else None,
        "seconds_rerun_nothing_changed": round(bench_step, 1),
        "unchanged_on_rerun": sum(m["status"] == "unchanged" for m in again.members),
        "projection_seconds": {f"{w} workers": round(a.agencies * mean_agency / w + bench_step, 0)
                               for w in (2, 16, 64, 200)},
        "load_before": [round(x, 2) for x in load0], "load_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(), "cpus": multiprocessing.cpu_count(),
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

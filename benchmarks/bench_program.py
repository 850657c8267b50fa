"""Benchmark: `program run` of N generated agencies on a local Dask cluster (or local processes).

Generates a program (``data/fixtures/program_gen.py``: N agencies x W waves x ~R responses per
wave, sizes drawn from real city populations), then times :func:`survey_pipeline.program.run_program`
on a Dask ``LocalCluster`` of ``--workers`` single-threaded worker processes (``--executor local``:
a local process pool instead), and writes ``benchmarks/out/program.json`` with the time per agency
and a projection for a cluster.

    python -m benchmarks.bench_program --agencies 200 --waves 3 --responses 2000 --workers 2

Not a test. Every member is logged as it finishes (elapsed time, its seconds and CPU seconds,
the worker's peak memory, the load average), so a run stopped early (Ctrl-C or SIGTERM) still
writes a result, marked ``"partial": true``, with the agencies done and the projection from them.

The projection assumes members are independent tasks of equal cost that keep every worker busy
(no shared bottleneck but the program's own benchmark step, measured separately) and a shared
filesystem as fast as local disk: time ~ agencies x (seconds per agency) / workers + the
benchmark step. It is given twice: from the measured seconds per agency (on this machine, at its
load) and from the CPU seconds per agency (what a dedicated core would take).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # python benchmarks/bench_program.py, without PYTHONPATH
    sys.path.insert(0, str(REPO))


def _log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


class _Logged:
    """Wraps an executor: runs the tasks through it and logs each member as it finishes."""

    def __init__(self, inner, t0: float, done: list):
        self.inner, self.t0, self.done = inner, t0, done
        self.name = inner.name

    def run(self, fn, keys, args):
        if self.inner.name != "dask":
            outcomes = self.inner.run(fn, keys, args)
            for o in outcomes:
                self._record(o.key, o.value if o.ok else None, o.error)
            return outcomes
        import distributed

        from survey_pipeline.program.executor import Outcome, _describe

        client = self.inner.client
        futs = {client.submit(fn, *a, key=f"bench-{k}", pure=False, retries=self.inner.retries): k
                for k, a in zip(keys, args, strict=True)}
        got = {}
        for f in distributed.as_completed(list(futs), loop=client.loop):
            k = futs[f]
            try:
                got[k] = Outcome(k, ok=True, value=f.result())
            except Exception as exc:  # reported per task, the others go on
                got[k] = Outcome(k, ok=False, error=_describe(exc), attempts=self.inner.retries + 1)
            self._record(k, got[k].value, got[k].error)
        return [got[k] for k in keys]

    def _record(self, key, value, error) -> None:
        load = os.getloadavg()
        if value is not None and value.get("ok"):
            self.done.append(value)
            _log(f"{len(self.done):4d} done  {key}  {value['seconds']:6.1f} s  cpu {value.get('cpu_seconds', 0):5.1f} s  "
                 f"worker peak {value.get('peak_rss_mb') or 0:5.0f} MB  elapsed {time.perf_counter() - self.t0:7.1f} s  "
                 f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        else:
            _log(f"FAILED {key}: {error or (value or {}).get('error')}")


def _main_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _summary(a, done: list, total: float, n_resp: int, bench_step: float | None, load0, partial: bool,
             extra: dict) -> dict:
    secs = sorted(m["seconds"] for m in done)
    cpus = sorted(m.get("cpu_seconds") or 0.0 for m in done)
    mean = sum(secs) / max(len(secs), 1)
    cpu_mean = sum(cpus) / max(len(cpus), 1)
    step = bench_step if bench_step is not None else 0.0
    out = {
        "partial": partial, "agencies": a.agencies, "agencies_done": len(done), "waves": a.waves,
        "responses_per_wave_mean": a.responses, "responses": n_resp, "executor": a.executor, "workers": a.workers,
        "seconds_total": round(total, 1),
        "seconds_per_agency_mean": round(mean, 2),
        "seconds_per_agency_p50": round(secs[len(secs) // 2], 2) if secs else None,
        "seconds_per_agency_max": round(secs[-1], 2) if secs else None,
        "cpu_seconds_per_agency_mean": round(cpu_mean, 2),
        "cpu_seconds_per_agency_p50": round(cpus[len(cpus) // 2], 2) if cpus else None,
        "wall_seconds_per_agency_overall": round(total * a.workers / max(len(done), 1), 2),
        "worker_peak_rss_mb": round(max((m.get("peak_rss_mb") or 0 for m in done), default=0), 0),
        "seconds_rerun_nothing_changed": round(bench_step, 1) if bench_step is not None else None,
        "projection_seconds_at_measured_rate": {f"{w} workers": round(a.agencies * mean / w + step, 0)
                                                for w in (2, 16, 64, 200)},
        "projection_seconds_one_core_per_worker": {f"{w} workers": round(a.agencies * cpu_mean / w + step, 0)
                                                   for w in (2, 16, 64, 200)},
        "main_peak_rss_mb": round(_main_rss_mb(), 0),
        "load_before": [round(x, 2) for x in load0], "load_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(), "cpus": multiprocessing.cpu_count(),
    }
    out.update(extra)
    return out


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
    done: list = []
    extra: dict = {}
    state = {"t": None, "n_resp": 0}

    def stop(signum, _frame):  # SIGTERM: write what is done, as for Ctrl-C
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    partial = False
    bench_step = None
    with tempfile.TemporaryDirectory() as d:
        root = a.keep if a.keep is not None else Path(d) / "program"
        try:
            t = time.perf_counter()
            who = make_program(root, a.agencies, waves=a.waves, responses=a.responses)
            gen = time.perf_counter() - t
            state["n_resp"] = int(who["responses_per_wave"].sum() * a.waves)
            extra["seconds_generate"] = round(gen, 1)
            _log(f"generated {a.agencies} agencies, {state['n_resp']:,} responses in {gen:.1f} s")
            state["t"] = time.perf_counter()
            if a.executor == "dask":
                import distributed

                with distributed.LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                                              dashboard_address=None) as cl, \
                        distributed.Client(cl, set_as_default=False) as client:
                    res = run_program(root, executor=_Logged(DaskExecutor(client=client), state["t"], done),
                                      on_step=_log)
            else:
                res = run_program(root, executor=_Logged(LocalExecutor(a.workers, retries=1), state["t"], done),
                                  on_step=_log)
            total = time.perf_counter() - state["t"]
            extra.update({"failed": len(res.failed), "benchmark_rows": len(res.benchmarks)})
            _log(f"program run done in {total:.1f} s; rerun with nothing changed (benchmarks only)")
            t = time.perf_counter()
            again = run_program(root, executor=LocalExecutor(1, retries=0))
            bench_step = time.perf_counter() - t
            extra["unchanged_on_rerun"] = sum(m["status"] == "unchanged" for m in again.members)
        except KeyboardInterrupt as exc:
            partial = True
            total = time.perf_counter() - state["t"] if state["t"] is not None else 0.0
            _log(f"stopped ({exc or 'interrupt'}) after {len(done)} of {a.agencies} agencies, {total:.1f} s")
    out = _summary(a, done, total, state["n_resp"], bench_step, load0, partial, extra)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2), flush=True)


if __name__ == "__main__":
    main()

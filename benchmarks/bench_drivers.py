"""Benchmark: the key-driver models (``drivers`` table) on a project's analysis design.

Builds the design as the analysis does (weighting of every wave), then times
:func:`survey_pipeline.analysis.drivers.drivers_table` alone (every outcome x wave x city and
district), in this process.

    survey-pipeline demo --dir /tmp/drv-demo --no-serve
    python benchmarks/bench_drivers.py /tmp/drv-demo [--repeat 5]

Prints the median wall time, the number of models and of fitted (not suppressed) models, and
the top three drivers of each outcome citywide in the last wave.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from survey_pipeline.analysis.drivers import drivers_table
from survey_pipeline.analysis.indicators import ESTIMATE_COLUMNS, indicator_specs, share_values
from survey_pipeline.analysis.prepare import derive_groups
from survey_pipeline.analysis.results import _project_inputs
from survey_pipeline.analysis.weighting import area_lookup, weight_waves
from survey_pipeline.project import Project


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("project")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    inst, ws, _st, waves, _labels, frame, targets, inv, areas, _rates = _project_inputs(Project.load(args.project))
    frame = derive_groups(frame, inst)
    frame["wave"] = frame["wave"].astype(str)
    for c in ("district", "neighborhood", "beat"):
        if c in frame.columns:
            frame[c] = frame[c].astype(str).astype(object).where(frame[c].notna(), None)
    wr = weight_waves(frame, targets, ws, invitations=inv or None, areas=area_lookup(frame["neighborhood"], inst, areas))
    design = wr.design
    share_values(design.data)
    specs = indicator_specs(inst)
    est = pd.DataFrame(columns=ESTIMATE_COLUMNS)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        table = drivers_table(design, specs, inst, est, waves)
        times.append(time.perf_counter() - t0)
    models = table.drop_duplicates(["wave", "area_level", "area", "outcome"])
    print(f"{len(design.data)} responses, {len(waves)} waves: {len(models)} models "
          f"({int((models['reliability'] == 'ok').sum())} fitted), median {statistics.median(times):.3f} s "
          f"over {args.repeat} runs")
    last = table[(table["wave"] == waves[-1]) & (table["area_level"] == "city")].sort_values(["outcome", "rank"])
    for o, g in last.groupby("outcome", sort=False):
        top = ", ".join(f"{r.driver} {r.coefficient * 100:+.1f} pts (95% CI {r.ci_low * 100:+.1f} to "
                        f"{r.ci_high * 100:+.1f}, p_adj {r.p_adj:.3f})" for r in g.head(3).itertuples())
        print(f"{o} (n = {g['n'].iloc[0]}, R2 {g['r2'].iloc[0]:.3f}): {top}")


if __name__ == "__main__":
    main()

"""Export the analysis frame of one demo wave for ``make_drivers.R`` (run once; CI reads the CSVs).

    survey-pipeline demo --dir /tmp/drv-demo --no-serve
    python tests/reference/export_drivers_frame.py /tmp/drv-demo

Writes ``drivers_frame.csv`` (one row per analysed response of the last wave: its district, base
weight, raking cells and the 0/1 codes of the driver models' outcomes and drivers, empty when
missing) and ``drivers_margins.csv`` (the wave's raking margins after collapsing: variable,
category, population), both taken from the design the analysis builds (``analyze_frame``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from survey_pipeline.analysis.drivers import driver_models
from survey_pipeline.analysis.indicators import indicator_specs, indicator_values
from survey_pipeline.analysis.prepare import derive_groups
from survey_pipeline.analysis.results import _project_inputs
from survey_pipeline.analysis.weighting import area_lookup, weight_waves
from survey_pipeline.project import Project

HERE = Path(__file__).parent


def main(project_dir: str) -> None:
    project = Project.load(project_dir)
    inst, ws, _st, waves, _labels, frame, targets, inv, areas, _rates = _project_inputs(project)
    frame = derive_groups(frame, inst)
    frame["wave"] = frame["wave"].astype(str)
    for c in ("district", "neighborhood", "beat"):
        if c in frame.columns:
            frame[c] = frame[c].astype(str).astype(object).where(frame[c].notna(), None)
    wr = weight_waves(frame, targets, ws, invitations=inv or None, areas=area_lookup(frame["neighborhood"], inst, areas))
    data = wr.design.data
    wave = waves[-1]
    rows = (data["wave"] == wave).to_numpy()
    specs = indicator_specs(inst)
    out = pd.DataFrame({"id": np.arange(1, rows.sum() + 1), "district": data.loc[rows, "district"].to_numpy(),
                        "w0": data.loc[rows, "_base"].to_numpy()})
    margins = [c for c in data.columns if c.startswith("_m_")]
    for c in margins:
        out[c[1:]] = data.loc[rows, c].to_numpy()
    seen = set()
    for m in driver_models(specs, inst):
        for s in (m.outcome, *m.drivers):
            if s.indicator not in seen:
                seen.add(s.indicator)
                out[s.indicator] = indicator_values(data, s)[0][rows]
    out.to_csv(HERE / "drivers_frame.csv", index=False, float_format="%.17g")
    tu = wr.targets_used
    tu = tu[tu["wave"] == wave][["variable", "category", "population"]]
    tu.to_csv(HERE / "drivers_margins.csv", index=False, float_format="%.17g")
    print(f"wave {wave}: {rows.sum()} rows, margins {', '.join(m[3:] for m in margins)}; trim {ws.trim}, bounds {ws.bounds}")


if __name__ == "__main__":
    main(sys.argv[1])

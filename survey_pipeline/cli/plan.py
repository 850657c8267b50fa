"""`survey-pipeline plan`: completes and invitations per area for a target margin of error."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from survey_pipeline.cli._app import app, err, out
from survey_pipeline.instrument.plan import citywide_moe, plan_sample, read_area_populations


class AllocationOption(StrEnum):
    minimum = "minimum"
    proportional = "proportional"
    equal = "equal"


@app.command("plan")
def plan(
    areas: Path = typer.Option(..., "--areas", help="CSV or GeoJSON: an area column and population/pop/households/adults."),
    population_column: str | None = typer.Option(None, "--population-column",
                                                 help="The column to use when several are present (e.g. households)."),
    moe: float = typer.Option(..., "--moe", help="Target margin of error per area, as a proportion (0.05 = ±5 points)."),
    deff: float = typer.Option(1.0, "--deff", help="Design effect (1.0 simple random sampling; ~1.5 after weighting)."),
    p: float = typer.Option(0.5, "--p", help="Assumed proportion (0.5 is the most conservative)."),
    confidence: float = typer.Option(0.95, "--confidence", help="Confidence level."),
    allocation: AllocationOption = typer.Option(AllocationOption.minimum, "--allocation", case_sensitive=True,
                                                help="minimum: each area meets the target; proportional/equal: split --total."),
    min_per_area: int | None = typer.Option(None, "--min-per-area", help="At least this many completes per area."),
    total: int | None = typer.Option(None, "--total", help="Completes to split (proportional and equal allocation)."),
    response_rate: float | None = typer.Option(None, "--response-rate", help="Expected share of invitations that complete, e.g. 0.2."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Plan completes and invitations per area for a margin of error, with the citywide MOE.

    n0 = z² p(1-p) deff / moe², with the finite population correction n = n0 / (1 + (n0-1)/N),
    rounded up; the citywide MOE is that of the population-weighted (stratified) estimate.

    Example: survey-pipeline plan --areas neighborhoods.csv --moe 0.05 --deff 1.5 --response-rate 0.2
    """
    frame = read_area_populations(areas, population_column)
    result = plan_sample(frame, moe, confidence=confidence, p=p, deff=deff, allocation=allocation.value,
                         min_per_area=min_per_area, total=total, response_rate=response_rate)
    city = citywide_moe(result, confidence=confidence, p=p, deff=deff)
    has_inv = response_rate is not None
    totals = {
        "areas": len(result),
        "population": float(result["population"].sum()),
        "completes": int(result["completes"].sum()),
        "invitations": int(result["invitations"].sum()) if has_inv else None,
        "citywide_moe": city,
        "areas_meeting_target": int(result["meets_target"].sum()),
    }
    over = result[has_inv & (result["invitations"].astype("Float64") > result["population"])] if has_inv else result.iloc[0:0]
    if as_json:
        rows = []
        for r in result.to_dict(orient="records"):
            r["invitations"] = None if pd.isna(r["invitations"]) else int(r["invitations"])
            r["completes"] = int(r["completes"])
            r["meets_target"] = bool(r["meets_target"])
            r["population"] = float(r["population"])
            rows.append(r)
        out.print(json.dumps({
            "file": str(areas),
            "population_column": frame.attrs.get("population_kind"),
            "settings": {"moe": moe, "confidence": confidence, "p": p, "deff": deff, "allocation": allocation.value,
                         "min_per_area": min_per_area, "total": total, "response_rate": response_rate},
            "areas": rows,
            "totals": totals,
        }, indent=2), markup=False)
        return
    kind = frame.attrs.get("population_kind", "population")
    table = Table(title=f"Sample plan: {allocation.value} allocation, target ±{moe * 100:.1f} points "
                        f"({confidence:.0%}, p={p:g}, deff={deff:g})")
    table.add_column("area")
    table.add_column(kind, justify="right")
    table.add_column("completes", justify="right")
    table.add_column("MOE achieved", justify="right")
    if has_inv:
        table.add_column(f"invitations (at {response_rate:.0%})", justify="right")
    for r in result.itertuples(index=False):
        moe_txt = f"±{r.moe_achieved * 100:.1f}" + ("" if r.meets_target else " [red]*[/red]")
        cells = [str(r.area), f"{r.population:,.0f}", f"{r.completes:,}", moe_txt]
        if has_inv:
            cells.append(f"{int(r.invitations):,}")
        table.add_row(*cells)
    out.print(table)
    line = (f"Total: {totals['completes']:,} completes"
            + (f", {totals['invitations']:,} invitations" if has_inv else "")
            + f" across {totals['areas']} areas; citywide MOE ±{city * 100:.2f} points "
            f"(stratified by area, population weights, deff {deff:g}, FPC); "
            f"{totals['areas_meeting_target']} of {totals['areas']} areas meet ±{moe * 100:.1f}"
            + (" (* above target)." if totals["areas_meeting_target"] < totals["areas"] else "."))
    out.print(line, markup=False)
    for r in over.itertuples(index=False):
        err.print(f"warning: area {r.area!s}: {int(r.invitations):,} invitations exceed its {kind} "
                  f"({r.population:,.0f}); {int(r.completes):,} completes cannot be reached at this response rate.", markup=False)

"""Load the fixture city's generic exports (canonical codes) as the wide clean frame, no store."""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd

from survey_pipeline.analysis.prepare import derive_groups, wide_from_codes
from survey_pipeline.instrument import load_instrument

REPO = Path(__file__).resolve().parents[3]
COMMITTED = REPO / "data" / "fixtures" / "riverton"


@lru_cache(maxsize=1)
def city_dir() -> Path:
    """The committed fixture city, or one generated once into a temporary folder."""
    if (COMMITTED / "ground_truth.json").exists():
        return COMMITTED
    import tempfile

    out = Path(tempfile.gettempdir()) / "survey_pipeline_riverton_fixture"
    if not (out / "ground_truth.json").exists():
        sys.path.insert(0, str(REPO / "data" / "fixtures"))
        from generate import generate_city  # type: ignore[import-not-found]

        generate_city(out, compress=False)
    return out


@lru_cache(maxsize=1)
def city_instrument():
    from survey_pipeline.instrument.model import Area, Areas

    inst = load_instrument("resident")
    areas = pd.read_csv(city_dir() / "areas.csv", dtype=str, keep_default_na=False)
    items = [Area(code=int(r.code), name=r.slug, label={"en": r.name, "es": r.name}, district=r.district,
                  beats=r.beats.split(";"), zips=r.zips.split(";")) for r in areas.itertuples()]
    return inst.model_copy(update={"areas": Areas(levels=["district", "neighborhood", "beat"], items=items)})


@lru_cache(maxsize=1)
def city_frame() -> pd.DataFrame:
    """All waves, clean rows only (the generator's dirt removed), with groups and area columns."""
    d = city_dir()
    gt = json.loads((d / "ground_truth.json").read_text())
    truth = pd.read_csv(d / "ground_truth_responses.csv.gz", dtype=str, keep_default_na=False)
    clean_ids = set(truth.loc[truth["dirt"] == "", "response_id"])
    areas = pd.read_csv(d / "areas.csv", dtype=str, keep_default_na=False)
    parts = []
    for wv in gt["waves"]:
        f = d / wv["generic"]
        if not f.exists():
            f = f.with_suffix(".gz") if f.suffix == ".csv" else Path(str(f).replace(".csv.gz", ".csv"))
        raw = pd.read_csv(f, dtype=str, keep_default_na=False)
        raw = raw[raw["response_id"].isin(clean_ids) & (raw["finished"] == "1")]
        parts.append(raw)
    raw = pd.concat(parts, ignore_index=True)
    inst = city_instrument()
    wide = wide_from_codes(raw, inst)
    wide["neighborhood"] = raw["neighborhood"].replace("", None)
    wide["district"] = wide["neighborhood"].map(dict(zip(areas["code"], areas["district"], strict=True)))
    wide["beat"] = raw["beat"].replace("", None)
    return derive_groups(wide, inst)


@lru_cache(maxsize=1)
def ground_truth() -> dict:
    return json.loads((city_dir() / "ground_truth.json").read_text())


def invitations() -> dict[tuple[str, str], float]:
    inv = pd.read_csv(city_dir() / "invitations.csv", dtype=str)
    return {(r.wave, r.neighborhood): float(r.invited) - float(r.undeliverable) for r in inv.itertuples()}


@lru_cache(maxsize=1)
def truth_cells() -> pd.DataFrame:
    """The generator's truth of every simulated item by wave and area (``ground_truth_cells.csv.gz``):
    ``wave, level, area, variable, share_positive, mean, planted`` (the planted logit shift)."""
    return pd.read_csv(city_dir() / "ground_truth_cells.csv.gz", dtype={"area": str})


@lru_cache(maxsize=1)
def neighborhood_population() -> dict[tuple[str, str], float]:
    """Adults per (wave, neighborhood code), from the census targets the generator wrote."""
    tg = pd.read_csv(city_dir() / "census_targets.csv", dtype={"area": str, "category": str})
    nb = tg[(tg["area"] == "city") & (tg["variable"] == "neighborhood")]
    return {(r.wave, r.category): float(r.population) for r in nb.itertuples()}

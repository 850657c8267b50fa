"""Load the fixture city's generic exports (canonical codes) as the wide clean frame, no store."""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
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


# A true change is at least 1 point: composition alone (the city ages, owners creep up) moves no
# simulated cell by more than 0.5 point between waves (tests/unit/fixtures/test_generate.py).
REAL_CHANGE = 0.01


class GeneratorTruth:
    """The generator's true value of a comparison row (all respondents), from its truth cells.

    Simulated items and priorities (``ground_truth_cells.csv.gz``): exact, population-weighted
    over the neighborhoods of each side. Other indicators (emphasis, indexes): a wave change is 0
    (composition only) where no planted shift changes in the area between the two waves and
    unknown otherwise; their area differences and DiDs are unknown. Beats: unknown.
    """

    def __init__(self):
        cells = truth_cells()
        nb = cells[cells["level"] == "neighborhood"]
        self.share = nb.set_index(["wave", "area", "variable"])["share_positive"]
        self.items = set(cells["variable"])
        shift = nb.pivot_table(index=["area", "variable"], columns="wave", values="planted")
        self.shift = shift
        self.pop = neighborhood_population()
        areas = pd.read_csv(city_dir() / "areas.csv", dtype=str)
        self.codes = list(areas["code"])
        self.district = dict(zip(areas["code"], areas["district"], strict=True))
        self.waves = [w["wave"] for w in ground_truth()["waves"]]

    def inside(self, level: str, area: str) -> list[str]:
        if level == "city":
            return self.codes
        if level == "district":
            return [c for c in self.codes if self.district[c] == area]
        return str(area).split(";")

    def pooled(self, waves: list[str], codes: list[str], variable: str) -> float:
        w = np.array([self.pop[(wv, c)] for wv in waves for c in codes])
        s = np.array([self.share[(wv, c, variable)] for wv in waves for c in codes])
        return float(np.average(s, weights=w))

    def planted_moves(self, codes: list[str], wave: str, wave_ref: str) -> bool:
        s = self.shift[self.shift.index.get_level_values("area").isin(codes)]
        return bool((s[wave] != s[wave_ref]).any())

    def difference(self, r) -> float | None:
        if r["area_level"] == "beat":
            return None
        inside = self.inside(r["area_level"], r["area"])
        rest = [c for c in self.codes if c not in inside]
        simulated = r["indicator"] in self.items and r["statistic"] == "share"
        if r["kind"] == "wave_change":
            if simulated:
                return (self.pooled([r["wave"]], inside, r["indicator"])
                        - self.pooled([r["wave_ref"]], inside, r["indicator"]))
            return None if self.planted_moves(inside, r["wave"], r["wave_ref"]) else 0.0
        if not simulated:
            return None
        if r["kind"] == "area_vs_rest":
            return self.pooled([r["wave"]], inside, r["indicator"]) - self.pooled([r["wave"]], rest, r["indicator"])
        if r["kind"] == "did":    # pre waves pooled: every wave up to the reference wave
            pre = self.waves[: self.waves.index(r["wave_ref"]) + 1]
            return ((self.pooled([r["wave"]], inside, r["indicator"]) - self.pooled(pre, inside, r["indicator"]))
                    - (self.pooled([r["wave"]], rest, r["indicator"]) - self.pooled(pre, rest, r["indicator"])))
        return None


def judge_findings(named: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``(true, known, real)`` of named comparison rows (neighborhoods by code): the generator's
    true difference of each (NaN when it has none), whether it has one, and whether it is a real
    change (at least :data:`REAL_CHANGE`)."""
    truth = GeneratorTruth()
    true = pd.Series([truth.difference(r) for _, r in named.iterrows()], index=named.index, dtype=float)
    known = true.notna()
    return true, known, known & (true.abs() >= REAL_CHANGE)


SAE_FAMILIES = {"share": "item share", "mean": "item mean"}


def beat_truth_cells() -> pd.DataFrame:
    """The generator's truth per beat (``generate.true_beat_cells``: a beat's truth is its
    neighborhood's, since the generator draws beats independently of opinions)."""
    sys.path.insert(0, str(REPO / "data" / "fixtures"))
    from generate import true_beat_cells  # type: ignore[import-not-found]

    areas = pd.read_csv(city_dir() / "areas.csv", dtype=str, keep_default_na=False)
    return true_beat_cells(areas, truth_cells())


def sae_measurements(est: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """How the modeled (Fay–Herriot) rows of neighborhoods and beats do against the generator's truth.

    Every simulated item (share and mean) and priority (share) of ``ground_truth_cells`` with
    its truth per neighborhood and beat. Returns ``coverage`` (level x family: share of modeled
    95% intervals holding the truth, and cells), ``mse`` (level x family, cells whose direct
    estimate is suppressed: mean squared error against the truth of the modeled and of the
    direct estimate) and ``shown`` (level: share of all-respondent cells with a number shown,
    ``ok`` or ``flag``, before (direct only) and after (direct, else modeled)).
    """
    cells = pd.concat([truth_cells()[lambda f: f["level"] == "neighborhood"], beat_truth_cells()],
                      ignore_index=True).rename(columns={"level": "area_level", "variable": "indicator"})
    t = cells.melt(id_vars=["wave", "area_level", "area", "indicator"], value_vars=["share_positive", "mean"],
                   var_name="statistic", value_name="truth").dropna(subset=["truth"])
    t["statistic"] = t["statistic"].map({"share_positive": "share", "mean": "mean"})
    t["area"] = t["area"].astype(str)
    key = ["wave", "area_level", "area", "indicator", "statistic"]
    a = est[(est["group_dim"] == "all") & est["area_level"].isin(["neighborhood", "beat"])]
    modeled = a["method"].str.startswith("modeled")
    m = a[modeled].merge(t, on=key)
    m["family"] = np.where(m["indicator"].str.startswith("priority"), "priority", m["statistic"].map(SAE_FAMILIES))
    m["cover"] = (m["ci_low"] <= m["truth"]) & (m["truth"] <= m["ci_high"])
    coverage = m.groupby(["area_level", "family"])["cover"].agg(coverage="mean", cells="size")
    d = a[~modeled][[*key, "estimate", "reliability"]].rename(columns={"estimate": "direct",
                                                                      "reliability": "direct_reliability"})
    j = m.merge(d, on=key)
    sup = j[j["direct_reliability"] == "suppress"]
    mse = sup.assign(mse_modeled=(sup["estimate"] - sup["truth"]) ** 2, mse_direct=(sup["direct"] - sup["truth"]) ** 2
                     ).groupby(["area_level", "family"])[["mse_modeled", "mse_direct"]].mean()
    mse["cells"] = sup.groupby(["area_level", "family"]).size()
    dd = a[~modeled].set_index(key)["reliability"].rename("direct")
    mm = a[modeled].set_index(key)["reliability"].rename("modeled")
    u = pd.concat([dd, mm], axis=1)
    u["before"] = u["direct"].isin(["ok", "flag"])
    u["after"] = u["before"] | u["modeled"].isin(["ok", "flag"])
    shown = u.groupby(level="area_level")[["before", "after"]].mean()
    shown["cells"] = u.groupby(level="area_level").size()
    return {"coverage": coverage, "mse": mse, "shown": shown}

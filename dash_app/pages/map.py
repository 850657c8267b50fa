"""Map: an indicator by neighborhood or district for a wave, offline (white background, the
project's own area shapes); suppressed areas grey with the reason on hover."""

from __future__ import annotations

import pandas as pd

from dash_app.data import Results
from dash_app.figures import map_figure
from dash_app.figures.charts import map_view, prepare_geojson
from dash_app.i18n import t
from dash_app.pages._common import (
    dropdown,
    estimates_view,
    graph,
    indicator_options,
    level_options,
    pick,
    radios,
    table_view,
    wave_options,
)

PAGE = "map"
PATH = "/map"
FILTERS = ["wave", "indicator", "level"]


def _levels(data: Results) -> list[str]:
    return [lv for lv in data.levels() if lv in ("neighborhood", "district")]


def state(data: Results, q: dict) -> dict:
    waves, inds, levels = data.waves, data.indicators["indicator"].tolist(), _levels(data)
    return {"wave": pick(q.get("wave"), waves, waves[-1]), "indicator": pick(q.get("indicator"), inds, inds[0]),
            "level": pick(q.get("level"), levels, levels[-1] if "neighborhood" not in levels else "neighborhood")}


def _rows(data: Results, st: dict) -> pd.DataFrame:
    e = data.part("estimates", ("wave", "indicator"), (st["wave"], st["indicator"]))
    d = e[(e["area_level"] == st["level"]) & (e["group_dim"] == "all")].copy()
    d["name"] = [data.area_name(st["level"], a) for a in d["area"]]
    return d.sort_values("name")


def _stat(data: Results, indicator: str) -> str:
    r = data.indicator_row(indicator)
    return "share" if r is None else str(r["statistic"])


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d = _rows(data, st)
    out = estimates_view(d, _stat(data, st["indicator"]), lang, "name", t("area", lang))
    out.insert(0, t("indicator", lang), data.indicator_label(st["indicator"], lang))
    out.insert(0, t("wave", lang), st["wave"])
    return out


def content(data: Results, st: dict, lang: str) -> list:
    d = _rows(data, st)
    label = data.indicator_label(st["indicator"], lang)
    # the shapes, prepared and fitted once per snapshot; maps reference them by URL when served
    prepared = data.memo("geojson", lambda: prepare_geojson(data.geojson)) if data.geojson else None
    view = data.memo("map_view", lambda: map_view(prepared[0])) if prepared else None
    fig = map_figure(d, data.geojson, level=st["level"], statistic=_stat(data, st["indicator"]), label=label,
                     area_names=dict(zip(d["area"], d["name"], strict=True)),
                     title=f"{label} — {t(st['level'], lang)}, {st['wave']}",
                     suppressed_text=t("suppressed", lang), no_data_text=t("no_estimate", lang),
                     no_map_text=t("no_map", lang),
                     prepared=prepared, geojson_url=data.geojson_url, view=view)
    return [graph(PAGE, fig, t("map_intro", lang)), table_view(view_data(data, st, lang), lang, PAGE)]


def controls(data: Results, st: dict, lang: str) -> list:
    return [
        radios(PAGE, "wave", t("wave", lang), wave_options(data), st["wave"]),
        dropdown(PAGE, "indicator", t("indicator", lang), indicator_options(data, lang), st["indicator"]),
        radios(PAGE, "level", t("level", lang), level_options(_levels(data), lang), st["level"]),
    ]

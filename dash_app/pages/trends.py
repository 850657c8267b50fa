"""Trends: an indicator over waves for chosen areas with 95% bands; the city as a bold line."""

from __future__ import annotations

import pandas as pd

from dash_app.data import Results
from dash_app.figures import trends_figure
from dash_app.i18n import t
from dash_app.pages._common import (
    area_key,
    area_options,
    dropdown,
    estimates_view,
    graph,
    indicator_options,
    pick,
    split_area,
    table_view,
)

PAGE = "trends"
PATH = "/trends"
FILTERS = ["indicator", "areas"]


def state(data: Results, q: dict) -> dict:
    inds = data.indicators["indicator"].tolist()
    allowed = data.memo("trend_areas", lambda: [o["value"] for o in area_options(
        data, "estimates", "en", levels=("district", "neighborhood", "beat"))])
    allowed_set = data.memo("trend_areas_set", lambda: set(allowed))
    asked = [a for a in str(q.get("areas") or "").split(",") if a in allowed_set]
    if not asked and "areas" not in q:
        asked = [area_key("district", c) for c in data.areas("district")][:4] or allowed[:3]
    return {"indicator": pick(q.get("indicator"), inds, inds[0]), "areas": asked}


def _rows(data: Results, st: dict) -> pd.DataFrame:
    e = data.part("estimates", ("indicator", "group_dim"), (st["indicator"], "all"))
    keys = {split_area(a) for a in st["areas"]} | {("city", "city")}
    mask = [(lv, a) in keys for lv, a in zip(e["area_level"], e["area"], strict=True)]
    d = e[mask].copy()
    d["key"] = [area_key(lv, a) for lv, a in zip(d["area_level"], d["area"], strict=True)]
    return d


def _stat(data: Results, indicator: str) -> str:
    r = data.indicator_row(indicator)
    return "share" if r is None else str(r["statistic"])


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d = _rows(data, st).sort_values(["key", "wave"])
    d["name"] = [t("city", lang) if lv == "city" else data.area_name(lv, a)
                 for lv, a in zip(d["area_level"], d["area"], strict=True)]
    out = estimates_view(d, _stat(data, st["indicator"]), lang, "name", t("area", lang))
    out.insert(1, t("wave", lang), d["wave"].to_list())
    out.insert(0, t("indicator", lang), data.indicator_label(st["indicator"], lang))
    return out


def content(data: Results, st: dict, lang: str) -> list:
    d = _rows(data, st)
    label = data.indicator_label(st["indicator"], lang)
    # one series per chosen area; keys keep district and neighborhood codes apart
    d = d.assign(area=d["key"])
    names = {a: data.area_name(*split_area(a)) for a in st["areas"]}
    fig = trends_figure(d, areas=st["areas"], area_names=names, statistic=_stat(data, st["indicator"]), label=label,
                        waves=data.waves, title=label, city_label=t("city", lang), no_data=t("no_data", lang))
    return [graph(PAGE, fig, t("trends_intro", lang)), table_view(view_data(data, st, lang), lang, PAGE)]


def controls(data: Results, st: dict, lang: str) -> list:
    opts = area_options(data, "estimates", lang, levels=("district", "neighborhood", "beat"))
    return [
        dropdown(PAGE, "indicator", t("indicator", lang), indicator_options(data, lang), st["indicator"]),
        dropdown(PAGE, "areas", t("areas", lang), opts, st["areas"], multi=True),
    ]

"""Map: an indicator by neighborhood or district for a wave, offline (white background, the
project's own area shapes); suppressed areas grey with the reason on hover."""

from __future__ import annotations

import pandas as pd

from dash_app.data import Results
from dash_app.figures import equity_figure, map_figure
from dash_app.figures.charts import map_view, prepare_geojson
from dash_app.i18n import LEVELS, t, wave_label
from dash_app.pages._common import (
    estimates_for,
    estimates_view,
    graph,
    headline_statistic,
    indicator_control,
    indicator_state,
    indicator_title,
    level_control,
    pick,
    plain_reasons,
    shown_for,
    table_view,
    wave_control,
    wave_state,
)

PAGE = "map"
PATH = "/map"
FILTERS = ["wave", "indicator", "level"]


def _levels(data: Results) -> list[str]:
    return [lv for lv in data.levels() if lv in ("neighborhood", "district")]


def state(data: Results, q: dict) -> dict:
    levels = _levels(data)
    return {"wave": wave_state(data, q), "indicator": indicator_state(data, q),
            "level": pick(q.get("level"), levels, levels[-1] if "neighborhood" not in levels else "neighborhood")}


def _rows(data: Results, st: dict, lang: str = "en") -> pd.DataFrame:
    """The areas' shown rows: direct where reliable, else modeled (column ``modeled``)."""
    e = shown_for(data, st["wave"], st["indicator"], headline_statistic(data, st["indicator"]))
    d = e[(e["area_level"] == st["level"]) & (e["group_dim"] == "all")].copy()
    d["name"] = [data.area_name(st["level"], a, lang) for a in d["area"]]
    return d.sort_values("name")


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d = _rows(data, st, lang)
    out = estimates_view(d, headline_statistic(data, st["indicator"]), lang, "name", t("Area", lang))
    out.insert(0, t("Indicator", lang), data.indicator_label(st["indicator"], lang))
    out.insert(0, t("Wave", lang), st["wave"])
    return out


def content(data: Results, st: dict, lang: str) -> list:
    d = plain_reasons(_rows(data, st, lang), lang)
    label = indicator_title(data, st["indicator"], lang)
    # the shapes, prepared and fitted once per snapshot; maps reference them by URL when served
    prepared = data.memo("geojson", lambda: prepare_geojson(data.geojson)) if data.geojson else None
    view = data.memo("map_view", lambda: map_view(prepared[0])) if prepared else None
    fig = map_figure(d, data.geojson, level=st["level"], statistic=headline_statistic(data, st["indicator"]),
                     label=label, area_names=dict(zip(d["area"], d["name"], strict=True)),
                     title=f"{label} — {t(LEVELS[st['level']], lang)}, {wave_label(st['wave'], lang)}",
                     suppressed_text=t("suppressed", lang), no_data_text=t("no estimate", lang),
                     no_map_text=t("No area shapes (areas.geojson) in this project.", lang),
                     prepared=prepared, geojson_url=data.geojson_url, view=view,
                     modeled_text=t("◇ Modeled (small-area estimate)", lang), modeled_hover=t("modeled (small-area estimate)", lang))
    intro = t("Grey areas have no reliable estimate (suppressed for too few answers, or not surveyed); hover for the reason. The colour range of a share spans at least 20 percentage points, so small differences do not look large.", lang) + (" " + t("◇ marks a modeled number (small-area estimate): where an area has too few answers for a reliable number of its own, a model combines its answers with its district, its previous wave and its population. It is shown with its 95% interval and is never tested for significant differences.", lang)
                                     if (d["modeled"] & d["reliability"].ne("suppress")).any() else "")
    parts = [graph(PAGE, fig, intro, lang)]
    if 1 < len(d) <= MAX_RANKED:
        parts.append(graph(f"{PAGE}-ranking", _ranking(data, d, st, lang), t("The same values as the map, with 95% intervals; the dashed line is the city. Areas whose intervals overlap may not really differ; a diamond marks an estimate to use with caution.", lang), lang))
    return [*parts, table_view(view_data(data, st, lang), lang, PAGE)]


MAX_RANKED = 80  # more areas than this are listed in the table only


def _ranking(data: Results, d: pd.DataFrame, st: dict, lang: str):
    """The areas ranked, highest first, each with its 95% interval and the city as the reference
    line: the map's values readable without hovering (suppressed areas last, named with why)."""
    stat = headline_statistic(data, st["indicator"])
    e = estimates_for(data, st["wave"], st["indicator"], stat)
    city = e[(e["area_level"] == "city") & (e["group_dim"] == "all")]
    ok = d["reliability"] != "suppress"
    order = (d[ok].sort_values("estimate", ascending=False)["area"].tolist()
             + d[~ok].sort_values("name")["area"].tolist())
    return equity_figure(d.assign(group=d["area"]), groups=order, statistic=stat,
                         label=indicator_title(data, st["indicator"], lang),
                         reference=city.iloc[0] if not city.empty else None,
                         title=t("Each {level}, highest first", lang, level=t(LEVELS[st["level"]], lang).lower()),
                         reference_label=t("City", lang), suppressed_text=t("suppressed", lang),
                         group_labels=dict(zip(d["area"], d["name"], strict=True)), no_data=t("No results for this selection.", lang),
                         modeled_text=t("◇ Modeled (small-area estimate)", lang), modeled_hover=t("modeled (small-area estimate)", lang))


def controls(data: Results, st: dict, lang: str) -> list:
    return [
        wave_control(PAGE, data, st, lang),
        indicator_control(PAGE, data, st, lang),
        level_control(PAGE, _levels(data), st, lang),
    ]

"""Trends: an indicator over waves for chosen areas with 95% bands; the city as a bold line. The
statistic is chosen here (the share, or the average answer on the item's scale)."""

from __future__ import annotations

import pandas as pd
from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from dash_app import ids
from dash_app.data import Results
from dash_app.figures import trends_figure
from dash_app.i18n import STATS, t, wave_label
from dash_app.pages._common import (
    area_key,
    area_options,
    dropdown,
    estimates_view,
    graph,
    indicator_control,
    indicator_definition,
    indicator_state,
    indicator_title,
    only_statistic,
    pick,
    plain_reasons,
    radios,
    scale_range,
    shown_rows,
    split_area,
    statistics,
    table_view,
)

PAGE = "trends"
PATH = "/trends"
FILTERS = ["indicator", "stat", "areas"]


def state(data: Results, q: dict) -> dict:
    indicator = indicator_state(data, q)
    stats = statistics(data, indicator)
    allowed = data.memo("trend_areas", lambda: [o["value"] for o in area_options(
        data, "estimates", "en", levels=("district", "neighborhood", "beat"))])
    allowed_set = data.memo("trend_areas_set", lambda: set(allowed))
    asked = [a for a in str(q.get("areas") or "").split(",") if a in allowed_set]
    if not asked and "areas" not in q:
        asked = [area_key("district", c) for c in data.areas("district")][:4] or allowed[:3]
    return {"indicator": indicator, "stat": pick(q.get("stat"), stats, stats[0]), "areas": asked}


def _rows(data: Results, st: dict) -> pd.DataFrame:
    e = only_statistic(data.part("estimates", ("indicator", "group_dim"), (st["indicator"], "all")), st["stat"])
    # direct where reliable, else modeled (column ``modeled``)
    e = shown_rows(data, e, ("indicator", "group_dim"), (st["indicator"], "all"), st["stat"])
    keys = {split_area(a) for a in st["areas"]} | {("city", "city")}
    mask = [(lv, a) in keys for lv, a in zip(e["area_level"], e["area"], strict=True)]
    d = e[mask].copy()
    d["key"] = [area_key(lv, a) for lv, a in zip(d["area_level"], d["area"], strict=True)]
    return d


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d = _rows(data, st).sort_values(["key", "wave"])
    d["name"] = [t("City", lang) if lv == "city" else data.area_name(lv, a, lang)
                 for lv, a in zip(d["area_level"], d["area"], strict=True)]
    out = estimates_view(d, st["stat"], lang, "name", t("Area", lang))
    out.insert(1, t("Wave", lang), d["wave"].to_list())
    out.insert(0, t("Show as", lang), t(STATS[st['stat']], lang))
    out.insert(0, t("Indicator", lang), data.indicator_label(st["indicator"], lang))
    return out


def axis_label(data: Results, indicator: str, statistic: str, lang: str) -> str:
    """What the y axis measures: '%' for shares, 'Average answer (1–4 scale)' for means."""
    if statistic == "share":
        return t("Share of residents", lang)
    lo_hi = scale_range(indicator_definition(data, indicator, statistic))
    name = t(STATS[statistic], lang)
    return f"{name} ({t('on a {lo}–{hi} scale', lang, lo=lo_hi[0], hi=lo_hi[1])})" if lo_hi else name


def content(data: Results, st: dict, lang: str) -> list:
    d = plain_reasons(_rows(data, st), lang)
    # one series per chosen area; keys keep district and neighborhood codes apart
    d = d.assign(area=d["key"], wave=[wave_label(w, lang) for w in d["wave"]])
    names = {a: data.area_name(*split_area(a), lang) for a in st["areas"]}
    fig = trends_figure(d, areas=st["areas"], area_names=names, statistic=st["stat"],
                        label=axis_label(data, st["indicator"], st["stat"], lang),
                        waves=[wave_label(w, lang) for w in data.waves], title=indicator_title(data, st["indicator"], lang),
                        city_label=t("City", lang), no_data=t("No results for this selection.", lang),
                        suppressed_text=t("suppressed", lang), no_estimate_text=t("no estimate", lang),
                        modeled_text=t("◇ Modeled (small-area estimate)", lang), modeled_hover=t("modeled (small-area estimate)", lang))
    shown = d["reliability"].ne("suppress") & d["modeled"].astype(bool) if "modeled" in d.columns else d["area"].isna()
    intro = t("The city is the bold black line with its 95% confidence band in grey; each area's vertical bar is its 95% interval (areas are set slightly apart so the bars stay readable). Suppressed points are left out.", lang) + (" " + t("◇ marks a modeled number (small-area estimate): where an area has too few answers for a reliable number of its own, a model combines its answers with its district, its previous wave and its population. It is shown with its 95% interval and is never tested for significant differences.", lang) if shown.any() else "")
    return [graph(PAGE, fig, intro, lang), table_view(view_data(data, st, lang), lang, PAGE)]


def _stat_options(stats: list[str], lang: str) -> list[dict]:
    return [{"label": t(STATS[s], lang), "value": s} for s in stats]


def controls(data: Results, st: dict, lang: str) -> list:
    opts = area_options(data, "estimates", lang, levels=("district", "neighborhood", "beat"))
    return [
        indicator_control(PAGE, data, st, lang),
        radios(PAGE, "stat", t("Show as", lang), _stat_options(statistics(data, st["indicator"]), lang), st["stat"]),
        dropdown(PAGE, "areas", t("Areas", lang), opts, st["areas"], multi=True),
    ]


def register_callbacks(app, source) -> None:
    """A new indicator offers its own statistics (an index has a score, an item a share and a mean)."""

    @app.callback(
        Output(ids.filter_id(PAGE, "stat"), "options"), Output(ids.filter_id(PAGE, "stat"), "value"),
        Input(ids.filter_id(PAGE, "indicator"), "value"),
        State(ids.filter_id(PAGE, "stat"), "value"), State(ids.filter_id("shell", "lang"), "value"),
        prevent_initial_call=True,
    )
    def _statistics(indicator, current, lang):
        data = source.get()
        if indicator is None:
            raise PreventUpdate
        stats = statistics(data, indicator)
        return _stat_options(stats, lang or "en"), pick(current, stats, stats[0])

"""Compare: each area against the rest of the city for one indicator and wave, with the
multiple-comparison-adjusted significance; a sortable dash-ag-grid table with CSV export."""

from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd
from dash import html

from dash_app import ids
from dash_app.data import Results
from dash_app.i18n import t
from dash_app.pages._common import (
    dropdown,
    fmt_change,
    fmt_row,
    indicator_options,
    level_options,
    pick,
    radios,
    wave_options,
)

PAGE = "compare"
PATH = "/compare"
FILTERS = ["wave", "indicator", "level"]


def _levels(data: Results) -> list[str]:
    return [lv for lv in data.levels() if lv != "city"]


def state(data: Results, q: dict) -> dict:
    waves, inds, levels = data.waves, data.indicators["indicator"].tolist(), _levels(data)
    return {"wave": pick(q.get("wave"), waves, waves[-1]), "indicator": pick(q.get("indicator"), inds, inds[0]),
            "level": pick(q.get("level"), levels, "neighborhood" if "neighborhood" in levels else levels[0])}


def _stat(data: Results, indicator: str) -> str:
    r = data.indicator_row(indicator)
    return "share" if r is None else str(r["statistic"])


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    stat = _stat(data, st["indicator"])
    e = data.part("estimates", ("wave", "indicator"), (st["wave"], st["indicator"]))
    e = e[e["group_dim"] == "all"]
    areas = e[e["area_level"] == st["level"]]
    city = e[e["area_level"] == "city"]
    c = data.part("comparisons", ("kind", "wave", "indicator"), ("area_vs_rest", st["wave"], st["indicator"]))
    city_txt = fmt_row(city.iloc[0], stat, lang) if not city.empty else "–"
    cmp_ = c[(c["area_level"] == st["level"]) & (c["group_dim"] == "all")] if not c.empty else c
    by_area = {d["area"]: d for d in cmp_.to_dict("records")} if not cmp_.empty else {}
    rows = []
    for r in areas.to_dict("records"):
        sup = r["reliability"] == "suppress"
        d = by_area.get(r["area"])
        if sup or d is None:
            mark, diff, padj, diff_val = "–", "–", None, None
        else:
            diff, padj, diff_val = fmt_change(d, stat), float(d["p_adj"]), float(d["estimate"])
            mark = (t("higher", lang) if d["estimate"] > 0 else t("lower", lang)) if bool(d["significant"]) else t("same", lang)
        rows.append({
            "area": data.area_name(st["level"], r["area"]), "code": r["area"],
            "estimate_value": None if sup else float(r["estimate"]),
            "ci_low": None if sup else float(r["ci_low"]), "ci_high": None if sup else float(r["ci_high"]),
            "estimate_text": fmt_row(r, stat, lang), "city": city_txt, "difference": diff_val,
            "difference_text": diff, "p_adj": padj, "significance": mark, "n": int(r["n"]),
            "reliability": r["reliability"], "reason": r["reliability_reason"],
            "adjust": None if d is None else d.get("adjust"),
        })
    return pd.DataFrame(rows)


def _columns(lang: str) -> list[dict]:
    return [
        {"field": "area", "headerName": t("area", lang), "pinned": "left", "minWidth": 140},
        {"field": "estimate_text", "headerName": t("estimate", lang) + " (95% CI)", "minWidth": 170},
        {"field": "estimate_value", "headerName": t("estimate", lang), "hide": True},
        {"field": "city", "headerName": t("city_value", lang) + " (95% CI)", "minWidth": 150},
        {"field": "difference_text", "headerName": t("difference", lang), "minWidth": 190,
         "comparator": {"function": "(a, b, na, nb) => (na.data.difference ?? -1e9) - (nb.data.difference ?? -1e9)"}},
        {"field": "p_adj", "headerName": t("p_adj", lang), "minWidth": 110, "valueFormatter": {"function": "params.value == null ? '–' : params.value.toFixed(3)"}},
        {"field": "significance", "headerName": t("sig_mark", lang), "minWidth": 190},
        {"field": "n", "headerName": t("n", lang), "type": "numericColumn", "minWidth": 130},
        {"field": "reliability", "headerName": t("reliability", lang), "minWidth": 120},
        {"field": "reason", "headerName": t("reason", lang), "minWidth": 320, "tooltipField": "reason", "wrapText": True,
         "autoHeight": True},
    ]


def content(data: Results, st: dict, lang: str) -> list:
    df = view_data(data, st, lang)
    label = data.indicator_label(st["indicator"], lang)
    grid = dag.AgGrid(
        id=ids.grid_id(PAGE), rowData=df.to_dict("records"), columnDefs=_columns(lang),
        defaultColDef={"sortable": True, "resizable": True, "filter": True},
        dashGridOptions={"domLayout": "autoHeight", "ensureDomOrder": True, "enableCellTextSelection": True,
                         "rowClassRules": {"row-suppressed": "params.data.reliability == 'suppress'"}},
        csvExportParams={"fileName": f"compare_{st['wave']}_{st['indicator']}.csv"},
        className="ag-theme-quartz compare-grid",
    )
    return [html.H2(f"{label} — {t(st['level'], lang)}, {st['wave']}"),
            html.P(t("compare_intro", lang), className="intro"), grid]


def controls(data: Results, st: dict, lang: str) -> list:
    return [
        radios(PAGE, "wave", t("wave", lang), wave_options(data), st["wave"]),
        dropdown(PAGE, "indicator", t("indicator", lang), indicator_options(data, lang), st["indicator"]),
        radios(PAGE, "level", t("level", lang), level_options(_levels(data), lang), st["level"]),
    ]

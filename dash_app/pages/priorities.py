"""Priorities: problems ranked by the share naming them a top problem, with 95% intervals and rank
ranges, citywide or for an area; optionally grouped by the department that owns them."""

from __future__ import annotations

import pandas as pd

from dash_app.data import Results
from dash_app.figures import priorities_figure
from dash_app.i18n import reason_text, t, wave_label
from dash_app.pages._common import (
    area_control,
    area_label,
    area_state,
    department_name,
    fmt_row,
    graph,
    label_column,
    pick,
    plain_reasons,
    radios,
    split_area,
    table_view,
    wave_control,
    wave_state,
)

PAGE = "priorities"
PATH = "/priorities"
FILTERS = ["wave", "area", "order"]
ORDERS = ["rank", "department"]


def state(data: Results, q: dict) -> dict:
    return {"wave": wave_state(data, q), "area": area_state(data, q, "priorities"),
            "order": pick(q.get("order"), ORDERS, "rank")}


def _rows(data: Results, st: dict) -> pd.DataFrame:
    p = data.priorities
    if p.empty:
        return p
    level, code = split_area(st["area"])
    return data.part("priorities", ("wave", "area_level", "area"), (st["wave"], level, code)).sort_values("rank")


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d = _rows(data, st)
    lab = label_column(d, lang)
    sup = d["reliability"].eq("suppress")
    return pd.DataFrame({
        t("Wave", lang): st["wave"], t("Area", lang): area_label(data, *split_area(st["area"]), lang),
        t("Rank", lang): d["rank"], t("Rank range (95%)", lang): [f"{int(a)}–{int(b)}" for a, b in zip(d["rank_low"], d["rank_high"], strict=True)],
        t("Problem", lang): d[lab], t("Department", lang): [department_name(data, x, lang) for x in d["department"]],
        t("Estimate", lang): d["estimate"].where(~sup), "ci_low": d["ci_low"].where(~sup),
        "ci_high": d["ci_high"].where(~sup),
        t("{label} (95% CI)", lang, label=t("Estimate", lang)): [fmt_row(r, "share", lang) for _, r in d.iterrows()],
        t("n (unweighted)", lang): d["n"], t("Reliability", lang): d["reliability"],
        t("Why", lang): [reason_text(r, lang) for r in d["reliability_reason"]],
    })


def content(data: Results, st: dict, lang: str) -> list:
    d = plain_reasons(_rows(data, st), lang)
    lab = label_column(d, lang)
    depts = {x: department_name(data, x, lang) for x in d["department"].dropna().unique()} if not d.empty else {}
    where = area_label(data, *split_area(st["area"]), lang)
    fig = priorities_figure(d, label_col=lab, by_department=st["order"] == "department", department_labels=depts,
                            title=f"{t('Priorities', lang)} — {where}, {wave_label(st['wave'], lang)}", axis_label=t('Share naming it a top problem', lang),
                            suppressed_text=t("suppressed", lang), no_data=t("No results for this selection.", lang),
                            rank_label=t("Rank range (95%)", lang))
    tv = view_data(data, st, lang).drop(columns=[t("Estimate", lang), "ci_low", "ci_high"])
    return [graph(PAGE, fig, t("What residents want fixed first, with 95% intervals. Problems are owned by the department that can act.", lang), lang), table_view(tv, lang, PAGE)]


def controls(data: Results, st: dict, lang: str) -> list:
    return [
        wave_control(PAGE, data, st, lang),
        area_control(PAGE, data, "priorities", st, lang),
        radios(PAGE, "order", t("Order", lang), [{"label": t("By rank", lang), "value": "rank"},
                                                 {"label": t("By department", lang), "value": "department"}], st["order"]),
    ]

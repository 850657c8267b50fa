"""Equity: an indicator by demographic group for the city or an area, with 95% intervals; thin
groups are suppressed with the reason."""

from __future__ import annotations

import pandas as pd

from dash_app.data import Results
from dash_app.figures import equity_figure
from dash_app.i18n import DIMS, group_label, t, wave_label
from dash_app.pages._common import (
    area_control,
    area_label,
    area_state,
    estimates_for,
    estimates_view,
    graph,
    headline_statistic,
    indicator_control,
    indicator_state,
    indicator_title,
    pick,
    plain_reasons,
    radios,
    split_area,
    table_view,
    wave_control,
    wave_state,
)
from survey_pipeline.settings import DEFAULT_GROUPS

PAGE = "equity"
PATH = "/equity"
FILTERS = ["wave", "indicator", "area", "group"]


_USUAL = DEFAULT_GROUPS  # the analysis' default groups, in its order


def _dims(data: Results) -> list[str]:
    """The demographic groups of the results: the usual ones in their usual order, then others by name
    (not in row order: the results' row order is not a reading order and may change between runs)."""
    def make():
        have = {d for d in data.estimates["group_dim"].dropna().astype(str) if d != "all"}
        return [d for d in _USUAL if d in have] + sorted(have - set(_USUAL))
    return data.memo("group_dims", make)


def state(data: Results, q: dict) -> dict:
    dims = _dims(data)
    return {"wave": wave_state(data, q), "indicator": indicator_state(data, q),
            "area": area_state(data, q, "estimates_grouped"), "group": pick(q.get("group"), dims, dims[0] if dims else None)}


def _rows(data: Results, st: dict) -> tuple[pd.DataFrame, pd.Series | None]:
    level, code = split_area(st["area"])
    e = estimates_for(data, st["wave"], st["indicator"], headline_statistic(data, st["indicator"]))
    base = e[(e["area_level"] == level) & (e["area"] == code)]
    ref = base[base["group_dim"] == "all"]
    return base[base["group_dim"] == st["group"]], (ref.iloc[0] if not ref.empty else None)


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d, ref = _rows(data, st)
    d = d.assign(group=[group_label(g, lang) for g in d["group"]])
    if ref is not None:
        d = pd.concat([d, ref.to_frame().T.assign(group=t("All residents", lang))], ignore_index=True)
    out = estimates_view(d, headline_statistic(data, st["indicator"]), lang, "group", t("Group", lang))
    out.insert(0, t("Demographic group", lang), t(DIMS.get(st["group"], st["group"]), lang) if st["group"] else "")
    out.insert(0, t("Area", lang), area_label(data, *split_area(st["area"]), lang))
    out.insert(0, t("Indicator", lang), data.indicator_label(st["indicator"], lang))
    out.insert(0, t("Wave", lang), st["wave"])
    return out


def content(data: Results, st: dict, lang: str) -> list:
    d, ref = _rows(data, st)
    d = plain_reasons(d, lang)
    label = indicator_title(data, st["indicator"], lang)
    groups = list(dict.fromkeys(d["group"]))
    where = area_label(data, *split_area(st["area"]), lang)
    fig = equity_figure(d, groups=groups, statistic=headline_statistic(data, st["indicator"]), label=label,
                        reference=ref,
                        title=f"{label} — {t(DIMS.get(st['group'], st['group']), lang) if st['group'] else ''}, {where}, "
                              f"{wave_label(st['wave'], lang)}",
                        reference_label=t("All residents", lang), suppressed_text=t("suppressed", lang),
                        group_labels={g: group_label(g, lang) for g in groups}, no_data=t("No results for this selection.", lang))
    return [graph(PAGE, fig, t("The indicator by demographic group, with 95% intervals; the dashed line is all residents. A diamond marks an estimate to use with caution (hover for why).", lang), lang), table_view(view_data(data, st, lang), lang, PAGE)]


def controls(data: Results, st: dict, lang: str) -> list:
    return [
        wave_control(PAGE, data, st, lang),
        indicator_control(PAGE, data, st, lang),
        area_control(PAGE, data, "estimates_grouped", st, lang),
        radios(PAGE, "group", t("Demographic group", lang), [{"label": t(DIMS.get(d, d), lang), "value": d} for d in _dims(data)], st["group"]),
    ]

"""Importance–satisfaction: the quadrant chart of services with the ETC Institute priority bands, and
the key-driver chart (``drivers`` table: importance from the model vs satisfaction)."""

from __future__ import annotations

import pandas as pd

from dash_app.data import Results
from dash_app.figures import drivers_figure, importance_satisfaction_figure
from dash_app.figures.common import fmt_ci, fmt_value
from dash_app.i18n import BANDS, reason_text, t, wave_label
from dash_app.pages._common import (
    area_control,
    area_label,
    area_state,
    department_name,
    estimates_for,
    graph,
    label_column,
    split_area,
    table_view,
    wave_control,
    wave_state,
)

PAGE = "importance"
PATH = "/importance"
FILTERS = ["wave", "area"]


def state(data: Results, q: dict) -> dict:
    return {"wave": wave_state(data, q), "area": area_state(data, q, "importance_satisfaction")}


def _rows(data: Results, st: dict) -> pd.DataFrame:
    d = data.importance_satisfaction
    if d.empty:
        return d
    level, code = split_area(st["area"])
    d = d[(d["wave"] == st["wave"]) & (d["area_level"] == level) & (d["area"] == code)].sort_values(
        "is_score", ascending=False)
    return _with_reliability(data, d, st["wave"], level, code)


_RANK = {"ok": 0, "flag": 1, "suppress": 2}


def _with_reliability(data: Results, d: pd.DataFrame, wave: str, level: str, code: str) -> pd.DataFrame:
    """Each service's reliability: the worse of its importance share (``importance_<service>``) and
    its satisfaction share (the satisfaction indicator ending in ``_<service>``) for this wave and
    area. The I–S table has no reliability of its own, and a thin area must not look reliable."""
    if d.empty:
        return d.assign(reliability=pd.Series(dtype=object), reliability_reason=pd.Series(dtype=object))
    ind = data.indicators.drop_duplicates("indicator")
    sat_ids = ind.loc[ind["topic"] == "satisfaction", "indicator"].tolist()
    rel, why = [], []
    for svc in d["service"]:
        names = [f"importance_{svc}", *[i for i in sat_ids if i.endswith(f"_{svc}")][:1]]
        worst, reasons = "ok", []
        for name in names:
            e = estimates_for(data, wave, name, "share")
            e = e[(e["area_level"] == level) & (e["area"] == code) & (e["group_dim"] == "all")]
            if e.empty:
                continue
            r = e.iloc[0]
            if _RANK.get(r["reliability"], 0) > _RANK[worst]:
                worst = r["reliability"]
            if r["reliability"] != "ok" and isinstance(r["reliability_reason"], str):
                reasons.append(r["reliability_reason"])
        rel.append(worst)
        why.append("; ".join(dict.fromkeys(reasons)) or None)
    return d.assign(reliability=rel, reliability_reason=why)


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d = _rows(data, st)
    lab = label_column(d, lang)
    return pd.DataFrame({
        t("Wave", lang): st["wave"], t("Area", lang): area_label(data, *split_area(st["area"]), lang),
        t("Service", lang): d[lab], t("Department", lang): [department_name(data, x, lang) for x in d["department"]],
        t("Importance", lang): d["importance"],
        t("{label} (95% CI)", lang, label=t("Importance", lang)): [f"{fmt_value(i, 'share', lang)} ({fmt_ci(i - 1.96 * s, i + 1.96 * s, 'share', lang=lang)})"
                                                 for i, s in zip(d["importance"], d["importance_se"], strict=True)],
        t("Satisfaction", lang): d["satisfaction"],
        t("{label} (95% CI)", lang, label=t("Satisfaction", lang)): [f"{fmt_value(i, 'share', lang)} ({fmt_ci(i - 1.96 * s, i + 1.96 * s, 'share', lang=lang)})"
                                                   for i, s in zip(d["satisfaction"], d["satisfaction_se"], strict=True)],
        t("I–S score", lang): d["is_score"].round(3), t("Priority band", lang): [t(BANDS[b], lang) if b in BANDS else b for b in d["band"]],
        t("Reliability", lang): d["reliability"], t("Why", lang): [reason_text(r, lang) for r in d["reliability_reason"]],
    })


def content(data: Results, st: dict, lang: str) -> list:
    d = _rows(data, st)
    lab = label_column(d, lang)
    where = area_label(data, *split_area(st["area"]), lang)
    fig = importance_satisfaction_figure(
        d, label_col=lab, title=f"{t('Importance–satisfaction', lang)} — {where}, {wave_label(st['wave'], lang)}",
        band_labels={b: t(word, lang) for b, word in BANDS.items()},
        x_title=t("Satisfied with the service (%)", lang), y_title=t("Name it among the most important (%)", lang),
        no_data=t("No results for this selection.", lang), suppressed_text=t("Not shown (too few answers or too uncertain here)", lang))
    return [graph(PAGE, fig, t("Services residents rate important but are less satisfied with are the highest priorities (top left).", lang), lang), table_view(view_data(data, st, lang), lang, PAGE),
            *drivers_section(data, st, lang)]


def driver_rows(data: Results, st: dict) -> pd.DataFrame:
    """The ``drivers`` rows of the wave and area (an empty frame when the store has none)."""
    d = data.tables.get("drivers", pd.DataFrame())
    if d.empty:
        return d
    level, code = split_area(st["area"])
    return d[(d["wave"] == st["wave"]) & (d["area_level"] == level) & (d["area"] == code)]


def drivers_section(data: Results, st: dict, lang: str) -> list:
    """The key-driver chart and its caveats in words; nothing when the analysis made no driver table."""
    if data.tables.get("drivers", pd.DataFrame()).empty:
        return []
    d = driver_rows(data, st)
    if len(d):
        d = d.assign(reliability_reason=[reason_text(r, lang) for r in d["reliability_reason"]])
    where = area_label(data, *split_area(st["area"]), lang)
    lab = label_column(d, lang) if len(d) else "label_en"
    fig = drivers_figure(
        d, label_col=lab, outcome_labels={o: data.indicator_label(o, lang) for o in d.get("outcome", [])},
        title=f"{t('Key drivers: which police services go with the overall ratings', lang)} — {where}, {wave_label(st['wave'], lang)}",
        x_title=t("Satisfied with the service (%)", lang), y_title=t("Importance: points more likely positive", lang), no_data=t("No driver model for this area: models are fitted for the city and for each district with enough complete answers.", lang),
        suppressed_text=t("Not shown (too few answers or too uncertain here)", lang), n_text=t("n = {n}", lang), to=t("to", lang),
        p_text=t("Adjusted p", lang), ci_text=t("95% CI", lang))
    return [graph(f"{PAGE}-drivers", fig, t("Each dot is a service, at the share of residents satisfied with it (across) and its importance from the model (up): how many percentage points more likely residents satisfied with the service are to give the positive overall answer, the other services held equal, with its 95% interval. Filled dots stay significant after adjusting for the services compared. These are associations, not causes: a service high on the chart is where to look, not proof that improving it will raise the overall rating. Only residents who answered the overall question and every service count (complete cases; n on each panel).", lang), lang)]


def controls(data: Results, st: dict, lang: str) -> list:
    return [
        wave_control(PAGE, data, st, lang),
        area_control(PAGE, data, "importance_satisfaction", st, lang),
    ]

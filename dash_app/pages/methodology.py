"""Methodology: sample sizes, response rates, weighting diagnostics, reliability rules, scale
reliability and the instrument's wording of each indicator."""

from __future__ import annotations

import pandas as pd
from dash import html

from dash_app import ids
from dash_app.data import Results
from dash_app.i18n import t
from dash_app.pages._common import (
    pick,
    radios,
    table,
    wave_options,
)

PAGE = "methodology"
PATH = "/methodology"
FILTERS = ["wave"]
MAX_LISTED = 60  # levels with more areas are summarised on screen (every area is in the download)


def state(data: Results, q: dict) -> dict:
    waves = data.waves
    return {"wave": pick(q.get("wave"), waves, waves[-1])}


def _diag(data: Results, wave: str, kind: str) -> pd.DataFrame:
    d = data.diagnostics
    if d.empty:
        return d
    return d[(d["wave"] == wave) & (d["kind"] == kind)]


def _fmt(v: float, metric: str) -> str:
    if pd.isna(v):
        return "–"
    if metric in ("completes", "kish_n_eff", "suppress_min_n", "flag_min_n"):
        return f"{v:,.0f}"
    if metric in ("RR3", "RR1", "RR2", "RR4", "max_margin_error") or metric.startswith("RR"):
        return f"{v * 100:.1f}%"
    return f"{v:.2f}"


def _sample_table(data: Results, wave: str, lang: str) -> pd.DataFrame:
    s = _diag(data, wave, "sample")
    m = _diag(data, wave, "weighting")
    m = m[m["metric"] == "max_margin_error"] if not m.empty else m
    if s.empty:
        return pd.DataFrame()
    moe = {(r.area_level, r.area): r.value for r in m.itertuples()} if not m.empty else {}
    order = {"city": 0, "district": 1, "neighborhood": 2, "beat": 3}
    nat = [(0, int(a), "") if str(a).isdigit() else (1, 0, str(a)) for a in s["area"]]
    s = s.assign(_o=s["area_level"].map(order), _n=nat).sort_values(["_o", "_n"])
    many = s["area_level"].map(s["area_level"].value_counts()) > MAX_LISTED
    summary = []
    for lv, g in s[many].groupby("area_level", sort=False):
        worst = max((moe.get((lv, a), float("nan")) for a in g["area"]), default=float("nan"))
        summary.append({t("level", lang): t(lv, lang),
                        t("area", lang): t("areas_summary", lang, k=len(g)),
                        t("n", lang): f"{g['value'].min():,.0f}–{g['value'].max():,.0f} "
                                      f"({t('median', lang)} {g['value'].median():,.0f})",
                        "± max margin of error (95%)": f"≤ {_fmt(worst, 'max_margin_error')}"})
    s = s[~many]
    listed = pd.DataFrame({
        t("level", lang): [t(lv, lang) for lv in s["area_level"]],
        t("area", lang): [t("city", lang) if lv == "city" else data.area_name(lv, a)
                          for lv, a in zip(s["area_level"], s["area"], strict=True)],
        t("n", lang): [f"{v:,.0f}" for v in s["value"]],
        "± max margin of error (95%)": [_fmt(moe.get((lv, a)), "max_margin_error")
                                        for lv, a in zip(s["area_level"], s["area"], strict=True)],
    })
    return pd.concat([listed, pd.DataFrame(summary)], ignore_index=True) if summary else listed


def _metric_table(data: Results, wave: str, kind: str, lang: str) -> pd.DataFrame:
    d = _diag(data, wave, kind)
    if kind == "weighting" and not d.empty:
        d = d[d["metric"] != "max_margin_error"]
    if d.empty:
        return pd.DataFrame()
    return pd.DataFrame({t("area", lang): [t("city", lang) if a == "city" else data.area_name(lv, a)
                                           for lv, a in zip(d["area_level"], d["area"], strict=True)],
                         t("metric", lang): d["metric"], t("value", lang): [_fmt(v, m) for v, m in zip(d["value"], d["metric"], strict=True)],
                         t("detail", lang): d["detail"].fillna("")})


def _wording(data: Results, lang: str) -> pd.DataFrame:
    ind = data.indicators
    wcol = f"wording_{lang}" if f"wording_{lang}" in ind.columns else "wording_en"
    return pd.DataFrame({t("indicator", lang): [data.indicator_label(i, lang) for i in ind["indicator"]],
                         "id": ind["indicator"], t("question", lang): ind[wcol].fillna(ind.get("wording_en")),
                         t("definition", lang): ind["definition"]})


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d = data.diagnostics
    d = d[d["wave"] == st["wave"]] if not d.empty else d
    return d.reset_index(drop=True)


def content(data: Results, st: dict, lang: str) -> list:
    wave = st["wave"]
    parts: list = [html.P(t("methodology_intro", lang), className="intro")]
    runs = data.runs
    if not runs.empty:
        r = runs.sort_values("finished_at").iloc[-1]
        parts.append(html.P(f"{t('run', lang)}: {r['run_id']} · {r['instrument']} {r['instrument_version']} · "
                            f"{r['finished_at']}", className="run"))
    for key, df in [("sample", _sample_table(data, wave, lang)),
                    ("response_rates", _metric_table(data, wave, "response_rate", lang)),
                    ("weighting", _metric_table(data, wave, "weighting", lang)),
                    ("rules", _metric_table(data, wave, "reliability_rule", lang)),
                    ("alpha", _metric_table(data, wave, "scale_alpha", lang)),
                    ("wording", _wording(data, lang))]:
        parts.append(html.Section([html.H2(t(key, lang)),
                                   table(df, t(key, lang), ids.section_table_id(PAGE, key), hide_caption=True) if not df.empty
                                   else html.P(t("no_data", lang))], className="method-section"))
    return parts


def controls(data: Results, st: dict, lang: str) -> list:
    return [radios(PAGE, "wave", t("wave", lang), wave_options(data), st["wave"])]

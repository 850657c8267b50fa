"""Methodology: sample sizes, response rates, weighting diagnostics, reliability rules, scale
reliability and the instrument's wording of each indicator."""

from __future__ import annotations

import math

import pandas as pd
from dash import html

from dash_app import ids
from dash_app.data import Results
from dash_app.i18n import TEXT, t
from dash_app.pages._common import (
    table,
    wave_control,
    wave_state,
)
from survey_pipeline.results.funnel import funnel_step_label
from survey_pipeline.results.tables import funnel_steps  # shared with the report

PAGE = "methodology"
PATH = "/methodology"
FILTERS = ["wave"]
MAX_LISTED = 60  # levels with more areas are summarised on screen (every area is in the download)


def state(data: Results, q: dict) -> dict:
    return {"wave": wave_state(data, q)}


def _diag(data: Results, wave: str, kind: str) -> pd.DataFrame:
    d = data.diagnostics
    if d.empty:
        return d
    return d[(d["wave"] == wave) & (d["kind"] == kind)]


COUNTS = ("completes", "suppress_min_n", "flag_min_n", "base_weight_areas", "trimmed")
COUNT_PREFIXES = ("estimates_", "imputed_", "recoded_", "collapsed_")


def _fmt(v: float, metric: str) -> str:
    if pd.isna(v):
        return "–"
    if metric in COUNTS or metric.startswith(COUNT_PREFIXES) or metric == "kish_n_eff":
        return f"{v:,.0f}"
    if metric == "max_margin_error" and v < 0.001:
        return "<0.1%"
    if metric.startswith(("RR", "COOP")) or metric == "max_margin_error":
        return f"{v * 100:.1f}%"
    return f"{v:.2f}"


def _metric_name(metric: str, lang: str) -> str:
    key = f"metric_{metric}"
    return t(key, lang) if key in TEXT else metric


def _moe(n_eff: float) -> str:
    """The 95% margin of error of a 50% share with this effective sample size, in points."""
    if n_eff is None or pd.isna(n_eff) or n_eff <= 0:
        return "–"
    return f"± {196 * math.sqrt(0.25 / n_eff):.0f}"


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    order = {"city": 0, "district": 1, "neighborhood": 2, "beat": 3}
    nat = [(0, int(a), "") if str(a).isdigit() else (1, 0, str(a)) for a in df["area"]]
    return df.assign(_o=df["area_level"].map(order), _n=nat).sort_values(["_o", "_n"]).drop(columns=["_o", "_n"])


def _name(data: Results, level: str, area: str, lang: str) -> str:
    return t("city", lang) if level == "city" else data.area_name(level, area, lang)


def _sample_table(data: Results, wave: str, lang: str) -> pd.DataFrame:
    """One row per area: completes, effective sample size after weighting, the margin of error it
    gives a 50% share, and the design effect of the weights."""
    s = _diag(data, wave, "sample")
    if s.empty:
        return pd.DataFrame()
    w = _diag(data, wave, "weighting")
    neff = {(r.area_level, r.area): r.value for r in w[w["metric"] == "kish_n_eff"].itertuples()} if not w.empty else {}
    deff = {(r.area_level, r.area): r.value for r in w[w["metric"] == "deff_weighting"].itertuples()} if not w.empty else {}
    s = _ordered(s[s["metric"] == "completes"])
    many = s["area_level"].map(s["area_level"].value_counts()) > MAX_LISTED
    moe_col, neff_col, deff_col = t("moe", lang) + f" ({t('pts', lang)})", t("n_eff", lang), _metric_name("deff_weighting", lang)
    summary = []
    for lv, g in s[many].groupby("area_level", sort=False):
        worst = min((neff.get((lv, a), float("nan")) for a in g["area"]), default=float("nan"))
        summary.append({t("level", lang): t(lv, lang), t("area", lang): t("areas_summary", lang, k=len(g)),
                        t("n", lang): f"{g['value'].min():,.0f}–{g['value'].max():,.0f} "
                                      f"({t('median', lang)} {g['value'].median():,.0f})",
                        neff_col: "", moe_col: f"≤ {_moe(worst)}", deff_col: ""})
    s = s[~many]
    keys = list(zip(s["area_level"], s["area"], strict=True))
    listed = pd.DataFrame({
        t("level", lang): [t(lv, lang) for lv in s["area_level"]],
        t("area", lang): [_name(data, lv, a, lang) for lv, a in keys],
        t("n", lang): [f"{v:,.0f}" for v in s["value"]],
        neff_col: [_fmt(neff.get(k), "kish_n_eff") for k in keys],
        moe_col: [_moe(neff.get(k)) for k in keys],
        deff_col: [_fmt(deff.get(k), "deff_weighting") for k in keys],
    })
    return pd.concat([listed, pd.DataFrame(summary)], ignore_index=True) if summary else listed


def _rates_table(data: Results, wave: str, lang: str) -> pd.DataFrame:
    """Response rates, one row per area and one column per AAPOR rate."""
    d = _diag(data, wave, "response_rate")
    if d.empty:
        return pd.DataFrame()
    d = _ordered(d)
    metrics = list(dict.fromkeys(d["metric"]))
    wide = d.pivot_table(index=["area_level", "area"], columns="metric", values="value", aggfunc="first", sort=False)
    detail = d.groupby(["area_level", "area"], sort=False)["detail"].first()
    out = pd.DataFrame({t("area", lang): [_name(data, lv, a, lang) for lv, a in wide.index]})
    for m in metrics:
        out[_metric_name(m, lang)] = [_fmt(v, m) for v in wide[m]]
    out[t("detail", lang)] = detail.reindex(wide.index).fillna("").to_list()
    return out


def _funnel_table(data: Results, wave: str, lang: str) -> pd.DataFrame:
    """How the response rate's complete interviews (AAPOR) become the responses analysed: the
    exclusions by quality rule and the partial interviews added (``sample_funnel`` diagnostics)."""
    steps = funnel_steps(data.diagnostics, wave)
    if not steps:
        return pd.DataFrame()

    return pd.DataFrame({t("step", lang): [funnel_step_label(s, r, lang) for s, r, _ in steps],
                         t("responses", lang): [f"{v:,.0f}" for _, _, v in steps]})  # table() localises


def _metric_table(data: Results, wave: str, kind: str, lang: str) -> pd.DataFrame:
    d = _diag(data, wave, kind)
    if kind == "weighting" and not d.empty:  # per-area effective sizes and design effects are in the sample table
        d = d[~d["metric"].isin(["kish_n_eff", "deff_weighting"]) | (d["area_level"] == "city")]
    if d.empty:
        return pd.DataFrame()
    value = [_fmt(v, m) for v, m in zip(d["value"], d["metric"], strict=True)]
    if kind == "scale_alpha":  # Nunnally (1978): 0.70 is the usual floor for a scale used to compare groups
        value = [f"{x} ⚠ {t('alpha_low', lang)}" if v < 0.7 else x for x, v in zip(value, d["value"], strict=True)]
    out = pd.DataFrame({t("area", lang): [_name(data, lv, a, lang)
                                          for lv, a in zip(d["area_level"], d["area"], strict=True)],
                        t("metric", lang): [_metric_name(m, lang) for m in d["metric"]],
                        t("value", lang): value,
                        t("detail", lang): d["detail"].fillna("").map(lambda x: data.indicator_label(x, lang)
                                                                     if str(x).startswith("index_") else x)})
    if kind == "scale_alpha":  # one row per index: its name first
        return pd.DataFrame({t("index_col", lang): out[t("detail", lang)].to_list(),
                             _metric_name("alpha", lang): out[t("value", lang)].to_list()})
    if (d["area_level"] == "city").all():  # one area: the column says nothing
        out = out.drop(columns=[t("area", lang)])
    if not out[t("detail", lang)].astype(bool).any():
        out = out.drop(columns=[t("detail", lang)])
    return out


def _wording(data: Results, lang: str) -> pd.DataFrame:
    """One row per indicator (its statistics' definitions together)."""
    ind = data.indicators
    wcol = f"wording_{lang}" if f"wording_{lang}" in ind.columns else "wording_en"
    first = ind.drop_duplicates("indicator")
    named = [f"{t('stat_' + str(st), lang)}: {df}" if f"stat_{st}" in TEXT else str(df)
             for st, df in zip(ind["statistic"], ind["definition"].fillna(""), strict=True)]
    defs = pd.Series(named, index=ind.index).groupby(ind["indicator"], sort=False).agg(
        lambda x: " · ".join(dict.fromkeys(x)))
    return pd.DataFrame({t("indicator", lang): [data.indicator_label(i, lang) for i in first["indicator"]],
                         "id": first["indicator"], t("question", lang): first[wcol].fillna(first.get("wording_en")),
                         t("definition", lang): defs.reindex(first["indicator"]).to_list()})


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d = data.diagnostics
    d = d[d["wave"] == st["wave"]] if not d.empty else d
    return d.reset_index(drop=True)


def _when(value: object) -> str:
    try:
        return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(value)


#: The methodology's detail, shown to analysts only when sign-in is on (viewers see the sample,
#: the reliability rules and the questions' wording).
DETAIL = ("response_rates", "sample_funnel", "weighting", "alpha")


def content(data: Results, st: dict, lang: str) -> list:
    from dash_app.auth import current_role

    analyst = current_role() == "analyst"
    wave = st["wave"]
    parts: list = [html.P(t("methodology_intro", lang), className="intro")]
    runs = data.runs
    if not runs.empty:
        r = runs.sort_values("finished_at").iloc[-1]
        parts.append(html.P(f"{t('run', lang)}: {_when(r['finished_at'])} · {r['instrument']} "
                            f"{r['instrument_version']} · {r['run_id']}", className="run"))
    for key, df in [("sample", _sample_table(data, wave, lang)),
                    ("response_rates", _rates_table(data, wave, lang)),
                    ("sample_funnel", _funnel_table(data, wave, lang)),
                    ("weighting", _metric_table(data, wave, "weighting", lang)),
                    ("rules", _metric_table(data, wave, "reliability_rule", lang)),
                    ("alpha", _metric_table(data, wave, "scale_alpha", lang)),
                    ("wording", _wording(data, lang))]:
        if key in DETAIL and not analyst:
            continue
        note = [html.P(t(f"{key}_note", lang), className="intro")] if f"{key}_note" in TEXT else []
        if key == "rules" and not data.tables.get("estimates_modeled", pd.DataFrame()).empty:
            note.append(html.P(t("methodology_modeled", lang), id=ids.section_table_id(PAGE, "modeled"),
                               className="intro"))
        parts.append(html.Section([html.H2(t(key, lang)), *note,
                                   table(df, t(key, lang), ids.section_table_id(PAGE, key), hide_caption=True, lang=lang) if not df.empty
                                   else html.P(t("no_data", lang))], className="method-section"))
    return parts


def controls(data: Results, st: dict, lang: str) -> list:
    return [wave_control(PAGE, data, st, lang)]

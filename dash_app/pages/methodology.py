"""Methodology: sample sizes, response rates, weighting diagnostics, reliability rules, scale
reliability and the instrument's wording of each indicator."""

from __future__ import annotations

import math

import pandas as pd
from dash import html

from dash_app import ids
from dash_app.data import Results
from dash_app.i18n import LEVELS, METRICS, SECTION_NOTES, SECTIONS, STATS, t
from dash_app.pages._common import (
    table,
    wave_control,
    wave_state,
)
from survey_pipeline.i18n import fmt_int, fmt_number, fmt_percent
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


def _fmt(v: float, metric: str, lang: str = "en") -> str:
    """A diagnostic's value in ``lang``'s locale: counts grouped, rates as percents, else two decimals."""
    if v is None or pd.isna(v):
        return "–"
    if metric in COUNTS or metric.startswith(COUNT_PREFIXES) or metric == "kish_n_eff":
        return fmt_int(v, lang)
    if metric == "max_margin_error" and v < 0.001:
        return "<" + fmt_percent(0.001, lang, 1)
    if metric.startswith(("RR", "COOP")) or metric == "max_margin_error":
        return fmt_percent(v, lang, 1)
    return fmt_number(v, lang, 2)


def _metric_name(metric: str, lang: str) -> str:
    return t(METRICS[metric], lang) if metric in METRICS else metric


def _moe(n_eff: float, lang: str = "en") -> str:
    """The 95% margin of error of a 50% share with this effective sample size, in points."""
    if n_eff is None or pd.isna(n_eff) or n_eff <= 0:
        return "–"
    return f"± {fmt_number(196 * math.sqrt(0.25 / n_eff), lang)}"


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    order = {"city": 0, "district": 1, "neighborhood": 2, "beat": 3}
    nat = [(0, int(a), "") if str(a).isdigit() else (1, 0, str(a)) for a in df["area"]]
    return df.assign(_o=df["area_level"].map(order), _n=nat).sort_values(["_o", "_n"]).drop(columns=["_o", "_n"])


def _name(data: Results, level: str, area: str, lang: str) -> str:
    return t("City", lang) if level == "city" else data.area_name(level, area, lang)


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
    moe_col, neff_col, deff_col = t('± margin of error (95%, at 50%)', lang) + f" ({t('pts', lang)})", t('effective n', lang), _metric_name("deff_weighting", lang)
    summary = []
    for lv, g in s[many].groupby("area_level", sort=False):
        worst = min((neff.get((lv, a), float("nan")) for a in g["area"]), default=float("nan"))
        summary.append({t("Area level", lang): t(LEVELS[lv], lang), t("Area", lang): t("{k} areas (each in the download)", lang, k=len(g)),
                        t("n (unweighted)", lang): f"{fmt_int(g['value'].min(), lang)}–{fmt_int(g['value'].max(), lang)} "
                                      f"({t('median', lang)} {fmt_int(g['value'].median(), lang)})",
                        neff_col: "", moe_col: f"≤ {_moe(worst, lang)}", deff_col: ""})
    s = s[~many]
    keys = list(zip(s["area_level"], s["area"], strict=True))
    listed = pd.DataFrame({
        t("Area level", lang): [t(LEVELS[lv], lang) for lv in s["area_level"]],
        t("Area", lang): [_name(data, lv, a, lang) for lv, a in keys],
        t("n (unweighted)", lang): [fmt_int(v, lang) for v in s["value"]],
        neff_col: [_fmt(neff.get(k), "kish_n_eff", lang) for k in keys],
        moe_col: [_moe(neff.get(k), lang) for k in keys],
        deff_col: [_fmt(deff.get(k), "deff_weighting", lang) for k in keys],
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
    out = pd.DataFrame({t("Area", lang): [_name(data, lv, a, lang) for lv, a in wide.index]})
    for m in metrics:
        out[_metric_name(m, lang)] = [_fmt(v, m, lang) for v in wide[m]]
    out[t("Detail", lang)] = detail.reindex(wide.index).fillna("").to_list()
    return out


def _funnel_table(data: Results, wave: str, lang: str) -> pd.DataFrame:
    """How the response rate's complete interviews (AAPOR) become the responses analysed: the
    exclusions by quality rule and the partial interviews added (``sample_funnel`` diagnostics)."""
    steps = funnel_steps(data.diagnostics, wave)
    if not steps:
        return pd.DataFrame()

    return pd.DataFrame({t("Step", lang): [funnel_step_label(s, r, lang) for s, r, _ in steps],
                         t("Responses", lang): [fmt_int(v, lang) for _, _, v in steps]})


def _metric_table(data: Results, wave: str, kind: str, lang: str) -> pd.DataFrame:
    d = _diag(data, wave, kind)
    if kind == "weighting" and not d.empty:  # per-area effective sizes and design effects are in the sample table
        d = d[~d["metric"].isin(["kish_n_eff", "deff_weighting"]) | (d["area_level"] == "city")]
    if d.empty:
        return pd.DataFrame()
    value = [_fmt(v, m, lang) for v, m in zip(d["value"], d["metric"], strict=True)]
    if kind == "scale_alpha":  # Nunnally (1978): 0.70 is the usual floor for a scale used to compare groups
        weak = t("below {threshold}: the items hang together weakly; read this index with care", lang,
                 threshold=fmt_number(0.7, lang, 2))
        value = [f"{x} ⚠ {weak}" if v < 0.7 else x for x, v in zip(value, d["value"], strict=True)]
    out = pd.DataFrame({t("Area", lang): [_name(data, lv, a, lang)
                                          for lv, a in zip(d["area_level"], d["area"], strict=True)],
                        t("Metric", lang): [_metric_name(m, lang) for m in d["metric"]],
                        t("Value", lang): value,
                        t("Detail", lang): d["detail"].fillna("").map(lambda x: data.indicator_label(x, lang)
                                                                     if str(x).startswith("index_") else x)})
    if kind == "scale_alpha":  # one row per index: its name first
        return pd.DataFrame({t("Index", lang): out[t("Detail", lang)].to_list(),
                             _metric_name("alpha", lang): out[t("Value", lang)].to_list()})
    if (d["area_level"] == "city").all():  # one area: the column says nothing
        out = out.drop(columns=[t("Area", lang)])
    if not out[t("Detail", lang)].astype(bool).any():
        out = out.drop(columns=[t("Detail", lang)])
    return out


def _wording(data: Results, lang: str) -> pd.DataFrame:
    """One row per indicator (its statistics' definitions together)."""
    ind = data.indicators
    wcol = f"wording_{lang}" if f"wording_{lang}" in ind.columns else "wording_en"
    first = ind.drop_duplicates("indicator")
    named = [f"{t(STATS[st], lang)}: {df}" if st in STATS else str(df)
             for st, df in zip(ind["statistic"], ind["definition"].fillna(""), strict=True)]
    defs = pd.Series(named, index=ind.index).groupby(ind["indicator"], sort=False).agg(
        lambda x: " · ".join(dict.fromkeys(x)))
    return pd.DataFrame({t("Indicator", lang): [data.indicator_label(i, lang) for i in first["indicator"]],
                         "id": first["indicator"], t("Question", lang): first[wcol].fillna(first.get("wording_en")),
                         t("Definition", lang): defs.reindex(first["indicator"]).to_list()})


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
    parts: list = [html.P(t("How the numbers were made and how far to trust them.", lang), className="intro")]
    runs = data.runs
    if not runs.empty:
        r = runs.sort_values("finished_at").iloc[-1]
        parts.append(html.P(f"{t('Analysis run', lang)}: {_when(r['finished_at'])} · {r['instrument']} "
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
        note = [html.P(t(SECTION_NOTES[key], lang), className="intro")] if key in SECTION_NOTES else []
        if key == "rules" and not data.tables.get("estimates_modeled", pd.DataFrame()).empty:
            note.append(html.P(t("Small areas. Where a neighborhood or beat has too few answers for a reliable direct estimate, the map, the comparison and the trends show a modeled number (◇, small-area estimate): a Fay–Herriot model combines the area's own answers with its district's estimate, its previous wave and its population make-up, and the areas are adjusted to add up to their district and the city. Its interval comes from the model's mean squared error; a modeled number whose error is over half of it is still suppressed, and modeled numbers never enter the significant changes or differences.", lang), id=ids.section_table_id(PAGE, "modeled"),
                               className="intro"))
        parts.append(html.Section([html.H2(t(SECTIONS[key], lang)), *note,
                                   table(df, t(SECTIONS[key], lang), ids.section_table_id(PAGE, key), hide_caption=True, lang=lang) if not df.empty
                                   else html.P(t("No results for this selection.", lang))], className="method-section"))
    return parts


def controls(data: Results, st: dict, lang: str) -> list:
    return [wave_control(PAGE, data, st, lang)]

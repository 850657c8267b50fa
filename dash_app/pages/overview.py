"""Overview: headline indicators for a wave with the change since the previous wave, top
priority, and the largest reliable findings in plain language."""

from __future__ import annotations

import pandas as pd
from dash import html

from dash_app import ids
from dash_app.data import Results
from dash_app.figures.common import fmt_value
from dash_app.i18n import t
from dash_app.pages._common import (
    fmt_change,
    fmt_ci,
    fmt_row,
    pick,
    radios,
    table_view,
    wave_options,
)
from survey_pipeline.report.data import headline_indicators  # shared with the reports

PAGE = "overview"
PATH = "/"
FILTERS = ["wave"]


def state(data: Results, q: dict) -> dict:
    waves = data.waves
    return {"wave": pick(q.get("wave"), waves, waves[-1])}


def _headline_rows(data: Results, wave: str, lang: str) -> pd.DataFrame:
    waves = data.waves
    prev = waves[waves.index(wave) - 1] if waves.index(wave) > 0 else None
    rows = []
    for ind in headline_indicators(data.indicators):
        e = data.part("estimates", ("wave", "indicator"), (wave, ind))
        e = e[(e["area_level"] == "city") & (e["group_dim"] == "all")]
        if e.empty:
            continue
        r = e.iloc[0]
        c = pd.DataFrame()
        if prev is not None and not data.comparisons.empty:
            c = data.part("comparisons", ("kind", "wave", "indicator"), ("wave_change", wave, ind))
            c = c[(c["wave_ref"] == prev) & (c["area_level"] == "city") & (c["group_dim"] == "all")]
        ch = c.iloc[0] if not c.empty else None
        rows.append({"indicator": ind, "label": data.indicator_label(ind, lang), "statistic": r["statistic"],
                     "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "n": r["n"],
                     "reliability": r["reliability"], "reliability_reason": r["reliability_reason"],
                     "wave_ref": prev, "change": None if ch is None else ch["estimate"],
                     "change_ci_low": None if ch is None else ch["ci_low"],
                     "change_ci_high": None if ch is None else ch["ci_high"],
                     "p_adj": None if ch is None else ch["p_adj"],
                     "significant": None if ch is None else bool(ch["significant"])})
    return pd.DataFrame(rows)


def _top_priority(data: Results, wave: str) -> pd.Series | None:
    p = data.priorities
    if p.empty:
        return None
    p = data.part("priorities", ("wave", "area_level", "area"), (wave, "city", "city"))
    p = p[p["reliability"] != "suppress"]
    return None if p.empty else p.sort_values("rank").iloc[0]


def _findings(data: Results, wave: str, n: int = 5) -> pd.DataFrame:
    c = data.comparisons
    if c.empty or "finding" not in c.columns:
        return c
    c = data.memo("findings", lambda: c[c["finding"].notna() & (c["reliability"] != "suppress")])
    f = c[c["wave"] == wave]
    return f.reindex(f["estimate"].abs().sort_values(ascending=False).index).head(n)


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    h = _headline_rows(data, st["wave"], lang)
    if not h.empty:
        h.insert(0, "wave", st["wave"])
    return h


def _card(r: pd.Series, lang: str) -> html.Div:
    stat = r["statistic"]
    if r["change"] is None or pd.isna(r["change"]):
        change = t("no_change", lang)
        sig = ""
    else:
        change = t("change_since", lang, wave=r["wave_ref"]) + ": " + fmt_change(
            {"estimate": r["change"], "ci_low": r["change_ci_low"], "ci_high": r["change_ci_high"]}, stat)
        key = "significant" if r["significant"] else "not_significant"
        sig = t(key, lang, p=f"{r['p_adj']:.3f}")
    sup = r["reliability"] == "suppress"
    return html.Div(className="card" + (" suppressed" if sup else ""), children=[
        html.H3(r["label"], className="card-title"),
        html.P(fmt_row(r, stat, lang) if sup else fmt_value(r["estimate"], stat), className="card-value"),
        html.P("" if sup else f"95% CI {fmt_ci(r['ci_low'], r['ci_high'], stat)} · n={int(r['n'])}",
               className="card-ci"),
        html.P(change, className="card-change"),
        html.P(sig, className="card-sig " + ("sig" if r["significant"] else "nonsig")) if sig else None,
    ])


def content(data: Results, st: dict, lang: str) -> list:
    wave = st["wave"]
    h = _headline_rows(data, wave, lang)
    cards = [_card(r, lang) for _, r in h.iterrows()]
    top = _top_priority(data, wave)
    if top is not None:
        lab = top.get(f"label_{lang}") or top["label_en"]
        cards.append(html.Div(className="card", children=[
            html.H3(t("top_priority", lang), className="card-title"),
            html.P(lab, className="card-value card-value-text"),
            html.P(f"{fmt_value(top['estimate'], 'share')} (95% CI {fmt_ci(top['ci_low'], top['ci_high'], 'share')})"
                   f" · {t('rank_range', lang)} {int(top['rank_low'])}–{int(top['rank_high'])}", className="card-ci"),
            html.P(f"{t('department', lang)}: {str(top['department']).replace('_', ' ').capitalize()}", className="card-change"),
        ]))
    f = _findings(data, wave)
    items = [html.Li(x) for x in f["finding"]] if not f.empty else [html.Li(t("no_findings", lang))]
    table_df = pd.DataFrame({
        t("indicator", lang): h.get("label", pd.Series(dtype=object)),
        t("estimate", lang) + " (95% CI)": [fmt_row(r, r["statistic"], lang) for _, r in h.iterrows()],
        t("change_since", lang, wave=h["wave_ref"].iloc[0] if not h.empty else "–"): [
            "–" if pd.isna(r["change"]) else fmt_change({"estimate": r["change"], "ci_low": r["change_ci_low"],
                                                          "ci_high": r["change_ci_high"]}, r["statistic"])
            for _, r in h.iterrows()],
        t("p_adj", lang): ["–" if pd.isna(r["p_adj"]) else f"{r['p_adj']:.3f}" for _, r in h.iterrows()],
    }) if not h.empty else pd.DataFrame()
    return [
        html.P(t("overview_intro", lang, wave=wave) + " " + t("ci_note", lang), className="intro"),
        html.Div(cards, className="cards", id=ids.OVERVIEW_CARDS),
        html.H2(t("findings", lang)),
        html.Ul(items, id=ids.OVERVIEW_FINDINGS, className="findings"),
        table_view(table_df, lang, PAGE),
    ]


def controls(data: Results, st: dict, lang: str) -> list:
    return [radios(PAGE, "wave", t("wave", lang), wave_options(data), st["wave"])]

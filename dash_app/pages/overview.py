"""Overview: the headline indicators of a wave as a reader expects them ("59% satisfied", the trust
index on its stated scale), each with its change since the previous wave in percentage points and
whether that change is significant; the top priority; the largest reliable findings in plain language."""

from __future__ import annotations

import pandas as pd
from dash import html

from dash_app import ids
from dash_app.data import Results
from dash_app.figures.common import fmt_ci, fmt_diff, fmt_p, fmt_value
from dash_app.i18n import SHARE_OF, t, wave_label
from dash_app.pages._common import (
    department_name,
    estimates_for,
    fmt_change,
    fmt_row,
    headline_indicators,
    headline_statistic,
    indicator_definition,
    only_statistic,
    scale_range,
    table_view,
    wave_control,
    wave_state,
)
from survey_pipeline.i18n import fmt_int, fmt_number
from survey_pipeline.results.sentences import (
    Words,
    benchmark_sentence,
    finding_sentence,
    indicator_phrases,
)
from survey_pipeline.results.tables import benchmark_rows, district_area_names

PAGE = "overview"
PATH = "/"
FILTERS = ["wave"]


def state(data: Results, q: dict) -> dict:
    return {"wave": wave_state(data, q)}


def _headline_rows(data: Results, wave: str, lang: str) -> pd.DataFrame:
    """One row per headline indicator: its headline statistic (the share when the results have
    one), the city's estimate, and the change since the previous wave from the ``wave_change``
    comparisons (with the adjusted p and whether it is significant)."""
    waves = data.waves
    prev = waves[waves.index(wave) - 1] if waves.index(wave) > 0 else None
    topics = dict(zip(data.indicators["indicator"], data.indicators["topic"], strict=False))
    rows = []
    for ind in headline_indicators(data.indicators):
        stat = headline_statistic(data, ind)
        e = estimates_for(data, wave, ind, stat)
        e = e[(e["area_level"] == "city") & (e["group_dim"] == "all")]
        if e.empty:
            continue
        r = e.iloc[0]
        c = pd.DataFrame()
        if prev is not None and not data.comparisons.empty:
            c = only_statistic(data.part("comparisons", ("kind", "wave", "indicator"), ("wave_change", wave, ind)), stat)
            c = c[(c["wave_ref"] == prev) & (c["area_level"] == "city") & (c["group_dim"] == "all")]
        ch = c.iloc[0] if not c.empty else None
        lo_hi = scale_range(indicator_definition(data, ind, stat)) if stat != "share" else None
        label = data.indicator_label(ind, lang)
        if stat == "score" and t("index", lang).lower() not in label.lower():
            label = f"{label} ({t('index', lang)})"
        rows.append({"indicator": ind, "label": label, "topic": topics.get(ind), "alpha": _alpha(data, wave, ind),
                     "statistic": stat, "scale": None if lo_hi is None else f"{lo_hi[0]}-{lo_hi[1]}",
                     "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "n": r["n"],
                     "reliability": r["reliability"], "reliability_reason": r["reliability_reason"],
                     "wave_ref": prev, "change": None if ch is None else ch["estimate"],
                     "change_ci_low": None if ch is None else ch["ci_low"],
                     "change_ci_high": None if ch is None else ch["ci_high"],
                     "p_adj": None if ch is None else ch["p_adj"],
                     "significant": None if ch is None else bool(ch["significant"]),
                     "change_reliability": None if ch is None else ch["reliability"],
                     "benchmarks": [benchmark_sentence(b, lang) for b in benchmark_rows(
                         data.tables.get("benchmarks"), wave, ind, stat).to_dict("records")]})
    return pd.DataFrame(rows)


def _alpha(data: Results, wave: str, indicator: str) -> float | None:
    """Cronbach's alpha of an index in this wave (``diagnostics`` kind ``scale_alpha``), else None."""
    d = data.diagnostics
    if d.empty or not indicator.startswith("index_"):
        return None
    a = d[(d["kind"] == "scale_alpha") & (d["wave"] == wave) & (d["detail"] == indicator)]
    return None if a.empty else float(a["value"].iloc[0])


def _top_priority(data: Results, wave: str) -> tuple[pd.Series | None, int]:
    p = data.priorities
    if p.empty:
        return None, 0
    p = data.part("priorities", ("wave", "area_level", "area"), (wave, "city", "city"))
    k = len(p)
    p = p[p["reliability"] != "suppress"]
    return (None if p.empty else p.sort_values("rank").iloc[0]), k


def _findings(data: Results, wave: str, n: int = 5) -> pd.DataFrame:
    c = data.comparisons
    if c.empty or "finding" not in c.columns:
        return c
    # all residents only (wave changes, evaluations), as the report: the group findings (equity gaps,
    # a group's change) are the Equity page's
    c = data.memo("findings", lambda: c[c["finding"].notna() & (c["reliability"] != "suppress")
                                        & (c["group_dim"].eq("all") if "group_dim" in c.columns else True)])
    f = c[c["wave"] == wave]
    size = f["estimate"].abs() * f["statistic"].map({"share": 100.0}).fillna(1.0)
    return f.reindex(size.sort_values(ascending=False).index).head(n)


def finding_text(data: Results, r: pd.Series | dict, lang: str) -> str:
    """A finding as a sentence in ``lang``: the results' own sentence in English, else written
    from the comparison row by the analysis' sentence writer (the report's too)."""
    if lang == "en" and isinstance(r.get("finding"), str):
        return r["finding"]
    return finding_sentence(r, sentence_words(data, lang))


def sentence_words(data: Results, lang: str) -> Words:
    """The words of the finding sentences in ``lang`` (indicator phrases, area and district names,
    wave labels), made once per snapshot."""
    def make():
        names = data.area_names
        return Words(labels=indicator_phrases(data.indicators, lang),
                     area_names={c: n for (lv, c), n in names.items() if lv != "district"},
                     district_names={c: n for (_lv, c), n in district_area_names(data.district_names, lang).items()},
                     wave_labels={w: wave_label(w, lang) for w in data.waves}, lang=lang)

    return data.memo(("sentence_words", lang), make)


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    h = _headline_rows(data, st["wave"], lang)
    if not h.empty:
        h.insert(0, "wave", st["wave"])
    return h


def _value(r: pd.Series, lang: str) -> list:
    """The big number and its unit: '59%' 'satisfied', or '3.11' 'on a 1–5 scale'."""
    stat = r["statistic"]
    if stat == "share":
        unit = t(SHARE_OF.get(r["topic"], SHARE_OF["other"]), lang)
    elif r["scale"]:
        lo, hi = r["scale"].split("-")
        unit = t("on a {lo}–{hi} scale", lang, lo=lo, hi=hi)
    else:
        unit = ""
    return [html.Span(fmt_value(r["estimate"], stat, lang), className="card-number"),
            html.Span(" " + unit, className="card-unit") if unit else None]


def _card(r: pd.Series, lang: str) -> html.Div:
    stat = r["statistic"]
    sup = r["reliability"] == "suppress"
    if r["change"] is None or pd.isna(r["change"]):
        change, sig = t("no earlier wave to compare", lang), ""
    else:
        unit = t("pts", lang) if stat == "share" else t("points", lang)
        amount = fmt_diff(r["change"], stat, unit, lang)
        ci = fmt_ci(r["change_ci_low"], r["change_ci_high"], stat, diff=True, to=t("to", lang), lang=lang)
        change = (t("{change} since {wave}", lang, change=amount, wave=wave_label(r["wave_ref"], lang))
                  + f" ({t('95% CI', lang)} {ci})")
        if r["change_reliability"] == "suppress":
            sig = t("suppressed", lang)
        else:
            p = fmt_p(r["p_adj"], lang)
            sig = (t("a significant change (adjusted p {p})", lang, p=p) if r["significant"]
                   else t("no clear change: not significant (adjusted p {p})", lang, p=p))
    return html.Div(className="card" + (" suppressed" if sup else ""), children=[
        html.H3(r["label"], className="card-title"),
        html.P(fmt_row(r, stat, lang) if sup else _value(r, lang), className="card-value"),
        html.P("" if sup else (f"{t('95% CI', lang)} {fmt_ci(r['ci_low'], r['ci_high'], stat, lang=lang)} · "
                                f"n = {fmt_int(r['n'], lang)}"), className="card-ci"),
        html.P(change, className="card-change"),
        html.P(sig, className="card-sig " + ("sig" if r["significant"] else "nonsig")) if sig else None,
        html.P(t("⚠ Its questions agree only weakly (Cronbach's alpha {alpha}, below {threshold}): read with care.", lang,
                 alpha=fmt_number(r['alpha'], lang, 2), threshold=fmt_number(0.7, lang, 2)), className="card-caution")
        if pd.notna(r.get("alpha")) and r["alpha"] < 0.7 else None,
        *[html.P(b, className="card-benchmark") for b in r.get("benchmarks") or []],
    ])


def _priority_card(data: Results, top: pd.Series, k: int, lang: str) -> html.Div:
    lab = top.get(f"label_{lang}") or top["label_en"]
    lo, hi = int(top["rank_low"]), int(top["rank_high"])
    rank = t("rank {rank} of {k}", lang, rank=lo, k=k) if lo == hi else t("rank {lo}–{hi} of {k} (95%)", lang, lo=lo, hi=hi, k=k)
    return html.Div(className="card", children=[
        html.H3(t("Top priority", lang), className="card-title"),
        html.P(lab, className="card-value card-value-text"),
        html.P(f"{fmt_value(top['estimate'], 'share', lang)} {t('name it a top problem', lang)} "
               f"({t('95% CI', lang)} {fmt_ci(top['ci_low'], top['ci_high'], 'share', lang=lang)}) · {rank}", className="card-ci"),
        html.P(f"{t('Department', lang)}: {department_name(data, top['department'], lang)}", className="card-change"),
    ])


def content(data: Results, st: dict, lang: str) -> list:
    wave = st["wave"]
    h = _headline_rows(data, wave, lang)
    cards = [_card(r, lang) for _, r in h.iterrows()]
    top, k = _top_priority(data, wave)
    if top is not None:
        cards.append(_priority_card(data, top, k, lang))
    f = _findings(data, wave)
    items = ([html.Li(finding_text(data, r, lang)) for _, r in f.iterrows()] if not f.empty
             else [html.Li(t("No significant, reliable differences this wave.", lang))])
    ref = wave_label(h["wave_ref"].iloc[0], lang) if not h.empty and h["wave_ref"].iloc[0] else "–"
    table_df = pd.DataFrame({
        t("Indicator", lang): h.get("label", pd.Series(dtype=object)),
        t("{label} (95% CI)", lang, label=t("Estimate", lang)): [fmt_row(r, r["statistic"], lang) for _, r in h.iterrows()],
        t("Change since {wave}", lang, wave=ref): [
            "–" if pd.isna(r["change"]) else fmt_change({"estimate": r["change"], "ci_low": r["change_ci_low"],
                                                          "ci_high": r["change_ci_high"]}, r["statistic"], lang)
            for _, r in h.iterrows()],
        t("Adjusted p", lang): [fmt_p(r["p_adj"], lang) for _, r in h.iterrows()],
    }) if not h.empty else pd.DataFrame()
    return [
        html.P(t("Headline indicators for {wave}, citywide.", lang, wave=wave_label(wave, lang)) + " " + t("Numbers in brackets are 95% confidence intervals.", lang), className="intro"),
        html.Div(cards, className="cards", id=ids.OVERVIEW_CARDS),
        html.H2(t("Largest reliable findings", lang)),
        html.Ul(items, id=ids.OVERVIEW_FINDINGS, className="findings"),
        table_view(table_df, lang, PAGE),
    ]


def controls(data: Results, st: dict, lang: str) -> list:
    return [wave_control(PAGE, data, st, lang)]

"""Comments: what residents wrote, coded into themes. Theme shares among the residents who
commented, by area and wave, with 95% intervals; and a feed of the (redacted) comments, filtered by
theme, area and wave.

The small-cell rule: the feed is shown for a cell (area x wave, and x theme when one is chosen) only
when at least ``min_n`` residents commented there (on that theme, when one is chosen; counts from
``comment_cells``; ``min_n`` is the project's ``[reporting] min_n`` as the analysis recorded it);
otherwise a message says why it is hidden. The analysis
never publishes a comment from a neighborhood with fewer than ``min_n`` respondents in its wave
(``comment_feed``), so no comment is tied to a small area on any view.
"""

from __future__ import annotations

import pandas as pd
from dash import html

from dash_app import ids
from dash_app.data import Results
from dash_app.figures.comments import comment_themes_figure
from dash_app.i18n import reason_text, wave_label
from dash_app.pages._common import (
    area_key,
    area_label,
    area_options,
    dropdown,
    fmt_row,
    graph,
    pick,
    plain_reasons,
    split_area,
    table_view,
    wave_control,
    wave_state,
)
from survey_pipeline.i18n import N_, t
from survey_pipeline.results.tables import recorded_min_n

PAGE = "comments"
PATH = "/comments"
FILTERS = ["wave", "area", "theme"]
PREFIX = "comment_theme:"
FEED_MAX = 50
LEVELS = ("city", "district", "neighborhood")

# The kinds of comment theme, as the theme table names them.
KINDS = {"problem": N_("Problem"), "service": N_("Service"), "conduct": N_("Police conduct"),
         "praise": N_("Praise"), "other": N_("Other")}


def _table(data: Results, name: str, columns: list[str]) -> pd.DataFrame:
    """A comment table, or an empty one with ``columns`` when the store has none (results written
    before comments were coded, or by a project without open questions: read as a frame without columns)."""
    df = data.tables.get(name)
    if df is None or not set(columns) <= set(df.columns):
        return pd.DataFrame(columns=columns)
    return df


def _themes(data: Results) -> pd.DataFrame:
    return _table(data, "comment_themes", ["theme", "indicator", "kind", "label_en", "label_es", "position"])


def _estimates(data: Results) -> pd.DataFrame:
    def make() -> pd.DataFrame:
        e = data.estimates
        e = e[e["indicator"].astype(str).str.startswith(PREFIX) & e["area_level"].isin(LEVELS)]
        if "group_dim" in e.columns:
            e = e[e["group_dim"].fillna("all") == "all"]
        th = _themes(data)
        return e.merge(th[["indicator", "theme", "kind", "label_en", "label_es", "position"]], on="indicator", how="inner")
    return data.memo(("comment_estimates",), make)


def state(data: Results, q: dict) -> dict:
    est = _estimates(data)
    keys = [o["value"] for o in area_options(data, est, "en", LEVELS)] or ["city"]
    themes = ["all", *_themes(data)["theme"].astype(str).tolist()]
    return {"wave": wave_state(data, q), "area": pick(q.get("area"), keys, "city"),
            "theme": pick(q.get("theme"), themes, "all")}


def _cell(data: Results, st: dict) -> pd.DataFrame:
    level, code = split_area(st["area"])
    e = _estimates(data)
    return e[(e["wave"] == st["wave"]) & (e["area_level"] == level) & (e["area"].astype(str) == code)]


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    d = _cell(data, st).sort_values("position")
    lab = f"label_{lang}" if f"label_{lang}" in d.columns else "label_en"
    sup = d["reliability"].eq("suppress")
    return pd.DataFrame({
        t("Wave", lang): st["wave"], t("Area", lang): area_label(data, *split_area(st["area"]), lang),
        t("Theme", lang): d[lab], t("Estimate", lang): d["estimate"].where(~sup),
        "ci_low": d["ci_low"].where(~sup), "ci_high": d["ci_high"].where(~sup),
        t("{label} (95% CI)", lang, label=t("Estimate", lang)): [fmt_row(r, "share", lang) for _, r in d.iterrows()],
        t("n (unweighted)", lang): d["n"], t("Reliability", lang): d["reliability"],
        t("Why", lang): [reason_text(r, lang) for r in d["reliability_reason"]],
    })


def cell_count(data: Results, st: dict, theme: str = "all") -> int:
    """Respondents who commented in the selected area and wave (on ``theme``, or at all)."""
    c = _table(data, "comment_cells", ["wave", "area_level", "area", "theme", "respondents"])
    level, code = split_area(st["area"])
    got = c[(c["wave"] == st["wave"]) & (c["area_level"] == level) & (c["area"].astype(str) == code)
            & (c["theme"] == theme)]["respondents"]
    return int(got.iloc[0]) if len(got) else 0


def feed_rule(data: Results, st: dict, lang: str) -> str | None:
    """Why the feed is hidden for the selected cell (None: it may be shown): fewer than ``min_n``
    residents commented in the area and wave, or (with a theme chosen) on that theme there."""
    need = recorded_min_n(data.tables)
    where = area_label(data, *split_area(st["area"]), lang)
    n = cell_count(data, st)
    if n < need:
        return t("Comments are not shown here: fewer than {min_n} residents commented in {area} in {wave} ({n}), so a comment could point to a person.", lang, min_n=need, area=where, wave=wave_label(st["wave"], lang), n=n)
    if st["theme"] != "all":
        nt = cell_count(data, st, st["theme"])
        if nt < need:
            return t("Comments about this theme are not shown here: fewer than {min_n} residents wrote about it in {area} in {wave} ({n}), so a comment could point to a person.", lang, min_n=need, area=where, wave=wave_label(st["wave"], lang), n=nt)
    return None


def feed_rows(data: Results, st: dict) -> pd.DataFrame:
    """The published comments of the selected wave, area and theme (the rule is applied by the caller)."""
    f = _table(data, "comment_feed", ["wave", "district", "neighborhood", "text", "themes"])
    f = f[f["wave"] == st["wave"]]
    level, code = split_area(st["area"])
    if level in ("district", "neighborhood"):
        f = f[f[level].astype(str) == code]
    if st["theme"] != "all":
        f = f[f["themes"].fillna("").str.split(";").apply(lambda xs: st["theme"] in xs)]
    return f


def _feed(data: Results, st: dict, lang: str) -> html.Section:
    hidden = feed_rule(data, st, lang)
    title = html.H2(t("What residents wrote", lang))
    if hidden is not None:
        return html.Section([title, html.P(hidden, id=ids.section_table_id(PAGE, "feed-hidden"), className="note")],
                            className="comment-feed")
    rows = feed_rows(data, st)
    if rows.empty:
        return html.Section([title, html.P(t("No published comment matches this selection.", lang), className="note")], className="comment-feed")
    names = dict(zip(_themes(data)["theme"], _themes(data)[f"label_{lang}" if f"label_{lang}" in _themes(data).columns else "label_en"],
                     strict=True))
    shown = rows.head(FEED_MAX)
    items = [html.Li([html.Blockquote(str(r.text), **({"lang": str(r.language)} if r.language else {})),
                      html.P(" · ".join(names.get(x, x) for x in str(r.themes).split(";") if x), className="tags")],
                     className="comment") for r in shown.itertuples(index=False)]
    return html.Section([title, html.P(t("{shown} of {total} comments (personal details removed).", lang, shown=len(shown), total=len(rows)), className="note"),
                         html.Ul(items, id=ids.section_table_id(PAGE, "feed"), className="comment-list")],
                        className="comment-feed")


def content(data: Results, st: dict, lang: str) -> list:
    d = plain_reasons(_cell(data, st), lang)
    lab = f"label_{lang}" if f"label_{lang}" in d.columns else "label_en"
    where = area_label(data, *split_area(st["area"]), lang)
    kinds = {k: t(word, lang) for k, word in KINDS.items()}
    fig = comment_themes_figure(d, label_col=lab, kind_labels=kinds, axis_label=t("Share of residents who commented", lang),
                                title=t("Comment themes — {area}, {wave}", lang, area=where, wave=wave_label(st["wave"], lang)),
                                suppressed_text=t("suppressed", lang), no_data=t("No results for this selection.", lang))
    tv = view_data(data, st, lang).drop(columns=[t("Estimate", lang), "ci_low", "ci_high"])
    return [graph(PAGE, fig, t("Share of the residents who commented (any open question) whose comments mention each theme, weighted like every other estimate, with 95% intervals. Themes are coded by keyword rules an analyst can check and correct.", lang), lang), table_view(tv, lang, PAGE), _feed(data, st, lang)]


def controls(data: Results, st: dict, lang: str) -> list:
    th = _themes(data).sort_values("position")
    lab = f"label_{lang}" if f"label_{lang}" in th.columns else "label_en"
    options = [{"label": t("All themes", lang), "value": "all"},
               *({"label": str(name), "value": str(theme)} for theme, name in zip(th["theme"], th[lab], strict=True))]
    return [
        wave_control(PAGE, data, st, lang),
        dropdown(PAGE, "area", t("Area", lang), area_options(data, _estimates(data), lang, LEVELS) or
                 [{"label": t("City", lang), "value": area_key("city", "city")}], st["area"]),
        dropdown(PAGE, "theme", t("Theme", lang), options, st["theme"]),
    ]

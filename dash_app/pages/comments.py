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
from dash_app.i18n import reason_text, t, wave_label
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
from survey_pipeline.results.tables import recorded_min_n

PAGE = "comments"
PATH = "/comments"
FILTERS = ["wave", "area", "theme"]
PREFIX = "comment_theme:"
FEED_MAX = 50
LEVELS = ("city", "district", "neighborhood")

TEXT = {
    "intro": {"en": "Share of the residents who commented (any open question) whose comments mention each theme, "
                    "weighted like every other estimate, with 95% intervals. Themes are coded by keyword rules an "
                    "analyst can check and correct.",
              "es": "Proporción de los residentes que dejaron un comentario (cualquier pregunta abierta) cuyos comentarios "
                    "mencionan cada tema, ponderada como las demás estimaciones, con intervalos del 95%. Los temas se "
                    "codifican con reglas de palabras clave que un analista puede revisar y corregir."},
    "theme": {"en": "Theme", "es": "Tema"},
    "all_themes": {"en": "All themes", "es": "Todos los temas"},
    "axis": {"en": "Share of residents who commented", "es": "Proporción de quienes comentaron"},
    "chart_title": {"en": "Comment themes — {area}, {wave}", "es": "Temas de los comentarios — {area}, {wave}"},
    "feed": {"en": "What residents wrote", "es": "Lo que escribieron los residentes"},
    "feed_count": {"en": "{shown} of {total} comments (personal details removed).",
                   "es": "{shown} de {total} comentarios (sin datos personales)."},
    "hidden_min_n": {"en": "Comments are not shown here: fewer than {min_n} residents commented in {area} in {wave} "
                           "({n}), so a comment could point to a person.",
                     "es": "Los comentarios no se muestran aquí: menos de {min_n} residentes comentaron en {area} en "
                           "{wave} ({n}), así que un comentario podría identificar a una persona."},
    "hidden_theme": {"en": "Comments about this theme are not shown here: fewer than {min_n} residents wrote about it "
                           "in {area} in {wave} ({n}), so a comment could point to a person.",
                     "es": "Los comentarios sobre este tema no se muestran aquí: menos de {min_n} residentes escribieron "
                           "sobre él en {area} en {wave} ({n}), así que un comentario podría identificar a una persona."},
    "none": {"en": "No published comment matches this selection.",
             "es": "Ningún comentario publicado coincide con esta selección."},
    "kind_problem": {"en": "Problem", "es": "Problema"},
    "kind_service": {"en": "Service", "es": "Servicio"},
    "kind_conduct": {"en": "Police conduct", "es": "Conducta policial"},
    "kind_praise": {"en": "Praise", "es": "Elogio"},
    "kind_other": {"en": "Other", "es": "Otro"},
}


def _t(key: str, lang: str, **fmt: object) -> str:
    text = TEXT[key].get(lang) or TEXT[key]["en"]
    return text.format(**fmt) if fmt else text


def _table(data: Results, name: str, columns: list[str]) -> pd.DataFrame:
    """A comment table, or an empty one with ``columns`` when the store has none (results written
    before comments were coded, or by a project without open questions: read as a frame without columns)."""
    t = data.tables.get(name)
    if t is None or not set(columns) <= set(t.columns):
        return pd.DataFrame(columns=columns)
    return t


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
        t("wave", lang): st["wave"], t("area", lang): area_label(data, *split_area(st["area"]), lang),
        _t("theme", lang): d[lab], t("estimate", lang): d["estimate"].where(~sup),
        "ci_low": d["ci_low"].where(~sup), "ci_high": d["ci_high"].where(~sup),
        t("with_ci", lang, label=t("estimate", lang)): [fmt_row(r, "share", lang) for _, r in d.iterrows()],
        t("n", lang): d["n"], t("reliability", lang): d["reliability"],
        t("reason", lang): [reason_text(r, lang) for r in d["reliability_reason"]],
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
        return _t("hidden_min_n", lang, min_n=need, area=where, wave=wave_label(st["wave"], lang), n=n)
    if st["theme"] != "all":
        nt = cell_count(data, st, st["theme"])
        if nt < need:
            return _t("hidden_theme", lang, min_n=need, area=where, wave=wave_label(st["wave"], lang), n=nt)
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
    title = html.H2(_t("feed", lang))
    if hidden is not None:
        return html.Section([title, html.P(hidden, id=ids.section_table_id(PAGE, "feed-hidden"), className="note")],
                            className="comment-feed")
    rows = feed_rows(data, st)
    if rows.empty:
        return html.Section([title, html.P(_t("none", lang), className="note")], className="comment-feed")
    names = dict(zip(_themes(data)["theme"], _themes(data)[f"label_{lang}" if lang in ("en", "es") else "label_en"],
                     strict=True))
    shown = rows.head(FEED_MAX)
    items = [html.Li([html.Blockquote(str(r.text), **({"lang": str(r.language)} if r.language else {})),
                      html.P(" · ".join(names.get(x, x) for x in str(r.themes).split(";") if x), className="tags")],
                     className="comment") for r in shown.itertuples(index=False)]
    return html.Section([title, html.P(_t("feed_count", lang, shown=len(shown), total=len(rows)), className="note"),
                         html.Ul(items, id=ids.section_table_id(PAGE, "feed"), className="comment-list")],
                        className="comment-feed")


def content(data: Results, st: dict, lang: str) -> list:
    d = plain_reasons(_cell(data, st), lang)
    lab = f"label_{lang}" if f"label_{lang}" in d.columns else "label_en"
    where = area_label(data, *split_area(st["area"]), lang)
    kinds = {k: _t(f"kind_{k}", lang) for k in ("problem", "service", "conduct", "praise", "other")}
    fig = comment_themes_figure(d, label_col=lab, kind_labels=kinds, axis_label=_t("axis", lang),
                                title=_t("chart_title", lang, area=where, wave=wave_label(st["wave"], lang)),
                                suppressed_text=t("suppressed", lang), no_data=t("no_data", lang))
    tv = view_data(data, st, lang).drop(columns=[t("estimate", lang), "ci_low", "ci_high"])
    return [graph(PAGE, fig, _t("intro", lang), lang), table_view(tv, lang, PAGE), _feed(data, st, lang)]


def controls(data: Results, st: dict, lang: str) -> list:
    th = _themes(data).sort_values("position")
    lab = f"label_{lang}" if f"label_{lang}" in th.columns else "label_en"
    options = [{"label": _t("all_themes", lang), "value": "all"},
               *({"label": str(name), "value": str(theme)} for theme, name in zip(th["theme"], th[lab], strict=True))]
    return [
        wave_control(PAGE, data, st, lang),
        dropdown(PAGE, "area", t("area", lang), area_options(data, _estimates(data), lang, LEVELS) or
                 [{"label": t("city", lang), "value": area_key("city", "city")}], st["area"]),
        dropdown(PAGE, "theme", _t("theme", lang), options, st["theme"]),
    ]

"""The report's Comments section: what residents wrote, by theme (``comment_*`` results tables).

A themes table (each theme's share of the residents who commented, citywide, with its 95%
interval; suppressed shares without numbers, with the reason) and up to five example comments for
each of the top themes. Examples come only from cells that meet the minimum respondents (the
analysis' ``min_n``): the citywide count of residents who wrote about the theme in the wave must
reach it, and ``comment_feed`` holds no comment from a neighborhood below it. The comments are the
stored, redacted text. Read from results tables only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from survey_pipeline.results.tables import recorded_min_n

if TYPE_CHECKING:  # the section is built inside content.py
    from survey_pipeline.report.content import Section, _Ctx

__all__ = ["EXAMPLES", "TOP_THEMES", "comments_section"]

PREFIX = "comment_theme:"
TOP_THEMES = 5
EXAMPLES = 5

TEXT = {
    "title": {"en": "Comments", "es": "Comentarios"},
    "intro": {"en": "What residents wrote when asked what the police or the city could do, coded into themes by "
                    "keyword rules an analyst checked and corrected. Shares are of the residents who commented in "
                    "{wave} (weighted, 95% intervals); a comment can have several themes.",
              "es": "Lo que escribieron los residentes cuando se les preguntó qué podrían hacer la policía o la ciudad, "
                    "codificado en temas con reglas de palabras clave que un analista revisó y corrigió. Las proporciones "
                    "son de los residentes que comentaron en {wave} (ponderadas, intervalos del 95%); un comentario "
                    "puede tener varios temas."},
    "themes_title": {"en": "Comment themes, citywide", "es": "Temas de los comentarios, en toda la ciudad"},
    "theme": {"en": "Theme", "es": "Tema"},
    "share": {"en": "Share of commenters", "es": "Proporción de quienes comentaron"},
    "ci_low": {"en": "95% CI low", "es": "IC 95% inferior"},
    "ci_high": {"en": "95% CI high", "es": "IC 95% superior"},
    "n": {"en": "Residents who commented (n)", "es": "Residentes que comentaron (n)"},
    "reliability": {"en": "Reliability", "es": "Fiabilidad"},
    "note": {"en": "Note", "es": "Nota"},
    "examples_title": {"en": "Examples for the top themes", "es": "Ejemplos de los temas principales"},
    "area": {"en": "Neighborhood", "es": "Vecindario"},
    "comment": {"en": "Comment (personal details removed)", "es": "Comentario (sin datos personales)"},
    "examples_note": {"en": "Up to {k} comments per theme, only from areas and themes with at least {min_n} residents "
                            "who commented, so that no comment points to a person.",
                      "es": "Hasta {k} comentarios por tema, solo de zonas y temas con al menos {min_n} residentes que "
                            "comentaron, para que ningún comentario identifique a una persona."},
    "rel_ok": {"en": "reliable", "es": "fiable"},
    "rel_flag": {"en": "interpret with care", "es": "interpretar con cautela"},
    "rel_suppress": {"en": "suppressed", "es": "suprimido"},
}


def _t(key: str, lang: str, **fmt: object) -> str:
    text = TEXT[key].get(lang) or TEXT[key]["en"]
    return text.format(**fmt) if fmt else text


def examples(feed: pd.DataFrame, theme: str, k: int = EXAMPLES) -> pd.DataFrame:
    """Up to ``k`` comments with ``theme``, one neighborhood after another (round robin), so that the
    examples spread over the city; deterministic (feed order)."""
    has = feed[feed["themes"].fillna("").str.split(";").apply(lambda xs: theme in xs)]
    if has.empty:
        return has
    turn = has.groupby("neighborhood", sort=False, dropna=False).cumcount()
    return has.assign(_turn=turn.to_numpy()).sort_values(["_turn", "neighborhood"], kind="stable").head(k)


def comments_section(ctx: _Ctx) -> Section | None:
    """The Comments section of the report's wave, or None when the results have no comment themes."""
    from survey_pipeline.report.content import Column, Section, Table

    themes = ctx.tables.get("comment_themes", pd.DataFrame())
    if themes is None or themes.empty:
        return None
    lang = ctx.lang
    est = ctx.est[(ctx.est["area_level"] == "city") & ctx.est["indicator"].astype(str).str.startswith(PREFIX)]
    if est.empty:
        return None
    lab = f"label_{lang}" if f"label_{lang}" in themes.columns else "label_en"
    d = est.merge(themes[["indicator", "theme", "kind", lab]].rename(columns={lab: "label"}), on="indicator")
    sup = d["reliability"].eq("suppress")
    d["_order"] = d["estimate"].where(~sup, -1.0)
    d = d.sort_values(["_order", "label"], ascending=[False, True], kind="stable").reset_index(drop=True)
    sup = d["reliability"].eq("suppress")
    for c in ("estimate", "ci_low", "ci_high"):
        d[c] = d[c].where(~sup)
    d["_suppressed"] = sup.to_numpy()
    d["rel_text"] = d["reliability"].map(lambda r: _t(f"rel_{r}", lang) if r in ("ok", "flag", "suppress") else "")
    d["note"] = d["reliability_reason"].where(sup, None)
    table = Table("comment_themes", _t("themes_title", lang), d, [
        Column("label", _t("theme", lang)), Column("estimate", _t("share", lang), "pct"),
        Column("ci_low", _t("ci_low", lang), "pct"), Column("ci_high", _t("ci_high", lang), "pct"),
        Column("n", _t("n", lang), "int"), Column("rel_text", _t("reliability", lang)), Column("note", _t("note", lang))],
        row_header="label")
    tables = [table]
    min_n = recorded_min_n(ctx.tables)
    cells = ctx.tables.get("comment_cells", pd.DataFrame())
    feed = ctx.wave_rows("comment_feed")
    if not cells.empty and not feed.empty:
        city = cells[(cells["wave"] == ctx.wave) & (cells["area_level"] == "city")]
        count = dict(zip(city["theme"], city["respondents"], strict=True))
        top = [r for r in d[~d["_suppressed"]].itertuples() if r.theme != "other"
               and count.get("all", 0) >= min_n and count.get(r.theme, 0) >= min_n][:TOP_THEMES]
        rows = []
        for r in top:
            for e in examples(feed, r.theme).itertuples():
                rows.append({"label": r.label, "area_text": ctx.area("neighborhood", str(e.neighborhood)),
                             "text": e.text, "theme_key": r.theme})
        if rows:
            tables.append(Table("comment_examples", _t("examples_title", lang), pd.DataFrame(rows), [
                Column("label", _t("theme", lang)), Column("area_text", _t("area", lang)),
                Column("text", _t("comment", lang))], split_by="theme_key", row_header="label",
                split_drop=("label",), note=_t("examples_note", lang, k=EXAMPLES, min_n=min_n)))
    return Section("comments", _t("title", lang), intro=_t("intro", lang, wave=ctx.wl(ctx.wave)), tables=tables)

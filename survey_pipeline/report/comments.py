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

from survey_pipeline.i18n import N_, t
from survey_pipeline.results.tables import recorded_min_n

if TYPE_CHECKING:  # the section is built inside content.py
    from survey_pipeline.report.content import Section, _Ctx

__all__ = ["EXAMPLES", "TOP_THEMES", "comments_section"]

PREFIX = "comment_theme:"
TOP_THEMES = 5
EXAMPLES = 5

RELIABILITY = {"ok": N_("reliable"), "flag": N_("interpret with care"), "suppress": N_("suppressed")}


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
    d["rel_text"] = d["reliability"].map(lambda r: t(RELIABILITY[r], lang) if r in RELIABILITY else "")
    d["note"] = d["reliability_reason"].where(sup, None)
    table = Table("comment_themes", t("Comment themes, citywide", lang), d, [
        Column("label", t("Theme", lang)), Column("estimate", t("Share of commenters", lang), "pct"),
        Column("ci_low", t("95% CI low", lang), "pct"), Column("ci_high", t("95% CI high", lang), "pct"),
        Column("n", t("Residents who commented (n)", lang), "int"), Column("rel_text", t("Reliability", lang)), Column("note", t("Note", lang))],
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
            tables.append(Table("comment_examples", t("Examples for the top themes", lang), pd.DataFrame(rows), [
                Column("label", t("Theme", lang)), Column("area_text", t("Neighborhood", lang)),
                Column("text", t("Comment (personal details removed)", lang))], split_by="theme_key", row_header="label",
                split_drop=("label",), note=t("Up to {k} comments per theme, only from areas and themes with at least {min_n} residents who commented, so that no comment points to a person.", lang, k=EXAMPLES, min_n=min_n)))
    return Section("comments", t("Comments", lang), intro=t("What residents wrote when asked what the police or the city could do, coded into themes by keyword rules an analyst checked and corrected. Shares are of the residents who commented in {wave} (weighted, 95% intervals); a comment can have several themes.", lang, wave=ctx.wl(ctx.wave)), tables=tables)

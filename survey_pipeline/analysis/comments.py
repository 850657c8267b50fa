"""Residents' comments coded into themes, corrected by an analyst, and estimated like any indicator.

The method is a lexicon, on purpose: every code says which keyword gave it, so an analyst can see
why a comment got a theme and correct it (``survey-pipeline comments export`` / ``import``).

* **Lexicon** (:func:`load_lexicon`): ``comment_themes.yaml`` shipped beside the instruments (the
  problems of ``problems.yaml``, the city services no problem covers, ``praise``,
  ``police_conduct`` and ``other``). A project overrides it with its own ``comment_themes.yaml`` in
  the project folder. The file's header documents the matching rules.
* **Coding** (:func:`code_comments`): text normalised (lower case, no accents, punctuation to
  spaces), each theme's keywords of the comment's language tried at word starts; a comment that
  matches none in its language is tried in the other languages; ``not:`` patterns cancel a theme;
  a comment nothing matches is ``other``. Pure: texts in, tidy codes out.
* **Corrections** (:func:`apply_reviews`): a reviewed comment's themes are the analyst's, whatever
  the lexicon says; they are kept in the store (``comment_reviews``) and win on every rerun.
* **Estimates** (:func:`comment_specs`, :func:`respondent_themes`): indicator
  ``comment_theme:<id>`` is the weighted share of respondents **who commented** (any open-text
  question) whose comments have the theme: a share among commenters, not among all residents.
  Non-commenters are not valid answers (NaN), so the estimate is a domain mean on the full design
  with the same intervals and reliability rules as every other share.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from survey_pipeline.analysis.wording import THEME_WORDING, in_language
from survey_pipeline.errors import CommentsError, Problem

from .indicators import IndicatorSpec

__all__ = [
    "CODE_COLUMNS",
    "OTHER",
    "THEME_PREFIX",
    "Lexicon",
    "Theme",
    "apply_reviews",
    "code_comments",
    "comment_specs",
    "load_lexicon",
    "normalize_text",
    "respondent_themes",
    "theme_column",
]

THEME_PREFIX = "comment_theme:"
OTHER = "other"
CODE_COLUMNS = ["comment_id", "theme", "rule"]
LEXICON_FILE = "comment_themes.yaml"
KINDS = ("problem", "service", "praise", "conduct", "other")


def theme_column(theme: str) -> str:
    """The frame column holding a theme's 0/1 value per respondent."""
    return f"_comment_theme__{theme}"


@dataclass(frozen=True)
class Theme:
    """One theme: its id, kind, owning department, labels and compiled keywords per language."""

    id: str
    kind: str
    department: str
    label: dict[str, str]
    keywords: dict[str, tuple[tuple[str, re.Pattern], ...]]
    exclude: dict[str, tuple[tuple[str, re.Pattern], ...]]


@dataclass(frozen=True)
class Lexicon:
    """The themes, in file order, and the file they came from."""

    themes: tuple[Theme, ...]
    path: str

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def theme(self, theme_id: str) -> Theme:
        return next(t for t in self.themes if t.id == theme_id)


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize_text(text: object) -> str:
    """Lower case, accents removed, every run of characters other than a-z, 0-9 one space."""
    s = unicodedata.normalize("NFKD", str(text or "").lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " " + _NON_ALNUM.sub(" ", s).strip() + " "


def bundled_lexicon_path() -> Path:
    return Path(str(resources.files("survey_pipeline") / "_instruments" / LEXICON_FILE))


def lexicon_path(project_root: str | Path | None = None) -> Path:
    """The project's ``comment_themes.yaml`` when it has one, else the bundled lexicon."""
    if project_root is not None:
        own = Path(project_root) / LEXICON_FILE
        if own.exists():
            return own
    return bundled_lexicon_path()


def _compile(path: str, theme: str, key: str, lang: str, pats: object, probs: list[Problem]):
    out = []
    if not isinstance(pats, list):
        probs.append(Problem(file=path, column=f"themes.{theme}.{key}.{lang}", rule="keywords-not-a-list",
                             message=f"theme '{theme}': {key}.{lang} is not a list.",
                             fix=f"Write {key}.{lang} as a list of patterns: ['patrol', 'more police']."))
        return ()
    for p in pats:
        try:
            out.append((str(p), re.compile(r"(?<![a-z0-9])" + str(p))))
        except re.error as exc:
            probs.append(Problem(file=path, column=f"themes.{theme}.{key}.{lang}", rule="bad-pattern",
                                 message=f"theme '{theme}': pattern {p!r} is not a regular expression ({exc}).",
                                 fix="Fix the pattern (escape ( ) [ ] . * + ? with a backslash when meant literally)."))
    return tuple(out)


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read and check a theme lexicon (default: the bundled one); every problem reported at once.

    Raises
    ------
    CommentsError
        The file is missing or not YAML, a theme lacks an id or a label, an id repeats, a kind is
        unknown, or a pattern is not a regular expression.
    """
    p = Path(path) if path is not None else bundled_lexicon_path()
    where = str(p)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommentsError(f"{where}: cannot read the comment themes ({exc.strerror}).", file=where,
                            rule="lexicon-unreadable", fix="Check the path, or delete the project's copy to use the bundled lexicon.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise CommentsError(f"{where}{line}: the comment themes are not valid YAML ({exc}).", file=where,
                            rule="lexicon-not-yaml", fix="Fix the YAML syntax (indentation, quotes) at that line.") from exc
    probs: list[Problem] = []
    raw = doc.get("themes") if isinstance(doc, dict) else None
    if not isinstance(raw, list) or not raw:
        raise CommentsError(f"{where}: no 'themes:' list.", file=where, rule="lexicon-no-themes",
                            fix="Start from the bundled survey_pipeline/_instruments/comment_themes.yaml.")
    themes, seen = [], set()
    for i, t in enumerate(raw):
        tid = str(t.get("id", "")) if isinstance(t, dict) else ""
        col = f"themes[{i}]"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", tid):
            probs.append(Problem(file=where, column=f"{col}.id", rule="bad-theme-id",
                                 message=f"theme {i + 1} has no valid id ({tid!r}).",
                                 fix="Give each theme an id in snake_case: id: police_services."))
            continue
        if tid in seen:
            probs.append(Problem(file=where, column=f"{col}.id", rule="duplicate-theme",
                                 message=f"theme '{tid}' is listed twice.", fix="Merge the two entries or rename one."))
            continue
        seen.add(tid)
        kind = str(t.get("kind", ""))
        if kind not in KINDS:
            probs.append(Problem(file=where, column=f"{col}.kind", rule="bad-theme-kind",
                                 message=f"theme '{tid}': kind {kind!r} is unknown.",
                                 fix=f"Use one of: {', '.join(KINDS)}."))
        label = t.get("label")
        if not isinstance(label, dict) or not label:
            probs.append(Problem(file=where, column=f"{col}.label", rule="missing-label",
                                 message=f"theme '{tid}' has no label.", fix='Add label: {en: "...", es: "..."}.'))
            label = {"en": tid}
        kw = t.get("keywords") or {}
        ex = t.get("not") or {}
        keywords = {str(lg): _compile(where, tid, "keywords", str(lg), pats, probs) for lg, pats in kw.items()}
        exclude = {str(lg): _compile(where, tid, "not", str(lg), pats, probs) for lg, pats in ex.items()}
        if tid != OTHER and not any(keywords.values()):
            probs.append(Problem(file=where, column=f"{col}.keywords", rule="no-keywords",
                                 message=f"theme '{tid}' has no keywords, so no comment can get it.",
                                 fix="Add keywords per language (en: [...], es: [...]), or delete the theme."))
        themes.append(Theme(tid, kind, str(t.get("department") or ""), {str(k): str(v) for k, v in label.items()},
                            keywords, exclude))
    if OTHER not in seen:
        probs.append(Problem(file=where, column="themes", rule="no-other-theme",
                             message="the lexicon has no 'other' theme (given to a comment nothing else matched).",
                             fix="Add: - {id: other, kind: other, label: {en: Other, es: Otro}}."))
    if probs:
        raise CommentsError(f"{where}: {len(probs)} problem(s) in the comment themes.", probs, file=where,
                            rule=probs[0].rule, fix=probs[0].fix)
    return Lexicon(tuple(themes), where)


def code_comments(texts: pd.Series, lang: pd.Series | str, lexicon: Lexicon) -> pd.DataFrame:
    """Code comments into themes: one row per (comment, theme) with the rule that matched.

    Parameters
    ----------
    texts : Series of str
        The (redacted) comments; the index is the comment id.
    lang : Series of str or str
        Each comment's language (its respondent's survey language), aligned on ``texts``; a code
        the lexicon has no keywords for is coded with every language's keywords.
    lexicon : Lexicon

    Returns
    -------
    DataFrame
        ``comment_id, theme, rule``: ``rule`` is ``<language>:<keyword>`` (``other``: "no keyword
        matched"). Blank comments get no row. Rows in comment order, themes in lexicon order.
    """
    langs = pd.Series(lang, index=texts.index) if isinstance(lang, str) else lang.reindex(texts.index)
    all_langs = sorted({lg for t in lexicon.themes for lg in t.keywords})
    raw = texts.astype(object).where(texts.notna(), "").astype(str)
    keep = raw.str.strip() != ""
    # a comment's codes depend only on its normalised text and its language: each distinct
    # text is normalised once, and each distinct (text, language) coded once, then repeated
    # ("no", "none", "more patrols" ... recur; the same codes as coding every comment)
    inv, distinct = pd.factorize(raw[keep].to_numpy(dtype=object))
    norm = pd.Series(np.array([normalize_text(t) for t in distinct] + [""], dtype=object)[inv],
                     index=raw.index[keep], dtype=object)
    lg = langs[keep].astype(object).where(langs[keep].isin(all_langs), None)
    ids, _pairs = pd.factorize(norm.to_numpy(dtype=object) + "\0" + lg.fillna("\1").to_numpy(dtype=object))
    first = np.unique(ids, return_index=True)[1]  # each pair's first comment, in the order of first sight
    unorm = norm.iloc[first].reset_index(drop=True)
    ulg = lg.iloc[first].reset_index(drop=True)
    # vectorised: each theme's keywords tried over all distinct comments at once (no loop over comments)
    uown = _code_all(unorm, ulg, lexicon, all_langs, fallback=False)
    matched = uown.notna().any(axis=1)
    retry = ~matched & ulg.notna()
    if retry.any():
        other = _code_all(unorm[retry], ulg[retry], lexicon, all_langs, fallback=True)
        uown.loc[retry] = other
    own = uown.iloc[ids].set_axis(norm.index)
    rows = own.rename_axis("comment_id").reset_index().melt(id_vars="comment_id", var_name="theme",
                                                            value_name="rule").dropna(subset=["rule"])
    none = own.index[own.isna().all(axis=1)]
    rows = pd.concat([rows, pd.DataFrame({"comment_id": none, "theme": OTHER, "rule": "no keyword matched"})],
                     ignore_index=True)
    order = {c: i for i, c in enumerate(norm.index)}
    tpos = {t: i for i, t in enumerate(lexicon.ids)}
    rows = rows.assign(_c=rows["comment_id"].map(order), _t=rows["theme"].map(tpos))
    return rows.sort_values(["_c", "_t"], kind="stable")[CODE_COLUMNS].reset_index(drop=True)


_COMBINED: dict[tuple[tuple[str, ...], str], tuple[re.Pattern, dict[str, str]]] = {}


def _combined(pats: tuple[tuple[str, re.Pattern], ...], lang: str) -> tuple[re.Pattern, dict[str, str]]:
    """One alternation of ``pats`` (each a named group ``k<i>``), and each group's rule text: one
    pass of the regex engine per comment instead of one per keyword."""
    key = (tuple(src for src, _ in pats), lang)
    if key not in _COMBINED:
        body = "|".join(f"(?P<k{i}>{src})" for i, (src, _) in enumerate(pats))
        _COMBINED[key] = (re.compile(r"(?<![a-z0-9])(?:" + body + ")"),
                          {f"k{i}": f"{lang}:{src}" for i, (src, _) in enumerate(pats)})
    return _COMBINED[key]


def _first_match(norm: pd.Series, pats: tuple[tuple[str, re.Pattern], ...], lang: str) -> pd.Series:
    """Per comment, ``<lang>:<pattern>`` of a pattern of ``pats`` found (the leftmost match), else NaN."""
    if not pats or norm.empty:
        return pd.Series(np.nan, index=norm.index, dtype=object)
    rx, names = _combined(pats, lang)

    def rule(text: str) -> object:
        m = rx.search(text)
        return names[m.lastgroup] if m is not None else np.nan

    return norm.map(rule).astype(object)


def _code_all(norm: pd.Series, lg: pd.Series, lexicon: Lexicon, all_langs: list[str], *, fallback: bool) -> pd.DataFrame:
    """One column per theme: the rule that gave it (NaN: not coded). Without ``fallback`` a comment
    is tried with its own language's keywords (all languages when its language is unknown); with
    it, with every language but its own."""
    cols = {}
    for th in lexicon.themes:
        if th.id == OTHER:
            continue
        got = pd.Series(np.nan, index=norm.index, dtype=object)
        for lang in all_langs:
            who = (lg != lang) if fallback else ((lg == lang) | lg.isna())
            who &= got.isna()
            if not who.any():
                continue
            hit = _first_match(norm[who], th.keywords.get(lang, ()), lang)
            ex = th.exclude.get(lang, ())
            if ex and hit.notna().any():
                cancel = _first_match(norm[who][hit.notna()], ex, lang).notna()
                hit[cancel[cancel].index] = np.nan
            got[hit.index] = got[hit.index].where(got[hit.index].notna(), hit)
        cols[th.id] = got
    return pd.DataFrame(cols, index=norm.index)


def apply_reviews(codes: pd.DataFrame, reviews: pd.DataFrame | None) -> pd.DataFrame:
    """The lexicon's codes with the analyst's corrections winning.

    ``codes``: ``response_id, wave, variable, theme, rule``; ``reviews``: ``response_id, wave,
    variable, theme`` (the full set of themes of each reviewed comment; a reviewed comment with
    no theme has one row with ``theme`` empty). A reviewed comment's codes are replaced by its
    review (rule ``review``); the others keep the lexicon's. Adds ``source`` (``lexicon`` or
    ``review``).
    """
    keys = ["response_id", "wave", "variable"]
    out = codes.assign(source="lexicon")
    if reviews is None or reviews.empty:
        return out
    rk = reviews[keys].drop_duplicates()
    hit = out[keys].merge(rk.assign(_r=True), on=keys, how="left")["_r"].fillna(False).to_numpy(bool)
    rev = reviews[reviews["theme"].fillna("").astype(str) != ""]
    rev = rev.assign(rule="review", source="review")[[*keys, "theme", "rule", "source"]]
    return pd.concat([out[~hit], rev], ignore_index=True).sort_values([*keys, "theme"], kind="stable").reset_index(drop=True)


def respondent_themes(codes: pd.DataFrame, comments: pd.DataFrame, lexicon: Lexicon) -> pd.DataFrame:
    """Per respondent who commented: 1 when any of their comments has the theme, else 0.

    ``comments``: ``response_id, wave, variable, text`` (non-blank); ``codes`` as
    :func:`apply_reviews` returns. One row per (response_id, wave) that commented, one column
    per theme (:func:`theme_column`).
    """
    keys = ["response_id", "wave"]
    who = comments.loc[comments["text"].fillna("").astype(str).str.strip() != "", keys].drop_duplicates()
    out = who.reset_index(drop=True)
    got = codes[[*keys, "theme"]].drop_duplicates()
    for th in lexicon.ids:
        has = got.loc[got["theme"] == th, keys].assign(_v=1.0)
        out[theme_column(th)] = out[keys].merge(has, on=keys, how="left")["_v"].fillna(0.0).to_numpy()
    return out


def comment_specs(lexicon: Lexicon, languages: list[str]) -> list[IndicatorSpec]:
    """One share indicator per theme: ``comment_theme:<id>``, among respondents who commented."""
    out = []
    for th in lexicon.themes:
        label = {lg: th.label.get(lg, th.label.get("en", th.id)) for lg in languages}
        wording = {lg: in_language(THEME_WORDING, lg, label=label[lg]) for lg in languages}
        out.append(IndicatorSpec(
            indicator=THEME_PREFIX + th.id, topic="comment", statistic="share", kind="item",
            variables=(theme_column(th.id),),
            definition=(f"share of respondents who commented (any open-text question) whose comments are coded "
                        f"'{th.id}' (lexicon {Path(lexicon.path).name}, analyst corrections win)"),
            label=label, wording=wording, department=th.department or None,
            higher_is_better=th.kind == "praise", positive=(1.0,), code_range=(0.0, 1.0)))
    return out


# ------------------------------------------------------------------------------------------
# the store side: reviews kept across runs, inputs of the analysis, its tables

REVIEW_TABLE = "comment_reviews"
REVIEW_COLUMNS = ["response_id", "wave", "variable", "theme", "source_file", "imported_at"]
FEED_COLUMNS = ["wave", "district", "neighborhood", "variable", "language", "text", "themes"]
CODE_TABLE_COLUMNS = ["response_id", "wave", "variable", "theme", "rule", "source"]
THEME_TABLE_COLUMNS = ["theme", "indicator", "kind", "department", "label_en", "label_es", "position"]


@dataclass
class CommentData:
    """What the analysis needs of the comments: the lexicon, the comments of the analysed
    respondents (``response_id, wave, variable, text, language``) and their final codes."""

    lexicon: Lexicon
    texts: pd.DataFrame
    codes: pd.DataFrame

    def themes_wide(self) -> pd.DataFrame:
        return respondent_themes(self.codes, self.texts, self.lexicon)


def read_reviews(store) -> pd.DataFrame | None:
    """The stored corrections (``comment_reviews``), or None when there are none yet."""
    got = store.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = ?", [REVIEW_TABLE])
    if int(got["n"].iloc[0]) == 0:
        return None
    return store.query(f"SELECT * FROM {REVIEW_TABLE} ORDER BY wave, response_id, variable, theme")


def read_comments(store, waves: list[str]) -> pd.DataFrame:
    """Non-blank open text of ``waves`` with each respondent's survey language."""
    marks = ", ".join("?" for _ in waves)
    return store.query(
        "SELECT o.response_id, o.wave, o.variable, o.text, r.survey_language AS language "
        f"FROM open_text o JOIN responses r ON r.response_id = o.response_id WHERE o.wave IN ({marks}) "
        "AND trim(o.text) <> '' ORDER BY o.wave, o.response_id, o.variable", list(waves))


def comment_data(texts: pd.DataFrame, reviews: pd.DataFrame | None, lexicon: Lexicon,
                 keep: pd.DataFrame | None = None) -> CommentData:
    """Code ``texts`` with ``lexicon`` and let ``reviews`` win. ``keep`` (``response_id, wave``)
    restricts the comments to the analysed respondents."""
    t = texts.reset_index(drop=True)
    if keep is not None:
        t = t.merge(keep[["response_id", "wave"]].drop_duplicates(), on=["response_id", "wave"])
    t = t.reset_index(drop=True)
    lang = t["language"].fillna("").astype(str).str.lower().str[:2]
    codes = code_comments(t["text"], lang, lexicon)
    ids = codes["comment_id"].to_numpy(int)
    codes = pd.DataFrame({"response_id": t["response_id"].to_numpy()[ids], "wave": t["wave"].to_numpy()[ids],
                          "variable": t["variable"].to_numpy()[ids], "theme": codes["theme"].to_numpy(),
                          "rule": codes["rule"].to_numpy()})
    if reviews is not None and len(reviews):
        reviews = reviews.merge(t[["response_id", "wave", "variable"]], on=["response_id", "wave", "variable"])
    return CommentData(lexicon, t.assign(language=lang), apply_reviews(codes, reviews))


def themes_table(lexicon: Lexicon) -> pd.DataFrame:
    """The ``comment_themes`` results table: the lexicon's themes in order, with their labels."""
    return pd.DataFrame([{"theme": t.id, "indicator": THEME_PREFIX + t.id, "kind": t.kind, "department": t.department,
                          "label_en": t.label.get("en", t.id), "label_es": t.label.get("es", t.label.get("en", t.id)),
                          "position": i} for i, t in enumerate(lexicon.themes)], columns=THEME_TABLE_COLUMNS)


def feed_table(data: CommentData, frame: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """The ``comment_feed`` results table: the redacted comments the dashboard and report may show.

    A comment is published only when its neighborhood has at least ``min_n`` analysed respondents
    in its wave (so no comment is tied to a small area); the page then applies the same rule to the
    cell a reader selects (see ``dash_app/pages/comments.py``). No response id is published.
    """
    if data.texts.empty:
        return pd.DataFrame(columns=FEED_COLUMNS)
    cols = [c for c in ("district", "neighborhood") if c in frame.columns]
    where = frame[["response_id", "wave", *cols]].copy()
    for c in ("district", "neighborhood"):
        if c not in where.columns:
            where[c] = None
    size = where.groupby(["wave", "neighborhood"], dropna=True).size().rename("_n").reset_index()
    t = data.texts.merge(where, on=["response_id", "wave"]).merge(size, on=["wave", "neighborhood"], how="left")
    t = t[t["_n"].fillna(0) >= min_n]
    themes = data.codes.groupby(["response_id", "wave", "variable"])["theme"].agg(
        lambda s: ";".join(sorted(set(s)))).rename("themes").reset_index()
    t = t.merge(themes, on=["response_id", "wave", "variable"], how="left")
    t["themes"] = t["themes"].fillna("")
    return t.sort_values(["wave", "district", "neighborhood", "response_id", "variable"], kind="stable")[FEED_COLUMNS] \
        .reset_index(drop=True)


CELL_COLUMNS = ["wave", "area_level", "area", "theme", "respondents"]


def cells_table(frame: pd.DataFrame, lexicon: Lexicon) -> pd.DataFrame:
    """The ``comment_cells`` results table: unweighted counts of analysed respondents who commented
    (``theme = 'all'``) and who commented on each theme, per wave and area (city, districts,
    neighborhoods). The dashboard and the report show comments of a cell only when its count
    reaches ``min_n`` (the small-cell rule)."""
    cols = [theme_column(t) for t in lexicon.ids]
    have = [c for c in cols if c in frame.columns]
    if not have:
        return pd.DataFrame(columns=CELL_COLUMNS)
    x = frame[have].notna().any(axis=1).astype(float).to_frame("all")
    x = pd.concat([x, frame[have].fillna(0.0).rename(columns=dict(zip(have, lexicon.ids, strict=False)))], axis=1)
    out = []
    for level in ("city", "district", "neighborhood"):
        if level != "city" and level not in frame.columns:
            continue
        keys = [frame["wave"].astype(str)] + ([] if level == "city" else [frame[level].astype(object)])
        g = x.groupby(keys, dropna=True).sum()
        long = g.stack().rename("respondents").reset_index()
        long.columns = ["wave", "theme", "respondents"] if level == "city" else ["wave", "area", "theme", "respondents"]
        if level == "city":
            long.insert(1, "area", "city")
        long.insert(1, "area_level", level)
        out.append(long[CELL_COLUMNS])
    res = pd.concat(out, ignore_index=True)
    res["respondents"] = res["respondents"].round().astype("int64")
    res["area"] = res["area"].astype(str)
    return res.sort_values(["wave", "area_level", "area", "theme"], kind="stable").reset_index(drop=True)

"""The report as one self-contained, accessible HTML page.

Inline CSS only: no external stylesheet, script, font or image, so the page opens offline and
prints as is. The page declares its language, every table has a caption and header cells with
``scope``, suppressed cells say so in text (not only in colour), and shares carry a small inline SVG
bar.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from survey_pipeline.i18n import fmt_int, fmt_number, fmt_percent, t, use_locales
from survey_pipeline.report.content import Column, Report, Section, Table

__all__ = ["format_value", "render_html", "write_html"]

CSS = """
:root { --ink: #1b1b1b; --muted: #555; --line: #c8c8c8; --head: #e8eef6; --sup: #ececec; --bar: #2f5d8a; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 3rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: .5rem 0 .25rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--bar); padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; }
p.intro, p.meta { color: var(--muted); }
nav ol { columns: 2; padding-left: 1.2rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .4rem 0 1.4rem; font-size: .86rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; caption-side: top; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; vertical-align: top; }
thead th { background: var(--head); text-align: left; }
tbody th { text-align: left; font-weight: 500; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.suppressed td, tr.suppressed th { background: var(--sup); color: var(--muted); }
svg.bar { vertical-align: middle; margin-left: .35rem; width: 60px; height: 8px; }
svg.bar rect { fill: #e2e2e2; }
svg.bar rect + rect { fill: var(--bar); }
.legend { border-left: 4px solid var(--bar); padding: .3rem .8rem; background: #f6f8fb; }
.legend ul { margin: .3rem 0; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
a { color: var(--bar); }
@page { size: landscape; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  .scroll { overflow: visible; }
  section { break-before: page; }
  section#summary { break-before: auto; }
  table { font-size: 8pt; }
  thead { display: table-header-group; }
  tr, caption { break-inside: avoid; }
  .legend { background: none; }
}
"""


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def format_value(v: object, kind: str, stat: object = None, lang: str = "en") -> str:
    """A number as the page shows it (``58.9%``, ``+3.9 pp``, ``3.11``, ``1,235``); '' when missing."""
    if _missing(v):
        return ""
    if isinstance(v, np.generic):
        v = v.item()
    if kind == "stat":
        kind = "pct" if stat == "share" else "num"
    elif kind == "dstat":
        kind = "pp" if stat == "share" else "dnum"
    if not isinstance(v, int | float) or isinstance(v, bool):
        return str(v)
    text = {"pct": lambda x: fmt_percent(x, lang, 1), "pct2": lambda x: fmt_percent(x, lang, 2),
            "pp": lambda x: t("{value} pp", lang, value=fmt_number(x * 100, lang, 1, sign=True)),
            "num": lambda x: fmt_number(x, lang, 2), "dnum": lambda x: fmt_number(x, lang, 2, sign=True),
            "int": lambda x: fmt_int(x, lang), "p": lambda x: fmt_number(x, lang, 3)}
    return text[kind](float(v)) if kind in text else str(v)


def _bar(share: float) -> str:
    w = max(0.0, min(1.0, float(share))) * 60
    return f'<svg class="bar" viewBox="0 0 60 8" aria-hidden="true"><rect width="60" height="8"/><rect width="{w:.1f}" height="8"/></svg>'


def _units(cols: list[Column], lang: str) -> list[tuple[Column, Column | None, str]]:
    """Columns as shown: an interval's low and high limits (``*ci_low`` then ``*ci_high``) become one
    "95% CI" column on the page (the workbook keeps them apart, as numbers)."""
    out: list[tuple[Column, Column | None, str]] = []
    k = 0
    while k < len(cols):
        c = cols[k]
        nxt = cols[k + 1] if k + 1 < len(cols) else None
        if c.key.endswith("ci_low") and nxt is not None and nxt.key == c.key[:-3] + "high":
            title = t("95% CI", lang) if c.key == "ci_low" else t("95% CI of the change", lang)
            out.append((c, nxt, title))
            k += 2
        else:
            out.append((c, None, c.title))
            k += 1
    return out


def _table(tb: Table, caption: str, frame: pd.DataFrame, cols: list[Column], lang: str) -> str:
    units = _units(cols, lang)
    head = "".join(f'<th scope="col">{escape(title)}</th>' for _, _, title in units)
    stats = frame["_stat"].tolist() if "_stat" in frame.columns else [None] * len(frame)
    sup = frame["_suppressed"].tolist() if "_suppressed" in frame.columns else [False] * len(frame)
    data = {c.key: (frame[c.key].tolist() if c.key in frame.columns else [None] * len(frame))
            for unit in units for c in unit[:2] if c is not None}
    rows = []
    for i in range(len(frame)):
        cells = []
        for c, high, _ in units:
            v = data[c.key][i]
            if high is not None:
                lo = format_value(v, c.kind, stats[i], lang)
                hi = format_value(data[high.key][i], high.kind, stats[i], lang)
                cells.append(f'<td class="num">{escape(t("{low} to {high}", lang, low=lo, high=hi)) if lo and hi else ""}</td>')
                continue
            if c.kind == "text":
                body = "" if _missing(v) else escape(str(v))
                tag = "th" if c.key == tb.row_header else "td"
                scope = ' scope="row"' if tag == "th" else ""
                cells.append(f"<{tag}{scope}>{body}</{tag}>")
            else:
                body = escape(format_value(v, c.kind, stats[i], lang))
                if c.key == "estimate" and not _missing(v) and (c.kind == "pct" or (c.kind == "stat" and stats[i] == "share")):
                    body += _bar(v)
                if sup[i] and _missing(v) and c.key in ("estimate", "chg", "rest"):
                    body = "–"
                cells.append(f'<td class="num">{body}</td>')
        cls = ' class="suppressed"' if sup[i] else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _tables(tb: Table, lang: str) -> str:
    if tb.split_by and tb.split_by in tb.frame.columns and len(tb.frame):
        cols = [c for c in tb.columns if c.key != tb.split_by and c.key not in tb.split_drop]
        parts = []
        for value, g in tb.frame.groupby(tb.split_by, sort=False):
            parts.append(_table(tb, f"{tb.title}: {value}", g, cols, lang))
        return "".join(parts)
    if tb.frame.empty:
        return f"<h3>{escape(tb.title)}</h3><p>–</p>"
    return _table(tb, tb.title, tb.frame, tb.columns, lang)


def _section(s: Section, lang: str) -> str:
    out = [f'<section id="{escape(s.key)}" aria-labelledby="h-{escape(s.key)}">',
           f'<h2 id="h-{escape(s.key)}">{escape(s.title)}</h2>']
    if s.intro:
        out.append(f'<p class="intro">{escape(s.intro)}</p>')
    if s.facts:
        out.append('<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in s.facts)
                   + "</dl>")
    for tb in s.tables:
        out.append(_tables(tb, lang))
        if tb.note:
            out.append(f"<p>{escape(tb.note)}</p>")
    if s.bullets:
        out.append(f"<h3>{escape(s.bullets_title)}</h3><ul class=\"findings\">"
                   + "".join(f"<li>{escape(b)}</li>" for b in s.bullets) + "</ul>")
    if s.legend and s.key == "summary":
        out.append(f'<div class="legend"><h3>{escape(t("How to read this report", lang))}</h3><ul>'
                   + "".join(f"<li>{escape(x)}</li>" for x in s.legend) + "</ul></div>")
    out.append("</section>")
    return "\n".join(out)


def render_html(report: Report) -> str:
    """The whole page as a string, its numbers in the report's locales."""
    with use_locales(report.locales):
        return _render(report)


def _render(report: Report) -> str:
    lang = report.language
    title = f"{report.title}: {report.project}, {report.wave_label}"
    nav = "".join(f'<li><a href="#{escape(s.key)}">{escape(s.title)}</a></li>' for s in report.sections)
    body = "\n".join(_section(s, lang) for s in report.sections)
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n"
            f"<h1>{escape(report.title)}</h1>\n"
            f'<p class="meta">{escape(report.project)} · {escape(t("Wave", lang))}: {escape(report.wave_label)}</p>\n'
            f"</header>\n<nav aria-label=\"{escape(t('Contents', lang))}\"><h2>{escape(t('Contents', lang))}</h2>"
            f"<ol>{nav}</ol></nav>\n<main>\n{body}\n</main>\n"
            f"<footer><p>{escape(t('Made by survey-pipeline from the results tables only.', lang))}</p></footer>\n</body>\n</html>\n")


def write_html(report: Report, out: str | Path) -> Path:
    """Write ``report`` as one self-contained UTF-8 HTML page at ``out``."""
    out = Path(out)
    out.write_text(render_html(report), encoding="utf-8")
    return out

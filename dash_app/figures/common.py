"""Shared pieces of the figure builders: the Okabe–Ito palette, number formats, base layout."""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any

import plotly.graph_objects as go

from survey_pipeline.i18n import fmt_number, fmt_percent

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Yellow (#F0E442) is left out of lines and markers: too light on white (WCAG).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
CITY_COLOR = "#000000"
SUPPRESSED_COLOR = "#BDBDBD"
FLAG_COLOR = "#D55E00"
# Sequential scale for maps: Viridis is perceptually uniform and readable with colour-vision
# deficiency, and unlike Cividis has no grey midtones that could be mistaken for a suppressed area.
SEQUENTIAL = "Viridis"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def is_share(statistic: str | None) -> bool:
    return statistic == "share"


def fmt_value(value: float | None, statistic: str | None, lang: str = "en") -> str:
    """A number as shown: shares as whole percents, means and scores with two decimals, written
    by ``lang``'s locale (:func:`survey_pipeline.i18n.fmt_percent`)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return fmt_percent(value, lang) if is_share(statistic) else fmt_number(value, lang, 2)


def _signed(text: str) -> str:
    """A typographic minus (U+2212) for negative numbers, and no "-0" or "+0" for a rounded zero."""
    if text.lstrip("+-−").strip("0.,") == "":
        return text.lstrip("+-−")
    return text.replace("-", "\u2212")


def fmt_diff(value: float | None, statistic: str | None, pts: str = "pts", lang: str = "en") -> str:
    """A difference, signed: percentage points (``pts``, the unit's word) for shares."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if not is_share(statistic):
        return _signed(fmt_number(value, lang, 2, sign=True))
    text = _signed(fmt_number(value * 100, lang, 0, sign=True))
    if text.lstrip("+−") == "1" and pts.endswith("s"):  # "−1 pt", "+1 punto"
        pts = pts[:-1]
    return f"{text} {pts}"


def fmt_ci(lo: float | None, hi: float | None, statistic: str | None, diff: bool = False, to: str = "to",
           lang: str = "en") -> str:
    """'58%–66%', or for a difference '−6 to +4' (``to`` in the reader's language)."""
    if diff:
        return f"{fmt_diff(lo, statistic, '', lang).strip()} {to} {fmt_diff(hi, statistic, '', lang).strip()}"
    return f"{fmt_value(lo, statistic, lang)}–{fmt_value(hi, statistic, lang)}"


def fmt_p(p: float | None, lang: str = "en") -> str:
    """An adjusted p-value as shown: three decimals, '<0.001' below that."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "<" + fmt_number(0.001, lang, 3) if p < 0.0005 else fmt_number(p, lang, 3)


def fmt_estimate(row, statistic: str | None = None, suppressed_text: str = "suppressed", lang: str = "en") -> str:
    """'62% (95% CI 58%–66%)' or 'suppressed: <reason>' for a row with estimate/ci/reliability."""
    stat = statistic or row.get("statistic")
    if row.get("reliability") == "suppress":
        reason = row.get("reliability_reason")
        return f"{suppressed_text}: {reason}" if reason else suppressed_text
    return f"{fmt_value(row['estimate'], stat, lang)} ({fmt_ci(row['ci_low'], row['ci_high'], stat, lang=lang)})"


def scale(statistic: str | None) -> float:
    """Multiplier from stored values to axis units (percent for shares)."""
    return 100.0 if is_share(statistic) else 1.0


def axis_title(label: str, statistic: str | None) -> str:
    return f"{label} (%)" if is_share(statistic) else label


_AXIS = {"showline": True, "linecolor": "#444444", "ticks": "outside", "tickcolor": "#444444", "zeroline": False,
         "automargin": True}


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


#: Below this container width (px) a figure switches to its compact layout (assets/responsive.js).
NARROW_PX = 600
#: The markup plotly's text may keep (what the builders write themselves); any other tag in a
#: label, name or area text is shown as text, never drawn as a link, image or styled span.
_KEEP_TAGS = re.compile(r"^</?(br|b|i|extra|sup|sub)\s*/?>$", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>?")


def svg_safe(text: str) -> str:
    """``text`` for plotly's SVG text: tags other than ``<br>``, ``<b>``, ``<i>``, ``<sup>``,
    ``<sub>`` and ``<extra>`` are written as text (``&lt;a href=...&gt;``), so a crafted area
    name or label never becomes a clickable link or a styled span in a chart."""
    if "<" not in text and ">" not in text:
        return text
    out, pos = [], 0
    for m in _TAG.finditer(text):
        out.append(text[pos:m.start()].replace(">", "&gt;"))
        tag = m.group(0)
        out.append(tag if _KEEP_TAGS.match(tag) else tag.replace("<", "&lt;").replace(">", "&gt;"))
        pos = m.end()
    out.append(text[pos:].replace(">", "&gt;"))
    return "".join(out)


def _safe(v: Any) -> Any:
    if isinstance(v, str):
        return svg_safe(v)
    if isinstance(v, dict):
        return {k: (_safe(x) if k not in ("geojson", "customdata") else x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_safe(x) for x in v]
    if getattr(v, "dtype", None) is not None and v.dtype.kind == "O":  # numpy arrays of labels
        return [_safe(x) for x in v.tolist()]
    return v


def wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters with plotly's ``<br>``."""
    return "<br>".join(textwrap.wrap(str(text), width, break_long_words=False)) or str(text)


def _get(layout: dict, path: str) -> Any:
    node: Any = layout
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _legend_entries(traces: list[dict]) -> list[str]:
    names = [str(t.get("name", "")) for t in traces if t.get("showlegend", True) is not False
             and t.get("type", "scatter") in ("scatter", "bar")]
    return list(dict.fromkeys(names)) if len(names) > 1 else []


def compact_layout(traces: list[dict], layout: dict, title: str | None, height: int,
                   extra: dict | None = None) -> dict:
    """The relayout updates (plotly attribute paths) that fit a figure into a phone-wide
    container: the title wrapped and smaller, the legend below the chart one entry a line, the
    axis titles wrapped; ``extra`` adds a builder's own (wrapped tick labels, placed labels...)."""
    out: dict[str, Any] = {}
    extra_height = 0
    top = 40
    if title:
        lines = wrap(title, 34)
        n_lines = lines.count("<br>") + 1
        out["title.text"] = lines
        out["title.font.size"] = 15
        top = 30 + 20 * n_lines
        if any(a.get("yref") == "paper" and (a.get("y") or 0) >= 1 for a in layout.get("annotations") or []):
            top += 22  # a note above the plot (the equity chart's reference value) gets its own line
    entries = _legend_entries(traces)
    if entries:
        long_names = max(len(n) for n in entries) > 16
        rows = len(entries) if long_names else math.ceil(len(entries) / 2)
        legend_px = 22 * rows + 8
        out.update({"legend.orientation": "h", "legend.xref": "container", "legend.x": 0, "legend.xanchor": "left",
                    "legend.yref": "container",
                    "legend.y": 0, "legend.yanchor": "bottom", "legend.entrywidthmode": "fraction",
                    "legend.entrywidth": 1.0 if long_names else 0.5})
        out["margin.b"] = int(_get(layout, "margin.b") or 40) + 40 + legend_px
        extra_height += legend_px + 40
    else:
        top = max(top, 20 + (20 if title else 0))
    out["margin.t"] = top
    out["margin.l"] = 4
    out["margin.r"] = 8
    for axis in ("xaxis", "yaxis"):
        text = _get(layout, f"{axis}.title.text")
        if text:
            # a rotated y title is kept on one line (plotly's margins do not make room for a second)
            out[f"{axis}.title.text"] = wrap(text, 24) if axis == "xaxis" else text
            out[f"{axis}.title.font.size"] = 13 if axis == "xaxis" else 12
    notes = layout.get("annotations") or []
    if any(len(str(a.get("text", ""))) > 34 for a in notes):  # notes beside a chart's rows
        out["annotations"] = [{**a, "text": wrap(a["text"], 34), "font": {**(a.get("font") or {}), "size": 11}}
                              if len(str(a.get("text", ""))) > 34 else a for a in notes]
    extra = dict(extra or {})
    out["height"] = int(extra.pop("height", height)) + extra_height
    if title:  # plotly anchors a multi-line title by its first line: move it down by the others
        out["title.y"] = round(1 - (8 + 19 * (n_lines - 1)) / out["height"], 4)
    out.update(extra)
    return out


def wrapped_ticks(axis: str, categories: list[str], width: int) -> dict:
    """Relayout updates that write a category axis's labels on several lines, smaller."""
    cats = [str(c) for c in categories]
    return {f"{axis}.tickmode": "array", f"{axis}.tickvals": cats, f"{axis}.ticktext": [wrap(c, width) for c in cats],
            f"{axis}.tickfont.size": 11}


def figure(traces: list[dict], layout: dict | None = None, title: str | None = None, height: int = 420,
           compact: dict | None = None) -> go.Figure:
    """Build the Figure in one go from trace dicts and a layout dict, with the shared look (white
    background, dark axis lines: plotly's "simple_white" look set directly).

    One constructor call, without plotly's property validation: validating (which deep-copies
    every trace, GeoJSON included) took about half of a chart callback's time. The builders'
    output is checked against plotly's schema by the tests instead
    (tests/unit/dashboard/test_serving.py). The template is plotly's "none" template, spelled out.

    Every text is passed through :func:`svg_safe`. ``layout.meta`` carries the figure's
    ``compact`` layout (:func:`compact_layout` plus the builder's ``compact`` updates) and the
    ``wide`` values of the same attributes: ``assets/responsive.js`` switches between them when
    the chart's container is narrower than :data:`NARROW_PX`, so a phone gets a chart drawn for
    its width and a desktop the chart as designed.
    """
    base = {
        # plotly.io.templates["none"] as plotly serialises it (a named template needs validation)
        "template": {"data": {"scatter": [{"type": "scatter"}]}}, "paper_bgcolor": "#FFFFFF", "plot_bgcolor": "#FFFFFF", "colorway": OKABE_ITO,
        "height": height, "font": {"family": FONT, "size": 14, "color": "#1A1A1A"},
        "margin": {"l": 10, "r": 20, "t": 80 if title else 40, "b": 40},
        "hoverlabel": {"font": {"family": FONT, "size": 13}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        "xaxis": dict(_AXIS), "yaxis": dict(_AXIS),
    }
    if title:
        base["title"] = {"text": title, "x": 0, "xanchor": "left", "yref": "container", "y": 0.985,
                         "yanchor": "top", "font": {"size": 17}}
    full = _merge(base, layout or {})
    traces = [_safe(t) for t in traces]
    full = _safe(full)
    small = _safe(compact_layout(traces, full, title, height, compact))
    wide = {k: _get(full, k) for k in small}
    full["meta"] = {"compact": small, "wide": wide, "narrow_px": NARROW_PX}
    return go.Figure(data=traces, layout=full, _validate=False)


def empty_figure(message: str) -> go.Figure:
    return figure([], {"annotations": [{"text": message, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper",
                                        "yref": "paper", "font": {"size": 16}}],
                       "xaxis": {"visible": False}, "yaxis": {"visible": False}}, height=240)

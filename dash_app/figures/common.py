"""Shared pieces of the figure builders: the Okabe–Ito palette, number formats, base layout."""

from __future__ import annotations

import math

import plotly.graph_objects as go

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


def fmt_value(value: float | None, statistic: str | None) -> str:
    """A number as shown: shares as whole percents, means and scores with two decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value * 100:.0f}%" if is_share(statistic) else f"{value:.2f}"


def _signed(text: str) -> str:
    """A typographic minus (U+2212) for negative numbers, and no "-0" or "+0" for a rounded zero."""
    if text.lstrip("+-−").strip("0.") == "":
        return text.lstrip("+-−")
    return text.replace("-", "\u2212")


def fmt_diff(value: float | None, statistic: str | None, pts: str = "pts") -> str:
    """A difference, signed: percentage points (``pts``, the unit's word) for shares."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if not is_share(statistic):
        return _signed(f"{value:+.2f}")
    text = _signed(f"{value * 100:+.0f}")
    if text.lstrip("+−") == "1" and pts.endswith("s"):  # "−1 pt", "+1 punto"
        pts = pts[:-1]
    return f"{text} {pts}"


def fmt_ci(lo: float | None, hi: float | None, statistic: str | None, diff: bool = False, to: str = "to") -> str:
    """'58%–66%', or for a difference '−6 to +4' (``to`` in the reader's language)."""
    if diff:
        return f"{fmt_diff(lo, statistic, '').strip()} {to} {fmt_diff(hi, statistic, '').strip()}"
    return f"{fmt_value(lo, statistic)}–{fmt_value(hi, statistic)}"


def fmt_p(p: float | None) -> str:
    """An adjusted p-value as shown: three decimals, '<0.001' below that."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "<0.001" if p < 0.0005 else f"{p:.3f}"


def fmt_estimate(row, statistic: str | None = None, suppressed_text: str = "suppressed") -> str:
    """'62% (95% CI 58%–66%)' or 'suppressed: <reason>' for a row with estimate/ci/reliability."""
    stat = statistic or row.get("statistic")
    if row.get("reliability") == "suppress":
        reason = row.get("reliability_reason")
        return f"{suppressed_text}: {reason}" if reason else suppressed_text
    return f"{fmt_value(row['estimate'], stat)} ({fmt_ci(row['ci_low'], row['ci_high'], stat)})"


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


def figure(traces: list[dict], layout: dict | None = None, title: str | None = None, height: int = 420) -> go.Figure:
    """Build the Figure in one go from trace dicts and a layout dict, with the shared look (white
    background, dark axis lines: plotly's "simple_white" look set directly).

    One constructor call, without plotly's property validation: validating (which deep-copies
    every trace, GeoJSON included) took about half of a chart callback's time. The builders'
    output is checked against plotly's schema by the tests instead
    (tests/unit/dashboard/test_serving.py). The template is plotly's "none" template, spelled out."""
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
    return go.Figure(data=traces, layout=_merge(base, layout or {}), _validate=False)


def empty_figure(message: str) -> go.Figure:
    return figure([], {"annotations": [{"text": message, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper",
                                        "yref": "paper", "font": {"size": 16}}],
                       "xaxis": {"visible": False}, "yaxis": {"visible": False}}, height=240)

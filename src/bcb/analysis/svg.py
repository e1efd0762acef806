"""Charts as inline SVG text: the report must open offline, from one file, with nothing to install
to build it; a few rectangles and lines need no plotting library.

Every function returns an `<svg>` element sized in CSS pixels, with its text escaped and a
`<title>` on each mark so hovering shows the exact numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Callable, Sequence

FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:12px"
PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e", "#9498a0")
# Viridis at five stops: perceptually even and readable in grey.
_RAMP = ((0.0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)), (0.75, (94, 201, 98)), (1.0, (253, 231, 37)))


@dataclass(frozen=True)
class Mark:
    """One estimate with its interval, as the interval charts draw it."""

    label: str
    value: float
    low: float
    high: float
    note: str = ""


def colour(value: float) -> str:
    """A 0..1 value on the ramp; nan is grey."""
    if math.isnan(value):
        return "#d0d0d0"
    value = min(1.0, max(0.0, value))
    for (x0, c0), (x1, c1) in zip(_RAMP, _RAMP[1:]):
        if value <= x1:
            t = (value - x0) / (x1 - x0)
            r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#fde725"


def _ink(background: str) -> str:
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = high - low or 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    x = first
    while x <= high + 1e-9:
        ticks.append(round(x, 10))
        x += step
    return ticks


def _text_width(text: str) -> float:
    return 6.6 * len(text)


def _open(width: int, height: float) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" style="{FONT}" role="img">'


def _grid(
    ticks: Sequence[float], x: Callable[[float], float], top: float, bottom: float, fmt: Callable[[float], str]
) -> list[str]:
    """A vertical rule at each tick from `top` to `bottom`, its value written under the axis."""
    parts = []
    for tick in ticks:
        tx = x(tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{bottom}" stroke="#e3e3e3"/>')
        parts.append(
            f'<text x="{tx:.1f}" y="{bottom + 14}" text-anchor="middle" fill="#555">{escape(fmt(tick))}</text>'
        )
    return parts


def _legend_columns(names: Sequence[str], width: int, most: int, gap: int, default: float) -> int:
    """How many legend entries fit side by side (at most `most`), for the widest name."""
    return max(1, min(most, int(width // (max((_text_width(n) for n in names), default=default) + gap))))


def _legend(names: Sequence[str], colours: Sequence[str], width: int, per_line: int, group: str = "") -> list[str]:
    """A swatch and a name per entry, `per_line` to a line; each wrapped in `<g class=...>` with
    its name as `data-{group}` when `group` is given, so a script can find it."""
    parts = []
    for k, name in enumerate(names):
        lx, ly = 10 + (k % per_line) * (width / per_line), 14 + 18 * (k // per_line)
        swatch = (
            f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{colours[k]}"/>'
            f'<text x="{lx + 14:.1f}" y="{ly}" fill="#222">{escape(name)}</text>'
        )
        parts.append(f'<g class="legend" data-{group}="{escape(name)}">{swatch}</g>' if group else swatch)
    return parts


def interval_chart(
    marks: Sequence[Mark],
    *,
    domain: tuple[float, float],
    fmt: Callable[[float], str],
    lines: Sequence[tuple[str, float]] = (),
    axis_label: str = "",
    bars: bool = False,
    width: int = 760,
    row: int = 24,
) -> str:
    """One row per mark: a dot (or a bar from the left edge) at the estimate and a whisker over
    the interval. `lines` are dashed vertical rules with a label, for reference values."""
    label_w = max([_text_width(m.label) for m in marks] + [60]) + 12
    value_w = 130
    plot_w = max(200, width - label_w - value_w)
    top = 20 + (16 * len(lines))
    height = top + row * len(marks) + 34
    lo, hi = domain
    span = (hi - lo) or 1.0
    x = lambda v: label_w + (min(max(v, lo), hi) - lo) / span * plot_w  # noqa: E731
    parts = [_open(width, height)]
    parts += _grid(_nice_ticks(lo, hi), x, top - 4, top + row * len(marks), fmt)
    if axis_label:
        parts.append(
            f'<text x="{label_w + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" fill="#333">{escape(axis_label)}</text>'
        )
    for i, mark in enumerate(marks):
        cy = top + row * i + row / 2
        tip = escape(
            f"{mark.label}: {fmt(mark.value)} (95% CI {fmt(mark.low)}-{fmt(mark.high)}){' ' + mark.note if mark.note else ''}"
        )
        parts.append(f'<g class="mark"><title>{tip}</title>')
        parts.append(
            f'<text x="{label_w - 8}" y="{cy + 4:.1f}" text-anchor="end" fill="#222">{escape(mark.label)}</text>'
        )
        if bars:
            parts.append(
                f'<rect x="{label_w}" y="{cy - 7:.1f}" width="{max(0.0, x(mark.value) - label_w):.1f}" height="14" fill="{PALETTE[0]}" opacity="0.75"/>'
            )
        parts.append(
            f'<line x1="{x(mark.low):.1f}" y1="{cy:.1f}" x2="{x(mark.high):.1f}" y2="{cy:.1f}" stroke="#222" stroke-width="1.5"/>'
        )
        for end in (mark.low, mark.high):
            parts.append(
                f'<line x1="{x(end):.1f}" y1="{cy - 5:.1f}" x2="{x(end):.1f}" y2="{cy + 5:.1f}" stroke="#222" stroke-width="1.5"/>'
            )
        if not bars:
            parts.append(f'<circle cx="{x(mark.value):.1f}" cy="{cy:.1f}" r="4.5" fill="{PALETTE[0]}" stroke="#fff"/>')
        text = f"{fmt(mark.value)} [{fmt(mark.low)}, {fmt(mark.high)}]"
        parts.append(f'<text x="{label_w + plot_w + 8}" y="{cy + 4:.1f}" fill="#333">{escape(text)}</text></g>')
    for j, (label, value) in enumerate(lines):
        lx = x(value)
        parts.append(
            f'<g class="reference"><title>{escape(label)}</title>'
            f'<line x1="{lx:.1f}" y1="{14 + 16 * j}" x2="{lx:.1f}" y2="{top + row * len(marks)}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="5 4"/>'
            f'<text x="{lx - 4:.1f}" y="{12 + 16 * j}" text-anchor="end" fill="#c0392b">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    values: Sequence[Sequence[float]],
    *,
    cell_text: Callable[[int, int], str],
    tooltip: Callable[[int, int], str],
    cell_w: int = 104,
    cell_h: int = 34,
) -> str:
    """rows x cols coloured cells (value 0..1 on the ramp) with a short text in each."""
    label_w = max([_text_width(r) for r in rows] + [60]) + 14
    head = 30
    width = int(label_w + cell_w * len(cols) + 10)
    height = head + cell_h * len(rows) + 10
    parts = [_open(width, height)]
    for j, col in enumerate(cols):
        parts.append(
            f'<text x="{label_w + cell_w * j + cell_w / 2:.1f}" y="{head - 10}" text-anchor="middle" fill="#222">{escape(col)}</text>'
        )
    for i, row_label in enumerate(rows):
        y = head + cell_h * i
        parts.append(
            f'<text x="{label_w - 8}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end" fill="#222">{escape(row_label)}</text>'
        )
        for j in range(len(cols)):
            fill = colour(values[i][j])
            parts.append(
                f'<g class="cell"><title>{escape(tooltip(i, j))}</title>'
                f'<rect x="{label_w + cell_w * j}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}" rx="3"/>'
                f'<text x="{label_w + cell_w * j + cell_w / 2 - 1:.1f}" y="{y + cell_h / 2 + 3:.1f}" '
                f'text-anchor="middle" fill="{_ink(fill)}">{escape(cell_text(i, j))}</text></g>'
            )
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(
    groups: Sequence[str],
    series: Sequence[str],
    marks: Sequence[Sequence[Mark]],
    *,
    fmt: Callable[[float], str],
    width: int = 760,
    bar: int = 11,
) -> str:
    """One block per group (a library), one horizontal bar per series (a model) with its interval;
    `marks[g][s]`. A legend names the series' colours."""
    label_w = max([_text_width(g) for g in groups] + [60]) + 14
    value_w = 120
    plot_w = max(200, width - label_w - value_w)
    per_line = _legend_columns(series, width, 4, 34, 0.0) if series else 1
    legend_h = 18 * math.ceil(len(series) / per_line) + 8
    block = bar * len(series) + 10
    height = legend_h + block * len(groups) + 26
    x = lambda v: label_w + min(max(v, 0.0), 1.0) * plot_w  # noqa: E731
    parts = [_open(width, height)]
    parts += _legend(series, [PALETTE[k % len(PALETTE)] for k in range(len(series))], width, per_line)
    parts += _grid(_nice_ticks(0.0, 1.0), x, legend_h, legend_h + block * len(groups), fmt)
    for g, group in enumerate(groups):
        y0 = legend_h + block * g
        parts.append(
            f'<text x="{label_w - 8}" y="{y0 + block / 2 + 2:.1f}" text-anchor="end" fill="#222">{escape(group)}</text>'
        )
        for s, mark in enumerate(marks[g]):
            y = y0 + 4 + bar * s
            tip = escape(
                f"{series[s]} on {group}: {fmt(mark.value)} (95% CI {fmt(mark.low)}-{fmt(mark.high)}) {mark.note}"
            )
            if math.isnan(mark.value):
                continue
            parts.append(
                f'<g class="bar"><title>{tip}</title>'
                f'<rect x="{label_w}" y="{y}" width="{x(mark.value) - label_w:.1f}" height="{bar - 2}" fill="{PALETTE[s % len(PALETTE)]}"/>'
                f'<line x1="{x(mark.low):.1f}" y1="{y + (bar - 2) / 2:.1f}" x2="{x(mark.high):.1f}" y2="{y + (bar - 2) / 2:.1f}" stroke="#333"/></g>'
            )
        parts.append(
            f'<text x="{label_w + plot_w + 8}" y="{y0 + block / 2 + 2:.1f}" fill="#555">{escape(marks[g][0].note if marks[g] else "")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars(
    rows: Sequence[str],
    segments: Sequence[str],
    values: Sequence[Sequence[float]],
    *,
    colours: Sequence[str],
    tooltip: Callable[[int, int], str],
    fmt: Callable[[float], str],
    width: int = 760,
    row: int = 24,
) -> str:
    """One horizontal bar per row (a model), split into segments (failure categories) whose
    lengths are `values[r][s]` on a 0..1 axis; a legend names the segments' colours. Empty
    segments draw nothing."""
    label_w = max([_text_width(r) for r in rows] + [60]) + 12
    value_w = 60
    plot_w = max(200, width - label_w - value_w)
    per_line = _legend_columns(segments, width, 7, 30, 40)
    legend_h = 18 * math.ceil(len(segments) / per_line) + 8 if segments else 0
    top = legend_h + 4
    height = top + row * len(rows) + 26
    x = lambda v: label_w + min(max(v, 0.0), 1.0) * plot_w  # noqa: E731
    parts = [_open(width, height)]
    parts += _legend(segments, colours, width, per_line, group="segment")
    parts += _grid(_nice_ticks(0.0, 1.0), x, top, top + row * len(rows), fmt)
    for i, label in enumerate(rows):
        cy = top + row * i + row / 2
        parts.append(
            f'<g class="stack" data-row="{escape(label)}"><text x="{label_w - 8}" y="{cy + 4:.1f}" text-anchor="end" fill="#222">{escape(label)}</text>'
        )
        start = 0.0
        for k, name in enumerate(segments):
            value = values[i][k]
            if value <= 0:
                continue
            x0, x1 = x(start), x(start + value)
            parts.append(
                f'<g class="segment" data-segment="{escape(name)}"><title>{escape(tooltip(i, k))}</title>'
                f'<rect x="{x0:.1f}" y="{cy - 8:.1f}" width="{max(0.5, x1 - x0):.1f}" height="16" fill="{colours[k]}"/></g>'
            )
            start += value
        parts.append(f'<text x="{x(start) + 6:.1f}" y="{cy + 4:.1f}" fill="#333">{escape(fmt(start))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)

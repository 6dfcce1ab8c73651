"""Bar charts drawn on the server as SVG: no script, no library, and every bar a link to the tickets behind it.

The chart is a picture of the table printed beside it (which carries the same numbers and links for screen readers
and for copying), so it stays small: bars, their value on hover (``<title>``), a few labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 640, 220
TOP, BOTTOM, LEFT = 12, 40, 8
MAX_LABELS = 12


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str
    # What the bar's tooltip says ("12 tickets", "3.5 h"): the value as the table prints it.
    shown: str


def bar_chart(bars: Sequence[Bar], *, title: str) -> SafeString:
    """Vertical bars scaled to the largest value, one link per bar (``data-bar`` = its label)."""
    if not bars:
        return SafeString("")
    top = max((bar.value for bar in bars), default=0) or 1
    slot = (WIDTH - LEFT * 2) / len(bars)
    width = max(slot * 0.8, 1)
    every = max(1, -(-len(bars) // MAX_LABELS))
    shapes = []
    for index, bar in enumerate(bars):
        height = (HEIGHT - TOP - BOTTOM) * bar.value / top
        x = LEFT + index * slot + (slot - width) / 2
        y = HEIGHT - BOTTOM - height
        label = (
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>',
                f"{x + width / 2:.1f}",
                HEIGHT - BOTTOM + 14,
                bar.label,
            )
            if index % every == 0
            else ""
        )
        shapes.append(
            (
                bar.href,
                bar.label,
                f"{x:.1f}",
                f"{y:.1f}",
                f"{width:.1f}",
                f"{max(height, 0.5):.1f}",
                f"{bar.label}: {bar.shown}",
                label,
            )
        )
    body = format_html_join(
        "",
        '<a href="{}" data-bar="{}"><rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>'
        "</a>{}",
        shapes,
    )
    return format_html(
        '<svg class="report-chart" role="img" viewBox="0 0 {} {}" width="{}" height="{}" aria-label="{}">'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-width="1"/>{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        title,
        LEFT,
        HEIGHT - BOTTOM,
        WIDTH - LEFT,
        HEIGHT - BOTTOM,
        body,
    )

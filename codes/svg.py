"""A small chart of a fee schedule line, drawn on the server as inline SVG.

Two stacked bars — non-facility and facility — split into work, practice expense and
malpractice RVUs, each labelled with its total and national payment. The chart is built as an
XML tree, so every label is escaped and the markup is well formed; colours are presentation
attributes because the Content Security Policy forbids inline styles.
"""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree

from django.utils.safestring import SafeString, mark_safe

from codes.models import RvuLine

PARTS = (  # (label, fill) in the order the bars stack
    ("Work", "#0f4c5c"),
    ("Practice expense", "#b5542a"),
    ("Malpractice", "#5f6b78"),
)
WIDTH = 500
LABEL_WIDTH = 100
BAR_SPAN = 220  # the longest bar; the others are drawn to scale against it
ROW_HEIGHT = 34
BAR_HEIGHT = 20
TOP = 6


def _rows(line: RvuLine) -> list[tuple[str, list[Decimal], Decimal, Decimal | None]]:
    """(setting, [work, PE, MP], total RVUs, payment) for each setting the line pays in."""
    rows = []
    for setting, pe, total, payment in (
        ("Non-facility", line.nonfacility_pe_rvu, line.nonfacility_total, line.nonfacility_payment),
        ("Facility", line.facility_pe_rvu, line.facility_total, line.facility_payment),
    ):
        if total is not None:
            rows.append((setting, [line.work_rvu, pe or Decimal(0), line.mp_rvu], total, payment))
    return rows


def _text(parent: ElementTree.Element, x: float, y: float, words: str, **attrs: str) -> None:
    node = ElementTree.SubElement(parent, "text", x=f"{x:g}", y=f"{y:g}", **attrs)
    node.text = words


def rvu_chart(*, line: RvuLine) -> SafeString:
    """The chart for one fee schedule line; empty when the line is paid in neither setting."""
    rows = _rows(line)
    if not rows:
        return mark_safe("")
    chart_id = f"rvu-chart-{line.code}".lower()
    legend_y = TOP + ROW_HEIGHT * len(rows) + 14
    height = legend_y + 16
    svg = ElementTree.Element(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {height}",
        role="img",
        **{"font-family": "system-ui, sans-serif", "font-size": "14"},
        **{"class": "rvu-chart", "aria-labelledby": f"{chart_id}-title {chart_id}-desc"},
    )
    title = ElementTree.SubElement(svg, "title", id=f"{chart_id}-title")
    title.text = f"RVUs and national payment for {line.code}, {line.edition}"
    desc = ElementTree.SubElement(svg, "desc", id=f"{chart_id}-desc")
    desc.text = " ".join(
        f"{setting}: work {parts[0]}, practice expense {parts[1]}, malpractice {parts[2]}, "
        f"total {total} RVUs, national payment ${payment}."
        for setting, parts, total, payment in rows
    )
    largest = max(total for _, _, total, _ in rows) or Decimal(1)
    for index, (setting, parts, total, payment) in enumerate(rows):
        y = TOP + index * ROW_HEIGHT
        _text(svg, 0, y + 15, setting, **{"class": "rvu-chart__label"})
        x = float(LABEL_WIDTH)
        for (name, fill), value in zip(PARTS, parts, strict=True):
            width = float(value / largest) * BAR_SPAN
            if width <= 0:
                continue
            rect = ElementTree.SubElement(
                svg,
                "rect",
                x=f"{x:.1f}",
                y=f"{y}",
                width=f"{width:.1f}",
                height=f"{BAR_HEIGHT}",
                fill=fill,
            )
            ElementTree.SubElement(rect, "title").text = f"{setting} {name.lower()}: {value} RVUs"
            x += width
        _text(
            svg,
            round(x + 8, 1),
            y + 15,
            f"{total} RVUs · ${payment}",
            **{"class": "rvu-chart__value"},
        )
    x = float(LABEL_WIDTH)
    for name, fill in PARTS:
        ElementTree.SubElement(
            svg, "rect", x=f"{x:g}", y=f"{legend_y - 10}", width="12", height="12", fill=fill
        )
        _text(svg, x + 17, legend_y, name, **{"class": "rvu-chart__legend"})
        x += 17 + 7 * len(name) + 24
    return mark_safe(ElementTree.tostring(svg, encoding="unicode"))

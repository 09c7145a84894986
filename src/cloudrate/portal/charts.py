"""Charts of the usage page: resource consumption (bars) and billing status (pie).

Needs the ``charts`` extra (``pip install 'cloudrate[charts]'``: altair and
vl-convert-python, no browser, no network). A :class:`Chart` gives PNG and SVG bytes
that embed in the PDF invoice and in HTML, and displays itself in Jupyter. The same
inputs give the same bytes: fonts are the ones cloudrate ships or registers, never the
machine's (see docs/rendering.md).

Chart values are drawn, not billed: quantities and amounts become JSON numbers rounded
to two decimals for the picture only.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal, get_args

import attrs

from cloudrate.exceptions import MissingExtraError, OptionError
from cloudrate.invoice.render import font_directories, latin_family

if TYPE_CHECKING:  # pragma: no cover
    from .usage_view import InvoiceStatus, UsageView

__all__ = [
    "MEASURES",
    "STATUS_COLOURS",
    "Chart",
    "ChartMeasure",
    "ImageFormat",
    "billing_status_chart",
    "consumption_chart",
]

#: What a consumption chart draws: each card's quantity, or its estimated cost.
ChartMeasure = Literal["quantity", "cost"]
MEASURES: tuple[ChartMeasure, ...] = get_args(ChartMeasure)
#: The image a chart gives for HTML: SVG, or PNG.
ImageFormat = Literal["svg", "png"]

#: Badge colours of the portal: green for paid, yellow for unpaid, red for overdue.
STATUS_COLOURS: dict[InvoiceStatus, str] = {
    "paid": "#2e9e5b",
    "unpaid": "#e0b100",
    "overdue": "#d64545",
}
_BAR = "#3b6fb6"


def _vl() -> Any:
    try:
        import vl_convert
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("charts", "altair and vl-convert-python", "charts") from None
    _register_fonts(vl_convert)
    return vl_convert


@functools.cache
def _register_fonts(vl_convert: Any) -> None:
    for directory in font_directories():
        vl_convert.register_font_directory(str(directory))


def _number(value: Decimal) -> float:
    # A picture only: two decimals are plenty, and JSON has no decimals.
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _renumber(svg: str) -> str:
    """Number the SVG's clip ids from 1 in order of appearance: Vega counts them up over
    the whole process, which would make the bytes depend on what was drawn before."""
    ids: dict[str, str] = {}

    def sub(match: re.Match[str]) -> str:
        return ids.setdefault(match.group(0), f"clip{len(ids) + 1}")

    return re.sub(r"\bclip\d+\b", sub, svg)


@attrs.frozen
class Chart:
    """A Vega-Lite chart as JSON text, with PNG and SVG renderings.

    >>> chart = billing_status_chart({"paid": 3, "unpaid": 1, "overdue": 1})
    >>> chart.svg().startswith(b"<svg")
    True
    >>> chart.png()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """

    spec_json: str
    title: str

    @property
    def spec(self) -> dict[str, Any]:
        """The Vega-Lite specification, parsed."""
        spec: dict[str, Any] = json.loads(self.spec_json)
        return spec

    def svg(self) -> bytes:
        """The chart as SVG (UTF-8)."""
        text = str(_vl().vegalite_to_svg(self.spec, vl_version="5.20", allowed_base_urls=[]))
        return _renumber(text).encode("utf-8")

    def png(self, scale: float = 2) -> bytes:
        """The chart as PNG, *scale* times its size in CSS pixels."""
        return bytes(
            _vl().vegalite_to_png(self.spec, vl_version="5.20", scale=scale, allowed_base_urls=[])
        )

    def data_uri(self, fmt: ImageFormat = "svg") -> str:
        """``data:image/...;base64,...`` for an ``<img src>`` in HTML."""
        data, mime = (self.svg(), "image/svg+xml") if fmt == "svg" else (self.png(), "image/png")
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

    def altair(self) -> Any:
        """The chart as an altair object, for notebooks that want to restyle it."""
        import altair as alt

        return alt.Chart.from_dict(self.spec)

    # Jupyter's display protocol passes include and exclude by keyword; the bundle holds two
    # entries, so it is sent whole.
    def _repr_mimebundle_(
        self,
        include: Any = None,  # noqa: ARG002
        exclude: Any = None,  # noqa: ARG002
    ) -> dict[str, Any]:
        return {"image/svg+xml": self.svg().decode("utf-8"), "text/plain": self.title}


def _base(title: str, width: int, height: int) -> dict[str, Any]:
    family = latin_family()
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "width": width,
        "height": height,
        "background": "white",
        "config": {
            "font": family,
            "view": {"stroke": None},
            "title": {"fontSize": 14, "anchor": "start"},
            "axis": {"labelFontSize": 11, "titleFontSize": 11},
        },
    }


def consumption_chart(
    view: UsageView, *, measure: ChartMeasure = "quantity", title: str = "Resource Consumption"
) -> Chart:
    """Bars comparing CPU, memory, storage and bandwidth of a usage view.

    *measure* ``quantity`` draws each card's consumption (labelled with its unit);
    ``cost`` draws each card's estimated cost in the view's currency.

    >>> import cloudrate
    >>> from datetime import date
    >>> from cloudrate.portal.usage_view import DateRange, usage_view
    >>> view = usage_view(cloudrate.load_plan(cloudrate.sample_plan_path()),
    ...     cloudrate.read_usage(cloudrate.sample_usage_path()), account="acme",
    ...     date_range=DateRange.last_month(today=date(2026, 11, 5), timezone="Europe/Berlin"))
    >>> [row["resource"] for row in consumption_chart(view).spec["data"]["values"]][:2]
    ['CPU Hours (vCPU-hour)', 'Memory (GB-hour)']
    """
    if measure not in MEASURES:
        raise OptionError(f"measure must be 'quantity' or 'cost' (got {measure!r})", path="measure")
    axis = "Consumption" if measure == "quantity" else f"Estimated cost ({view.currency})"
    spec = _base(title, 420, 220) | {
        "data": {"values": _consumption_rows(view, measure)},
        "mark": {"type": "bar", "color": _BAR, "cornerRadiusEnd": 2},
        "encoding": {
            "y": {"field": "resource", "type": "nominal", "sort": None, "title": None},
            "x": {
                "field": "value",
                "type": "quantitative",
                "title": axis,
                "axis": {"tickCount": 5, "labelOverlap": True},
            },
            "tooltip": [{"field": "resource"}, {"field": "value", "type": "quantitative"}],
        },
    }
    return Chart(json.dumps(spec, sort_keys=True), title)


def _consumption_rows(view: UsageView, measure: ChartMeasure) -> list[dict[str, Any]]:
    """One bar per card: its label (with the unit, for quantities) and the value drawn."""
    if measure == "quantity":
        return [
            {"resource": f"{c.label} ({c.unit})", "value": _number(c.quantity)} for c in view.cards
        ]
    return [{"resource": c.label, "value": _number(c.cost.amount)} for c in view.cards]


def billing_status_chart(
    counts: Mapping[InvoiceStatus, int], *, title: str = "Billing Status"
) -> Chart:
    """A pie of paid, unpaid and overdue invoices, as
    :func:`cloudrate.portal.usage_view.status_counts` counts them.

    >>> billing_status_chart({"paid": 4, "overdue": 1}).spec["data"]["values"][2]
    {'count': 1, 'order': 2, 'status': 'Overdue'}
    """
    unknown = set(counts) - set(STATUS_COLOURS)
    if unknown:
        raise OptionError(
            f"unknown invoice status {sorted(unknown)}; use paid, unpaid, overdue", path="status"
        )
    rows = [
        {"status": s.capitalize(), "count": int(counts.get(s, 0)), "order": i}
        for i, s in enumerate(STATUS_COLOURS)
    ]
    spec = _base(title, 220, 220) | {
        "data": {"values": rows},
        "mark": {"type": "arc", "stroke": "white"},
        "encoding": {
            "theta": {"field": "count", "type": "quantitative", "stack": True},
            "order": {"field": "order"},
            "color": {
                "field": "status",
                "type": "nominal",
                "sort": None,
                "title": None,
                "scale": {
                    "domain": [s.capitalize() for s in STATUS_COLOURS],
                    "range": list(STATUS_COLOURS.values()),
                },
            },
            "tooltip": [{"field": "status"}, {"field": "count", "type": "quantitative"}],
        },
    }
    return Chart(json.dumps(spec, sort_keys=True), title)

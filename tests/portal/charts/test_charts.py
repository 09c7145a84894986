"""Charts: PNG and SVG bytes, deterministic, built from the usage view and status counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import cloudrate
from cloudrate.portal.usage_view import DateRange, usage_view

pytest.importorskip("vl_convert")
pytest.importorskip("altair")

from cloudrate.portal.charts import STATUS_COLOURS, billing_status_chart, consumption_chart

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", name="view")
def _view():
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    return usage_view(
        plan,
        usage,
        account="acme",
        date_range=DateRange.last_month(today=date(2026, 11, 3), timezone="Europe/Berlin"),
    )


class TestConsumption:
    def test_bars_are_the_cards(self, view):
        """One bar per card, in card order, its value the card's quantity to 2 decimals."""
        rows = consumption_chart(view).spec["data"]["values"]
        assert [r["resource"] for r in rows] == [
            "CPU Hours (vCPU-hour)",
            "Memory (GB-hour)",
            "Storage (GB)",
            "Bandwidth (GB)",
        ]
        assert rows[0]["value"] == float(view.card("cpu").quantity)
        assert Decimal(str(rows[3]["value"])) == view.card("bandwidth").quantity.quantize(
            Decimal("0.01")
        )

    def test_cost_measure(self, view):
        rows = consumption_chart(view, measure="cost").spec["data"]["values"]
        assert Decimal(str(rows[0]["value"])) == view.card("cpu").cost.amount
        with pytest.raises(ValueError, match="'quantity' or 'cost'"):
            consumption_chart(view, measure="count")

    def test_png_and_svg_are_deterministic(self, view):
        chart = consumption_chart(view)
        png, svg = chart.png(), chart.svg()
        assert png.startswith(PNG) and png == chart.png()
        assert svg.startswith(b"<svg") and svg == chart.svg()
        assert b"Resource Consumption" in svg
        assert chart.data_uri().startswith("data:image/svg+xml;base64,")
        assert chart.data_uri("png").startswith("data:image/png;base64,")


class TestBillingStatus:
    def test_slices_and_colours(self):
        """Paid is green, unpaid yellow, overdue red; missing statuses count 0."""
        chart = billing_status_chart({"paid": 3, "overdue": 1})
        spec = chart.spec
        assert [(r["status"], r["count"]) for r in spec["data"]["values"]] == [
            ("Paid", 3),
            ("Unpaid", 0),
            ("Overdue", 1),
        ]
        assert spec["encoding"]["color"]["scale"]["range"] == list(STATUS_COLOURS.values())
        assert b"Overdue" in chart.svg()

    def test_unknown_status(self):
        with pytest.raises(ValueError, match="unknown invoice status"):
            billing_status_chart({"void": 1})

    def test_notebook_display(self):
        bundle = billing_status_chart({"paid": 1})._repr_mimebundle_()
        assert bundle["image/svg+xml"].startswith("<svg")
        assert billing_status_chart({"paid": 1}).altair().to_dict()["mark"]["type"] == "arc"

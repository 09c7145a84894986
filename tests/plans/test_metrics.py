"""Metrics and unit conversion (``cloudrate.plans._metrics``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cloudrate import Metric, PlanError
from cloudrate.plans import conversion

D = Decimal
OCTOBER_SECONDS = D(31 * 86400)


class TestConversion:
    @pytest.mark.parametrize(
        ("source", "target", "factor"),
        [
            ("second", "hour", (1, 3600)),
            ("seconds", "IP-hour", (1, 3600)),
            ("byte", "GB", (1, 10**9)),
            ("byte", "GiB", (1, 2**30)),
            ("MB", "GB", (1, 1000)),
            ("MiB", "GiB", (1, 1024)),
            ("MB-hour", "GB-hour", (1, 1000)),
            ("minute", "hour", (1, 60)),
            ("GB", "MB", (1000, 1)),
            ("vCPU-hour", "vCPU-hour", (1, 1)),
        ],
    )
    def test_units(self, source, target, factor):
        """Data and time units convert by their sizes; free words like vCPU are labels."""
        assert conversion(source, target, OCTOBER_SECONDS) == (D(factor[0]), D(factor[1]))

    def test_gb_hour_to_gb_month(self):
        """A month is the billing period: October has 744 hours, so 1 GB-month = 744
        GB-hours (720 in a 30-day month)."""
        assert conversion("GB-hour", "GB-month", OCTOBER_SECONDS) == (D(1), D(744))
        assert conversion("GB-hour", "GB-month", D(30 * 86400)) == (D(1), D(720))

    def test_incompatible_units(self):
        """Bytes cannot become hours."""
        with pytest.raises(PlanError, match="measure different things"):
            conversion("byte", "hour", OCTOBER_SECONDS)


class TestMetric:
    def test_defaults(self):
        """A metric sums its records and has no conversion by default."""
        m = Metric(name="x")
        assert (m.unit, m.usage_unit, m.aggregation, m.converts) == ("unit", None, "sum", False)

    def test_converts(self):
        """A usage unit different from the unit converts."""
        assert Metric(name="b", unit="GB", usage_unit="byte").converts
        assert not Metric(name="b", unit="GB", usage_unit="GB").converts

    def test_bad_aggregation(self):
        """An unknown aggregation lists the known ones."""
        with pytest.raises(PlanError, match="sum, max, average, unique, latest"):
            Metric(name="x", aggregation="mean")

    def test_bad_units(self):
        """Incompatible units are refused when the metric is built."""
        with pytest.raises(PlanError, match="cannot convert 'byte' to 'hour'"):
            Metric(name="x", unit="hour", usage_unit="byte")

    def test_to_dict(self):
        """Plain data omits defaults."""
        assert Metric(name="x", unit="GB").to_dict() == {"unit": "GB"}
        assert Metric(
            name="x", unit="GB", usage_unit="byte", aggregation="max", description="d"
        ).to_dict() == {
            "unit": "GB",
            "usage_unit": "byte",
            "aggregation": "max",
            "description": "d",
        }

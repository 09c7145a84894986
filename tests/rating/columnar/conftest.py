"""What the columnar tests share: October 2026 and a plan of two per-unit charges."""

from __future__ import annotations

from datetime import UTC, datetime

from cloudrate import BillingPeriod, load_plan

T0 = datetime(2026, 10, 1, tzinfo=UTC)
OCT = BillingPeriod.month(2026, 10, "UTC")
PLAN = load_plan("""
name: P
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
  - {name: gb, metric: storage_gb_hours, model: per_unit, unit_price: "0.000137"}
""")

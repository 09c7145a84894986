"""Dates at the ends of Python's calendar: a clear error, never a raw ValueError (the
server's fuzz test found ``last_month`` of 0001-01-01 and the overview of December 9999)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate.exceptions import CloudrateError
from cloudrate.portal.usage_view import PRESETS, DateRange, billing_overview

PLAN = cloudrate.load_plan(cloudrate.sample_plan_path())
EDGES = st.one_of(
    st.dates(max_value=date(1, 4, 1)),
    st.dates(min_value=date(9999, 9, 1)),
    st.dates(),
)


def _outcome(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except CloudrateError as exc:
        return exc.code
    return "ok"


@settings(max_examples=200)
@given(
    today=EDGES,
    preset=st.sampled_from(PRESETS),
    timezone=st.sampled_from(["UTC", "Pacific/Kiritimati", "Etc/GMT+12"]),
)
def test_presets_at_the_calendar_ends(today: date, preset: str, timezone: str) -> None:
    code = _outcome(lambda: DateRange.preset_named(preset, today=today, timezone=timezone))  # type: ignore[arg-type]
    assert code in ("ok", "usage_view")


@settings(max_examples=60, deadline=None)
@given(today=EDGES)
def test_the_overview_at_the_calendar_ends(today: date) -> None:
    assert _outcome(lambda: billing_overview(PLAN, [], account="a", today=today)) in (
        "ok", "usage_view", "rating_refused", "plan_invalid",
    )  # fmt: skip


def test_a_month_past_december_9999_is_refused() -> None:
    with pytest.raises(cloudrate.RatingError, match="9999-12"):
        cloudrate.BillingPeriod.month(9999, 12)
    with pytest.raises(cloudrate.RatingError, match="month 1 to 12"):
        cloudrate.BillingPeriod.month(2026, 13)

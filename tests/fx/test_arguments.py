"""Arguments of the rate sources: each wrong one is refused at the call with a PlanError
naming the argument, the value seen and what to pass (they were raw exceptions from deep
inside, or taken and failed later)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cloudrate.exceptions import PlanError
from cloudrate.fx import EcbRates, FixedRates

DAY = date(2026, 10, 30)


def _refused(call, path: str, *fix: str) -> PlanError:
    """The PlanError *call* raises: its code, path and message (the argument, each *fix*)."""
    with pytest.raises(PlanError) as info:
        call()
    error = info.value
    assert error.code == "plan_invalid" and error.path == path
    assert str(error).startswith(f"{path}: ")
    for text in fix:
        assert text in str(error)
    return error


@pytest.fixture(name="no_currencyconverter")
def _no_currencyconverter(monkeypatch):
    """currencyconverter missing: importing it raises ImportError."""
    monkeypatch.setitem(sys.modules, "currency_converter", None)


class TestFixedRates:
    @pytest.mark.parametrize("rates", [[("USD", "1")], "USD", None, ("USD", "1.0842")])
    def test_rates_not_a_mapping(self, rates):
        """A list of pairs raised AttributeError: 'list' object has no attribute 'items'."""
        error = _refused(
            lambda: FixedRates("EUR", rates), "rates", "{'USD': '1.0842'}", "dict(pairs)"
        )
        assert repr(rates) in str(error) and error.value == rates

    @pytest.mark.parametrize("on", ["2026-10-30", datetime(2026, 10, 30, tzinfo=UTC), 20261030])
    def test_on_not_a_date(self, on):
        """It was taken, and every rate() then failed naming the exchange rate's on."""
        error = _refused(
            lambda: FixedRates("EUR", {"USD": "1.0842"}, on=on), "on", "date(2026, 10, 30)"
        )
        assert repr(on) in str(error)

    def test_on_as_text_names_fromisoformat(self):
        _refused(
            lambda: FixedRates("EUR", {"USD": "1"}, on="2026-10-30"),
            "on",
            "date.fromisoformat('2026-10-30')",
        )

    @pytest.mark.parametrize("source", [5, None, ""])
    def test_source_not_text(self, source):
        """It was taken and written into every rate (and the invoice's JSON) as it was."""
        _refused(lambda: FixedRates("EUR", {"USD": "1"}, source=source), "source", "text such as")

    @pytest.mark.parametrize("on", ["2026-10-30", datetime(2026, 10, 30, tzinfo=UTC)])
    def test_rate_on_not_a_date(self, on):
        """With the source's own on the day asked was ignored whatever it was; without, the
        error named the exchange rate's on, not the argument."""
        for source in (FixedRates("EUR", {"USD": "1"}), FixedRates("EUR", {"USD": "1"}, on=DAY)):
            _refused(lambda s=source: s.rate("EUR", "USD", on), "on", "date(2026, 10, 30)")


class TestEcbRates:
    @pytest.mark.parametrize("days", ["7", True, False, 7.0, 7.5, None, -1, 36_501, 10**9])
    def test_max_age_days_not_a_whole_number_of_days(self, days, no_currencyconverter):
        """Taken unchecked: rate() then raised TypeError ('7', 7.5), OverflowError (10**9),
        or used True as 1 day and -1 as none; refused before currencyconverter is needed."""
        error = _refused(
            lambda: EcbRates(max_age_days=days), "max_age_days", "from 0 to 36500", "such as 7"
        )
        assert repr(days) in str(error)

    def test_the_largest_max_age_days_is_taken(self):
        assert EcbRates(max_age_days=36_500).max_age_days == 36_500
        assert EcbRates(max_age_days=0).max_age_days == 0

    @pytest.mark.parametrize(
        ("on", "fix"),
        [
            ("2026-10-30", "date.fromisoformat('2026-10-30')"),
            (datetime(2026, 10, 30, 12, tzinfo=UTC), ".date()"),
            (datetime(2026, 10, 30, 12), ".date()"),
            (None, "date(2026, 10, 30)"),
        ],
    )
    def test_rate_on_not_a_date(self, on, fix, no_currencyconverter):
        """A text or a datetime raised TypeError from comparing it with the ECB's dates;
        refused before currencyconverter is needed."""
        error = _refused(lambda: EcbRates().rate("EUR", "USD", on), "on", "date(2026, 10, 30)", fix)
        assert repr(on) in str(error)

    def test_rate_quote_checked_before_currencyconverter(self, no_currencyconverter):
        """The base's rate was looked up (needing currencyconverter) before the quote was
        checked."""
        with pytest.raises(PlanError, match=r"^quote: not an ISO 4217 code such as \"EUR\""):
            EcbRates().rate("USD", "usd", DAY)


def test_a_base_rate_other_than_one_is_refused() -> None:
    """1 EUR is 1 EUR: a rate of 2 for the base itself was silently ignored."""
    with pytest.raises(PlanError) as refused:
        FixedRates("EUR", {"USD": "1.08", "EUR": "2"})
    assert refused.value.path == "rates.EUR"
    assert "leave EUR out" in str(refused.value)
    same = FixedRates("EUR", {"USD": "1.08", "EUR": "1"})
    assert same.rate("EUR", "USD", date(2026, 10, 30)).rate == Decimal("1.08")

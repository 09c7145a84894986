"""Multi-currency: rate sources, conversion of bills, enabled and disabled."""

from __future__ import annotations

import decimal
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate._money import EXACT
from cloudrate.fx import EcbRates, FixedRates, RateNotFoundError, RateSource
from cloudrate.rules import MultiCurrency, convert_bill


@pytest.fixture(name="ecb", scope="module")
def _ecb() -> EcbRates:
    pytest.importorskip("currency_converter")
    return EcbRates()


class TestEcbRates:
    def test_is_a_rate_source(self, ecb):
        assert isinstance(ecb, RateSource)

    def test_published_rate_is_exact_decimal(self, ecb):
        """The ECB rate of a business day, as a Decimal with the ECB's digits."""
        fx = ecb.rate("EUR", "USD", date(2026, 10, 30))
        assert fx.rate == Decimal("1.1172") and fx.on == date(2026, 10, 30)
        assert "ECB" in fx.source

    def test_inverse_and_cross_rates(self, ecb):
        """USD->EUR is 1/1.1172 to 60 significant digits (the exact context's precision,
        docs/currencies.md); USD->JPY goes through EUR, exactly as far."""
        day = date(2026, 10, 30)
        sixty = decimal.Context(prec=60)
        assert ecb.rate("USD", "EUR", day).rate == sixty.divide(Decimal(1), Decimal("1.1172"))
        usd, jpy = ecb.rate("EUR", "USD", day).rate, ecb.rate("EUR", "JPY", day).rate
        assert ecb.rate("USD", "JPY", day).rate == sixty.divide(jpy, usd)

    def test_weekend_takes_last_published_rate(self, ecb):
        """Saturday and Sunday 24-25 October 2026 use Friday the 23rd's rate."""
        friday = ecb.rate("EUR", "USD", date(2026, 10, 23)).rate
        assert friday == Decimal("1.1193")
        for day in (24, 25):
            assert ecb.rate("EUR", "USD", date(2026, 10, day)).rate == friday

    def test_shortly_after_the_data_uses_the_last_rate(self, ecb):
        """A few days past the package's last date: its last rate, dated as such."""
        last = ecb._load().bounds["USD"].last_date
        fx = ecb.rate("EUR", "USD", last + timedelta(days=3))
        assert fx.on == last and fx.rate == ecb.rate("EUR", "USD", last).rate
        assert "last rate on or before" in fx.source

    def test_too_far_past_the_data_is_refused(self, ecb):
        with pytest.raises(RateNotFoundError, match="update the package"):
            ecb.rate("EUR", "USD", date(2100, 6, 1))

    def test_unknown_currency(self, ecb):
        with pytest.raises(RateNotFoundError, match="no rate for AED"):
            ecb.rate("EUR", "AED", date(2026, 10, 30))


class TestMultiCurrency:
    def test_disabled_offers_only_the_default(self):
        mc = MultiCurrency(enabled=False, default="EUR", currencies=["USD"])
        assert mc.offered == ("EUR",) and mc.currency_for("USD") == "EUR"

    def test_enabled_refuses_currencies_not_listed(self):
        mc = MultiCurrency(enabled=True, default="EUR", currencies=["USD"])
        assert mc.currency_for("USD") == "USD"
        with pytest.raises(cloudrate.PlanError, match="not offered"):
            mc.currency_for("GBP")

    def test_invalid_currency(self):
        with pytest.raises(cloudrate.PlanError, match="ISO 4217"):
            MultiCurrency(enabled=True, default="EUR", currencies=["EURO"])

    @pytest.mark.parametrize("currencies", ["USD", None, 5])
    def test_currencies_not_a_list_of_codes(self, currencies):
        """None or 5 raised TypeError: not iterable; "USD" was read letter by letter."""
        with pytest.raises(cloudrate.PlanError) as info:
            MultiCurrency(enabled=True, default="EUR", currencies=currencies)
        assert (info.value.code, info.value.path) == ("plan_invalid", "currencies")
        assert str(info.value).startswith("currencies: a list of ISO 4217 codes such as")
        assert "['USD']" in str(info.value) and repr(currencies) in str(info.value)

    @pytest.mark.parametrize("enabled", ["false", None, 1])
    def test_enabled_not_a_bool(self, enabled):
        """enabled="false" offered every currency: any text but "" is true."""
        with pytest.raises(cloudrate.PlanError) as info:
            MultiCurrency(enabled=enabled, default="EUR", currencies=["USD"])
        assert (info.value.code, info.value.path) == ("plan_invalid", "enabled")
        assert str(info.value).startswith("enabled: True or False")
        assert repr(enabled) in str(info.value)

    @pytest.mark.parametrize("source", [{"USD": "1.1172"}, None, "ecb"])
    def test_bill_in_source_not_a_rate_source(self, result, source):
        """It raised AttributeError: ... has no attribute 'rate'."""
        offer = MultiCurrency(enabled=True, default="EUR", currencies=["USD"])
        with pytest.raises(cloudrate.PlanError) as info:
            offer.bill_in(result.bill("acme"), "USD", source, date(2026, 10, 31))
        assert (info.value.code, info.value.path) == ("plan_invalid", "source")
        assert str(info.value).startswith("source: a rate source")
        assert "FixedRates('EUR', {'USD': '1.1172'})" in str(info.value)
        assert repr(source) in str(info.value)

    def test_bill_in_fixes_the_rate(self, result):
        """The converted bill carries the rate and date; disabled keeps EUR at rate 1."""
        bill = result.bill("acme")
        source = FixedRates("EUR", {"USD": "1.1172"}, on=date(2026, 10, 30))
        on = MultiCurrency(enabled=True, default="EUR", currencies=["USD"])
        converted = on.bill_in(bill, "USD", source, date(2026, 10, 31))
        assert converted.rate.rate == Decimal("1.1172")
        assert converted.rate.on == date(2026, 10, 30)
        assert converted.total.currency.code == "USD"
        off = MultiCurrency(default="EUR").bill_in(bill, "USD", source, date(2026, 10, 31))
        assert off.total == bill.total and off.rate.rate == 1


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=4))
def test_converted_total_is_sum_of_rounded_lines(result, value):
    """Any rate: lines are exact products, the total is the sum of rounded lines."""
    bill = result.bill("acme")
    fx = cloudrate.fx.ExchangeRate(base="EUR", quote="USD", rate=value, on=date(2026, 10, 30))
    converted = convert_bill(bill, fx).bill
    for before, after in zip(bill.lines, converted.lines, strict=True):
        assert after.amount.amount == EXACT.multiply(before.amount.amount, value)
        assert isinstance(after.amount.amount, Decimal)
    assert converted.total.amount == sum(x.rounded.amount for x in converted.lines)

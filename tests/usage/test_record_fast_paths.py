"""The constructor's fast paths (a Decimal quantity, a time already in UTC) give exactly
what the general rules give: the same value or the same refusal."""

from __future__ import annotations

import decimal
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cloudrate import UsageError, UsageRecord
from cloudrate._money import MAX_PLACES, MAX_QUANTITY
from cloudrate.usage import parse_quantity


class _OtherDecimal(Decimal):
    """A Decimal that is not exactly ``Decimal``: it takes the general path."""


def _outcome(value: Decimal) -> tuple[str, object]:
    """What parse_quantity gives: the value's digits and exponent, or the refusal."""
    try:
        return "value", parse_quantity(value).as_tuple()
    except UsageError as exc:
        return "refused", str(exc)


def _taken(value: Decimal) -> bool:
    return _outcome(value)[0] == "value"


# Boundaries: the sign of zero, the largest quantity, the most decimals, exponents and
# strings just under, at and over MAX_PLACES characters.
_EDGES = st.sampled_from(
    [
        Decimal("-0"),
        Decimal("0E-100"),
        Decimal("0E-101"),
        MAX_QUANTITY,
        MAX_QUANTITY - Decimal("0.000001"),
        Decimal(1).scaleb(-MAX_PLACES),
        Decimal(1).scaleb(-MAX_PLACES - 1),
        Decimal("0." + "1" * (MAX_PLACES - 2)),
        Decimal("0." + "1" * (MAX_PLACES - 1)),
        Decimal("0." + "1" * MAX_PLACES),
        Decimal("0." + "1" * (MAX_PLACES + 1)),
        Decimal("1E+3"),
        Decimal("-1E-7"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
    ]
)
_DECIMALS = st.one_of(
    _EDGES,
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(
        lambda digits, exponent, negative: Decimal((negative, digits, exponent)),
        st.lists(st.integers(0, 9), min_size=1, max_size=120).map(tuple),
        st.integers(-130, 40),
        st.booleans(),
    ),
)


_EVERY_TRAP = [
    decimal.Clamped,
    decimal.DivisionByZero,
    decimal.Inexact,
    decimal.InvalidOperation,
    decimal.Overflow,
    decimal.Rounded,
    decimal.Subnormal,
    decimal.Underflow,
    decimal.FloatOperation,
]


class TestDecimalQuantity:
    @given(_DECIMALS)
    @example(Decimal("0." + "1" * (MAX_PLACES - 2)))
    def test_same_as_the_general_rules(self, value):
        """A Decimal is taken or refused as a Decimal subclass of the same value is by the
        general rules, and a taken one is returned as it is."""
        assert _outcome(value) == _outcome(_OtherDecimal(value))
        if _outcome(value)[0] == "value":
            assert parse_quantity(value) is value

    @given(_DECIMALS, st.sampled_from([0, 1]), st.integers(1, 28))
    @example(Decimal(1).scaleb(-MAX_PLACES - 1), 0, 28)  # written "1e-101": too many places
    def test_whatever_the_callers_context(self, value, capitals, prec):
        """The caller's decimal context (lower-case exponents, a small precision, every
        trap on) changes nothing: the same outcome as in the default context."""
        expected = _taken(value), _outcome(value)[1] if _taken(value) else None
        hostile = decimal.Context(prec=prec, capitals=capitals, traps=_EVERY_TRAP)
        with decimal.localcontext(hostile):
            # refusals name the value as the context writes it (1e-105 or 1E-105)
            assert (_taken(value), _outcome(value)[1] if _taken(value) else None) == expected

    @pytest.mark.parametrize("value", [Decimal("-1"), Decimal("NaN"), MAX_QUANTITY])
    def test_refused(self, value):
        with pytest.raises(UsageError, match="quantity"):
            parse_quantity(value)


class TestTimesInUtc:
    @given(
        st.datetimes(
            min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
        )
    )
    def test_a_utc_time_is_kept_as_it_is(self, start):
        record = UsageRecord(account="a", metric="m", quantity=1, start=start, end=start)
        assert record.start is start and record.end is start

    @pytest.mark.parametrize(
        "zone", [ZoneInfo("UTC"), timezone(timedelta(0)), timezone(timedelta(hours=2))]
    )
    def test_other_zones_are_converted_to_the_same_instant(self, zone):
        start = datetime(2026, 10, 1, 12, tzinfo=zone)
        record = UsageRecord(account="a", metric="m", quantity=1, start=start, end=start)
        assert record.start.tzinfo is UTC and record.start == start
        assert record == UsageRecord(
            account="a", metric="m", quantity=1, start=start.astimezone(UTC), end=start
        )

    def test_a_naive_time_is_refused(self):
        with pytest.raises(UsageError, match="has no timezone"):
            UsageRecord(
                account="a",
                metric="m",
                quantity=1,
                start=datetime(2026, 10, 1),
                end=datetime.now(UTC),
            )

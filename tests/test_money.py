"""Exact numbers, currencies and the rounding policy (``cloudrate._money``)."""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest
from babel.core import get_cldr_version
from babel.numbers import get_currency_precision, list_currencies
from hypothesis import example, given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import (
    CloudrateError,
    FloatNotAllowedError,
    PlanError,
    RoundingPolicy,
    currency_digits,
    money,
    to_decimal,
)
from cloudrate._money import EXACT, divide_rounded
from cloudrate.testing import amounts, rounding_policies

try:
    import iso4217
except ImportError:  # pragma: no cover - iso4217 comes with the test extra (factur-x)
    iso4217 = None

ALL_MODES = ("half_up", "half_even", "down", "up", "ceiling", "floor")


class TestToDecimal:
    @pytest.mark.parametrize("value", ["0.10", " 1_000.5 ", 7, Decimal("0.0125")])
    def test_accepts_exact_inputs(self, value):
        """Strings, ints and Decimals become the Decimal they spell."""
        expected = Decimal(str(value).strip().replace("_", ""))
        assert to_decimal(value) == expected

    def test_keeps_trailing_zeros(self):
        """'0.10' stays Decimal('0.10'): the text is read as written."""
        assert str(to_decimal("0.10")) == "0.10"

    @given(st.floats(allow_nan=False, allow_infinity=False))
    def test_refuses_every_float(self, value):
        """A float is refused, whatever its value, with a message naming the fix."""
        with pytest.raises(FloatNotAllowedError, match="pass Decimal") as info:
            to_decimal(value, "unit_price")
        assert "string" in str(info.value)
        assert info.value.where == "unit_price"
        assert isinstance(info.value, TypeError)

    @pytest.mark.parametrize("value", [True, None, [1], "abc", "NaN", "Infinity", "1,5"])
    def test_refuses_non_numbers(self, value):
        """Booleans, None, lists, words, NaN and infinities are errors naming the field."""
        with pytest.raises(CloudrateError, match=r"^price"):
            to_decimal(value, "price")


class TestMoney:
    def test_builds_money(self):
        """money() builds an exact Money in a known currency."""
        assert money("49.00", "EUR") == Money(Decimal("49.00"), "EUR")

    def test_refuses_float(self):
        """A float amount is refused, not converted."""
        with pytest.raises(FloatNotAllowedError):
            money(49.0, "EUR")

    def test_refuses_unknown_currency(self):
        """A code that is not ISO 4217 is refused with an example of one that is."""
        with pytest.raises(PlanError, match='ISO 4217 code such as "EUR"'):
            money("1", "EURO")


class TestCurrencyDigits:
    @pytest.mark.parametrize(
        ("code", "digits"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3), ("CLP", 0)]
    )
    def test_minor_units_from_cldr(self, code, digits):
        """Minor units come from CLDR (Babel): 0 for JPY, 3 for BHD (ISO 4217 exponents)."""
        assert currency_digits(code) == digits


class TestRoundingPolicy:
    @given(
        amounts(places=8),
        st.sampled_from(("EUR", "JPY", "BHD")),
        st.sampled_from(("half_up", "half_even")),
    )
    def test_moves_at_most_half_a_minor_unit(self, amount, currency, mode):
        """Half-up and half-even rounding never move an amount by more than half a quantum."""
        policy = RoundingPolicy(mode=mode)
        rounded = policy.round(amount, currency)
        quantum = Decimal(1).scaleb(-currency_digits(currency))
        assert abs(rounded - amount) <= quantum / 2
        assert rounded == rounded.quantize(quantum)

    @given(amounts(places=8), st.sampled_from(ALL_MODES), st.sampled_from(("EUR", "BHD")))
    def test_every_mode_stays_within_one_minor_unit(self, amount, mode, currency):
        """Directed modes (up, down, ceiling, floor) move less than one quantum."""
        rounded = RoundingPolicy(mode=mode).round(amount, currency)
        assert abs(rounded - amount) < Decimal(1).scaleb(-currency_digits(currency))

    @pytest.mark.parametrize(
        ("mode", "amount", "expected"),
        [
            ("half_up", "0.125", "0.13"),
            ("half_up", "-0.125", "-0.13"),
            ("half_even", "0.125", "0.12"),
            ("half_even", "0.135", "0.14"),
            ("half_even", "-0.125", "-0.12"),
            ("down", "0.129", "0.12"),
            ("up", "0.121", "0.13"),
            ("ceiling", "-0.129", "-0.12"),
            ("floor", "-0.121", "-0.13"),
        ],
    )
    def test_ties_and_directions(self, mode, amount, expected):
        """Each mode rounds as its name says (half-up away from zero on ties)."""
        assert RoundingPolicy(mode=mode).round(Decimal(amount), "EUR") == Decimal(expected)

    def test_digits_override_the_currency(self):
        """digits=4 keeps four places whatever the currency's minor units."""
        policy = RoundingPolicy(digits=4)
        assert policy.round(Decimal("1.23456"), "JPY") == Decimal("1.2346")
        assert policy.quantum("EUR") == Decimal("0.0001")

    def test_ignores_the_global_context(self):
        """A caller's low-precision, round-down decimal context changes nothing."""
        amounts_ = [Decimal("123456.785"), Decimal("0.333"), Decimal("0.334")]
        expected = RoundingPolicy().allocate(amounts_, "EUR")
        with decimal.localcontext() as ctx:
            ctx.prec, ctx.rounding = 3, decimal.ROUND_DOWN
            assert RoundingPolicy().round(Decimal("123456.785"), "EUR") == Decimal("123456.79")
            assert RoundingPolicy().allocate(amounts_, "EUR") == expected

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("mode", "bankers", "unknown mode 'bankers'"),
            ("placement", "invoice", "must be 'line' or 'total'"),
            ("digits", -1, "whole number from 0 to 24"),
            ("digits", True, "whole number from 0 to 24"),
            ("digits", 25, "whole number from 0 to 24"),
        ],
    )
    def test_bad_settings_are_refused(self, field, value, message):
        """An unknown mode or placement, or negative digits, is refused naming the choices."""
        with pytest.raises(PlanError, match=message):
            RoundingPolicy(**{field: value})

    def test_to_dict(self):
        """The policy as plain data, as a plan file writes it."""
        assert RoundingPolicy(mode="half_even", placement="total", digits=3).to_dict() == {
            "mode": "half_even",
            "placement": "total",
            "digits": 3,
        }


class TestAllocate:
    @given(
        st.lists(amounts(places=6, signed=False), min_size=1, max_size=12),
        rounding_policies(modes=st.sampled_from(ALL_MODES)),
        st.sampled_from(("EUR", "JPY", "BHD")),
        st.booleans(),
    )
    def test_lines_add_up_and_stay_close(self, values, policy, currency, negate):
        """Allocated lines add up to the rounded total; each is less than one quantum away
        from its exact amount (same-sign amounts, positive or negative)."""
        if negate:
            values = [-v for v in values]
        lines = policy.allocate(values, currency)
        quantum = policy.quantum(currency)
        assert sum(lines, Decimal(0)) == policy.round(sum(values, Decimal(0)), currency)
        for line, exact_ in zip(lines, values, strict=True):
            assert abs(line - exact_) < quantum
            assert line == line.quantize(quantum)

    def test_largest_remainder_gets_the_cent(self):
        """Thirds of one euro: the missing cent goes to the largest remainder, then the first."""
        policy = RoundingPolicy()
        third = Decimal(1) / 3
        assert policy.allocate([third, third, third], "EUR") == [
            Decimal("0.34"),
            Decimal("0.33"),
            Decimal("0.33"),
        ]
        assert policy.allocate([Decimal("0.331"), Decimal("0.335"), Decimal("0.334")], "EUR") == [
            Decimal("0.33"),
            Decimal("0.34"),
            Decimal("0.33"),
        ]

    def test_empty(self):
        """Nothing to allocate gives nothing."""
        assert RoundingPolicy().allocate([], "EUR") == []


class TestDivideRounded:
    """The one integer rounding of every mode, checked against Decimal's own rounding."""

    _DECIMAL_MODES: ClassVar[dict[str, str]] = {
        "half_up": decimal.ROUND_HALF_UP,
        "half_even": decimal.ROUND_HALF_EVEN,
        "down": decimal.ROUND_DOWN,
        "up": decimal.ROUND_UP,
        "ceiling": decimal.ROUND_CEILING,
        "floor": decimal.ROUND_FLOOR,
    }

    @given(
        st.integers(min_value=-(10**30), max_value=10**30),
        st.integers(min_value=0, max_value=25),
        st.sampled_from(ALL_MODES),
    )
    @example(125, 1, "half_up")
    @example(-125, 1, "half_even")
    @example(-5, 1, "half_even")
    @example(0, 3, "ceiling")
    def test_matches_decimal_quantize(self, n, shift, mode):
        """``divide_rounded(n, 10**k)`` is ``n / 10**k`` quantized to 1 with the same mode."""
        expected = (
            Decimal(n)
            .scaleb(-shift, EXACT)
            .quantize(Decimal(1), rounding=self._DECIMAL_MODES[mode], context=EXACT)
        )
        assert divide_rounded(n, 10**shift, mode) == int(expected)

    @given(
        st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=1, max_size=20),
        st.integers(min_value=1, max_value=18),
        st.sampled_from(ALL_MODES),
    )
    def test_arrays_round_like_ints(self, values, shift, mode):
        """On a numpy int64 array it rounds every element as it rounds that int alone."""
        np = pytest.importorskip("numpy")
        rounded = divide_rounded(np.array(values, dtype=np.int64), 10**shift, mode)
        assert rounded.tolist() == [divide_rounded(v, 10**shift, mode) for v in values]

    def test_unknown_mode_is_refused(self):
        with pytest.raises(PlanError, match="unknown mode 'nearest'"):
            divide_rounded(5, 10, "nearest")  # type: ignore[arg-type]


def test_divide_rounded_on_python_int_arrays():
    """Arrays of Python ints (amounts past int64) round like the ints themselves."""
    np = pytest.importorskip("numpy")
    values = [2**70 + 5, -(2**70) - 5, 15]
    rounded = divide_rounded(np.array(values, dtype=object), 10, "half_even")
    assert rounded.tolist() == [divide_rounded(v, 10, "half_even") for v in values]


class TestRoundWithoutContext:
    """``RoundingPolicy.round`` rounds once, from the amount's own digits: however many
    digits the amount has, the result is what Decimal's own rounding gives with room
    for every digit."""

    _WIDE = decimal.Context(prec=200, Emin=-999999, Emax=999999)

    @given(
        st.integers(min_value=-(10**80), max_value=10**80),
        st.integers(min_value=0, max_value=40),
        st.sampled_from(ALL_MODES),
        st.sampled_from(("EUR", "JPY", "BHD")),
    )
    @example(int("9" * 61), 62, "down", "EUR")
    @example(int("1" * 62 + "125"), 3, "half_up", "EUR")
    @example(-1, 3, "half_up", "EUR")
    def test_matches_decimal_with_room(self, digits, places, mode, currency):
        amount = Decimal(digits).scaleb(-places, self._WIDE)
        quantum = Decimal(1).scaleb(-currency_digits(currency))
        expected = amount.quantize(
            quantum, rounding=TestDivideRounded._DECIMAL_MODES[mode], context=self._WIDE
        )
        rounded = RoundingPolicy(mode=mode).round(amount, currency)
        assert rounded == expected
        assert rounded.as_tuple().exponent == quantum.as_tuple().exponent
        assert str(rounded) == str(expected)


# --- Minor units: CLDR (Babel) or ISO 4217 (the iso4217 package) --------------------------

_needs_iso = pytest.mark.skipif(iso4217 is None, reason="needs the iso4217 package")
DOCS = Path(__file__).parent.parent / "docs" / "rounding.md"


def _iso_units() -> dict[str, str]:
    if iso4217 is None:
        return {}
    return {code: row["CcyMnrUnts"] for code, row in iso4217.raw_table.items() if code}


def _differing() -> list[tuple[str, int, int]]:
    known = set(list_currencies())
    return [
        (code, int(get_currency_precision(code)), int(units))
        for code, units in sorted(_iso_units().items())
        if code in known and units.isdigit() and int(units) != int(get_currency_precision(code))
    ]


@_needs_iso
class TestCurrencyDigitsSource:
    def test_iqd_differs(self):
        """ISO 4217's List One (published by the maintenance agency, SIX Group:
        https://www.six-group.com/en/products-services/financial-information/data-standards.html)
        gives the Iraqi dinar 3 minor units; CLDR's supplementalData currencyData gives it 0
        (https://github.com/unicode-org/cldr/blob/main/common/supplemental/supplementalData.xml)."""
        assert _iso_units()["IQD"] == "3" and get_currency_precision("IQD") == 0
        assert currency_digits("IQD") == 0
        assert currency_digits("IQD", "iso4217") == 3

    def test_recent_amendments(self):
        """Currencies added by recent ISO 4217 amendments have their table digits: ZWG
        (Zimbabwe Gold, 2024), XCG (Caribbean guilder), SLE (new leone, 2022), VES (2018),
        each 2 in List One."""
        for code in ("ZWG", "XCG", "SLE", "VES"):
            if code in set(list_currencies()):
                assert currency_digits(code, "iso4217") == int(_iso_units()[code]) == 2

    @given(st.sampled_from(sorted(set(_iso_units()) & set(list_currencies())) or ["EUR"]))
    def test_each_source_is_its_table(self, code):
        """For every code both know, each source returns its own table's digits."""
        assert currency_digits(code) == get_currency_precision(code)
        units = _iso_units()[code]
        if units.isdigit():
            assert currency_digits(code, "iso4217") == int(units)
        else:
            with pytest.raises(PlanError, match=f"ISO 4217 gives {code} no minor units"):
                currency_digits(code, "iso4217")

    def test_unknown_source(self):
        """A misspelt source is refused, naming the choices."""
        with pytest.raises(PlanError, match="cldr, iso4217"):
            currency_digits("EUR", "iso")  # type: ignore[arg-type]
        with pytest.raises(PlanError, match="minor_units"):
            RoundingPolicy(minor_units="iso")  # type: ignore[arg-type]


@_needs_iso
class TestRoundingPolicyMinorUnits:
    @given(
        st.sampled_from([c for c, _, _ in _differing()] or ["IQD"]),
        st.decimals(min_value=-(10**9), max_value=10**9, places=6),
    )
    def test_rounds_to_the_chosen_table(self, code, amount):
        """With minor_units='iso4217' an amount is rounded as a policy with the ISO digits
        fixed would round it; the default keeps CLDR's."""
        iso = int(_iso_units()[code])
        assert RoundingPolicy(minor_units="iso4217").round(amount, code) == RoundingPolicy(
            digits=iso
        ).round(amount, code)
        assert RoundingPolicy().round(amount, code) == RoundingPolicy(
            digits=int(get_currency_precision(code))
        ).round(amount, code)

    def test_digits_override_the_source(self):
        """An explicit digits wins over either table."""
        policy = RoundingPolicy(digits=1, minor_units="iso4217")
        assert policy.round(Decimal("1.26"), "IQD") == Decimal("1.3")

    def test_default_unchanged(self):
        """The default is CLDR, its repr and to_dict are as before the option existed."""
        assert RoundingPolicy().minor_units == "cldr"
        assert repr(RoundingPolicy()) == (
            "RoundingPolicy(mode='half_up', placement='line', digits=None)"
        )
        assert "minor_units" not in RoundingPolicy().to_dict()
        assert RoundingPolicy(minor_units="iso4217").to_dict()["minor_units"] == "iso4217"


@_needs_iso
def test_docs_table_matches_the_sources():
    """docs/rounding.md lists exactly the currencies where the two tables differ, as the
    installed Babel and iso4217 give them."""
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"<!-- minor-units:start -->(.*?)<!-- minor-units:end -->", text, re.S)
    assert block is not None
    rows = re.findall(r"^\| ([A-Z]{3}) \| [^|]+ \| (\d+) \| (\d+) \|$", block.group(1), re.M)
    assert [(c, int(a), int(b)) for c, a, b in rows] == _differing()
    assert f"published {iso4217.__published__}" in block.group(1)
    assert f"Unicode CLDR {get_cldr_version()}" in block.group(1)

"""Rating usage against a plan: ``rate()`` and its result (``cloudrate.rating``)."""

from __future__ import annotations

import decimal
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate import (
    AccountBill,
    BillingPeriod,
    Charge,
    PerUnit,
    Plan,
    PlanError,
    RatedLine,
    RatingError,
    RoundingPolicy,
    UnpricedUsageError,
    UsageRecord,
    load_plan,
    rate,
)
from cloudrate._money import EXACT
from cloudrate.testing import currencies, plans, prices, rounding_policies, usage_records

D = Decimal
T0 = datetime(2026, 10, 1, tzinfo=UTC)
OCTOBER = BillingPeriod.month(2026, 10)
BERLIN = ZoneInfo("Europe/Berlin")


def _rec(metric, quantity, *, account="acme", start=T0, hours=1, **kw) -> UsageRecord:
    return UsageRecord(
        account=account,
        metric=metric,
        quantity=quantity,
        start=start,
        end=start + timedelta(hours=hours),
        **kw,
    )


def _plan(metrics: str = "", charges: str = "", timezone: str = "UTC", extra: str = "") -> Plan:
    return load_plan(
        f"name: t\ncurrency: EUR\ntimezone: {timezone}\n{extra}"
        f"metrics:\n{metrics or '  x: {unit: unit}'}\ncharges:\n{charges}"
    )


def _line(plan, records, charge="c", account="acme", **kw) -> RatedLine:
    return rate(plan, records, **kw).bill(account).line(charge)


class TestAggregations:
    def _agg(self, aggregation):
        return _plan(
            f"  m: {{unit: GB, aggregation: {aggregation}}}",
            "  - {name: c, metric: m, model: per_unit, unit_price: 1}",
        )

    def test_sum(self):
        """sum (the default) adds the quantities."""
        records = [_rec("m", q, start=T0 + timedelta(days=i)) for i, q in enumerate("123")]
        assert _line(self._agg("sum"), records).quantity == 6

    def test_max(self):
        """max takes the peak."""
        records = [_rec("m", q, start=T0 + timedelta(days=i)) for i, q in enumerate("371")]
        assert _line(self._agg("max"), records).quantity == 7

    def test_time_weighted_average(self):
        """average weighs each quantity by its seconds over the period's: 100 GB for half
        of October plus 40 GB all month average 50 + 40 = 90 GB."""
        half = 31 * 24 // 2
        records = [_rec("m", "100", hours=half), _rec("m", "40", hours=31 * 24)]
        assert _line(self._agg("average"), records).quantity == D(90)

    def test_unique(self):
        """unique counts distinct resources."""
        records = [
            _rec("m", 1, resource_id=r, start=T0 + timedelta(hours=i))
            for i, r in enumerate(["ip-1", "ip-2", "ip-1"])
        ]
        assert _line(self._agg("unique"), records).quantity == 2

    @given(st.permutations(range(4)))
    def test_latest(self, order):
        """latest takes the quantity of the last record, whatever the input order."""
        records = [_rec("m", str(10 + i), start=T0 + timedelta(days=i)) for i in range(4)]
        assert _line(self._agg("latest"), [records[i] for i in order]).quantity == 13


class TestUnitConversion:
    @pytest.mark.parametrize(
        ("usage_unit", "unit", "quantity", "expected"),
        [
            ("second", "IP-hour", "7200", "2"),
            ("byte", "GB", "5000000000", "5"),
            ("byte", "GiB", str(2**31), "2"),
            ("MB", "GB", "1500", "1.5"),
            ("GB-hour", "GB-month", "744", "1"),
        ],
    )
    def test_converts_before_pricing(self, usage_unit, unit, quantity, expected):
        """Quantities are converted from the usage unit into the priced unit (October 2026
        in UTC has 744 hours)."""
        plan = _plan(
            f"  m: {{unit: {unit}, usage_unit: {usage_unit}}}",
            "  - {name: c, metric: m, model: per_unit, unit_price: 2}",
        )
        line = _line(plan, [_rec("m", quantity)])
        assert line.usage_quantity == D(expected)
        assert line.amount.amount == 2 * D(expected)
        assert line.unit == unit

    def test_gb_month_in_a_dst_month(self):
        """In Berlin, October 2026 has 745 hours: 745 GB-hours are one GB-month."""
        plan = _plan(
            "  m: {unit: GB-month, usage_unit: GB-hour}",
            "  - {name: c, metric: m, model: per_unit, unit_price: 1}",
            timezone="Europe/Berlin",
        )
        start = datetime(2026, 10, 1, tzinfo=BERLIN)
        assert _line(plan, [_rec("m", "745", start=start)]).quantity == 1


class TestSelectorsAndFreeUnits:
    PLAN = """\
  - {name: small, metric: vcpu_hours, model: per_unit, unit_price: 0.01,
     where: {offering: [small, tiny]}}
  - {name: large, metric: vcpu_hours, model: per_unit, unit_price: 0.05,
     where: {offering: large, zone: z1}}
  - {name: ip, metric: public_ip_hours, model: per_unit, unit_price: 0.005, free_units: 10,
     where: {is_default: false}}
"""

    def test_one_metric_several_prices(self):
        """Records go to the charge whose selector matches; lists mean any of."""
        plan = _plan(charges=self.PLAN)
        records = [
            _rec("vcpu_hours", 10, attributes={"offering": "small"}),
            _rec("vcpu_hours", 5, attributes={"offering": "tiny"}),
            _rec("vcpu_hours", 2, attributes={"offering": "large", "zone": "z1"}),
        ]
        bill = rate(plan, records).bill("acme")
        assert bill.line("small").quantity == 15
        assert bill.line("large").quantity == 2

    def test_unselected_records_are_reported(self):
        """A record no selector takes is listed as unpriced, never dropped silently."""
        plan = _plan(charges=self.PLAN)
        result = rate(plan, [_rec("vcpu_hours", 2, attributes={"offering": "large", "zone": "z2"})])
        [unpriced] = result.unpriced
        assert (unpriced.metric, unpriced.records) == ("vcpu_hours", 1)
        assert "where" in unpriced.reason

    def test_boolean_attributes(self):
        """is_default: false selects records whose attribute is 'false' (CSV or bool)."""
        plan = _plan(charges=self.PLAN)
        records = [
            _rec("public_ip_hours", 30, attributes={"is_default": False}),
            _rec("public_ip_hours", 5, attributes={"is_default": "false"}),
            _rec("public_ip_hours", 99, attributes={"is_default": True}),
        ]
        result = rate(plan, records)
        line = result.bill("acme").line("ip")
        assert (line.usage_quantity, line.free_quantity, line.quantity) == (35, 10, 25)
        assert line.amount.amount == 25 * D("0.005")
        assert result.unpriced[0].records == 1

    def test_free_units_cover_small_usage(self):
        """Usage under the free allowance costs nothing."""
        plan = _plan(charges=self.PLAN)
        line = _line(
            plan, [_rec("public_ip_hours", 4, attributes={"is_default": False})], charge="ip"
        )
        assert (line.free_quantity, line.quantity, line.amount.amount) == (4, 0, 0)
        assert "free units: 4 of 4" in line.explain()


class TestUnpriced:
    PLAN = "  - {name: c, metric: vcpu_hours, model: per_unit, unit_price: 1}\n"

    def test_reported(self):
        """Usage of a metric no charge prices is listed in result.unpriced."""
        result = rate(
            _plan(charges=self.PLAN),
            [
                _rec("vcpu_hours", 1),
                _rec("gpu_hours", 2, account="b"),
                _rec("gpu_hours", 3, account="a"),
            ],
        )
        [u] = result.unpriced
        assert (u.metric, u.records, u.accounts) == ("gpu_hours", 2, ("a", "b"))
        assert u.reason == "no charge prices this metric"
        assert json.loads(result.to_json())["unpriced"][0]["metric"] == "gpu_hours"

    def test_error(self):
        """on_unpriced='error' refuses the usage, naming the metric and count."""
        with pytest.raises(UnpricedUsageError, match=r"gpu_hours \(1 record\)") as info:
            rate(_plan(charges=self.PLAN), [_rec("gpu_hours", 2)], on_unpriced="error")
        assert info.value.metrics == {"gpu_hours": 1}

    def test_error_says_when_no_where_selects(self):
        """When charges price the metric but none of their selectors picks the records,
        the error says so, and counts the records once per metric."""
        plan = _plan(
            charges="  - {name: c, metric: vcpu_hours, where: {zone: z1}, "
            "model: per_unit, unit_price: 1}\n"
        )
        usage = [_rec("vcpu_hours", 1, attributes={"zone": "z2"}), _rec("vcpu_hours", 1)]
        with pytest.raises(UnpricedUsageError, match="selects these records") as info:
            rate(plan, usage, on_unpriced="error")
        assert info.value.metrics == {"vcpu_hours": 2}

    def test_bad_option(self):
        """on_unpriced takes 'report' or 'error'."""
        with pytest.raises(ValueError, match="'report' or 'error'"):
            rate(_plan(charges=self.PLAN), [], OCTOBER, on_unpriced="ignore")


class TestPeriods:
    PLAN = "  - {name: c, metric: vcpu_hours, model: per_unit, unit_price: 1}\n"

    def test_inferred_from_the_earliest_record_in_the_plan_timezone(self):
        """Without a period, the month (in the plan's timezone) of the first record is used:
        30 Sept 22:30 UTC is already October in Berlin."""
        plan = _plan(charges=self.PLAN, timezone="Europe/Berlin")
        start = datetime(2026, 9, 30, 22, 30, tzinfo=UTC)
        result = rate(plan, [_rec("vcpu_hours", 1, start=start, hours=1)])
        assert result.period == BillingPeriod.month(2026, 10, "Europe/Berlin")

    def test_records_outside_the_period(self):
        """Records outside (or straddling) the period are refused, never clipped or dropped."""
        plan = _plan(charges=self.PLAN)
        records = [
            _rec("vcpu_hours", 1),
            _rec("vcpu_hours", 1, start=OCTOBER.end - timedelta(minutes=30)),
        ]
        with pytest.raises(RatingError, match=r"1 record\(s\) lie outside the period 2026-10"):
            rate(plan, records)
        with pytest.raises(RatingError, match="outside the period 2026-11"):
            rate(plan, records[:1], BillingPeriod.month(2026, 11))

    def test_an_instant_at_the_boundary_belongs_to_the_next_period(self):
        """Periods are half-open: a zero-length record at 1 November 00:00 is November's
        usage, so rating October and November never counts it twice."""
        plan = _plan(charges=self.PLAN)
        instant = UsageRecord(
            account="acme", metric="vcpu_hours", quantity=5, start=OCTOBER.end, end=OCTOBER.end
        )
        with pytest.raises(RatingError, match="outside the period 2026-10"):
            rate(plan, [instant], OCTOBER)
        assert rate(plan, [instant], BillingPeriod.month(2026, 11)).total.amount == 5
        assert rate(plan, [instant]).period.label == "2026-11"

    def test_no_usage_needs_a_period(self):
        """With no usage and no period there is nothing to infer."""
        with pytest.raises(RatingError, match="pass period="):
            rate(_plan(charges=self.PLAN), [])

    def test_plan_effective_dates(self):
        """A plan version is only used inside its effective dates."""
        plan = _plan(charges=self.PLAN, extra="version: '2'\neffective_from: 2026-11-01\n")
        with pytest.raises(PlanError, match="takes effect on 2026-11-01"):
            rate(plan, [_rec("vcpu_hours", 1)])
        later = _rec("vcpu_hours", 1, start=datetime(2026, 11, 2, tzinfo=UTC))
        assert rate(plan, [later]).total.amount == 1

    def test_accounts_without_usage(self):
        """accounts= bills accounts that used nothing (with no lines)."""
        result = rate(_plan(charges=self.PLAN), [_rec("vcpu_hours", 1)], accounts=["zeta"])
        assert [b.account for b in result.bills] == ["acme", "zeta"]
        assert result.bill("zeta").lines == () and result.bill("zeta").total.amount == 0

    def test_iterables(self):
        """Usage may be any iterable, e.g. a generator."""
        result = rate(_plan(charges=self.PLAN), (r for r in [_rec("vcpu_hours", 2)]))
        assert result.total.amount == 2


def _aligned_records(metrics):
    """Records of 1 to 24 hours that start at midnight on a day of October 2026 (UTC)."""
    return st.builds(
        lambda day, hours, account, metric, q: _rec(
            metric, q, account=account, start=T0 + timedelta(days=day), hours=hours
        ),
        st.integers(0, 30),
        st.integers(1, 24),
        st.sampled_from("abc"),
        st.sampled_from(metrics),
        st.decimals(0, 10**6, places=6),
    )


def _usable(plan: Plan) -> Plan:
    """The plan in UTC with no effective dates, so October 2026 can be rated."""
    return attrs.evolve(plan, timezone="UTC", effective_from=None, effective_to=None)


class TestRateProperties:
    METRICS = ("vcpu_hours", "memory_gb_hours", "bandwidth_gb")

    @given(
        st.lists(_aligned_records(METRICS), max_size=30), st.lists(prices(), min_size=3, max_size=3)
    )
    def test_per_unit_is_additive_over_split_periods(self, records, unit_prices):
        """Per-unit amounts over 1-15 and 16-31 October add up, before rounding, to the
        amount over the whole month."""
        plan = Plan(
            name="p",
            currency="EUR",
            charges=[
                Charge(name=m, metric=m, model=PerUnit(Money(p, "EUR")))
                for m, p in zip(self.METRICS, unit_prices, strict=True)
            ],
        )
        first = BillingPeriod.parse("2026-10-01..2026-10-15")
        second = BillingPeriod.parse("2026-10-16..2026-10-31")
        parts = {first: [], second: []}
        for r in records:
            parts[first if r.end <= first.end else second].append(r)
        whole = rate(plan, records, OCTOBER)
        halves = [rate(plan, part, period) for period, part in parts.items()]
        for line in whole.lines:
            pieces = [
                h.bill(line.account).line(line.charge)
                for h in halves
                if any(b.account == line.account for b in h.bills)
                and any(x.charge == line.charge for x in h.bill(line.account).lines)
            ]
            assert sum((p.amount.amount for p in pieces), D(0)) == line.amount.amount

    @given(
        plans(currencies=currencies(), full=True),
        st.lists(usage_records(), max_size=25),
        rounding_policies(),
    )
    def test_totals_are_sums_of_rounded_lines(self, plan, records, policy):
        """For both placements: each account total is the sum of its rounded lines, the
        exact total the sum of exact amounts, the result total the sum of accounts; per line
        each line is rounded on its own, per total the lines add up to the rounded total."""
        plan = _usable(plan)
        result = rate(plan, records, OCTOBER, rounding=policy)
        with decimal.localcontext(EXACT):  # our own sums, as exact as the library's
            self._check_totals(result, policy)

    @staticmethod
    def _check_totals(result, policy):
        currency = result.plan.currency
        for bill in result.bills:
            assert bill.total.amount == sum((x.rounded.amount for x in bill.lines), D(0))
            assert bill.exact_total.amount == sum((x.amount.amount for x in bill.lines), D(0))
            for line in bill.lines:
                assert line.currency == currency
            if policy.placement == "line":
                assert all(
                    x.rounded.amount == policy.round(x.amount.amount, currency) for x in bill.lines
                )
            else:
                assert bill.total.amount == policy.round(bill.exact_total.amount, currency)
        assert result.total.amount == sum((b.total.amount for b in result.bills), D(0))

    @given(plans(full=True), st.lists(usage_records(), max_size=25), st.randoms())
    def test_deterministic(self, plan, records, random):
        """Same inputs, same JSON byte for byte, whatever the order of the records."""
        plan = _usable(plan)
        first = rate(plan, records, OCTOBER).to_json()
        assert rate(plan, records, OCTOBER).to_json() == first
        shuffled = list(records)
        random.shuffle(shuffled)
        assert rate(plan, shuffled, OCTOBER).to_json() == first

    @given(
        st.lists(
            st.tuples(
                st.sampled_from([f"vm-{i}" for i in range(12)]),
                st.integers(0, 30),
                st.integers(1, 31 * 24),
            ),
            min_size=1,
            max_size=30,
        ),
        st.randoms(),
        st.sampled_from(("days", "seconds", "days_of_30", "thirty_day_months")),
    )
    def test_prorated_fees_do_not_depend_on_order(self, spans, random, proration):
        """Per-resource proration factors (thirds, 31sts) add up the same in any order."""
        plan = _plan(
            charges=f"  - {{name: c, metric: vm, model: flat, price: '12.00', "
            f"proration: {proration}}}\n",
            timezone="Europe/Berlin",
        )
        period = BillingPeriod.month(2026, 10, "Europe/Berlin")
        records = []
        for vm, day, hours in spans:
            start = period.start + timedelta(days=day)
            records.append(
                UsageRecord(
                    account="a",
                    metric="vm",
                    quantity=1,
                    resource_id=vm,
                    start=start,
                    end=min(start + timedelta(hours=hours), period.end),
                )
            )
        first = rate(plan, records, period).to_json()
        random.shuffle(records)
        assert rate(plan, records, period).to_json() == first

    def test_ignores_the_global_decimal_context(self):
        """A caller's 4-digit, round-down decimal context does not change any number."""
        plan = load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        expected = rate(plan, usage).to_json()
        with decimal.localcontext() as ctx:
            ctx.prec, ctx.rounding = 4, decimal.ROUND_DOWN
            result = rate(plan, usage)
            assert result.to_json() == expected
            bill = result.bills[0]
            assert bill.with_lines([]).total == bill.total


class TestRatedLine:
    def test_adjustment(self):
        """Rules add adjustment lines that may be negative and say why."""
        line = RatedLine.adjustment(
            account="a",
            charge="promo",
            description="10% off",
            amount=Money("-1.2345", "EUR"),
            rounded=Money("-1.23", "EUR"),
            kind="discount",
        )
        assert (line.kind, line.quantity, line.unit_price, line.currency) == (
            "discount",
            1,
            None,
            "EUR",
        )
        assert line.explain() == "rounded -1.2345 to -1.23"

    def test_to_dict_numbers_are_strings(self):
        """Every number in a line's JSON form is a decimal string (records count aside)."""
        plan = load_plan(cloudrate.sample_plan_path())
        result = rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
        for line in result.lines:
            data = line.to_dict()
            for key in ("usage_quantity", "free_quantity", "quantity", "amount", "rounded"):
                assert isinstance(data[key], str)
                D(data[key])
            assert isinstance(data["records"], int)
            for detail in data["details"]:
                assert isinstance(detail["amount"], str)


class TestAccountBill:
    def _bill(self) -> AccountBill:
        plan = _plan(charges="  - {name: c, metric: m, model: per_unit, unit_price: '0.333'}\n")
        return rate(plan, [_rec("m", 1)]).bill("acme")

    def test_with_lines_recomputes_totals(self):
        """Adding lines gives a new bill whose totals include them; the old one is kept."""
        bill = self._bill()
        extra = RatedLine.adjustment(
            account="acme",
            charge="credit",
            description="credit",
            amount=Money("-0.1", "EUR"),
            rounded=Money("-0.10", "EUR"),
        )
        new = bill.with_lines([extra])
        assert new.total.amount == D("0.33") - D("0.10")
        assert new.exact_total.amount == D("0.333") - D("0.1")
        assert bill.total.amount == D("0.33") and len(bill.lines) == 1

    @pytest.mark.parametrize(("account", "currency"), [("acme", "USD"), ("other", "EUR")])
    def test_with_lines_refuses_other_currency_or_account(self, account, currency):
        """A line in another currency, or of another account, cannot join the bill."""
        extra = RatedLine.adjustment(
            account=account,
            charge="x",
            description="x",
            amount=Money(1, currency),
            rounded=Money(1, currency),
        )
        with pytest.raises(RatingError, match="this bill is 'acme' in EUR"):
            self._bill().with_lines([extra])

    def test_line_lookup(self):
        """bill.line(name) finds a line; an unknown one raises KeyError."""
        with pytest.raises(KeyError, match="no line for charge 'x'"):
            self._bill().line("x")


class TestRatingResult:
    def _result(self):
        plan = load_plan(cloudrate.sample_plan_path())
        return rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))

    def test_json_schema_keys_are_stable(self):
        """The JSON keys of schema cloudrate.rating/1 are pinned."""
        data = json.loads(self._result().to_json())
        assert list(data) == [
            "schema",
            "plan",
            "currency",
            "period",
            "rounding",
            "total",
            "accounts",
            "unpriced",
        ]
        assert data["schema"] == "cloudrate.rating/1"
        assert list(data["accounts"][0]) == ["account", "total", "exact_total", "currency", "lines"]
        assert list(data["accounts"][0]["lines"][0]) == [
            "account",
            "charge",
            "description",
            "service",
            "metric",
            "unit",
            "usage_quantity",
            "free_quantity",
            "quantity",
            "unit_price",
            "amount",
            "rounded",
            "currency",
            "proration",
            "records",
            "kind",
            "details",
        ]
        assert list(data["period"]) == ["start", "end", "timezone", "label"]
        assert isinstance(data["total"], str)

    def test_totals_and_lookup(self):
        """totals() maps accounts to totals; bill() of an unknown account lists the known."""
        result = self._result()
        assert sum(t.amount for t in result.totals().values()) == result.total.amount
        with pytest.raises(KeyError, match="accounts are acme, globex, initech"):
            result.bill("nobody")

    def test_html(self):
        """The notebook table escapes text and shows the total."""
        html = self._result()._repr_html_()
        assert html.startswith("<table>") and str(self._result().total.amount) in html

    def test_with_bills(self):
        """with_bills replaces the bills (after rules ran), keeping plan and period."""
        result = self._result()
        fewer = result.with_bills(result.bills[:1])
        assert [b.account for b in fewer.bills] == ["acme"] and fewer.period == result.period

    def test_exact_and_rounded(self):
        """Sample check: a line keeps its exact amount next to the billed one."""
        line = self._result().bill("acme").line("compute")
        assert line.rounded.amount == RoundingPolicy().round(line.amount.amount, "EUR")
        assert EXACT.multiply(line.quantity, D("0.0125")) == line.amount.amount

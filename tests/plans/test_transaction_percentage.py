"""TransactionPercentage: a percentage of each transaction, Lago's ``percentage`` model.

Expected amounts are Lago's own figures (its documentation and its test suite, cited in
each test) or worked out by hand from the rules in the model's docstring; none is
computed by the code under test.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate._money import EXACT, MAX_AMOUNT
from cloudrate.exceptions import (
    ConfigError,
    CurrencyMismatchError,
    FloatNotAllowedError,
    PlanError,
)
from cloudrate.plans import (
    MODELS,
    Charge,
    ChargeOverride,
    Metric,
    PerTransaction,
    Plan,
    TransactionPercentage,
    VectorPricing,
)
from cloudrate.testing import quantities, transaction_percentages

D = Decimal
T0 = datetime(2026, 10, 1, tzinfo=UTC)
OCTOBER = cloudrate.BillingPeriod.month(2026, 10)


def fees(percent: str, currency: str = "USD", **options: object) -> TransactionPercentage:
    """A transaction percentage; prices given as text are Money in *currency*."""
    built = {
        k: Money(v, currency)
        if k in ("fixed_fee", "min_per_transaction", "max_per_transaction")
        else v
        for k, v in options.items()
    }
    return TransactionPercentage(percent=D(percent), currency=currency, **built)  # type: ignore[arg-type]


def amount(model: TransactionPercentage, *amounts: str | int) -> Decimal:
    return model.price_transactions([D(a) for a in amounts]).amount.amount


def payments(*amounts: str | int, account: str = "acme") -> list[cloudrate.UsageRecord]:
    """One record per amount, an hour apart, in that order."""
    return [
        cloudrate.UsageRecord(
            account=account,
            metric="payments",
            quantity=q,
            start=T0 + timedelta(hours=i),
            end=T0 + timedelta(hours=i + 1),
            record_id=f"p{i}",
        )
        for i, q in enumerate(amounts)
    ]


def plan_of(model: object, **charge: object) -> Plan:
    return Plan(
        name="P",
        currency="USD",
        charges=[Charge(name="fees", metric="payments", model=model, **charge)],  # type: ignore[arg-type]
    )


class TestLagoExamples:
    def test_documentation_example(self):
        """getlago.com/docs/guide/plans/charges/charge-models/percentage: 1.2% and $0.10
        per transaction, the first 3 events or $500 free; transactions of 200, 100, 100
        and 50 cost $0.10 x 1 event + 1.2% of $50 = $0.70."""
        model = fees("1.2", fixed_fee="0.10", free_transactions=3, free_amount=D(500))
        assert amount(model, 200, 100, 100, 50) == D("0.70")
        assert amount(model, 200, 100, 100) == 0  # "No charges" for the first three

    def test_minimum_and_maximum_example(self):
        """Lago's product update on the feature (d376nw0erossg9.cloudfront.net/updates-25.html):
        1% and $0.50 per transaction, minimum $1, maximum $5: a $20 transaction costs $1
        ($0.70 raised), a $600 one $5 ($6.50 lowered)."""
        model = fees("1", fixed_fee="0.50", min_per_transaction="1", max_per_transaction="5")
        assert amount(model, 20) == 1
        assert amount(model, 600) == 5
        assert amount(model, 20, 600) == 6

    @pytest.mark.parametrize(
        ("options", "expected"),
        [
            # (800 - 250) x 1.3% + (4 - 2) x 2.0
            ({"free_transactions": 3, "free_amount": D(250)}, D("11.15")),
            ({"free_amount": D(250)}, D("11.15")),
            # (800 - 400) x 1.3% + (4 - 3) x 2.0
            ({"free_transactions": 3}, D("7.2")),
            ({"free_transactions": 3, "free_amount": D(500)}, D("7.2")),
            # 800 x 1.3% + 4 x 2.0
            ({}, D("18.4")),
        ],
    )
    def test_lago_unit_spec(self, options, expected):
        """getlago/lago-api spec/services/charge_models/percentage_service_spec.rb: rate
        1.3, fixed amount 2.0, four events whose running totals are 50, 150, 400 (the
        events 50, 100, 250, then 400: 800 in all)."""
        model = fees("1.3", fixed_fee="2.0", **options)
        assert amount(model, 50, 100, 250, 400) == expected

    def test_lago_unit_spec_rate_zero_and_small_units(self):
        """The same spec: a rate of 0 leaves the fixed fees, 4 x 2.0 = 8; 2.9% of 4 units
        with no fixed amount is 0.116."""
        assert amount(fees("0", fixed_fee="2.0"), 50, 100, 250, 400) == 8
        assert amount(fees("2.9"), 1, 1, 1, 1) == D("0.116")

    @pytest.mark.parametrize(
        ("options", "expected"),
        [
            ({}, D("16.142")),  # 1.75 (min, 0.299 < 1.75) + 2.392 + 12 (max, 299 > 12)
            ({"fixed_fee": "2.0"}, D("18.691")),  # 2.299 + 4.392 + 12
            ({"free_transactions": 2}, D("12")),  # only 10000 pays: the maximum
            ({"free_amount": D(30)}, D("13.794")),  # (10 + 80 - 30) x 2.99% + 12
            ({"free_transactions": 3, "free_amount": D(10000)}, D("2.691")),  # 90 x 2.99%
        ],
    )
    def test_lago_unit_spec_min_and_max(self, options, expected):
        """percentage_service_spec.rb, "when applying min / max amount per transaction"
        (premium): rate 2.99, minimum 1.75, maximum 12, events 10, 80 and 10000."""
        model = fees("2.99", min_per_transaction="1.75", max_per_transaction="12", **options)
        assert amount(model, 10, 80, 10000) == expected

    def test_lago_unit_spec_without_min_and_max(self):
        """The same events without the minimum and maximum (Lago without its premium
        licence): (10 + 80 + 10000) x 2.99% = 301.691."""
        assert amount(fees("2.99"), 10, 80, 10000) == D("301.691")

    @pytest.mark.parametrize(
        ("options", "events", "cents"),
        [
            ({"free_transactions": 3}, (10, 10, 10, 10), 510),
            ({"free_amount": D(15)}, (4, 4, 4), 0),
            ({"free_amount": D(15)}, (4, 4, 4, 4), 501),
            ({"free_amount": D(15)}, (4, 4, 4, 4, 10), 1011),
            ({"free_transactions": 3, "free_amount": D(15)}, (1, 1, 1), 0),
            ({"free_transactions": 3, "free_amount": D(15)}, (1, 1, 1, 1), 501),
            ({"free_transactions": 3, "free_amount": D(15)}, (10,), 0),
            ({"free_transactions": 3, "free_amount": D(15)}, (10, 10), 505),
            ({"free_transactions": 3, "free_amount": D(15)}, (10, 10, 10), 1015),
        ],
    )
    def test_lago_scenarios(self, options, events, cents):
        """getlago/lago-api spec/scenarios/current_usage/by_charge_model/percentage_spec.rb
        (sum_agg): rate 1, fixed amount 5, the current usage after each event."""
        model = fees("1", fixed_fee="5", **options)
        assert amount(model, *events) * 100 == cents

    @pytest.mark.parametrize(
        ("events", "cents"), [((100,), 200), ((100, 1000), 1300), ((100, 1000, 10000), 2500)]
    )
    def test_lago_scenarios_min_and_max(self, events, cents):
        """percentage_spec.rb, "with min and max per transaction amount": rate 1, fixed
        amount 1, minimum 1.75, maximum 12: 2 + 11 + 12 (101 lowered)."""
        model = fees("1", fixed_fee="1", min_per_transaction="1.75", max_per_transaction="12")
        assert amount(model, *events) * 100 == cents


class TestOnTotals:
    """Rules 1 to 4 (no minimum, no maximum), each option on and off; the expected
    amounts are worked out by hand from the rules."""

    def test_no_option(self):
        """1.5% of 300 = 4.5."""
        assert amount(fees("1.5"), 100, 200) == D("4.5")

    def test_fixed_fee_on_every_transaction(self):
        """1.5% of 300 + 2 x 0.25."""
        assert amount(fees("1.5", fixed_fee="0.25"), 100, 200) == D("5.0")

    def test_no_fixed_fee_when_the_total_is_zero(self):
        """Rule 4: three transactions of 0 pay no fixed fee."""
        assert amount(fees("1", fixed_fee="0.25"), 0, 0, 0) == 0

    @pytest.mark.parametrize(
        ("free", "expected"),
        [
            (0, D("1.50") + 3 * D("0.10")),  # none free: 1% of 150 + 3 fees
            (1, D("1.00") + 2 * D("0.10")),  # the first (50) free: 1% of 100 + 2 fees
            (3, D(0)),  # all three free
            (10, D(0)),  # more free than there are
        ],
    )
    def test_free_transactions(self, free, expected):
        """Rule 1 and 3: the first N transactions are free of both (50, 60, 40)."""
        model = fees("1", fixed_fee="0.10", free_transactions=free)
        assert amount(model, 50, 60, 40) == expected

    def test_free_transactions_in_start_order(self):
        """The free transactions are the first ones: rating takes them by start."""
        plan = plan_of(fees("10", free_transactions=1))
        records = payments(5, 100)
        assert cloudrate.rate(plan, records).bill("acme").line("fees").amount.amount == 10
        records = payments(100, 5)
        assert cloudrate.rate(plan, records).bill("acme").line("fees").amount.amount == D("0.5")

    @pytest.mark.parametrize(
        ("free", "expected"),
        [
            (D(0), D("1.50") + 3 * D("0.10")),
            # 100 free: running totals 50, 110 (the first above 100): one below 100
            (D(100), D("0.50") + 2 * D("0.10")),
            # exactly the first transaction: its running total is not below 50, so it
            # pays the fixed fee (on nothing)
            (D(50), D("1.00") + 3 * D("0.10")),
            (D(150), D(0) + D("0.10")),  # all the amount; the last total is not below 150
            (D(1000), D(0)),  # more than the total: all free
        ],
    )
    def test_free_amount(self, free, expected):
        """Rule 1 and 3 with a free amount alone (transactions 50, 60, 40)."""
        model = fees("1", fixed_fee="0.10", free_amount=free)
        assert amount(model, 50, 60, 40) == expected

    def test_both_free_settings(self):
        """Rule 1 and 3 with both: the first 2 (50 + 60 = 110) under a free amount of
        100: 100 free; of the first two one has its running total below 100."""
        model = fees("1", fixed_fee="0.10", free_transactions=2, free_amount=D(100))
        assert amount(model, 50, 60, 40) == D("0.50") + 2 * D("0.10")

    def test_a_zero_count_is_dropped(self):
        """Rule 3's quirk: with both settings, a first transaction of the free amount or
        more leaves N transactions without a fixed fee (3 of 10, 20, 30, 40 under 5):
        1% of (100 - 5) + (4 - 3) x 1."""
        model = fees("1", fixed_fee="1", free_transactions=3, free_amount=D(5))
        assert amount(model, 10, 20, 30, 40) == D("0.95") + 1


class TestOneByOne:
    """Rules 5 to 7 (a minimum, a maximum or both), each option on and off."""

    def test_minimum_alone(self):
        """1% + 0.50: 20 costs 0.70, raised to 1; 600 costs 6.50 (no maximum)."""
        model = fees("1", fixed_fee="0.50", min_per_transaction="1")
        assert amount(model, 20, 600) == D("7.50")

    def test_maximum_alone(self):
        """1% + 0.50: 20 costs 0.70 (no minimum); 600 costs 6.50, lowered to 5."""
        model = fees("1", fixed_fee="0.50", max_per_transaction="5")
        assert amount(model, 20, 600) == D("5.70")

    def test_a_transaction_of_zero_pays_the_fixed_fee(self):
        """Rule 6: a paying transaction of 0 costs its fixed fee (unlike rule 4)."""
        model = fees("1", fixed_fee="0.25", min_per_transaction="0")
        assert amount(model, 0, 0, 0) == D("0.75")

    def test_a_minimum_of_zero_changes_the_free_rules(self):
        """The documentation example with a minimum of 0: by rule 5 the free amount
        counts and the free transactions do not; all four (450) fit under the $500, so
        nothing is paid (0.70 without the minimum)."""
        model = fees(
            "1.2",
            fixed_fee="0.10",
            free_transactions=3,
            free_amount=D(500),
            min_per_transaction="0",
        )
        assert amount(model, 200, 100, 100, 50) == 0
        # a fifth of 60 uses up the last 50 of it, and pays 1.2% of 10 and its fee
        assert amount(model, 200, 100, 100, 50, 60) == D("0.12") + D("0.10")

    def test_free_transactions_alone(self):
        """Rule 5 without a free amount: the first 2 are free, whole."""
        model = fees("10", min_per_transaction="1", free_transactions=2)
        assert amount(model, 50, 60, 5) == 1  # 0.5 raised to 1

    def test_free_transactions_have_no_effect_with_a_free_amount(self):
        """Rule 5: with a free amount, transactions are free while it lasts, however
        many free transactions are given (1 of them here): 10 + 20 under 100, then 80
        pays on 10."""
        with_count = fees("10", max_per_transaction="50", free_transactions=1, free_amount=D(100))
        without = fees("10", max_per_transaction="50", free_amount=D(100))
        assert amount(with_count, 10, 20, 80) == amount(without, 10, 20, 80) == 1

    def test_free_transactions_beyond_the_count(self):
        """More free transactions than there are: nothing to pay."""
        model = fees("10", fixed_fee="1", min_per_transaction="2", free_transactions=5)
        assert amount(model, 10, 20) == 0


class TestDetails:
    def test_what_the_details_say(self):
        """The details count the transactions, say what was free, the rate part, the
        fixed fees and how many transactions the minimum raised or the maximum lowered."""
        model = fees("2.99", fixed_fee="0", min_per_transaction="1.75", max_per_transaction="12")
        priced = model.price_transactions([D(10), D(80), D(10000)])
        assert priced.explain().splitlines() == [
            "3 transactions, 10090 USD in all, priced one by one",
            "2.99% of 10090 USD: 301.691 USD",  # 0.299 + 2.392 + 299
            "fixed fee per transaction: 3 x 0 USD = 0 USD",
            "minimum 1.75 USD per transaction (1 transaction raised): 1.451 USD",  # - 0.299
            "maximum 12 USD per transaction (1 transaction lowered): -287.00 USD",  # 12 - 299
        ]

    @settings(max_examples=200, deadline=None)
    @given(transaction_percentages(), st.lists(quantities(max_value=D(10**4)), max_size=8))
    def test_details_add_up_to_the_amount(self, model, amounts):
        """Notes are 0; the other details add up to the price."""
        priced = model.price_transactions(amounts)
        assert sum(d.amount.amount for d in priced.details) == priced.amount.amount


def _cost(model: TransactionPercentage, value: Decimal) -> Decimal:
    """One paying transaction's cost by rule 6, worked out here."""
    fixed = model.fixed_fee.amount if model.fixed_fee else D(0)
    cost = value * model.percent / 100 + fixed
    if model.min_per_transaction is not None and cost < model.min_per_transaction.amount:
        return model.min_per_transaction.amount
    if model.max_per_transaction is not None and cost > model.max_per_transaction.amount:
        return model.max_per_transaction.amount
    return cost


class TestProperties:
    @settings(max_examples=300, deadline=None)
    @given(transaction_percentages(), quantities(max_value=D(10**6)))
    def test_one_transaction_between_min_and_max(self, model, value):
        """Without free settings, a transaction costs its percent plus the fixed fee,
        never below the minimum nor above the maximum."""
        model = TransactionPercentage(
            percent=model.percent,
            currency=model.currency,
            fixed_fee=model.fixed_fee,
            min_per_transaction=model.min_per_transaction,
            max_per_transaction=model.max_per_transaction,
        )
        got = model.price(value).amount.amount
        if model.min_per_transaction is not None:
            assert got >= model.min_per_transaction.amount
        if model.max_per_transaction is not None:
            assert got <= model.max_per_transaction.amount
        if model.min_per_transaction is not None or model.max_per_transaction is not None:
            assert got == _cost(model, value)

    @settings(max_examples=200, deadline=None)
    @given(
        transaction_percentages().filter(lambda m: m.min_per_transaction is not None),
        st.lists(quantities(max_value=D(10**4)), max_size=8),
    )
    def test_one_by_one_is_the_sum_of_each(self, model, amounts):
        """Rule 7 without free settings: the sum of each transaction's cost."""
        model = TransactionPercentage(
            percent=model.percent,
            currency=model.currency,
            fixed_fee=model.fixed_fee,
            min_per_transaction=model.min_per_transaction,
            max_per_transaction=model.max_per_transaction,
        )
        assert model.price_transactions(amounts).amount.amount == sum(
            (_cost(model, a) for a in amounts), D(0)
        )

    @settings(max_examples=200, deadline=None)
    @given(transaction_percentages(), st.lists(quantities(max_value=D(10**4)), max_size=8))
    def test_no_free_setting_is_free_count_zero(self, model, amounts):
        """free_transactions=0 and free_amount=0 are no free setting at all; on totals
        the price is then percent of the total plus a fee per transaction (none when
        the total is 0)."""
        plain = TransactionPercentage(
            percent=model.percent, currency=model.currency, fixed_fee=model.fixed_fee
        )
        zeros = TransactionPercentage(
            percent=model.percent,
            currency=model.currency,
            fixed_fee=model.fixed_fee,
            free_transactions=0,
            free_amount=D(0),
        )
        total = sum(amounts, D(0))
        fixed = model.fixed_fee.amount if model.fixed_fee and total else D(0)
        expected = total * model.percent / 100 + len(amounts) * fixed
        assert plain.price_transactions(amounts).amount.amount == expected
        assert zeros.price_transactions(amounts) == plain.price_transactions(amounts)

    @settings(max_examples=200, deadline=None)
    @given(
        transaction_percentages().filter(lambda m: m.free_transactions > 0),
        st.lists(quantities(max_value=D(10**4)), max_size=5),
    )
    def test_as_many_free_transactions_as_there_are(self, model, amounts):
        """Free transactions at or above the number of transactions, no free amount:
        nothing to pay, on totals and one by one."""
        model = TransactionPercentage(
            percent=model.percent,
            currency=model.currency,
            fixed_fee=model.fixed_fee,
            free_transactions=max(model.free_transactions, len(amounts)),
            min_per_transaction=model.min_per_transaction,
            max_per_transaction=model.max_per_transaction,
        )
        assert model.price_transactions(amounts).amount.amount == 0

    @settings(max_examples=100, deadline=None)
    @given(
        transaction_percentages(),
        st.lists(quantities(max_value=D(10**4), places=2), min_size=1, max_size=8),
        st.randoms(use_true_random=False),
    )
    def test_rating_does_not_depend_on_record_order(self, model, amounts, rnd):
        """rate() prices the transactions by start, then record id, then amount,
        whatever order the records come in (some start together here)."""
        records = [
            cloudrate.UsageRecord(
                account="acme",
                metric="payments",
                quantity=q,
                start=T0 + timedelta(minutes=i % 3),
                end=T0 + timedelta(minutes=i % 3 + 1),
                record_id=None if i % 4 == 3 else f"id{i % 2}{i}",
            )
            for i, q in enumerate(amounts)
        ]
        plan = Plan(
            name="P",
            currency=model.currency,
            charges=[Charge(name="fees", metric="payments", model=model)],
        )
        expected = cloudrate.rate(plan, records, OCTOBER).to_json()
        shuffled = list(records)
        rnd.shuffle(shuffled)
        assert cloudrate.rate(plan, shuffled, OCTOBER).to_json() == expected

    @settings(max_examples=100, deadline=None)
    @given(
        st.decimals(min_value=0, max_value=100, places=2),
        st.lists(
            st.sampled_from([D("9" * 35), D(10**35), D("1E-100"), D(0)]), min_size=1, max_size=3
        ),
    )
    def test_largest_values(self, percent, amounts):
        """Amounts near the largest cloudrate bounds are priced exactly (rule 6, worked
        out here), or the line is refused as beyond 10**36 when rated."""
        model = fees(str(percent), fixed_fee="1E+30", max_per_transaction="9E+35")
        plan = plan_of(model)
        records = [
            cloudrate.UsageRecord(
                account="acme",
                metric="payments",
                quantity=q,
                start=T0 + timedelta(hours=i),
                end=T0 + timedelta(hours=i),
            )
            for i, q in enumerate(amounts)
        ]
        with localcontext(EXACT):
            expected = sum((_cost(model, q) for q in amounts), D(0))
        if expected >= MAX_AMOUNT:
            with pytest.raises(cloudrate.RatingError, match="beyond the largest amount"):
                cloudrate.rate(plan, records, OCTOBER)
        else:
            line = cloudrate.rate(plan, records, OCTOBER).bill("acme").line("fees")
            assert line.amount.amount == expected


class TestRating:
    def test_line_of_a_plan_file(self):
        """A plan file's charge rates the records as transactions: the line's quantity is
        their total, its records their number."""
        plan = cloudrate.load_plan("""
name: Payments
currency: USD
metrics:
  payments: {unit: USD}
charges:
  - name: cards
    metric: payments
    model: transaction_percentage
    percent: 1.2
    fixed_fee: 0.10
    free_transactions: 3
    free_amount: 500
""")
        line = cloudrate.rate(plan, payments(200, 100, 100, 50)).bill("acme").line("cards")
        assert (line.quantity, line.records, line.rounded.amount) == (450, 4, D("0.70"))
        assert line.unit == "USD" and line.unit_price is None

    def test_metric_aggregated_otherwise_is_refused(self):
        """Transactions are the records of a summed metric."""
        with pytest.raises(PlanError, match="aggregated by max; give the metric aggregation"):
            Plan(
                name="P",
                currency="USD",
                metrics=[Metric(name="payments", aggregation="max")],
                charges=[Charge(name="fees", metric="payments", model=fees("1"))],
            )

    def test_free_units_are_refused(self):
        """The charge's free_units do not apply: the model has its own free settings."""
        with pytest.raises(PlanError, match="give its free_amount or free_transactions"):
            Charge(name="fees", metric="payments", model=fees("1"), free_units=D(5))

    def test_unit_conversion_applies_to_each_transaction(self):
        """A metric in cents priced in dollars: each transaction is converted first
        (MB to GB stands for any factor here: 1,000,000 MB is 1,000 GB)."""
        plan = Plan(
            name="P",
            currency="USD",
            metrics=[Metric(name="payments", unit="GB", usage_unit="MB")],
            charges=[Charge(name="fees", metric="payments", model=fees("10", free_transactions=1))],
        )
        line = cloudrate.rate(plan, payments(500_000, 1_000_000)).bill("acme").line("fees")
        assert (line.quantity, line.amount.amount) == (1500, 100)

    def test_overrides_discount_it(self):
        """A customer's discount takes its share off the per-transaction price."""
        plan = plan_of(fees("10", fixed_fee="1"))
        mine = plan.with_overrides(
            [ChargeOverride(charge="fees", discount_percent=D(50))], label="ACME"
        )
        assert isinstance(mine.charge("fees").model, PerTransaction)
        line = cloudrate.rate(mine, payments(100, 100)).bill("acme").line("fees")
        assert line.amount.amount == 11  # (20 + 2) / 2
        assert line.explain().splitlines()[-1] == "discount 50% (ACME): -11 USD"

    def test_free_units_cannot_be_overridden(self):
        """An override of free_units names the keys that do apply."""
        with pytest.raises(PlanError, match="free_units does not apply to a transaction"):
            plan_of(fees("10")).with_overrides(
                [ChargeOverride(charge="fees", free_units=D(1))], label="ACME"
            )

    def test_registered_and_not_vectorised(self):
        """One entry in MODELS; priced per record, so the columnar engine's fast totals
        leave it to the per-line path."""
        assert MODELS["transaction_percentage"] is TransactionPercentage
        assert not issubclass(TransactionPercentage, VectorPricing)

    def test_the_usage_page_rates_it(self):
        """The usage page's one pass cannot price transactions from sums: it rates the
        month up to each day instead, with rating's figures."""
        from cloudrate.portal.usage_view import DateRange, _daily
        from cloudrate.portal.usage_view._aggregate import OnePassError

        plan = plan_of(fees("10", free_transactions=1, fixed_fee="1"))
        records = payments(50, 30, 20)
        month = DateRange.month_to_date(today=datetime(2026, 10, 3).date(), timezone="UTC")
        args = {"account": "acme", "fixed": set(), "cards": {"all": ("payments",)}}
        with pytest.raises(OnePassError):
            _daily._cumulative(plan, records, month, rounding=None, **args)
        costs = _daily.daily_costs(plan, records, month, rounding=None, **args)
        assert [c.amount for c, _ in costs] == [D("7.00"), 0, 0]  # 3 + 2 + 2 fees


class TestPlanFiles:
    YAML = """
name: P
currency: USD
charges:
  - name: fees
    metric: payments
    model: transaction_percentage
    percent: "2.9"
    fixed_fee: "0.30"
    free_transactions: 2
    free_amount: "100"
    min_per_transaction: "0.50"
    max_per_transaction: "25"
"""

    def test_every_key_loads(self):
        model = cloudrate.load_plan(self.YAML).charge("fees").model
        assert model == fees(
            "2.9",
            fixed_fee="0.30",
            free_transactions=2,
            free_amount=D(100),
            min_per_transaction="0.50",
            max_per_transaction="25",
        )

    def test_dump_and_round_trip(self):
        plan = cloudrate.load_plan(self.YAML)
        assert cloudrate.dump_plan(plan)["charges"][0] == {
            "name": "fees",
            "metric": "payments",
            "model": "transaction_percentage",
            "percent": "2.9",
            "fixed_fee": "0.30",
            "free_transactions": 2,
            "free_amount": "100",
            "min_per_transaction": "0.50",
            "max_per_transaction": "25",
        }
        assert cloudrate.load_plan(cloudrate.plan_to_yaml(plan)) == plan
        assert cloudrate.load_plan(cloudrate.dump_plan(plan)) == plan

    def test_options_off_dump_nothing(self):
        """Only percent is required; options off are not written."""
        plan = plan_of(fees("1"))
        assert cloudrate.dump_plan(plan)["charges"][0] == {
            "name": "fees",
            "metric": "payments",
            "model": "transaction_percentage",
            "percent": "1",
        }
        assert cloudrate.load_plan(cloudrate.dump_plan(plan)) == plan

    def test_a_minimum_of_zero_is_kept(self):
        """A minimum of 0 changes the rules (5 to 7), so it is written and read back."""
        plan = plan_of(fees("1", min_per_transaction="0"))
        assert cloudrate.dump_plan(plan)["charges"][0]["min_per_transaction"] == "0"
        assert cloudrate.load_plan(cloudrate.dump_plan(plan)) == plan

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from(["USD", "JPY", "BHD"]).flatmap(transaction_percentages))
    def test_drawn_models_round_trip(self, model):
        plan = Plan(
            name="P",
            currency=model.currency,
            charges=[Charge(name="fees", metric="payments", model=model)],
        )
        assert cloudrate.load_plan(cloudrate.plan_to_yaml(plan)) == plan

    def test_every_problem_at_once(self):
        """Bad values are reported at their paths, all together."""
        with pytest.raises(ConfigError) as caught:
            cloudrate.load_plan(
                {
                    "name": "P",
                    "currency": "USD",
                    "charges": [
                        {
                            "name": "fees",
                            "metric": "payments",
                            "model": "transaction_percentage",
                            "percent": "-1",
                            "fixed_fee": "-0.30",
                            "free_transactions": "2.5",
                            "free_amount": "-1",
                            "min_per_transaction": "5",
                            "max_per_transaction": "2",
                            "free_units": "3",
                        },
                        {"name": "more", "metric": "payments", "model": "transaction_percentage"},
                        {
                            "name": "far",
                            "metric": "payments",
                            "model": "transaction_percentage",
                            "percent": "1E+40",
                            "fixed_fee": 0.1,
                        },
                    ],
                }
            )
        found = {(p.path, p.code) for p in caught.value.problems}
        assert found == {
            ("charges[0].percent", "out_of_range"),
            ("charges[0].fixed_fee", "negative_price"),
            ("charges[0].free_transactions", "not_whole"),
            ("charges[0].free_amount", "out_of_range"),
            ("charges[0].max_per_transaction", "invalid_settings"),
            ("charges[0].free_units", "not_applicable"),
            ("charges[1].percent", "missing"),
            ("charges[2].percent", "out_of_bounds"),
            ("charges[2].fixed_fee", "float"),
        }

    def test_a_metric_not_summed_is_a_plan_problem(self):
        with pytest.raises(ConfigError, match="aggregated by latest"):
            cloudrate.load_plan(
                self.YAML + "metrics:\n  payments: {unit: USD, aggregation: latest}\n"
            )


class TestConstructor:
    def test_negative_percent(self):
        with pytest.raises(PlanError, match="percent: must be >= 0"):
            fees("-0.5")

    def test_minimum_above_maximum(self):
        with pytest.raises(PlanError, match="min_per_transaction 5 is above max_per_transaction 2"):
            fees("1", min_per_transaction="5", max_per_transaction="2")

    def test_negative_fee(self):
        with pytest.raises(PlanError, match="fixed_fee: -1 USD is negative"):
            fees("1", fixed_fee="-1")

    @pytest.mark.parametrize("count", [-1, D("1.5"), True, "3"])
    def test_free_transactions_whole(self, count):
        with pytest.raises(PlanError, match="free_transactions: expected a whole number"):
            fees("1", free_transactions=count)

    def test_negative_free_amount(self):
        with pytest.raises(PlanError, match="must be >= 0"):
            fees("1", free_amount=D(-1))

    def test_fee_in_another_currency(self):
        with pytest.raises(CurrencyMismatchError):
            TransactionPercentage(percent=D(1), currency="USD", fixed_fee=Money("1", "EUR"))

    def test_floats_refused(self):
        with pytest.raises(FloatNotAllowedError, match="float"):
            TransactionPercentage(percent=1.5, currency="USD")  # type: ignore[arg-type]

    def test_percent_beyond_the_bounds(self):
        with pytest.raises(PlanError, match="beyond the largest amount"):
            fees("1E+36")

    def test_percent_above_100_is_lagos(self):
        """Lago takes any rate >= 0; so does cloudrate (150% of 10)."""
        assert amount(fees("150"), 10) == 15


def test_order_matters_to_the_model_not_to_rating():
    """price_transactions takes the order given; rating gives it by start."""
    model = fees("10", free_transactions=1)
    assert amount(model, 5, 100) != amount(model, 100, 5)
    records = payments(5, 100)
    shuffled = random.Random(4).sample(records, 2)
    plan = plan_of(model)
    assert cloudrate.rate(plan, shuffled) == cloudrate.rate(plan, records)

"""rate() and the columnar engine at the edges of their inputs: one semantics, one outcome.

Every property draws an input and runs it through both engines: records built in Python
(rated by :func:`cloudrate.rate`, and by :func:`~cloudrate.rating.columnar.rate_table` on
``to_table(records)``), or a CSV file read by each engine's own reader
(:func:`cloudrate.read_usage`, :func:`~cloudrate.rating.columnar.read_columnar`). Both
must give the same outcome:

- both rate it: the ``cloudrate.rating/1`` documents are identical byte for byte, and
  :func:`~cloudrate.rating.columnar.account_totals` equals ``rate(...).totals()``;
- one refuses it (raises a :class:`~cloudrate.CloudrateError`): the other refuses it
  too, with the same error class and the same stable ``code`` (when the class has one).

The inputs: records on and around the bounds of calendar months that contain a change of
the clocks (in the plan's timezone), records in the hour the clocks skip or repeat,
null-like text ("NA", "null", "NaN", "", ...) and padded text as account, metric and
attribute values, the spellings each CSV reader accepts, and the smallest and largest
quantities with prices of many decimal places.
"""

from __future__ import annotations

import calendar
import csv
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import attrs
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moneyed import Money

pytest.importorskip("pyarrow")

import cloudrate
from cloudrate import BillingPeriod, CloudrateError, UsageError, UsageRecord
from cloudrate._money import MAX_AMOUNT, unlike_float
from cloudrate.plans import (
    ZERO_USAGE,
    Charge,
    Flat,
    Graduated,
    Metric,
    Package,
    Percentage,
    PercentTier,
    PerUnit,
    Plan,
    QuantityRounding,
    Tier,
    TransactionPercentage,
    Validity,
    Volume,
)
from cloudrate.rating.columnar import account_totals, rate_table, read_columnar, to_table
from cloudrate.rating.columnar._fast import _vectorisable
from cloudrate.rating.columnar.lines import LineColumns, rate_lines
from cloudrate.testing import (
    charges,
    graduated_transaction_percentages,
    quantities,
    quantity_roundings,
    rounding_policies,
    transaction_percentages,
    usage_for,
)

# --- one outcome per engine ----------------------------------------------------------------


@attrs.frozen
class Outcome:
    """What an engine made of an input: its JSON document or totals, or its refusal.

    A refusal compares by error class and ``code``; the message is shown, not compared.
    """

    kind: str  # "rated" or "refused"
    value: Any
    message: str = attrs.field(default="", eq=False)


def outcome(call: Callable[[], Any]) -> Outcome:
    """Run *call*; a :class:`CloudrateError` is a refusal, any other error fails the test."""
    try:
        value = call()
    except CloudrateError as exc:
        kind = type(exc)
        refusal = (f"{kind.__module__}.{kind.__qualname__}", getattr(exc, "code", None))
        return Outcome("refused", refusal, str(exc))
    return Outcome("rated", value)


def _fast_totals(table: Any) -> dict[str, Decimal]:
    return dict(zip(table["account"].to_pylist(), table["total"].to_pylist(), strict=True))


def assert_engines_agree(
    plan: Plan,
    records: Callable[[], Iterable[UsageRecord]],
    table: Callable[[], Any],
    period: BillingPeriod | None,
    *,
    accounts: Sequence[str] = (),
    on_unpriced: str = "report",
) -> None:
    """rate() on ``records()`` and the columnar engine on ``table()`` give one outcome.

    *records* and *table* read the usage afresh on each call (a CSV file is read by the
    reader inside them, so what the reader refuses counts as the engine refusing it).
    """
    expected = outcome(
        lambda: cloudrate.rate(
            plan, records(), period, accounts=accounts, on_unpriced=on_unpriced
        ).to_json()
    )
    got = outcome(
        lambda: rate_table(
            plan, table(), period, accounts=accounts, on_unpriced=on_unpriced
        ).to_json()
    )
    expected_totals = outcome(
        lambda: {
            a: m.amount
            for a, m in cloudrate.rate(plan, records(), period, accounts=accounts).totals().items()
        }
    )
    got_totals = outcome(
        lambda: _fast_totals(account_totals(plan, table(), period, accounts=accounts))
    )
    assert {"rate_table": got, "account_totals": got_totals} == {
        "rate_table": expected,
        "account_totals": expected_totals,
    }


def assert_records_agree(
    plan: Plan,
    records: Sequence[UsageRecord],
    period: BillingPeriod | None,
    **kw: Any,
) -> None:
    """Records built in Python: rate() on them, the columnar engine on ``to_table(records)``."""
    assert_engines_agree(plan, lambda: records, lambda: to_table(records), period, **kw)


def assert_csv_agrees(plan: Plan, path: Path, period: BillingPeriod | None, **kw: Any) -> None:
    """A CSV file: rate() on what read_usage reads, the columnar engine on read_columnar."""
    assert_engines_agree(
        plan, lambda: cloudrate.read_usage(path), lambda: read_columnar(path), period, **kw
    )


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- months whose days include a change of the clocks ---------------------------------------

BERLIN_MARCH = ("Europe/Berlin", 2026, 3)
BERLIN_OCTOBER = ("Europe/Berlin", 2026, 10)
#: (plan timezone, year, month): clocks go forward in one, back in the other.
DST_MONTHS = (
    BERLIN_MARCH,
    BERLIN_OCTOBER,
    ("America/New_York", 2026, 3),
    ("America/New_York", 2026, 11),
    ("Australia/Sydney", 2026, 4),
    ("Australia/Sydney", 2026, 10),
)
HOUR = timedelta(hours=1)

#: Metrics of :func:`edge_plan`, one per way records combine or prorate, select by date
#: (validity windows) or convert by the month each record starts in.
EDGE_METRICS = (
    "compute",
    "avg",
    "last",
    "peak",
    "vm_days",
    "vm_seconds",
    "vm_of_30",
    "vm_months30",
    "windowed",
    "vm_months",
)
#: Validity windows (issue 13) on and around the first and last days of the DST months.
EDGE_WINDOWS = (
    Validity(None, date(2026, 3, 31)),
    Validity(date(2026, 4, 1), date(2026, 4, 1)),
    Validity(date(2026, 10, 31), None),
    Validity(date(2026, 11, 1), date(2026, 11, 30)),
    Validity(date(2026, 3, 29), date(2026, 3, 29)),
)


def edge_plan(zone: str) -> Plan:
    """A plan in *zone* whose charges read record times every way there is: summed,
    time-weighted average, latest, peak, flat fees prorated by days, by seconds, by days of
    30 and by Kill Bill's 30-day months (to 9 places), a flat fee per account, charges
    valid in windows on the months' edges and a metric converted by each record's month."""
    return Plan(
        name="edges",
        currency="EUR",
        timezone=zone,
        metrics=[
            Metric(name="avg", unit="GB", aggregation="average"),
            Metric(name="last", unit="GB", aggregation="latest"),
            Metric(name="peak", unit="GB", aggregation="max"),
            Metric(name="vm_months", unit="VM-month", usage_unit="VM-hour", month_hours="actual"),
        ],
        charges=[
            Charge(name="compute", metric="compute", model=PerUnit(Money("0.0125", "EUR"))),
            Charge(name="avg", metric="avg", model=PerUnit(Money("2.5", "EUR"))),
            Charge(name="last", metric="last", model=PerUnit(Money("0.5", "EUR"))),
            Charge(name="peak", metric="peak", model=PerUnit(Money("0.11", "EUR"))),
            Charge(name="vm_days", metric="vm_days", model=Flat(Money("31", "EUR"))),
            Charge(
                name="vm_seconds",
                metric="vm_seconds",
                model=Flat(Money("100", "EUR"), proration="seconds"),
            ),
            Charge(
                name="vm_of_30",
                metric="vm_of_30",
                model=Flat(Money("30", "EUR"), proration="days_of_30"),
            ),
            Charge(
                name="vm_months30",
                metric="vm_months30",
                model=Flat(
                    Money("19.95", "EUR"), proration="thirty_day_months", proration_digits=9
                ),
            ),
            Charge(name="base", model=Flat(Money("5", "EUR"))),
            *(
                Charge(
                    name=f"window{i}",
                    metric="windowed",
                    model=PerUnit(Money("0.25", "EUR")),
                    valid=window,
                )
                for i, window in enumerate(EDGE_WINDOWS)
            ),
            Charge(name="vm_months", metric="vm_months", model=PerUnit(Money("72", "EUR"))),
        ],
    )


def month_period(month: tuple[str, int, int]) -> BillingPeriod:
    zone, year, number = month
    period = BillingPeriod.month(year, number, zone)
    assert BillingPeriod.containing(period.start, zone) == period
    return period


# --- records on and around the period's bounds ----------------------------------------------


class Span(NamedTuple):
    """A record placed relative to a bound of the period: it starts *shift* after the
    period's *anchor* (``"start"`` or ``"end"``) and lasts *length*; its times are written
    in *written_in* (``"plan"`` for the plan's timezone, ``"UTC"`` or a fixed offset)."""

    anchor: str
    shift: timedelta = timedelta(0)
    length: timedelta = timedelta(0)
    metric: str = "compute"
    written_in: str = "plan"
    quantity: Decimal = Decimal("1.5")
    account: str = "a"


def writing_zone(name: str, plan_zone: str) -> Any:
    if name == "plan":
        return ZoneInfo(plan_zone)
    if name == "UTC":
        return UTC
    sign = -1 if name.startswith("-") else 1
    hours, minutes = name[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def span_records(spans: Sequence[Span], period: BillingPeriod) -> list[UsageRecord]:
    out = []
    for i, span in enumerate(spans):
        bound = period.start if span.anchor == "start" else period.end
        start = bound.astimezone(UTC) + span.shift  # exact arithmetic on instants
        end = start + span.length
        tz = writing_zone(span.written_in, period.timezone)
        out.append(
            UsageRecord(
                account=span.account,
                metric=span.metric,
                quantity=span.quantity,
                start=start.astimezone(tz),
                end=end.astimezone(tz),
                record_id=f"r{i}",
                resource_id=f"vm{i % 2}",
            )
        )
    return out


_STEPS = (
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(seconds=1),
    HOUR,
    timedelta(days=1),
)

spans = st.builds(
    Span,
    anchor=st.sampled_from(("start", "end")),
    shift=st.builds(
        lambda sign, step: sign * step, st.sampled_from((1, -1)), st.sampled_from(_STEPS)
    ),
    length=st.sampled_from((*_STEPS, 2 * HOUR)),
    metric=st.sampled_from(EDGE_METRICS),
    written_in=st.sampled_from(("plan", "UTC", "+05:30", "-03:00")),
    quantity=quantities(max_value=Decimal(1000), places=3),
    account=st.sampled_from(("a", "b")),
)


class TestPeriodBounds:
    @settings(max_examples=100, deadline=None)
    @given(
        month=st.sampled_from(DST_MONTHS),
        spans=st.lists(spans, min_size=1, max_size=6),
        default_period=st.booleans(),
    )
    # a zero-length record exactly at the period's end (an instant of the next period)
    @example(
        month=BERLIN_MARCH, spans=[Span("start", HOUR, HOUR), Span("end")], default_period=False
    )
    @example(
        month=BERLIN_OCTOBER, spans=[Span("start", HOUR, HOUR), Span("end")], default_period=True
    )
    # a zero-length record exactly at the period's start
    @example(month=BERLIN_OCTOBER, spans=[Span("start")], default_period=False)
    @example(month=BERLIN_MARCH, spans=[Span("start", written_in="UTC")], default_period=True)
    # records spanning the start, spanning the end, ending exactly at the end
    @example(month=BERLIN_MARCH, spans=[Span("start", -HOUR, 2 * HOUR)], default_period=False)
    @example(month=BERLIN_OCTOBER, spans=[Span("end", -HOUR, 2 * HOUR)], default_period=False)
    @example(month=BERLIN_MARCH, spans=[Span("end", -HOUR, HOUR)], default_period=False)
    @example(
        month=BERLIN_OCTOBER,
        spans=[Span("start", metric="vm_days"), Span("end", -HOUR, HOUR, metric="vm_days")],
        default_period=False,
    )
    # a lone zero-length record at the end: the default period is the next month
    @example(month=BERLIN_MARCH, spans=[Span("end")], default_period=True)
    def test_records_on_and_around_the_bounds(self, month, spans, default_period):
        """Records at, just inside and just outside the bounds of a month with a change of
        the clocks, written in any timezone, are billed alike or refused alike: the period
        is the half-open ``[start, end)`` in both engines, zero-length records included."""
        period = month_period(month)
        records = span_records(spans, period)
        assert_records_agree(
            edge_plan(period.timezone), records, None if default_period else period
        )


# --- records in the hour the clocks skip or repeat ------------------------------------------


class Wall(NamedTuple):
    """A wall-clock time on the day the clocks change; *fold* picks the first (0) or
    second (1) of a repeated time, or the offset before (0) or after (1) a skipped one."""

    hour: int
    minute: int
    fold: int = 0


class Stay(NamedTuple):
    """A record from *start* to *end*, both wall-clock times in the plan's timezone."""

    start: Wall
    end: Wall
    metric: str = "compute"
    quantity: Decimal = Decimal(1)
    account: str = "a"


def clock_change(period: BillingPeriod) -> date:
    """The local day of the period on which the clocks change."""
    tz = period.tz
    moment = period.start.astimezone(UTC)
    while moment < period.end:
        if (moment + HOUR).astimezone(tz).utcoffset() != moment.astimezone(tz).utcoffset():
            return (moment + HOUR).astimezone(tz).date()
        moment += HOUR
    raise AssertionError(f"the clocks do not change in {period.label} {period.timezone}")


def stay_records(stays: Sequence[Stay], period: BillingPeriod) -> list[UsageRecord]:
    day, tz = clock_change(period), period.tz
    out = []
    for i, stay in enumerate(stays):
        # a record ends at or after its start on the wall clock; in real time it may not
        first, last = sorted((stay.start, stay.end), key=lambda w: (w.hour, w.minute))
        start, end = (
            datetime(day.year, day.month, day.day, w.hour, w.minute, tzinfo=tz, fold=w.fold)
            for w in (first, last)
        )
        out.append(
            UsageRecord(
                account=stay.account,
                metric=stay.metric,
                quantity=stay.quantity,
                start=start,
                end=end,
                record_id=f"r{i}",
                resource_id=f"vm{i % 2}",
            )
        )
    return out


walls = st.builds(
    Wall,
    hour=st.integers(0, 4),
    minute=st.sampled_from((0, 30, 59)),
    fold=st.integers(0, 1),
)
stays = st.builds(
    Stay,
    start=walls,
    end=walls,
    metric=st.sampled_from(EDGE_METRICS),
    quantity=quantities(max_value=Decimal(100), places=2),
    account=st.sampled_from(("a", "b")),
)


class TestClockChanges:
    @settings(max_examples=100, deadline=None)
    @given(month=st.sampled_from(DST_MONTHS), stays=st.lists(stays, min_size=1, max_size=5))
    # 02:30 CET (the second 02:30) to 02:45 CEST (the first): it ends 45 minutes before it starts
    @example(month=BERLIN_OCTOBER, stays=[Stay(Wall(2, 30, fold=1), Wall(2, 45, fold=0))])
    # 02:30 (+01:00, a time the clocks skip) to 03:00 (+02:00): it ends before it starts
    @example(month=BERLIN_MARCH, stays=[Stay(Wall(2, 30), Wall(3, 0))])
    # the first 02:30 to the second: an hour that reads as no time on the wall clock
    @example(
        month=BERLIN_OCTOBER,
        stays=[Stay(Wall(2, 30, fold=0), Wall(2, 30, fold=1), metric="vm_seconds")],
    )
    # 02:00 (+01:00, skipped) to 03:00 (+02:00) is one instant: no day of a fee is used
    @example(month=BERLIN_MARCH, stays=[Stay(Wall(2, 0), Wall(3, 0), metric="vm_days")])
    # the latest record is the one ending at the second 02:30, not at the first
    @example(
        month=BERLIN_OCTOBER,
        stays=[
            Stay(Wall(1, 30), Wall(2, 30, fold=1), metric="last", quantity=Decimal(1)),
            Stay(Wall(1, 30), Wall(2, 30, fold=0), metric="last", quantity=Decimal(2)),
        ],
    )
    def test_records_in_the_changed_hour(self, month, stays):
        """Records whose times fall in the hour the clocks skip or repeat, written as
        wall-clock times in the plan's timezone, are ordered, measured and billed by the
        instants they name, the same in both engines."""
        period = month_period(month)
        try:
            records = stay_records(stays, period)
        except UsageError as exc:
            refused = str(exc)
        else:
            assert_records_agree(edge_plan(period.timezone), records, period)
            return
        # A record that ends before it starts in real time is refused when it is built,
        # so neither engine ever sees it.
        assert "is before start" in refused


# --- null-like and padded text --------------------------------------------------------------

#: Text that CSV tools and data frames often read as "no value".
NULL_LIKE = ("NA", "N/A", "null", "NULL", "NaN", "nan", "None", "", "-", "#N/A")


def padded(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from((text, f" {text}", f"{text} ", f" {text} ", f"\t{text}"))


#: Null-like, ordinary and whitespace-padded text; shrinks to "NA".
texts = st.sampled_from((*NULL_LIKE, "acme", "eu")).flatmap(padded)

OCTOBER = BillingPeriod.month(2026, 10, "UTC")


class Row(NamedTuple):
    """One record of a text case; *region* None means the record has no region."""

    account: str
    metric: str = "vcpu_hours"
    region: str | None = None
    quantity: Decimal = Decimal(2)


class TextCase(NamedTuple):
    """Records, and a plan whose charges select *where* as the region and price *metric*."""

    rows: list[Row]
    where: str = "NA"
    metric: str = "NA"
    accounts: tuple[str, ...] = ()


@st.composite
def text_cases(draw: st.DrawFn, *, empty_names: bool) -> TextCase:
    """Cases whose account, metric and region values are null-like or padded text."""
    names = texts if empty_names else texts.filter(bool)  # a record needs its names
    where = draw(texts)
    metric = draw(texts.filter(bool))  # a charge needs a metric
    rows = st.builds(
        Row,
        account=names,
        metric=st.one_of(st.sampled_from(("vcpu_hours", metric)), names),
        region=st.one_of(st.none(), st.just(where), texts),
        quantity=quantities(max_value=Decimal(100), places=2),
    )
    return TextCase(
        rows=draw(st.lists(rows, min_size=1, max_size=6)),
        where=where,
        metric=metric,
        accounts=tuple(draw(st.lists(texts.filter(bool), max_size=2))),
    )


def selecting_plan(case: TextCase) -> Plan:
    """Charges that select records by region (``where: {region: <case.where>}``) and one that
    prices the metric named *case.metric*, loaded as a plan document."""
    return cloudrate.load_plan(
        {
            "name": "where",
            "currency": "EUR",
            "charges": [
                {
                    "name": "selected",
                    "metric": "vcpu_hours",
                    "model": "per_unit",
                    "unit_price": "0.5",
                    "where": {"region": case.where},
                },
                {
                    "name": "either",
                    "metric": "vcpu_hours",
                    "model": "per_unit",
                    "unit_price": "0.25",
                    "where": {"region": ["eu", case.where]},
                },
                {"name": "named", "metric": case.metric, "model": "per_unit", "unit_price": "2"},
            ],
        }
    )


def _hour(i: int) -> datetime:
    return OCTOBER.start + i * HOUR


def case_records(case: TextCase) -> list[UsageRecord]:
    return [
        UsageRecord(
            account=row.account,
            metric=row.metric,
            quantity=row.quantity,
            start=_hour(i),
            end=_hour(i + 1),
            attributes={} if row.region is None else {"region": row.region},
        )
        for i, row in enumerate(case.rows)
    ]


def case_csv(case: TextCase, path: Path) -> Path:
    rows = (
        (
            row.account,
            row.metric,
            str(row.quantity),
            _hour(i).isoformat(),
            _hour(i + 1).isoformat(),
            "" if row.region is None else row.region,
        )
        for i, row in enumerate(case.rows)
    )
    return write_csv(path, ("account", "metric", "quantity", "start", "end", "region"), rows)


class TestNullLikeText:
    @settings(max_examples=100, deadline=None)
    @given(
        case=text_cases(empty_names=False),
        default_period=st.booleans(),
        on_unpriced=st.sampled_from(("report", "error")),
    )
    @example(case=TextCase([Row("NA", region="NA")]), default_period=False, on_unpriced="report")
    @example(
        case=TextCase([Row("acme", metric="null")], metric="null"),
        default_period=False,
        on_unpriced="error",
    )
    @example(
        case=TextCase([Row("None", region="")], where=""), default_period=True, on_unpriced="report"
    )
    @example(
        case=TextCase([Row(" NA ", metric=" N/A", region="NaN ")], where="NaN ", metric=" N/A"),
        default_period=False,
        on_unpriced="report",
    )
    def test_records_built_in_python(self, case, default_period, on_unpriced):
        """Null-like and padded text as account, metric and attribute values of records
        built in Python is text like any other in both engines: the same records are
        selected by ``where``, the same accounts billed, the same metrics priced."""
        period = None if default_period else OCTOBER
        assert_records_agree(
            selecting_plan(case),
            case_records(case),
            period,
            accounts=case.accounts,
            on_unpriced=on_unpriced,
        )

    # The file is rewritten for every example; nothing else of tmp_path is shared.
    @settings(
        max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        case=text_cases(empty_names=True),
        default_period=st.booleans(),
        on_unpriced=st.sampled_from(("report", "error")),
    )
    # NA, null, NaN, N/A as an account, a selected region and a metric the plan prices
    @example(
        case=TextCase([Row("NA", region="eu")], where="eu"),
        default_period=False,
        on_unpriced="report",
    )
    @example(case=TextCase([Row("acme", region="NA")]), default_period=False, on_unpriced="report")
    @example(
        case=TextCase([Row("acme", metric="null")], metric="null"),
        default_period=False,
        on_unpriced="report",
    )
    @example(
        case=TextCase([Row("acme", region="NaN"), Row("acme", region="N/A")], where="N/A"),
        default_period=True,
        on_unpriced="report",
    )
    # an empty account: refused by both readers
    @example(
        case=TextCase([Row("", region="eu")], where="eu"),
        default_period=False,
        on_unpriced="report",
    )
    # padded text is kept as written by both readers
    @example(
        case=TextCase([Row(" NA", region=" NA ")], where=" NA ", metric="NA "),
        default_period=False,
        on_unpriced="report",
    )
    def test_csv_read_by_each_engines_reader(self, tmp_path, case, default_period, on_unpriced):
        """Null-like and padded text in a CSV file means the same to read_usage and to
        read_columnar: a value such as "NA", "null" or "NaN" is text (an account, a metric,
        a region that ``where: {region: NA}`` selects) in both or missing in both, and an
        empty account or metric is refused by both with the same error."""
        path = case_csv(case, tmp_path / "usage.csv")
        assert_csv_agrees(
            selecting_plan(case),
            path,
            None if default_period else OCTOBER,
            accounts=case.accounts,
            on_unpriced=on_unpriced,
        )


# --- the spellings each CSV reader accepts --------------------------------------------------

#: The quantity 1.5, and other quantities, as people and tools write them.
QUANTITY_TEXTS = (
    "1.5",
    " 1.5 ",
    "+1.5",
    "1.50",
    "15E-1",
    "1.5e0",
    ".5",
    "5.",
    "1_000",
    "0.000000000001",
    "0.0000000000001",
    "100000000000000000000000000",
)
#: Ways to write an instant as ISO 8601 with an offset.
TIME_STYLES = ("offset", "Z", "space", "+02:00", "micro", "compact", "padded", "nanos")


def spell(moment: datetime, style: str) -> str:
    text = moment.astimezone(UTC).isoformat()
    if style == "Z":
        return text.replace("+00:00", "Z")
    if style == "space":
        return text.replace("T", " ")
    if style == "+02:00":
        return moment.astimezone(timezone(2 * HOUR)).isoformat()
    if style == "micro":
        return text.replace("+00:00", ".000000+00:00")
    if style == "compact":
        return text.replace("+00:00", "+0000")
    if style == "padded":
        return f" {text} "
    if style == "nanos":
        return text.replace("+00:00", ".0000000+00:00")
    return text


class Spelling(NamedTuple):
    """One CSV row: its quantity as written and the styles of its start and end."""

    quantity: str = "1.5"
    start: str = "offset"
    end: str = "offset"


CSV_COLUMNS = ("account", "metric", "quantity", "start", "end", "region")


def spelling_csv(header: Sequence[str], rows: Sequence[Spelling], path: Path) -> Path:
    lines = (
        (
            "acme",
            "vcpu_hours",
            row.quantity,
            spell(_hour(i), row.start),
            spell(_hour(i + 1), row.end),
            "eu",
        )
        for i, row in enumerate(rows)
    )
    return write_csv(path, header, lines)


SPELLING_PLAN = Plan(
    name="spellings",
    currency="EUR",
    charges=[
        Charge(
            name="eu",
            metric="vcpu_hours",
            model=PerUnit(Money("0.5", "EUR")),
            where={"region": "eu"},
        )
    ],
)

headers = st.tuples(*(padded(name) for name in CSV_COLUMNS))
spellings = st.builds(
    Spelling,
    quantity=st.sampled_from(QUANTITY_TEXTS),
    start=st.sampled_from(TIME_STYLES),
    end=st.sampled_from(TIME_STYLES),
)


class TestCsvSpellings:
    @settings(
        max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(header=headers, rows=st.lists(spellings, min_size=1, max_size=4))
    @example(header=CSV_COLUMNS, rows=[Spelling(" 1.5 ", "Z", "+02:00")])
    @example(header=CSV_COLUMNS, rows=[Spelling("0.000000000001", "space", "compact")])
    # an attribute column whose name is padded
    @example(header=(*CSV_COLUMNS[:5], " region"), rows=[Spelling()])
    # a padded time
    @example(header=CSV_COLUMNS, rows=[Spelling(start="padded")])
    # a time with seven fractional digits
    @example(header=CSV_COLUMNS, rows=[Spelling(end="nanos")])
    # digits grouped with "_"
    @example(header=CSV_COLUMNS, rows=[Spelling("1_000")])
    def test_the_same_spellings_are_read(self, tmp_path, header, rows):
        """A CSV file is read the same by read_usage and read_columnar: a header name,
        quantity or time that one reader accepts (padded, with an exponent, with an offset
        written any ISO 8601 way) the other accepts as the same value, and what one refuses
        the other refuses with the same error."""
        path = spelling_csv(header, rows, tmp_path / "usage.csv")
        assert_csv_agrees(SPELLING_PLAN, path, OCTOBER)


# --- the smallest and largest quantities, prices of many decimals --------------------------


def _scientific(digits: int, exponent: int) -> Decimal:
    """Exact: built from text, not in a context; an amount that reads like float noise
    (``124999999.9999901``) gets a trailing zero, as Money refuses it otherwise."""
    return unlike_float(Decimal(f"{digits}E{exponent}"))


#: Zero, the smallest positive quantities with many places, and the largest quantities.
extreme_quantities = st.one_of(
    st.sampled_from(
        (
            Decimal(0),
            Decimal("0E-20"),
            Decimal("1E-12"),
            Decimal("1E-13"),
            Decimal("1E-30"),
            Decimal(10**20),
            Decimal("99999999999999999999999999.999999999999"),
            Decimal(10**26),
            Decimal(10**30),
            Decimal("9" * 36 + ".999999"),  # the largest quantity below the bound, 10**36
        )
    ),
    st.builds(_scientific, st.integers(0, 10**20), st.integers(-30, 30)).filter(
        lambda q: q < MAX_AMOUNT  # larger quantities are refused when read (its own test)
    ),
    quantities(max_value=Decimal(10**6), places=12),
)

#: Prices with many decimal places, down to 1E-30 per unit.
many_place_prices = st.one_of(
    st.sampled_from(
        (
            Decimal("0.01"),
            Decimal("1E-30"),
            Decimal("0.123456789012345678901234567890"),
            Decimal("99999.999999999999999999"),
        )
    ),
    st.builds(_scientific, st.integers(0, 10**18), st.integers(-30, 0)),
)


def usage_plan(model: Any, *, fee: str | None = None, currency: str = "EUR") -> Plan:
    """One usage charge with *model*, and a flat fee per account when *fee* is given."""
    items = [Charge(name="compute", metric="compute", model=model)]
    if fee is not None:
        items.append(Charge(name="base", model=Flat(Money(fee, currency))))
    return Plan(name="extremes", currency=currency, charges=items)


def per_unit_plan(price: str, currency: str = "EUR", *, fee: str | None = None) -> Plan:
    return usage_plan(PerUnit(Money(price, currency)), fee=fee, currency=currency)


@st.composite
def priced_plans(draw: st.DrawFn) -> Plan:
    """One usage charge of any model priced with many decimals, perhaps free units and an
    account fee; any currency digits and rounding policy."""
    currency = draw(st.sampled_from(("EUR", "JPY", "BHD")))

    def price() -> Money:
        return Money(draw(many_place_prices), currency)

    kind = draw(st.sampled_from(("per_unit", "graduated", "volume", "package")))
    model: Any
    if kind == "per_unit":
        model = PerUnit(price())
    elif kind in ("graduated", "volume"):
        bound = draw(extreme_quantities.filter(lambda q: 0 < q < MAX_AMOUNT))  # plan bounds
        tiers = [
            Tier(bound, price(), draw(st.one_of(st.none(), st.just(price())))),
            Tier(None, price()),
        ]
        model = Graduated(tiers=tiers) if kind == "graduated" else Volume(tiers=tiers)
    else:
        model = Package(draw(extreme_quantities.filter(lambda q: 0 < q < MAX_AMOUNT)), price())
    free = draw(st.sampled_from((Decimal(0), Decimal("1E-12"), Decimal("0.5"), Decimal(10**20))))
    items = [Charge(name="compute", metric="compute", model=model, free_units=free)]
    if draw(st.booleans()):
        items.append(Charge(name="base", model=Flat(price())))
    return Plan(
        name="extremes", currency=currency, charges=items, rounding=draw(rounding_policies())
    )


def quantity_records(usage: Sequence[tuple[str, Decimal]]) -> list[UsageRecord]:
    return [
        UsageRecord(account=account, metric="compute", quantity=q, start=_hour(i), end=_hour(i + 1))
        for i, (account, q) in enumerate(usage)
    ]


class TestQuantityExtremes:
    @settings(max_examples=100, deadline=None)
    @given(
        plan=priced_plans(),
        usage=st.lists(
            st.tuples(st.sampled_from(("a", "b")), extreme_quantities), min_size=1, max_size=4
        ),
    )
    # zero, and the smallest positive quantity the columnar engine keeps (12 places)
    @example(plan=per_unit_plan("0.01"), usage=[("a", Decimal(0)), ("b", Decimal("0E-20"))])
    @example(plan=per_unit_plan("0.01"), usage=[("a", Decimal("1E-12"))])
    # smaller positive quantities: 13 and 30 places
    @example(plan=per_unit_plan("0.01"), usage=[("a", Decimal("1E-13"))])
    @example(plan=per_unit_plan("1000000"), usage=[("a", Decimal("1E-30"))])
    # large quantities: 10**20 (past int64), 10**26 and beyond, 10**40
    @example(plan=per_unit_plan("0.01"), usage=[("a", Decimal(10**20)), ("a", Decimal("1E-12"))])
    @example(plan=per_unit_plan("0.01"), usage=[("a", Decimal(10**26))])
    @example(
        plan=per_unit_plan("0.01"), usage=[("a", Decimal(6 * 10**25)), ("a", Decimal(6 * 10**25))]
    )
    @example(plan=per_unit_plan("0.01"), usage=[("a", Decimal("1E+33"))])
    @example(plan=per_unit_plan("0.01"), usage=[("a", Decimal("9" * 36))])
    # past decimal128's range (Arrow's cast wraps around instead of refusing) and past
    # the largest quantity: test_quantities_past_the_bound_are_refused_by_both
    # prices of many decimals
    @example(plan=per_unit_plan("0.000000000000000000000000000001"), usage=[("a", Decimal(10**25))])
    @example(
        plan=per_unit_plan("0.123456789012345678901234567890", "BHD"),
        usage=[("a", Decimal("12345678901234.123456789012"))],
    )
    # account fees and tiers whose integers at the common scale pass int64
    @example(plan=per_unit_plan("1E-15", fee="0.01"), usage=[("a", Decimal(0))])
    @example(plan=per_unit_plan("0.01", fee="1E-30"), usage=[("a", Decimal(0))])
    @example(
        plan=usage_plan(
            Graduated(
                tiers=[
                    Tier(Decimal(10**20), Money("0.01", "EUR")),
                    Tier(None, Money("0.01", "EUR")),
                ]
            )
        ),
        usage=[("a", Decimal(0))],
    )
    @example(
        plan=usage_plan(Package(Decimal("1E-18"), Money("0.01", "EUR"))),
        usage=[("a", Decimal(10**20))],
    )
    def test_smallest_and_largest_quantities(self, plan, usage):
        """From zero and the smallest positive quantities with many places to the largest
        ones, priced with many decimals: what one engine rates the other rates to the same
        document and totals, and what one refuses the other refuses with the same error."""
        assert_records_agree(plan, quantity_records(usage), OCTOBER)

    @pytest.mark.parametrize("aggregation", ["max", "latest", "average", "record sums"])
    @pytest.mark.parametrize(
        "quantity", ["1" + "0" * 26, "9" * 35, "123456789012345678901234567.5"]
    )
    def test_aggregates_past_the_partials_range_are_rated_alike(self, aggregation, quantity):
        """A peak, latest or average level (or a sum of records rounded one by one) with
        more digits before the point than partials hold (26) is rated by the per-record
        path, not refused by Arrow."""
        rounding = (
            QuantityRounding("round", 0, per="record") if aggregation == "record sums" else None
        )
        kind = "sum" if aggregation == "record sums" else aggregation
        plan = Plan(
            name="wide",
            currency="EUR",
            metrics=[Metric(name="compute", aggregation=kind, rounding=rounding)],
            charges=[Charge(name="compute", metric="compute", model=PerUnit(Money("0.01", "EUR")))],
        )
        usage = [("a", Decimal(quantity)), ("a", Decimal(quantity)), ("b", Decimal(1))]
        assert_records_agree(plan, quantity_records(usage), OCTOBER)

    @settings(max_examples=30, deadline=None)
    @given(
        quantity=st.sampled_from([MAX_AMOUNT, Decimal("3.1280514636E+38"), Decimal("1E+40")])
        | st.decimals(min_value=MAX_AMOUNT, max_value=Decimal("1E+60"), places=0)
    )
    def test_quantities_past_the_bound_are_refused_by_both(self, quantity):
        """A quantity of 10**36 or more is refused when it is read, in the same words by
        both engines (the columnar one hands it to the per-record rules)."""
        with pytest.raises(UsageError) as per_record:
            UsageRecord(
                account="a", metric="compute", quantity=quantity, start=_hour(0), end=_hour(1)
            )
        table = pa.table(
            {
                "account": ["a"],
                "metric": ["compute"],
                "quantity": [str(quantity)],
                "start": pa.array([_hour(0)], pa.timestamp("us", "UTC")),
                "end": pa.array([_hour(1)], pa.timestamp("us", "UTC")),
            }
        )
        with pytest.raises(UsageError) as columnar:
            rate_table(per_unit_plan("0.01"), table, OCTOBER)
        assert "beyond the largest quantity" in str(per_record.value)
        assert str(per_record.value) in str(columnar.value)


# --- copies of records: duplicates, corrections, conflicts ---------------------------------


class Copy(NamedTuple):
    """One delivered copy of a record; *record_id* None means the record has no id."""

    account: str = "a"
    metric: str = "compute"
    quantity: str = "1"
    hour: int = 0
    record_id: str | None = None
    revision: int | None = None
    resource_id: str = "vm-1"
    region: str | None = None


#: Charges that read records every way a copy could change a bill: summed, selected by
#: an attribute, the maximum, the latest, the distinct resources.
COPIES_PLAN = Plan(
    name="copies",
    currency="EUR",
    metrics=[
        Metric(name="peak", unit="GB", aggregation="max"),
        Metric(name="last", unit="GB", aggregation="latest"),
        Metric(name="vms", unit="VM", aggregation="unique"),
    ],
    charges=[
        Charge(name="compute", metric="compute", model=PerUnit(Money("0.5", "EUR"))),
        Charge(
            name="eu",
            metric="compute",
            model=PerUnit(Money("0.25", "EUR")),
            where={"region": "eu"},
        ),
        Charge(name="peak", metric="peak", model=PerUnit(Money("0.1", "EUR"))),
        Charge(name="last", metric="last", model=PerUnit(Money("0.2", "EUR"))),
        Charge(name="vms", metric="vms", model=PerUnit(Money("3", "EUR"))),
    ],
)
COPY_COLUMNS = (
    "account",
    "metric",
    "quantity",
    "start",
    "end",
    "record_id",
    "revision",
    "resource_id",
    "region",
)


def copy_records(copies: Sequence[Copy]) -> list[UsageRecord]:
    return [
        UsageRecord(
            account=c.account,
            metric=c.metric,
            quantity=c.quantity,
            start=_hour(c.hour),
            end=_hour(c.hour + 1),
            record_id=c.record_id,
            revision=c.revision,
            resource_id=c.resource_id,
            attributes={} if c.region is None else {"region": c.region},
        )
        for c in copies
    ]


def copy_csv(copies: Sequence[Copy], path: Path) -> Path:
    rows = (
        (
            c.account,
            c.metric,
            c.quantity,
            _hour(c.hour).isoformat(),
            _hour(c.hour + 1).isoformat(),
            c.record_id or "",
            "" if c.revision is None else str(c.revision),
            c.resource_id,
            c.region or "",
        )
        for c in copies
    )
    return write_csv(path, COPY_COLUMNS, rows)


def assert_copies_agree(copies: Sequence[Copy], tmp_path: Path) -> None:
    """Both engines on the copies built in Python, in one table and in batches of 3 rows;
    and on a CSV file, read whole and in blocks of 120 bytes (a few rows each)."""
    records = copy_records(copies)
    assert_records_agree(COPIES_PLAN, records, OCTOBER)
    assert_engines_agree(
        COPIES_PLAN,
        lambda: records,
        lambda: to_table(records).to_batches(max_chunksize=3),
        OCTOBER,
    )
    path = copy_csv(copies, tmp_path / "copies.csv")
    assert_csv_agrees(COPIES_PLAN, path, OCTOBER)
    assert_engines_agree(
        COPIES_PLAN,
        lambda: cloudrate.read_usage(path),
        lambda: read_columnar(path, block_size=120),
        OCTOBER,
    )


DUPLICATED = [Copy(quantity="2"), Copy(quantity="3", hour=1), Copy(quantity="2")]
ID_DUPLICATED = [Copy(record_id="r1"), Copy(record_id="r2", quantity="5"), Copy(record_id="r1")]
CONFLICT = [Copy(record_id="r1"), Copy(record_id="r2"), Copy(record_id="r1", quantity="2")]
CORRECTED = [
    Copy(record_id="r1", quantity="1"),
    Copy(record_id="r2", quantity="4", metric="last", hour=3),
    Copy(record_id="r1", quantity="7", revision=1, region="eu"),
]
LOWER_LATER = [
    Copy(record_id="r1", quantity="7", revision=2, metric="peak"),
    Copy(record_id="r1", quantity="9", revision=1, metric="peak"),
]
MIXED = [
    Copy(quantity="1.5", resource_id="vm-2", metric="vms"),
    Copy(record_id="r1", quantity="2", account="b"),
    Copy(record_id="r1", quantity="3"),  # another account's r1: another record
    Copy(quantity="1.50", resource_id="vm-2", metric="vms"),  # equal by value: a copy
    Copy(record_id="r1", quantity="2", account="b"),
    Copy(quantity="1.5", resource_id="vm-3", metric="vms"),
    Copy(record_id="r1", quantity="4", revision=0),
]

copy_pool = st.builds(
    Copy,
    account=st.sampled_from(("a", "b")),
    metric=st.sampled_from(("compute", "peak", "last", "vms")),
    quantity=st.sampled_from(("1", "1.0", "2", "0.25")),
    hour=st.integers(0, 2),
    record_id=st.one_of(st.none(), st.sampled_from(("r1", "r2"))),
    resource_id=st.sampled_from(("vm-1", "vm-2")),
    region=st.one_of(st.none(), st.sampled_from(("eu", "us", ""))),
).flatmap(
    lambda c: st.builds(
        c._replace,
        revision=st.none() if c.record_id is None else st.one_of(st.none(), st.integers(0, 2)),
    )
)


@st.composite
def deliveries(draw: st.DrawFn) -> list[Copy]:
    """A few distinct records, delivered in any order with any of them repeated."""
    pool = draw(st.lists(copy_pool, min_size=1, max_size=5))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=10))
    return [pool[i] for i in picks]


class TestCopies:
    """Copies of a record (cloudrate.usage.dedupe) mean the same to both engines: dropped
    alike, corrected alike, refused alike, and counted alike in the JSON."""

    @pytest.mark.parametrize(
        "copies",
        [DUPLICATED, ID_DUPLICATED, CONFLICT, CORRECTED, LOWER_LATER, MIXED],
        ids=["duplicated", "id-duplicated", "conflict", "corrected", "lower-later", "mixed"],
    )
    def test_cases(self, tmp_path, copies):
        """Exact duplicates with and without ids, a conflict, a correction, a lower
        revision arriving after a higher one, and all of them mixed."""
        assert_copies_agree(copies, tmp_path)

    def test_cases_are_what_they_say(self):
        """The cases do what they are named for (so the comparison above is not of two
        empty results): counts and refusals as dedupe states them."""
        counts = {
            name: (result.duplicates_dropped, result.corrections)
            for name, result in (
                ("duplicated", cloudrate.rate(COPIES_PLAN, copy_records(DUPLICATED), OCTOBER)),
                ("corrected", cloudrate.rate(COPIES_PLAN, copy_records(CORRECTED), OCTOBER)),
                ("lower", cloudrate.rate(COPIES_PLAN, copy_records(LOWER_LATER), OCTOBER)),
                ("mixed", cloudrate.rate(COPIES_PLAN, copy_records(MIXED), OCTOBER)),
            )
        }
        assert counts == {
            "duplicated": (1, 0),
            "corrected": (0, 1),
            "lower": (0, 1),
            "mixed": (2, 1),
        }
        with pytest.raises(cloudrate.exceptions.DuplicateUsageError):
            cloudrate.rate(COPIES_PLAN, copy_records(CONFLICT), OCTOBER)

    @settings(
        max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(copies=deliveries())
    @example(copies=[Copy(record_id="r1", revision=1), Copy(record_id="r1", quantity="2")])
    @example(copies=[Copy(quantity="1", region=""), Copy(quantity="1")])
    def test_any_delivery(self, tmp_path, copies):
        """Any records delivered with repeats, ids, revisions and attributes: both engines
        bill them alike or refuse them alike, from Python and from CSV files."""
        assert_copies_agree(copies, tmp_path)


# --- Kill Bill's 30-day months over month ends, February and anniversary periods -------------


def anniversary_month(year: int, month: int, anchor: int, zone: str) -> BillingPeriod:
    """The monthly period from *year*-*month* on day *anchor* (moved to the last day of a
    month too short for it), in *zone*."""
    nyear, nmonth = (year + 1, 1) if month == 12 else (year, month + 1)
    tz = ZoneInfo(zone)

    def day(y: int, m: int) -> datetime:
        return datetime(y, m, min(anchor, calendar.monthrange(y, m)[1]), tzinfo=tz)

    return BillingPeriod(day(year, month), day(nyear, nmonth), zone)


class Stint(NamedTuple):
    """A resource active from *day* days (and *hour* hours) into the period for *days*
    days; a negative start or a length past the end is clipped by the period."""

    resource: str
    day: int
    hour: int
    days: int


def stint_records(stints: Sequence[Stint], period: BillingPeriod) -> list[UsageRecord]:
    out = []
    for i, stint in enumerate(stints):
        start = period.start + timedelta(days=stint.day, hours=stint.hour)
        out.append(
            UsageRecord(
                account="a" if i % 3 else "b",
                metric="vm_months30",
                quantity=1,
                start=start,
                end=start + timedelta(days=stint.days),
                record_id=f"s{i}",
                resource_id=stint.resource,
            )
        )
    return out


stints = st.builds(
    Stint,
    resource=st.sampled_from(("vm0", "vm1", "vm2")),
    day=st.integers(-2, 31),
    hour=st.integers(0, 23),
    days=st.integers(0, 32),
)


class TestThirtyDayMonths:
    @settings(max_examples=60, deadline=None)
    @given(
        year=st.sampled_from((2023, 2024, 2100)),
        month=st.integers(1, 12),
        anchor=st.sampled_from((1, 15, 28, 29, 30, 31)),
        zone=st.sampled_from(("UTC", "Europe/Berlin", "Australia/Sydney")),
        stints=st.lists(stints, min_size=1, max_size=8),
    )
    @example(year=2023, month=2, anchor=1, zone="UTC", stints=[Stint("vm0", 27, 0, 1)])
    @example(year=2024, month=1, anchor=31, zone="UTC", stints=[Stint("vm0", 0, 0, 30)])
    @example(year=2023, month=2, anchor=30, zone="UTC", stints=[Stint("vm0", 0, 0, 29)])
    def test_kill_bills_30_day_months_rate_alike(self, year, month, anchor, zone, stints):
        """Resources active across month ends, the last days of February (common and leap
        years) and the 31st, in calendar and anniversary periods (bill cycle days 29-31
        moved in short months): both engines prorate them alike, to 9 places."""
        period = anniversary_month(year, month, anchor, zone)
        records = [r for r in stint_records(stints, period) if period.contains(r.start, r.end)]
        assert_records_agree(edge_plan(zone), records, period)

    def test_a_period_of_no_whole_months_is_refused_alike(self):
        """A half-month period with a resource to prorate: both engines refuse it with
        the same error."""
        period = BillingPeriod.parse("2026-10-01..2026-10-15")
        records = stint_records([Stint("vm0", 2, 0, 3)], period)
        assert outcome(lambda: cloudrate.rate(edge_plan("UTC"), records, period)).kind == (
            "refused"
        )
        assert_records_agree(edge_plan("UTC"), records, period)


# --- Lago's conventions: the first tier's flat fee for no usage, rounded quantities ------

#: Metrics of :func:`lago_plans`: one per way records combine, one converted from bytes.
LAGO_METRICS = ("calls", "bytes", "avg", "peak", "last", "ips")


@st.composite
def lago_plans(draw: st.DrawFn, *, vectorised: bool = False) -> Plan:
    """Charges of every tiered model, charging for no usage or not, on metrics that may
    round their quantity (every mode, precisions -3 to 12, of the aggregate or of each
    record), a graduated percentage with flat prices and perhaps a flat fee per account.
    With *vectorised*, only what the columnar kernel prices on integers: summed metrics
    without conversion, rounding the aggregate, and no percentage."""
    per = st.just("aggregate") if vectorised else None
    rounded = st.one_of(st.none(), quantity_roundings(per=per))
    if vectorised:
        metrics = [Metric(name=m, rounding=draw(rounded)) for m in ("calls", "units")]
    else:
        metrics = [
            Metric(name="calls", rounding=draw(rounded)),
            Metric(name="bytes", unit="GiB", usage_unit="byte", rounding=draw(rounded)),
            Metric(name="avg", unit="GB", aggregation="average", rounding=draw(rounded)),
            Metric(name="peak", aggregation="max", rounding=draw(rounded)),
            Metric(name="last", aggregation="latest", rounding=draw(rounded)),
            Metric(name="ips", aggregation="unique", rounding=draw(rounded)),
        ]
    names = draw(
        st.lists(st.sampled_from([m.name for m in metrics]), min_size=1, max_size=3, unique=True)
    )
    items = [draw(charges("EUR", metric=name, name=name)) for name in names]
    if not vectorised and draw(st.booleans()):
        bound = draw(quantities(min_value=Decimal(1), max_value=Decimal(1000), places=2))
        flat = st.one_of(st.none(), st.just(Money("5.00", "EUR")), st.just(Money("0.5", "EUR")))
        items.append(
            Charge(
                name="processing",
                model=Percentage(
                    tiers=[
                        PercentTier(bound, Decimal(1), draw(flat)),
                        PercentTier(None, Decimal("0.5"), draw(flat)),
                    ],
                    of=tuple(names),
                    currency="EUR",
                    zero_usage=draw(st.sampled_from(ZERO_USAGE)),
                ),
            )
        )
    if draw(st.booleans()):
        items.append(Charge(name="base", model=Flat(Money("3.00", "EUR"))))
    return Plan(
        name="lago",
        currency="EUR",
        charges=items,
        metrics=metrics,
        rounding=draw(rounding_policies()),
    )


@st.composite
def lago_usage(draw: st.DrawFn, plan: Plan) -> list[UsageRecord]:
    """Usage across the plan's tiers (:func:`cloudrate.testing.usage_for`), perhaps with
    records of quantity 0 for accounts that have nothing else."""
    records = draw(usage_for(plan, accounts=st.sampled_from(("a", "b", "c"))))
    metered = [c.metric for c in plan.charges if c.metric is not None]
    for i in range(draw(st.integers(0, 2))):
        records.append(
            UsageRecord(
                account=draw(st.sampled_from(("zero", "a"))),
                metric=draw(st.sampled_from(metered)),
                quantity=Decimal(0),
                start=_hour(i),
                end=_hour(i + 1),
                resource_id=f"zero-{i}",
            )
        )
    return records


class TestLagoConventions:
    @settings(max_examples=150, deadline=None)
    @given(data=st.data())
    def test_zero_usage_and_rounding_agree(self, data):
        """Plans with zero_usage and rounded metrics, usage across their tiers, accounts
        with records of quantity 0 and an account named without usage: both engines give
        one document and the same totals."""
        plan = data.draw(lago_plans())
        assert_records_agree(plan, data.draw(lago_usage(plan)), OCTOBER, accounts=["idle"])

    @settings(max_examples=100, deadline=None)
    @given(data=st.data())
    def test_the_integer_kernel_prices_them(self, data):
        """Plans the columnar kernel prices on integers (the first flat fee for accounts
        without records, the aggregate rounded on integers): totals and every line, their
        text included, are what rate() gives."""
        plan = data.draw(lago_plans(vectorised=True))
        records = data.draw(lago_usage(plan))
        assert _vectorisable(plan)
        assert_records_agree(plan, records, OCTOBER, accounts=["idle"])
        lines = rate_lines(plan, to_table(records), OCTOBER, accounts=["idle"])
        want = cloudrate.rate(plan, records, OCTOBER, accounts=["idle"])
        if plan.rounding.placement == "line":
            assert isinstance(lines, LineColumns)
            texts = lines.texts(0, len(lines.accounts))
            assert texts.quantity == [str(x.quantity) for x in want.lines]
            assert texts.exact == [str(x.amount.amount) for x in want.lines]
            assert texts.explanation == [x.explain() for x in want.lines]
            lines = lines.result()
        assert lines.to_json() == want.to_json()

    @pytest.mark.parametrize("quantity", ["0", "1E-12", "99.995", "123456789012345678.9", "9" * 30])
    @pytest.mark.parametrize("precision", [-3, -1, 0, 2, 12])
    def test_rounding_at_the_edges(self, quantity, precision):
        """Ceil and half-even of zero, the smallest quantity the columnar engine keeps,
        a tie, and quantities past int64, of the aggregate and of each record."""
        for mode, per in (("ceil", "aggregate"), ("half_even", "record"), ("round", "record")):
            plan = Plan(
                name="edges",
                currency="EUR",
                metrics=[
                    Metric(name="compute", rounding=QuantityRounding(mode, precision, per=per))
                ],
                charges=[
                    Charge(
                        name="compute",
                        metric="compute",
                        model=Volume(
                            tiers=[
                                Tier(Decimal(100), Money("0.01", "EUR"), Money("1", "EUR")),
                                Tier(None, Money("0.001", "EUR")),
                            ],
                            zero_usage="first_flat_fee",
                        ),
                    )
                ],
            )
            usage = [("a", Decimal(quantity)), ("a", Decimal(quantity)), ("b", Decimal(0))]
            assert_records_agree(plan, quantity_records(usage), OCTOBER, accounts=["idle"])


# --- charges priced per transaction ---------------------------------------------------------


@st.composite
def transaction_plans(draw: st.DrawFn) -> Plan:
    """A transaction percentage on ``payments`` (any options), perhaps a second one that
    selects card payments, a graduated percentage of the total and a per-unit charge."""
    currency = draw(st.sampled_from(("EUR", "JPY", "BHD")))
    items = [Charge(name="fees", metric="payments", model=draw(transaction_percentages(currency)))]
    if draw(st.booleans()):
        items.append(
            Charge(
                name="cards",
                metric="payments",
                model=draw(transaction_percentages(currency)),
                where={"kind": "card"},
            )
        )
    if draw(st.booleans()):
        items.append(
            Charge(
                name="tiers",
                metric="payments",
                model=draw(graduated_transaction_percentages(currency)),
            )
        )
    if draw(st.booleans()):
        items.append(Charge(name="compute", metric="compute", model=PerUnit(Money("1", currency))))
    return Plan(name="tx", currency=currency, charges=items, rounding=draw(rounding_policies()))


class Payment(NamedTuple):
    account: str
    minute: int  # payments may start together: the record id then orders them
    record_id: str | None
    quantity: Decimal
    kind: str
    metric: str = "payments"


payments = st.builds(
    Payment,
    account=st.sampled_from(("a", "b")),
    minute=st.integers(0, 3),
    record_id=st.one_of(st.none(), st.sampled_from(("x", "y", "z"))),
    quantity=st.one_of(extreme_quantities, quantities(max_value=Decimal(1000), places=2)),
    kind=st.sampled_from(("card", "bank")),
    metric=st.sampled_from(("payments", "payments", "compute")),
)


def payment_records(drawn: Sequence[Payment]) -> list[UsageRecord]:
    return [
        UsageRecord(
            account=p.account,
            metric=p.metric,
            quantity=p.quantity,
            start=OCTOBER.start + p.minute * timedelta(minutes=1),
            end=OCTOBER.start + (p.minute + 1) * timedelta(minutes=1),
            record_id=None if p.record_id is None else f"{p.record_id}{i}",
            attributes={"kind": p.kind},
        )
        for i, p in enumerate(drawn)
    ]


class TestTransactions:
    """Charges priced per transaction read each record's quantity: the per-record engine
    and the columnar one (through its per-record path, its partials and its fallback for
    quantities past its fixed point) price the same transactions in the same order."""

    @settings(max_examples=150, deadline=None)
    @given(
        plan=transaction_plans(),
        drawn=st.lists(payments, min_size=1, max_size=8),
        order=st.randoms(use_true_random=False),
    )
    @example(
        plan=Plan(
            name="tx",
            currency="EUR",
            charges=[
                Charge(
                    name="fees",
                    metric="payments",
                    model=TransactionPercentage(
                        percent=Decimal(1),
                        currency="EUR",
                        free_transactions=1,
                        min_per_transaction=Money("0.5", "EUR"),
                    ),
                )
            ],
        ),
        drawn=[
            Payment("a", 0, "y", Decimal("1E-13"), "card"),
            Payment("a", 0, "x", Decimal(10**30), "card"),
        ],
        order=__import__("random").Random(0),
    )
    def test_any_order_one_outcome(self, plan, drawn, order):
        """Payments of any amounts (the smallest and largest quantities too), some at the
        same instant, in any order: both engines give the document rate() gives for the
        records in their first order, or refuse them alike."""
        records = payment_records(drawn)
        assert_records_agree(plan, records, OCTOBER)
        shuffled = list(records)
        order.shuffle(shuffled)
        expected = outcome(lambda: cloudrate.rate(plan, records, OCTOBER).to_json())
        assert outcome(lambda: cloudrate.rate(plan, shuffled, OCTOBER).to_json()) == expected
        got = outcome(lambda: rate_table(plan, to_table(shuffled), OCTOBER).to_json())
        assert got == expected

    @settings(max_examples=30, deadline=None)
    @given(plan=transaction_plans(), drawn=st.lists(payments, min_size=1, max_size=8))
    def test_partials_of_any_split(self, plan, drawn):
        """Partials of two partitions combine into the transactions of all of them
        (copies of a record are left out first: partitions do not compare them)."""
        from cloudrate.rating.columnar import combine_partials, finish, partial_aggregate

        records = list(cloudrate.usage.dedupe(payment_records(drawn)).records)
        table = to_table(records)
        half = table.num_rows // 2
        expected = outcome(lambda: cloudrate.rate(plan, records, OCTOBER).to_json())
        got = outcome(
            lambda: finish(
                plan,
                combine_partials(
                    [
                        partial_aggregate(plan, table.slice(0, half), OCTOBER),
                        partial_aggregate(plan, table.slice(half), OCTOBER),
                    ]
                ),
                OCTOBER,
            ).to_json()
        )
        if got.kind == "refused" and "FixedPointRangeError" in str(got.value):
            return  # partials hold 12 decimals; rate_table falls back, partials refuse
        assert got == expected

    @pytest.mark.parametrize("quantity", [Decimal("0E+27"), Decimal(10**30), Decimal("1E-13")])
    @pytest.mark.parametrize("aggregation", ["max", "latest", "average"])
    def test_records_kept_one_by_one_past_the_fixed_point(self, quantity, aggregation):
        """A peak, a latest level, an average or a transaction past the columnar
        engine's fixed point (0E+27 too, which Arrow refuses as written) is rated by the
        per-record engine instead, with the same document."""
        plan = Plan(
            name="slow",
            currency="EUR",
            metrics=[Metric(name="level", aggregation=aggregation)],
            charges=[
                Charge(name="level", metric="level", model=PerUnit(Money("0.01", "EUR"))),
                Charge(
                    name="fees",
                    metric="payments",
                    model=TransactionPercentage(percent=Decimal(1), currency="EUR"),
                ),
            ],
        )
        records = [
            UsageRecord(account="a", metric=metric, quantity=quantity, start=_hour(0), end=_hour(1))
            for metric in ("level", "payments")
        ]
        assert_records_agree(plan, records, OCTOBER)

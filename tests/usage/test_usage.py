"""Usage records and their CSV / JSON-lines readers (``cloudrate.usage``)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given

from cloudrate import (
    ConfigError,
    FloatNotAllowedError,
    UsageError,
    UsageRecord,
    read_usage,
    read_usage_csv,
    read_usage_jsonl,
)
from cloudrate.testing import usage_records

T0 = datetime(2026, 10, 1, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
HEADER = "account,metric,quantity,start,end,resource_id,offering\n"


def _record(**overrides) -> UsageRecord:
    fields = {"account": "acme", "metric": "vcpu_hours", "quantity": "2", "start": T0, "end": T1}
    return UsageRecord(**{**fields, **overrides})


class TestUsageRecord:
    def test_fields(self):
        """Quantities become Decimals; seconds is the exact interval length."""
        r = _record(quantity="2.5", attributes={"offering": "small", "default": True})
        assert r.quantity == Decimal("2.5")
        assert r.seconds == 3600
        assert r.attributes == {"offering": "small", "default": "true"}

    @pytest.mark.parametrize(
        ("quantity", "error", "message"),
        [
            ("-1", UsageError, "negative; usage is never negative"),
            ("abc", UsageError, "'abc' is not a number"),
            ("", UsageError, "not a number"),
            (None, UsageError, "expected a Decimal"),
            (0.5, FloatNotAllowedError, r"pass Decimal\('0.5'\) or the string '0.5'"),
        ],
    )
    def test_bad_quantity(self, quantity, error, message):
        """Negative, non-numeric, missing and float quantities are refused with the fix."""
        with pytest.raises(error, match=message):
            _record(quantity=quantity)

    def test_end_before_start(self):
        """An interval that ends before it starts is refused."""
        with pytest.raises(UsageError, match=r"is before start.*swap them"):
            _record(start=T1, end=T0)

    def test_naive_datetimes(self):
        """Naive datetimes are refused with an example of an aware one."""
        with pytest.raises(UsageError, match="has no timezone"):
            _record(start=datetime(2026, 10, 1), end=T1)
        with pytest.raises(UsageError, match=r"end: .* has no timezone"):
            _record(end=datetime(2026, 10, 2))

    def test_empty_account_or_metric(self):
        """Every record belongs to an account and measures a metric."""
        with pytest.raises(UsageError, match="account: empty"):
            _record(account="")
        with pytest.raises(UsageError, match="metric: empty"):
            _record(metric="")

    def test_attributes_are_read_only(self):
        """Attributes cannot be changed in place; records are values."""
        r = _record(attributes={"a": "1"})
        with pytest.raises(TypeError, match="read-only"):
            r.attributes["a"] = "2"  # type: ignore[index]
        assert hash(r) == hash(_record(attributes={"a": "1"}))

    @given(usage_records())
    def test_to_dict_reads_back(self, record):
        """to_dict() is JSON-ready and reads back to an equal record."""
        from cloudrate.usage import record_from_mapping

        assert record_from_mapping(record.to_dict()) == record

    def test_other_offsets_are_the_same_instant(self):
        """Times with different offsets compare as instants."""
        plus2 = timezone(timedelta(hours=2))
        r = _record(start=datetime(2026, 10, 1, 2, tzinfo=plus2), end=T1)
        assert r.seconds == 3600


class TestReadUsageCsv:
    def test_reads_rows(self):
        """Extra columns become attributes; empty cells are left out."""
        text = HEADER + "acme,vcpu_hours,2.50,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,vm-1,\n"
        [r] = read_usage_csv(io.StringIO(text))
        assert (r.quantity, r.resource_id, r.attributes) == (Decimal("2.50"), "vm-1", {})

    def test_attr_prefix(self):
        """Columns named attr.NAME become the attribute NAME."""
        text = (
            "account,metric,quantity,start,end,attr.zone\n"
            "a,m,1,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,z1\n"
        )
        assert read_usage_csv(io.StringIO(text))[0].attributes == {"zone": "z1"}

    def test_every_bad_row_is_reported_with_its_line(self):
        """Missing, negative and non-numeric quantities, reversed and naive times: every
        bad row is listed at once with its line, and no record is returned."""
        rows = [
            "a,m,,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,,",
            "a,m,-3,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,,",
            "a,m,lots,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,,",
            "a,m,1,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,,",
            "a,m,1,2026-10-02T00:00:00Z,2026-10-01T00:00:00Z,,",
            "a,m,1,2026-10-01T00:00:00,2026-10-01T01:00:00,,",
            "a,m,1,yesterday,2026-10-01T01:00:00Z,,",
        ]
        with pytest.raises(ConfigError) as info:
            read_usage_csv(io.StringIO(HEADER + "\n".join(rows) + "\n"))
        problems = {p.line: p.message for p in info.value.problems}
        assert sorted(problems) == [2, 3, 4, 6, 7, 8]
        assert "missing quantity" in problems[2]
        assert "negative" in problems[3]
        assert "'lots' is not a number" in problems[4]
        assert "is before start" in problems[6]
        assert "has no timezone" in problems[7]
        assert "not an ISO 8601 time" in problems[8]
        assert str(info.value).startswith("6 problems in <stream>:")

    def test_reads_a_file(self, tmp_path):
        """A path is opened and closed; read_usage picks the reader by suffix."""
        path = tmp_path / "u.csv"
        path.write_text(
            HEADER + "a,m,1,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,,\n", encoding="utf-8"
        )
        assert read_usage_csv(path) == read_usage(path)

    def test_byte_order_mark(self, tmp_path):
        """A CSV saved by a spreadsheet with a UTF-8 byte-order mark reads normally."""
        path = tmp_path / "excel.csv"
        path.write_text(
            HEADER + "a,m,1,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,,\n", encoding="utf-8-sig"
        )
        [record] = read_usage_csv(path)
        assert record.account == "a"


class TestReadUsageJsonl:
    def test_json_numbers_are_exact(self):
        """JSON numbers are read as Decimals, never through float."""
        line = (
            '{"account": "a", "metric": "m", "quantity": 1234567890.123456789012, '
            '"start": "2026-10-01T00:00:00+00:00", "end": "2026-10-01T01:00:00+00:00", '
            '"attributes": {"zone": "z1"}}\n'
        )
        [r] = read_usage_jsonl(io.StringIO(line))
        assert r.quantity == Decimal("1234567890.123456789012")
        assert r.attributes == {"zone": "z1"}

    def test_bad_json(self):
        """A line that is not JSON is reported with its number."""
        with pytest.raises(ConfigError, match="line 2"):
            read_usage_jsonl(io.StringIO('{"account": "a"}\n{oops\n'))

    def test_not_an_object(self):
        """Every line must be a JSON object."""
        with pytest.raises(ConfigError, match="expected a JSON object"):
            read_usage_jsonl(io.StringIO("[1, 2]\n"))

    def test_bad_records(self):
        """Bad records are collected like in CSV."""
        lines = (
            '{"account": "a", "metric": "m", "quantity": -1, "start": '
            '"2026-10-01T00:00:00+00:00", "end": "2026-10-01T01:00:00+00:00"}\n\n'
            '{"account": "a", "metric": "m", "start": "2026-10-01T00:00:00+00:00", '
            '"end": "2026-10-01T01:00:00+00:00"}\n'
        )
        with pytest.raises(ConfigError) as info:
            read_usage_jsonl(io.StringIO(lines))
        assert [p.line for p in info.value.problems] == [1, 3]


class TestReadUsage:
    def test_unknown_suffix(self, tmp_path):
        """Only .csv and .jsonl/.ndjson/.json are read."""
        with pytest.raises(UsageError, match=r"use \.csv or \.jsonl"):
            read_usage(tmp_path / "usage.xlsx")


class TestInstants:
    """Times are kept in UTC, so records compare by instant even in the hour a clock goes
    back (where two wall-clock times of one timezone would compare wrongly)."""

    def test_times_are_stored_in_utc(self):
        from zoneinfo import ZoneInfo

        berlin = ZoneInfo("Europe/Berlin")
        r = _record(
            start=datetime(2026, 10, 1, 2, tzinfo=berlin),
            end=datetime(2026, 10, 1, 3, tzinfo=berlin),
        )
        assert r.start.utcoffset() == timedelta(0)
        assert r.start == datetime(2026, 10, 1, 0, tzinfo=UTC)

    def test_end_before_start_in_the_repeated_hour_is_refused(self):
        """02:30 (second time, CET) to 02:45 (first time, CEST) on 25 October ends before
        it starts, although its wall clock reads later."""
        from zoneinfo import ZoneInfo

        berlin = ZoneInfo("Europe/Berlin")
        with pytest.raises(UsageError, match="is before start"):
            _record(
                start=datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=berlin),
                end=datetime(2026, 10, 25, 2, 45, fold=0, tzinfo=berlin),
            )


class TestCsvSpelling:
    def test_header_names_are_stripped(self):
        text = (
            "account, metric ,quantity,start,end, region\n"
            "acme,m,1,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,eu\n"
        )
        [r] = read_usage_csv(io.StringIO(text))
        assert (r.metric, r.attributes) == ("m", {"region": "eu"})

    def test_times_finer_than_microseconds_are_refused(self):
        text = (
            "account,metric,quantity,start,end\n"
            "acme,m,1,2026-10-01T00:00:00.1234567Z,2026-10-01T01:00:00Z\n"
        )
        with pytest.raises(ConfigError, match="more than 6 decimals of a second"):
            read_usage_csv(io.StringIO(text))

"""CloudStack usage records get a record_id from what identifies them: a page imported
twice is billed once, by both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudrate import BillingPeriod, rate
from cloudrate.exceptions import DuplicateUsageError
from cloudrate.integrations.cloudstack import quota_plan, read_cloudstack, records_from_cloudstack

DATA = Path(__file__).parents[2] / "data" / "cloudstack"
OCTOBER = BillingPeriod.month(2026, 10)
PLAN = quota_plan({"RUNNING_VM": "72", "VOLUME": "3.72", "IP_ADDRESS": "3.6"}, currency="EUR")


def _row(usagetype: int, usageid: str, rawusage: str = "24", **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "account": "alice",
        "accountid": "acc-1",
        "domainid": "dom-1",
        "zoneid": "zone-1",
        "usagetype": usagetype,
        "usageid": usageid,
        "rawusage": rawusage,
        "usage": f"{rawusage} Hrs",
        "description": "synthetic",
        "startdate": "2026-10-01'T'00:00:00+00:00",
        "enddate": "2026-10-01'T'23:59:59+00:00",
    }
    row.update(fields)
    return row


def _page(*rows: dict[str, object]) -> dict[str, object]:
    return {"listusagerecordsresponse": {"count": len(rows), "usagerecord": list(rows)}}


PAGE = _page(
    _row(1, "vm-1", offeringid="small"),
    _row(6, "vol-1", size=10 * 2**30, offeringid="ssd"),
    _row(3, "ip-1", issourcenat=False),
)


class TestRecordIds:
    def test_every_record_has_one(self):
        """Each imported record has a record_id built from its type, resource and
        interval (in UTC) and a digest of the fields that tell records apart."""
        ids = [r.record_id for r in read_cloudstack(PAGE).records]
        assert ids[0] is not None
        assert ids[0].startswith("cs:1:vm-1:2026-10-01T00:00:00+00:00/2026-10-01T23:59:59+00:00:")
        assert len(set(ids)) == 3

    def test_same_record_same_id_in_json_and_xml(self):
        """The id depends on the values, not on how the response wrote them: numbers or
        text, the date with or without quotes around the T, any offset."""
        as_json = _row(1, "245554", accountid=10004, zoneid=1, startdate="2009-09-15T00:00:00-0700")
        as_xml = _row(
            1, "245554", accountid="10004", zoneid="1", startdate="2009-09-15'T'07:00:00+00:00"
        )
        first, second = read_cloudstack([_page(as_json), _page(as_xml)]).records
        assert first.record_id == second.record_id

    def test_what_tells_records_apart(self):
        """A VM that changed offering during a day gives two records for one resource and
        interval: they get different ids, so both are billed."""
        small, large = read_cloudstack(
            _page(_row(1, "vm-1", offeringid="small"), _row(1, "vm-1", offeringid="large"))
        ).records
        assert small.record_id != large.record_id
        assert rate(PLAN, [small, large], OCTOBER).duplicates_dropped == 0

    def test_what_does_not_identify(self):
        """Display texts are not part of the id: the usage text, the description, names."""
        one = read_cloudstack(_page(_row(1, "vm-1"))).records[0]
        other = read_cloudstack(
            _page(_row(1, "vm-1", description="renamed", usage="24.0 Hrs"))
        ).records[0]
        assert one.record_id == other.record_id

    def test_computed_metrics_have_their_own(self):
        """vcpu_hours and memory_gb_hours derived from a RUNNING_VM record carry its id
        with the metric appended."""
        records = records_from_cloudstack(
            [_row(1, "vm-1", cpunumber=2, memory=2048)], compute_metrics=True
        ).records
        base = records[0].record_id
        assert [r.record_id for r in records] == [
            base,
            f"{base}/vcpu_hours",
            f"{base}/memory_gb_hours",
        ]

    def test_own_id_when_exported(self):
        """A record exported with the usage database's own id uses it."""
        (record,) = records_from_cloudstack([_row(1, "vm-1", id=4711)]).records
        assert record.record_id == "cs:id:4711"


class TestPageTwice:
    def test_rate_bills_once(self):
        """The same page imported twice (or a record on two overlapping pages) is billed
        once by rate(), which counts the copies."""
        once = rate(PLAN, read_cloudstack(PAGE).records, OCTOBER)
        twice = rate(PLAN, read_cloudstack([PAGE, PAGE]).records, OCTOBER)
        assert twice.bills == once.bills
        assert (twice.duplicates_dropped, twice.corrections) == (3, 0)
        assert once.total.amount > 0

    def test_both_engines_bill_once(self):
        """The columnar engine, on the imported records as a table, bills the doubled
        import as rate() bills it: the same JSON, byte for byte."""
        columnar = pytest.importorskip("cloudrate.rating.columnar")
        records = read_cloudstack([PAGE, PAGE]).records
        got = columnar.rate_table(PLAN, columnar.to_table(records), OCTOBER)
        assert got.to_json() == rate(PLAN, records, OCTOBER).to_json()
        assert got.duplicates_dropped == 3

    def test_shipped_sample_twice(self, tmp_path):
        """A real response file, imported twice from two files, bills as once."""
        text = (DATA / "jclouds_listusagerecordsresponse.json").read_text()
        pages = []
        for name in ("page1.json", "page2.json"):
            (tmp_path / name).write_text(text)
            pages.extend(read_cloudstack(tmp_path / name).records)
        plan = quota_plan({"TEMPLATE": "1.0"}, currency="EUR")
        period = BillingPeriod.month(2011, 12)
        assert rate(plan, pages, period).bills == rate(plan, pages[:1], period).bills

    def test_refetched_with_other_usage_is_a_conflict(self, tmp_path):
        """The same record fetched again with another rawusage (the usage job ran again)
        cannot be billed twice nor silently chosen: the error names both files' records."""
        (tmp_path / "old.json").write_text(json.dumps(_page(_row(1, "vm-1", rawusage="24"))))
        (tmp_path / "new.json").write_text(json.dumps(_page(_row(1, "vm-1", rawusage="20"))))
        records = [
            *read_cloudstack(tmp_path / "old.json").records,
            *read_cloudstack(tmp_path / "new.json").records,
        ]
        with pytest.raises(DuplicateUsageError) as caught:
            rate(PLAN, records, OCTOBER)
        message = str(caught.value)
        assert (
            f"{tmp_path / 'old.json'} usagerecord[0] and {tmp_path / 'new.json'} usagerecord[0]"
            in message
        )
        assert '"quantity": "24"' in message and '"quantity": "20"' in message

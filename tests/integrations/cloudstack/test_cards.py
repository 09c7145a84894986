"""CloudStack usage on the usage page's cards: the import's metric names are the cards'."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cloudrate._money import EXACT
from cloudrate.integrations.cloudstack import USAGE_TYPES, quota_plan, read_cloudstack
from cloudrate.portal.usage_view import (
    CLOUDSTACK_STORAGE,
    CLOUDSTACK_TRAFFIC,
    DEFAULT_CARDS,
    CardSpec,
    DateRange,
    UsageViewError,
    usage_view,
)

DATA = Path(__file__).parents[2] / "data" / "cloudstack"
GIB = 2**30
CARDS = {c.key: c for c in DEFAULT_CARDS}


def _row(usagetype: int, rawusage: str, usageid: str, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "account": "alice",
        "accountid": "acc-1",
        "domainid": "dom-1",
        "zoneid": "zone-1",
        "usagetype": usagetype,
        "rawusage": rawusage,
        "usageid": usageid,
        "startdate": "2026-10-01'T'00:00:00+00:00",
        "enddate": "2026-10-01'T'23:59:59+00:00",
    }
    row.update(fields)
    return row


#: One day of a small account: a VM (2 vCPU, 4096 MB), a 20 GiB volume, a 5 GiB snapshot,
#: 3 GiB sent and 1 GiB received.
PAGE = {
    "listusagerecordsresponse": {
        "count": 5,
        "usagerecord": [
            _row(1, "24", "vm-1", cpunumber=2, memory=4096, offeringid="small"),
            _row(6, "24", "vol-1", size=20 * GIB),
            _row(9, "24", "snap-1", size=5 * GIB),
            _row(4, str(3 * GIB), "net-1"),
            _row(5, str(GIB), "net-1"),
        ],
    }
}
DAY = DateRange.custom(date(2026, 10, 1), date(2026, 10, 1))


class TestTheCardsReadTheImport:
    def test_every_stored_size_type_is_on_the_storage_card(self):
        """Each GB-hour type of the import is a storage metric, read as GB-hours."""
        storage = CARDS["storage"]
        sized = {t.metric for t in USAGE_TYPES.values() if t.measure == "size_hours"}
        assert sized == set(CLOUDSTACK_STORAGE) <= set(storage.metrics)
        for metric in sized:
            assert storage.record_unit(metric) == "GB-hour"
        assert {t.unit for t in USAGE_TYPES.values() if t.metric in sized} == {"GB-hour"}

    def test_traffic_both_ways_is_on_the_bandwidth_card(self):
        """ "Network data transferred in and out": bytes sent and received."""
        traffic = {t.metric for t in USAGE_TYPES.values() if t.name.startswith("NETWORK_BYTES")}
        assert traffic == set(CLOUDSTACK_TRAFFIC) <= set(CARDS["bandwidth"].metrics)
        assert {USAGE_TYPES[4].unit, USAGE_TYPES[5].unit} == {"GB"}

    def test_cpu_and_memory_are_the_compute_metrics(self):
        """compute_metrics=True gives the CPU and memory cards' metrics."""
        records = read_cloudstack(PAGE, compute_metrics=True).records
        metrics = {r.metric for r in records}
        assert set(CARDS["cpu"].metrics) <= metrics
        assert set(CARDS["memory"].metrics) <= metrics


class TestImportedUsageOnTheCards:
    def test_a_priced_import_shows_on_every_card(self):
        """Quota tariffs for every type of the page: each card has its quantity and cost.

        Storage: 24 h x 20 GiB + 24 h x 5 GiB = 600 GB-hours over the day's 24 h, an
        average of 25 GB. Bandwidth: 3 + 1 = 4 GB.
        """
        records = read_cloudstack(PAGE, compute_metrics=True).records
        plan = quota_plan(
            {
                "VOLUME": "3.72",
                "SNAPSHOT": "1.86",
                "NETWORK_BYTES_SENT": "0.05",
                "NETWORK_BYTES_RECEIVED": "0.01",
                "RUNNING_VM": "72",
            },
            currency="EUR",
        )
        view = usage_view(plan, records, account="acc-1", date_range=DAY)
        storage, bandwidth = view.card("storage"), view.card("bandwidth")
        assert storage.quantity == Decimal(25)
        assert storage.metrics == ("volume_gb_hours", "snapshot_gb_hours")
        # 480 GB-h x 3.72 / 744 h = 2.40; 120 GB-h x 1.86 / 744 h = 0.30
        assert storage.cost.amount == Decimal("2.70")
        assert (bandwidth.quantity, bandwidth.cost.amount) == (Decimal(4), Decimal("0.16"))
        assert view.card("cpu").quantity == Decimal(48)
        assert view.card("memory").quantity == Decimal(96)

    def test_a_shipped_sample_shows_storage(self):
        """The jclouds TEMPLATE record: 24 h x 2.903 GiB, on the storage card."""
        result = read_cloudstack(DATA / "jclouds_listusagerecordsresponse.json")
        plan = quota_plan({"TEMPLATE": "0.744"}, currency="EUR")
        view = usage_view(
            plan,
            result.records,
            account="2",
            date_range=DateRange.custom(date(2011, 12, 15), date(2011, 12, 15)),
        )
        storage = view.card("storage")
        gib = EXACT.divide(Decimal(3117171712), Decimal(GIB))
        assert storage.quantity == EXACT.divide(
            EXACT.multiply(Decimal(24), gib), Decimal(24)
        )  # 24 GB-hours over the day's 24 h: the template's size
        assert storage.quantity > 0 and storage.cost.amount > 0
        assert storage.metrics == ("template_gb_hours",)

    def test_usage_no_tariff_prices_still_counts(self):
        """A plan pricing only compute: the volume and traffic records are undeclared
        metrics, read in the import's units; they cost nothing."""
        records = read_cloudstack(PAGE, compute_metrics=True).records
        plan = quota_plan({"RUNNING_VM": "72"}, currency="EUR")
        view = usage_view(plan, records, account="acc-1", date_range=DAY)
        assert view.card("storage").quantity > 0 and view.card("storage").cost.amount == 0
        assert view.card("bandwidth").quantity == Decimal(4)
        assert view.card("bandwidth").cost.amount == 0

    def test_before_the_fix_the_cards_showed_zero(self):
        """The cards as they were (portal names only) read nothing of the import."""
        old = (
            CardSpec(
                "storage",
                "Storage",
                "GB",
                ("volume_gb", "snapshot_gb", "storage_gb_hours"),
                "average",
            ),
            CardSpec("bandwidth", "Bandwidth", "GB", ("bandwidth_gb",)),
        )
        records = read_cloudstack(json.loads(json.dumps(PAGE))).records
        plan = quota_plan({"VOLUME": "3.72", "NETWORK_BYTES_SENT": "0.05"}, currency="EUR")
        view = usage_view(plan, records, account="acc-1", date_range=DAY, cards=old)
        assert [c.quantity for c in view.cards] == [0, 0]


class TestRecordUnits:
    def test_a_unit_that_does_not_convert_is_refused(self):
        with pytest.raises(UsageViewError, match=r"record_units\['x'\] is 'hour'.*'GB'"):
            CardSpec("bw", "Bandwidth", "GB", ("x",), record_units={"x": "hour"})
        with pytest.raises(UsageViewError, match="such as 'GB-hour'"):
            CardSpec("st", "Storage", "GB", ("x",), "average", record_units={"x": "VM-hour"})

    def test_a_declared_metric_keeps_the_plans_unit(self):
        """The plan's unit wins: bytes declared in a plan are converted from bytes."""
        import cloudrate

        plan = cloudrate.load_plan(
            "{name: P, currency: EUR, metrics: {network_sent_gb: {unit: GB, usage_unit: byte}},"
            " charges: []}"
        )
        record = cloudrate.UsageRecord(
            account="a",
            metric="network_sent_gb",
            quantity=str(2 * 10**9),
            start=DAY.start,
            end=DAY.end,
        )
        view = usage_view(plan, [record], account="a", date_range=DAY)
        assert view.card("bandwidth").quantity == Decimal(2)

"""CloudStack listUsageRecords import: shipped samples, every usage type, bad input."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cloudrate import BillingPeriod, ConfigError, rate, read_usage_jsonl
from cloudrate._money import EXACT
from cloudrate.cli import main
from cloudrate.integrations.cloudstack import (
    USAGE_TYPES,
    parse_cloudstack_date,
    quota_plan,
    read_cloudstack,
    records_from_cloudstack,
    usage_type,
)

DATA = Path(__file__).parents[2] / "data" / "cloudstack"
GIB = 2**30


def _row(usagetype: int, rawusage: str = "24", **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "account": "alice",
        "accountid": "acc-1",
        "domainid": "dom-1",
        "domain": "ROOT",
        "zoneid": "zone-1",
        "usagetype": usagetype,
        "rawusage": rawusage,
        "usage": f"{rawusage} Hrs",
        "description": "synthetic",
        "startdate": "2026-10-01'T'00:00:00+00:00",
        "enddate": "2026-10-01'T'23:59:59+00:00",
        "usageid": f"res-{usagetype}",
    }
    row.update(fields)
    return row


class TestSamples:
    def test_jclouds_template_sample(self):
        """The jclouds TEMPLATE record: 24 h x 3117171712 bytes is 24 x 2.903... GiB-hours."""
        result = read_cloudstack(DATA / "jclouds_listusagerecordsresponse.json")
        [record] = result.records
        assert record.metric == "template_gb_hours"
        assert record.quantity == Decimal(24) * Decimal(3117171712) / Decimal(GIB)
        assert record.account == "2"
        assert record.attributes["project"] == "project1"
        assert record.attributes["hours"] == "24"
        assert record.start == datetime(2011, 12, 15, tzinfo=UTC)
        assert record.end == datetime(2011, 12, 15, 23, 59, 59, tzinfo=UTC)
        assert result.unknown_types == {} and result.problems == ()

    def test_legacy_sample_without_project(self):
        """The older fixture has no project fields; account_by='project' falls back to the
        account name."""
        result = read_cloudstack(
            DATA / "legacy_jclouds_listusagerecordsresponse.json", account_by="project"
        )
        [record] = result.records
        assert record.account == "admin"
        assert "project" not in record.attributes

    def test_docs_xml_sample(self):
        """The XML example of the CloudStack docs: a running VM, offset -0700, offering ids."""
        [record] = read_cloudstack(DATA / "cloudstack_docs_listusagerecords_example.xml").records
        assert (record.metric, record.quantity) == ("running_vm_hours", Decimal("2.95288"))
        assert record.start == datetime(2009, 9, 15, tzinfo=timezone(timedelta(hours=-7)))
        assert record.attributes["offeringid"] == "1"
        assert record.attributes["templateid"] == "3"
        assert record.attributes["type"] == "XenServer"
        assert record.resource_id == "245554"


class TestUsageTypes:
    def test_numbers_match_cloudstack(self):
        """Usage type numbers as in CloudStack's UsageTypes (1-14, 21-31)."""
        expected = {
            1: "RUNNING_VM",
            2: "ALLOCATED_VM",
            3: "IP_ADDRESS",
            4: "NETWORK_BYTES_SENT",
            5: "NETWORK_BYTES_RECEIVED",
            6: "VOLUME",
            7: "TEMPLATE",
            8: "ISO",
            9: "SNAPSHOT",
            10: "SECURITY_GROUP",
            11: "LOAD_BALANCER_POLICY",
            12: "PORT_FORWARDING_RULE",
            13: "NETWORK_OFFERING",
            14: "VPN_USERS",
            21: "VM_DISK_IO_READ",
            22: "VM_DISK_IO_WRITE",
            23: "VM_DISK_BYTES_READ",
            24: "VM_DISK_BYTES_WRITE",
            25: "VM_SNAPSHOT",
            26: "VOLUME_SECONDARY",
            27: "VM_SNAPSHOT_ON_PRIMARY",
            28: "BACKUP",
            29: "BUCKET",
            30: "NETWORK",
            31: "VPC",
        }
        assert {n: t.name for n, t in USAGE_TYPES.items()} == expected
        assert len({t.metric for t in USAGE_TYPES.values()}) == len(expected)

    @pytest.mark.parametrize("number", sorted(USAGE_TYPES))
    def test_every_type_imports(self, number):
        """Each type becomes one record: hours and counts as given, bytes in GiB, sized
        storage as hours x GiB."""
        kind = USAGE_TYPES[number]
        size = 5 * GIB // 2  # 2.5 GiB
        raw = str(3 * GIB) if kind.measure == "bytes" else "12.5"
        [record] = records_from_cloudstack([_row(number, raw, size=size)]).records
        expected = {
            "hours": Decimal("12.5"),
            "count": Decimal("12.5"),
            "bytes": Decimal(3),
            "size_hours": Decimal("31.25"),
        }[kind.measure]
        assert record.metric == kind.metric
        assert record.quantity == expected
        assert record.attributes["usagetype_name"] == kind.name
        assert record.attributes["size_gb"] == "2.5"
        assert record.service == kind.service

    def test_running_vm_attributes(self):
        """Offering, template, CPU number/speed and memory stay on the record."""
        row = _row(
            1,
            offeringid="off-small",
            templateid="tpl-1",
            cpunumber=2,
            cpuspeed=2000,
            memory=4096,
            type="KVM",
            virtualmachineid="vm-1",
        )
        [record] = records_from_cloudstack([row]).records
        attrs = record.attributes
        assert (attrs["offeringid"], attrs["templateid"]) == ("off-small", "tpl-1")
        assert (attrs["cpunumber"], attrs["cpuspeed"], attrs["memory"]) == ("2", "2000", "4096")
        assert "description" not in attrs and "usage" not in attrs

    def test_compute_metrics(self):
        """compute_metrics adds vCPU-hours and memory GB-hours for running VMs only:
        10 h x 4 vCPU = 40; 10 h x 3072 MB = 30 GB-hours."""
        rows = [_row(1, "10", cpunumber=4, memory=3072), _row(2, "10", cpunumber=4)]
        plain = records_from_cloudstack(rows).records
        expanded = records_from_cloudstack(rows, compute_metrics=True).records
        assert [r.metric for r in plain] == ["running_vm_hours", "allocated_vm_hours"]
        assert [(r.metric, r.quantity) for r in expanded] == [
            ("running_vm_hours", Decimal(10)),
            ("vcpu_hours", Decimal(40)),
            ("memory_gb_hours", Decimal(30)),
            ("allocated_vm_hours", Decimal(10)),
        ]
        assert expanded[1].attributes == expanded[0].attributes

    def test_ip_flags(self):
        """Source-NAT, system and elastic flags become 'true'/'false' attributes."""
        rows = [
            _row(3, issourcenat=True, issystem=False, iselastic=False),
            _row(3, issourcenat=False, issystem=True),
        ]
        first, second = records_from_cloudstack(rows).records
        assert (first.attributes["issourcenat"], first.attributes["issystem"]) == ("true", "false")
        assert (second.attributes["issourcenat"], second.attributes["issystem"]) == (
            "false",
            "true",
        )

    def test_network_offering_default_flag(self):
        """NETWORK_OFFERING records keep isdefault and the offering id."""
        [record] = records_from_cloudstack([_row(13, isdefault=True, offeringid="no-1")]).records
        assert record.attributes["isdefault"] == "true"
        assert record.attributes["offeringid"] == "no-1"

    def test_tags_become_attributes(self):
        """Resource tags are attributes named tag.KEY."""
        row = _row(6, size=GIB, tags=[{"key": "costcenter", "value": "42"}])
        [record] = records_from_cloudstack([row]).records
        assert record.attributes["tag.costcenter"] == "42"

    def test_decimal_gb(self):
        """gb_bytes=10**9 counts decimal gigabytes."""
        [record] = records_from_cloudstack([_row(4, "1500000000")], gb_bytes=10**9).records
        assert record.quantity == Decimal("1.5")

    def test_gb_bytes_must_convert_exactly(self):
        """A GB size with a factor other than 2 and 5 would make quantities inexact."""
        with pytest.raises(ValueError, match="gb_bytes"):
            records_from_cloudstack([], gb_bytes=3 * 10**9)

    def test_usage_type_lookup(self):
        """Types are found by number, numeric string or name; unknown keys list the known."""
        assert usage_type(6) == usage_type("6") == usage_type("volume")
        with pytest.raises(KeyError, match="1 RUNNING_VM"):
            usage_type(99)


class TestQuantitiesProperty:
    @given(
        st.sampled_from(sorted(USAGE_TYPES)),
        st.decimals(min_value=0, max_value=10**6, places=6),
        st.integers(min_value=0, max_value=2**44),
        st.sampled_from([2**30, 10**9]),
    )
    def test_quantity_is_exact(self, number, raw, size, gb):
        """The quantity equals the documented formula computed with fractions (no digit
        lost), and the record survives a JSON lines round trip unchanged."""
        from fractions import Fraction

        kind = USAGE_TYPES[number]
        [record] = records_from_cloudstack([_row(number, str(raw), size=size)], gb_bytes=gb).records
        expected = {
            "hours": Fraction(raw),
            "count": Fraction(raw),
            "bytes": Fraction(raw) / gb,
            "size_hours": Fraction(raw) * Fraction(size, gb),
        }[kind.measure]
        assert Fraction(record.quantity) == expected
        line = json.dumps(record.to_dict())
        assert read_usage_jsonl(io.StringIO(line)) == [record]


class TestAccounts:
    @pytest.mark.parametrize(
        ("account_by", "expected"),
        [
            ("accountid", "acc-1"),
            ("account", "alice"),
            ("domain/account", "ROOT/alice"),
            ("project", "proj-x"),
        ],
    )
    def test_account_naming(self, account_by, expected):
        """The account key is chosen by account_by."""
        row = _row(1, project="proj-x")
        assert records_from_cloudstack([row], account_by=account_by).records[0].account == expected

    def test_domain_path_preferred(self):
        """domain/account uses the domain path when the server sends one."""
        row = _row(1, domainpath="ROOT/customers")
        [record] = records_from_cloudstack([row], account_by="domain/account").records
        assert record.account == "ROOT/customers/alice"

    def test_callable(self):
        """A function may name the account."""
        [record] = records_from_cloudstack(
            [_row(1)], account_by=lambda r: f"{r['zoneid']}:{r['account']}"
        ).records
        assert record.account == "zone-1:alice"


class TestProblems:
    def test_unknown_types_counted_not_dropped(self):
        """Unknown usage types are reported with their counts."""
        rows = [_row(1), _row(77), _row(77), _row(15)]
        result = records_from_cloudstack(rows)
        assert len(result.records) == 1
        assert result.unknown_types == {15: 1, 77: 2}
        assert result.warnings()[0] == (
            "1 record(s) of unknown CloudStack usage type 15 not imported"
        )

    def test_every_bad_record_reported_with_index_and_field(self):
        """All bad records are listed at once, each with its index and field."""
        rows = [
            _row(1),
            _row(1, rawusage="abc"),
            _row(6, size=None),
            _row(1, startdate="yesterday"),
            _row("x"),
            _row(1, rawusage="-1"),
        ]
        with pytest.raises(ConfigError) as info:
            records_from_cloudstack(rows)
        paths = [p.path for p in info.value.problems]
        assert paths == [
            "usagerecord[1].rawusage",
            "usagerecord[2].size",
            "usagerecord[3].startdate",
            "usagerecord[4].usagetype",
            "usagerecord[5].rawusage",
        ]

    def test_report_mode_keeps_good_records(self):
        """on_error='report' returns good records and the problems."""
        result = records_from_cloudstack([_row(1), _row(1, enddate=None)], on_error="report")
        assert len(result.records) == 1
        assert [p.path for p in result.problems] == ["usagerecord[1].enddate"]

    def test_float_rawusage_refused(self):
        """A float (e.g. from a client that parsed JSON with floats) is refused."""
        result = records_from_cloudstack([_row(1, rawusage=2.5)], on_error="report")
        assert "exact number" in result.problems[0].message

    def test_missing_account(self):
        """A record without an account value is a problem, not a blank account."""
        result = records_from_cloudstack([_row(1, accountid=None, account=None)], on_error="report")
        assert result.problems[0].path == "usagerecord[0].account"

    def test_bad_json_names_the_line(self):
        """Broken JSON is a ConfigError with the line."""
        with pytest.raises(ConfigError, match="line 2"):
            read_cloudstack(io.StringIO('{"listusagerecordsresponse":\n {,}}'))

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"on_error": "ignore"}, "on_error must be 'raise' or 'report' \\(got 'ignore'\\)"),
            (
                {"account_by": "user"},
                (
                    "account_by must be one of accountid, account, domain/account, project "
                    "or a function"
                ),
            ),
        ],
    )
    def test_unknown_option_is_refused(self, options, message):
        """Callers without type checking get the choices in the error, before any row."""
        with pytest.raises(ValueError, match=message):
            records_from_cloudstack([_row(1)], **options)

    def test_read_passes_the_options_on(self):
        """read_cloudstack takes records_from_cloudstack's options by name."""
        text = json.dumps(
            {"listusagerecordsresponse": {"usagerecord": [_row(1), _row(1, rawusage="x")]}}
        )
        result = read_cloudstack(text, account_by="account", on_error="report")
        assert [r.account for r in result.records] == ["alice"]
        assert [p.path for p in result.problems] == ["usagerecord[1].rawusage"]
        with pytest.raises(TypeError):
            read_cloudstack(text, accounts="alice")

    def test_record_that_is_not_an_object(self):
        """A row that is not an object is a problem of the row itself."""
        result = records_from_cloudstack(["not a record", _row(1)], on_error="report")
        assert [p.path for p in result.problems] == ["usagerecord[0]"]
        assert len(result.records) == 1


class TestReading:
    def test_pages(self):
        """A list of responses (pages) reads as one sequence of records."""
        page = {"listusagerecordsresponse": {"count": 2, "usagerecord": [_row(1)]}}
        result = read_cloudstack([page, page, {"listusagerecordsresponse": {}}])
        assert len(result.records) == 2

    def test_text_and_stream(self):
        """JSON text and an open file read the same."""
        text = json.dumps({"listusagerecordsresponse": {"usagerecord": [_row(9, size=GIB)]}})
        assert read_cloudstack(text) == read_cloudstack(io.StringIO(text))

    def test_xml_with_tags(self):
        """XML records with nested tags."""
        xml = (
            "<listusagerecordsresponse><count>1</count><usagerecord><account>a</account>"
            "<accountid>x</accountid><usagetype>3</usagetype><rawusage>5</rawusage>"
            "<issourcenat>true</issourcenat>"
            "<startdate>2026-10-01'T'00:00:00+02:00</startdate>"
            "<enddate>2026-10-01'T'23:59:59+02:00</enddate>"
            "<tags><key>env</key><value>prod</value></tags></usagerecord>"
            "</listusagerecordsresponse>"
        )
        [record] = read_cloudstack(xml).records
        assert record.attributes["issourcenat"] == "true"
        assert record.attributes["tag.env"] == "prod"
        assert record.start == datetime(2026, 10, 1, tzinfo=timezone(timedelta(hours=2)))

    @pytest.mark.parametrize(
        "text",
        [
            (
                '{"listusagerecordsresponse": {"uuidList": [], "errorcode": 431,'
                ' "cserrorcode": 4350, "errortext": "Unable to execute API command'
                ' listusagerecords due to missing parameter startdate"}}'
            ),
            (
                "<listusagerecordsresponse><errorcode>431</errorcode><errortext>missing parameter"
                "</errortext></listusagerecordsresponse>"
            ),
        ],
    )
    def test_error_response_refused(self, text):
        """An API error response is an error, not an empty month of usage."""
        with pytest.raises(ValueError, match="error 431"):
            read_cloudstack(text)

    def test_date_without_offset_refused(self):
        """Naive dates are refused."""
        with pytest.raises(ValueError, match="no UTC offset"):
            parse_cloudstack_date("2026-10-01'T'00:00:00")


class TestQuotaProfile:
    def test_exact_month_division(self):
        """Without a period, a monthly tariff is divided by the hours in the billing month:
        72 EUR a month for 24 h of February 2026 (672 h) is 72 x 24 / 672."""
        plan = quota_plan({"RUNNING_VM": "72"}, currency="EUR")
        result = rate(
            plan,
            records_from_cloudstack(
                [
                    _row(
                        1,
                        startdate="2026-02-03'T'00:00:00+00:00",
                        enddate="2026-02-03'T'23:59:59+00:00",
                    )
                ]
            ).records,
        )
        line = result.bill("acc-1").line("running_vm")
        assert line.amount.amount == EXACT.divide(Decimal(72) * 24, 672)
        assert line.rounded.amount == Decimal("2.57")

    def test_quota_rounding_of_hourly_cost(self):
        """With a period, the hourly cost is rounded to 8 places half-even as the quota
        plugin's getCostPerHour: 72/744 = 0.096774193548... -> 0.09677419 (October)."""
        period = BillingPeriod.month(2026, 10)
        plan = quota_plan({1: "72"}, currency="EUR", period=period)
        assert plan.charge("running_vm").model.unit_price.amount == Decimal("0.09677419")
        result = rate(plan, records_from_cloudstack([_row(1, "10")]).records, period)
        assert result.bill("acc-1").line("running_vm").amount.amount == Decimal("0.9677419")

    def test_storage_gb_month(self):
        """GB_MONTH: hours x cost per hour x size in GiB; 10 GiB for 24 h of October at
        3.72 a GB-month is 24 x 3.72 / 744 x 10 = 1.2."""
        plan = quota_plan({"VOLUME": "3.72"}, currency="EUR")
        records = records_from_cloudstack([_row(6, "24", size=10 * GIB)]).records
        assert rate(plan, records).bill("acc-1").line("volume").amount.amount == Decimal("1.2")

    def test_traffic_and_disk_bytes(self):
        """GB: per GiB of traffic; BYTES: the tariff is per byte, so per GiB it is x 2**30."""
        plan = quota_plan({4: "0.05", "VM_DISK_BYTES_READ": "0.000000001"}, currency="EUR")
        records = records_from_cloudstack([_row(4, str(4 * GIB)), _row(23, str(2 * GIB))]).records
        bill = rate(plan, records).bill("acc-1")
        assert bill.line("network_bytes_sent").amount.amount == Decimal("0.20")
        assert bill.line("vm_disk_bytes_read").amount.amount == Decimal("2") * GIB / 10**9

    def test_every_type_has_a_quota_charge(self):
        """A tariff of 744 a month for every type but BUCKET prices a day of each type;
        monthly units cost 744 / 744 h = 1 an hour (October has 744 hours)."""
        numbers = [n for n in USAGE_TYPES if n != 29]
        plan = quota_plan(dict.fromkeys(numbers, "744"), currency="EUR")
        rows = [
            _row(n, str(GIB) if USAGE_TYPES[n].measure == "bytes" else "24", size=GIB)
            for n in numbers
        ]
        bill = rate(plan, records_from_cloudstack(rows).records).bill("acc-1")
        for number in numbers:
            kind = USAGE_TYPES[number]
            amount = bill.line(kind.name.lower()).amount.amount
            expected = {
                "COMPUTE_MONTH": 24,
                "IP_MONTH": 24,
                "POLICY_MONTH": 24,
                "GB_MONTH": 24,
                "GB": 744,
                "BYTES": 744 * GIB,
                "IOPS": 744 * 24,
            }
            assert amount == expected[kind.quota_unit], kind.name

    def test_bucket_refused(self):
        """BUCKET tariffs have no faithful equivalent and are refused with the reason."""
        with pytest.raises(ValueError, match="BUCKET"):
            quota_plan({"BUCKET": "1"}, currency="EUR")


class TestCli:
    def test_import_round_trips_through_jsonl(self, tmp_path):
        """`cloudrate import-cloudstack` writes JSON lines that read back to equal records."""
        out = tmp_path / "usage.jsonl"
        source = tmp_path / "page.json"
        source.write_text(
            json.dumps(
                {
                    "listusagerecordsresponse": {
                        "usagerecord": [_row(1, cpunumber=2), _row(6, size=GIB), _row(42)]
                    }
                }
            )
        )
        result = CliRunner().invoke(main, ["import-cloudstack", str(source), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "unknown CloudStack usage type 42" in result.stderr
        assert tuple(read_usage_jsonl(out)) == read_cloudstack(source).records

    def test_bad_record_fails(self, tmp_path):
        """A malformed record makes the command fail naming the record and field."""
        source = tmp_path / "page.json"
        source.write_text(json.dumps([_row(1, rawusage="x")]))
        result = CliRunner().invoke(main, ["import-cloudstack", str(source)])
        assert result.exit_code == 2
        assert "usagerecord[0].rawusage" in result.stderr

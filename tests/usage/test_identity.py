"""Usage identity: which copies of a record are billed (``cloudrate.usage.dedupe``)."""

from __future__ import annotations

import copy
import io
import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate import ConfigError, UsageError, UsageRecord, read_usage_csv, read_usage_jsonl
from cloudrate.exceptions import DuplicateUsageError, WrongTypeError
from cloudrate.testing import usage_records
from cloudrate.usage import dedupe, identity_key, parse_revision, revision_rank

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def rec(quantity: str = "1", *, hour: int = 0, **fields: object) -> UsageRecord:
    start = T0 + timedelta(hours=hour)
    base: dict[str, object] = {
        "account": "acme",
        "metric": "vcpu_hours",
        "quantity": quantity,
        "start": start,
        "end": start + timedelta(hours=1),
    }
    return UsageRecord(**{**base, **fields})  # type: ignore[arg-type]


def quantities(records: object) -> list[Decimal]:
    return [r.quantity for r in records]  # type: ignore[attr-defined]


class TestRevision:
    @pytest.mark.parametrize(("value", "expected"), [(0, 0), (7, 7), ("3", 3), (" 12 ", 12)])
    def test_whole_numbers(self, value, expected):
        """A revision is a whole number from 0, given as an int or as digits."""
        assert parse_revision(value) == expected

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (True, "revision: got a boolean True"),
            (1.0, "revision: got the float 1.0"),
            (Decimal("2.0"), "revision: got the Decimal"),
            (-1, "revision: -1 is out of range"),
            (2**63, "out of range"),
            ("1.5", "'1.5' is not a whole number"),
            ("+1", "'\\+1' is not a whole number"),
            ("", "'' is not a whole number"),
        ],
    )
    def test_refused(self, value, message):
        """Booleans, floats, decimals, negatives, numbers past 64 bits and text that is not
        digits are refused with an error naming the field."""
        with pytest.raises(UsageError, match=message):
            parse_revision(value)

    def test_on_a_record(self):
        """A record keeps its revision; a bad one is refused when it is built."""
        assert rec(record_id="r-1", revision="2").revision == 2
        with pytest.raises(UsageError, match="revision: got the float"):
            rec(record_id="r-1", revision=2.0)

    def test_needs_a_record_id(self):
        """A revision numbers the versions of one record_id: without one it is refused."""
        with pytest.raises(UsageError, match="without record_id; a revision numbers"):
            rec(revision=1)

    def test_absent_ranks_lowest(self):
        """A record without revision ranks below revision 0."""
        assert revision_rank(None) < revision_rank(0) < revision_rank(5)


class TestIdentityKey:
    def test_record_id_and_account(self):
        """With a record_id, the identity is (account, record_id) and nothing else."""
        a = rec("1", record_id="r-1", resource_id="vm-1")
        b = rec("2", hour=5, record_id="r-1", resource_id="vm-9")
        assert identity_key(a) == identity_key(b) == ("record_id", "acme", "r-1")
        assert identity_key(attrs.evolve(a, account="other")) != identity_key(a)

    def test_content_includes_quantity(self):
        """Without a record_id, every field is the identity: quantity, times, resource,
        service and attributes; quantities compare by value."""
        a = rec("1.5", resource_id="vm-1", attributes={"zone": "eu"})
        assert identity_key(a) == identity_key(
            rec("1.50", resource_id="vm-1", attributes={"zone": "eu"})
        )
        for other in (
            rec("2", resource_id="vm-1", attributes={"zone": "eu"}),
            rec("1.5", hour=1, resource_id="vm-1", attributes={"zone": "eu"}),
            rec("1.5", resource_id="vm-2", attributes={"zone": "eu"}),
            rec("1.5", resource_id="vm-1", attributes={"zone": "us"}),
            rec("1.5", resource_id="vm-1"),
            rec("1.5", resource_id="vm-1", service="Compute", attributes={"zone": "eu"}),
        ):
            assert identity_key(other) != identity_key(a)

    def test_origin_is_not_content(self):
        """Where a record was read does not make it another record."""
        assert rec(origin="a.csv line 2") == rec(origin="b.csv line 9")
        assert identity_key(rec(origin="a.csv line 2")) == identity_key(rec())

    def test_pickled_records_keep_their_identity(self):
        """A record sent to another process (pickled) is still a copy of itself there."""
        a = rec(record_id="r-1", origin="u.csv line 4")
        back = pickle.loads(pickle.dumps(a))
        assert back == a and back.origin == "u.csv line 4"
        assert dedupe([a, back]).duplicates_dropped == 1

    def test_records_with_attributes_pickle_and_copy(self):
        """Attributes (a read-only dict) survive pickling and copying, still read-only,
        and the copy is still a copy of the record."""
        a = rec("1.50", resource_id="vm-1", attributes={"zone": "eu", "tier": "gold"})
        for back in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a), copy.copy(a)):
            assert back == a and back._identity == a._identity
            assert back.attributes == {"zone": "eu", "tier": "gold"}
            with pytest.raises(WrongTypeError, match="read-only"):
                back.attributes["zone"] = "us"  # type: ignore[index]
            assert hash(back.attributes) == hash(a.attributes)
            assert dedupe([a, back]).duplicates_dropped == 1


class TestExactDuplicates:
    def test_without_ids(self):
        """Records equal in every field are one record: the first copy is kept."""
        first, other = rec("1", origin="first"), rec("2")
        found = dedupe([first, other, rec("1", origin="second"), rec("1", origin="third")])
        assert [r.origin for r in found.records] == ["first", None]
        assert (found.duplicates_dropped, found.corrections) == (2, 0)

    def test_with_ids(self):
        """A record_id delivered twice with the same content is billed once."""
        found = dedupe([rec("1", record_id="r-1"), rec("1", record_id="r-1")])
        assert quantities(found.records) == [Decimal(1)]
        assert found.duplicates_dropped == 1

    def test_different_records_are_kept(self):
        """Records that differ in anything (here only the quantity) are never merged."""
        records = [rec("1"), rec("2"), rec("1", hour=1), rec("1", record_id="r-1")]
        found = dedupe(records)
        assert list(found.records) == records and found.dropped == 0

    def test_ids_of_different_accounts(self):
        """One record_id in two accounts names two records."""
        records = [rec("1", record_id="r-1"), rec("2", record_id="r-1", account="globex")]
        assert dedupe(records).dropped == 0

    @pytest.mark.parametrize("numpy", [True, False])
    def test_many_records(self, monkeypatch, numpy):
        """From 20,000 records the identity hashes are checked with numpy; without numpy
        with a set: the same copies are found either way."""
        from cloudrate.usage import _identity

        if not numpy:
            monkeypatch.setattr(_identity, "_numpy", lambda: None)
        records = [rec(str(i % 7), hour=i % 24, resource_id=f"vm-{i}") for i in range(25_000)]
        doubled = [*records, records[17], records[24_999], records[17]]
        found = dedupe(doubled)
        assert found.duplicates_dropped == 3 and list(found.records) == records

    def test_nothing_to_drop_gives_the_records_back(self):
        """Without copies the records come back as given, in order."""
        records = [rec(str(i), hour=i) for i in range(5)]
        assert list(dedupe(iter(records)).records) == records


class TestCorrections:
    def test_higher_revision_replaces(self):
        """A later copy with a higher revision replaces the earlier one, where it arrives."""
        records = [
            rec("1", record_id="r-1"),
            rec("5", record_id="r-2"),
            rec("2", record_id="r-1", revision=1),
        ]
        found = dedupe(records)
        assert [(r.record_id, r.quantity) for r in found.records] == [
            ("r-2", Decimal(5)),
            ("r-1", Decimal(2)),
        ]
        assert (found.duplicates_dropped, found.corrections) == (0, 1)

    def test_lower_revision_arriving_later_is_dropped(self):
        """The highest revision wins whatever the arrival order: a lower one arriving
        after it is dropped, counted as a correction too."""
        found = dedupe(
            [rec("2", record_id="r-1", revision=3), rec("1", record_id="r-1", revision=1)]
        )
        assert quantities(found.records) == [Decimal(2)]
        assert (found.duplicates_dropped, found.corrections) == (0, 1)

    @given(st.permutations(range(6)))
    def test_counts_do_not_depend_on_order(self, order):
        """Any arrival order of the same copies keeps the same record and counts the same:
        copies of the kept revision are duplicates, every lower revision a correction."""
        copies = [
            rec("1", record_id="r-1"),
            rec("1", record_id="r-1"),
            rec("2", record_id="r-1", revision=0),
            rec("3", record_id="r-1", revision=2),
            rec("3", record_id="r-1", revision=2),
            rec("4", record_id="r-1", revision=1),
        ]
        found = dedupe([copies[i] for i in order])
        assert quantities(found.records) == [Decimal(3)]
        assert (found.duplicates_dropped, found.corrections) == (1, 4)


class TestConflicts:
    def test_same_revision_different_content(self):
        """Two different copies of one record_id without revision raise, naming both rows,
        both contents and the fix."""
        records = [rec("1", record_id="r-1"), rec("9", record_id="r-2"), rec("2", record_id="r-1")]
        with pytest.raises(DuplicateUsageError) as caught:
            dedupe(records)
        message = str(caught.value)
        assert message.startswith("usage[0] and usage[2] are two versions of record_id 'r-1'")
        assert '"quantity": "1"' in message and '"quantity": "2"' in message
        assert "give the later one a higher revision (revision: 0 or more)" in message
        assert "another record_id if they are different records" in message
        assert isinstance(caught.value, UsageError)

    def test_equal_revisions(self):
        """Equal revisions conflict too; the fix names the next revision."""
        with pytest.raises(DuplicateUsageError, match=r"same revision \(2\).*revision: 3"):
            dedupe([rec("1", record_id="r-1", revision=2), rec("2", record_id="r-1", revision=2)])

    def test_conflict_below_the_kept_revision(self):
        """A conflict is one whatever else arrives: two different copies of revision 1
        raise even when revision 2 came first."""
        records = [
            rec("3", record_id="r-1", revision=2),
            rec("1", record_id="r-1", revision=1),
            rec("2", record_id="r-1", revision=1),
        ]
        with pytest.raises(DuplicateUsageError, match=r"usage\[1\] and usage\[2\]"):
            dedupe(records)

    def test_readers_name_file_and_line(self):
        """Records read from a file name their file and line in the error."""
        text = (
            "account,metric,quantity,start,end,record_id\n"
            "acme,vcpu_hours,1,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,r-1\n"
            "acme,vcpu_hours,2,2026-10-01T01:00:00Z,2026-10-01T02:00:00Z,r-2\n"
            "acme,vcpu_hours,3,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,r-1\n"
        )
        stream = io.StringIO(text)
        stream.name = "usage.csv"
        with pytest.raises(DuplicateUsageError, match=r"^usage\.csv line 2 and usage\.csv line 4 "):
            dedupe(read_usage_csv(stream))


class TestReaders:
    def test_csv_reads_record_id_and_revision(self):
        """CSV columns record_id and revision are the record's own, not attributes; an
        empty revision is none."""
        text = (
            "account,metric,quantity,start,end,record_id,revision\n"
            "acme,vcpu_hours,1,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,r-1,2\n"
            "acme,vcpu_hours,1,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,r-2,\n"
        )
        first, second = read_usage_csv(io.StringIO(text))
        assert (first.record_id, first.revision, dict(first.attributes)) == ("r-1", 2, {})
        assert second.revision is None
        assert first.origin == "<stream> line 2"

    def test_jsonl_reads_revision(self):
        """JSON lines give the revision as a number or digits; a fraction is refused with
        its line."""
        good = (
            '{"account": "a", "metric": "m", "quantity": 1, "start": "2026-10-01T00:00:00Z", '
            '"end": "2026-10-01T01:00:00Z", "record_id": "r-1", "revision": 3}'
        )
        assert read_usage_jsonl(io.StringIO(good))[0].revision == 3
        with pytest.raises(ConfigError, match=r"line 1.*revision: got the Decimal"):
            read_usage_jsonl(io.StringIO(good.replace('"revision": 3', '"revision": 3.0')))

    def test_to_dict_has_the_revision(self):
        """A record's JSON form carries its revision when it has one."""
        assert rec(record_id="r-1", revision=4).to_dict()["revision"] == 4
        assert "revision" not in rec().to_dict()


class TestDoubledUsage:
    @given(st.lists(usage_records(), max_size=20), st.randoms())
    def test_records_twice_are_the_records_once(self, records, rnd):
        """Any usage given twice, in any order, keeps exactly the distinct records."""
        doubled = records + records
        rnd.shuffle(doubled)
        found = dedupe(doubled)
        assert sorted(found.records, key=repr) == sorted(set(records), key=repr)
        assert found.duplicates_dropped == len(doubled) - len(set(records))

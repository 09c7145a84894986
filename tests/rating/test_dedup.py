"""Copies of records are billed once, by rate() and by the columnar engine, and counted.

The rule itself is tested in tests/usage/test_identity.py; the two engines are held to
one outcome on copies in tests/rating/test_engine_parity.py (``TestCopies``). Here: what
the result says about copies, the order of errors, the columnar engine's passes (one-shot
streams, fingerprints that collide, files read again, partials, totals) and the command.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate import BillingPeriod, RatingError, UsageError, UsageRecord, rate
from cloudrate.exceptions import DuplicateUsageError
from cloudrate.testing import plans, usage_records

pytest.importorskip("pyarrow")

import numpy as np

from cloudrate.rating.columnar import (
    account_totals,
    combine_partials,
    finish,
    partial_aggregate,
    rate_table,
    read_columnar,
    to_table,
)
from cloudrate.rating.columnar._fingerprint import Fingerprints

from .test_engine_parity import assert_records_agree

OCTOBER = BillingPeriod.month(2026, 10)
T0 = OCTOBER.start
PLAN = cloudrate.load_plan(
    """
name: P
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.5"}
"""
)


def rec(quantity: str, hour: int = 0, account: str = "acme", **fields: object) -> UsageRecord:
    start = T0 + timedelta(hours=hour)
    return UsageRecord(
        account=account,
        metric="vcpu_hours",
        quantity=quantity,
        start=start,
        end=start + timedelta(hours=1),
        **fields,  # type: ignore[arg-type]
    )


def totals(table) -> dict[str, Decimal]:
    return dict(zip(table["account"].to_pylist(), table["total"].to_pylist(), strict=True))


def _usable(plan):
    import attrs

    return attrs.evolve(plan, timezone="UTC", effective_from=None, effective_to=None)


class TestResult:
    def test_counts(self):
        """The result counts the copies dropped and the corrections applied; the bill is
        that of each record once, at its highest revision."""
        records = [
            rec("1"),
            rec("1"),
            rec("2", hour=1, record_id="r-1"),
            rec("5", hour=1, record_id="r-1", revision=1),
        ]
        result = rate(PLAN, records, OCTOBER)
        assert (result.duplicates_dropped, result.corrections) == (1, 1)
        assert result.bill("acme").line("compute").quantity == Decimal(6)
        assert result.bill("acme").line("compute").records == 2

    def test_json_counts_only_when_copies_were_found(self):
        """The JSON document ends with duplicates_dropped and corrections when either is
        not zero; usage without copies gives the document it always gave."""
        clean = json.loads(rate(PLAN, [rec("1")], OCTOBER).to_json())
        assert list(clean)[-1] == "unpriced" and "duplicates_dropped" not in clean
        doubled = json.loads(rate(PLAN, [rec("1"), rec("1")], OCTOBER).to_json())
        assert list(doubled)[-3:] == ["unpriced", "duplicates_dropped", "corrections"]
        assert (doubled["duplicates_dropped"], doubled["corrections"]) == (1, 0)
        assert doubled["accounts"] == clean["accounts"]

    def test_conflict_before_anything_else(self):
        """A conflict is refused before any rating, even with usage outside the period."""
        records = [rec("1", record_id="r-1"), rec("2", record_id="r-1"), rec("1", hour=-5)]
        with pytest.raises(DuplicateUsageError, match=r"usage\[0\] and usage\[1\]"):
            rate(PLAN, records, OCTOBER)
        with pytest.raises(DuplicateUsageError, match="row 0 and row 1"):
            rate_table(PLAN, to_table(records), OCTOBER)

    def test_default_period_from_every_copy(self):
        """Without a period, the month of the earliest record given is billed, copies
        included: a record corrected out of September still makes it September, and the
        usage of October is refused, by both engines alike."""
        september = T0 - timedelta(hours=2)
        records = [
            UsageRecord(
                account="acme",
                metric="vcpu_hours",
                quantity="1",
                start=september,
                end=september + timedelta(hours=1),
                record_id="r-1",
            ),
            rec("3", hour=2, record_id="r-1", revision=1),
        ]
        with pytest.raises(RatingError, match="outside the period 2026-09"):
            rate(PLAN, records)
        assert_records_agree(PLAN, records, None)

    @settings(max_examples=40, deadline=None)
    @given(plans(full=True), st.lists(usage_records(), max_size=15), st.randoms())
    def test_records_twice_bill_as_once(self, plan, records, rnd):
        """Hypothesis: records ++ records, shuffled any way, bill exactly as the records
        once, in both engines, and the copies are counted."""
        plan = _usable(plan)
        doubled = records + records
        rnd.shuffle(doubled)
        once = rate(plan, records, OCTOBER)
        twice = rate(plan, doubled, OCTOBER)
        assert twice.bills == once.bills and twice.unpriced == once.unpriced
        assert twice.duplicates_dropped == once.duplicates_dropped + len(records)
        columnar = rate_table(plan, to_table(doubled), OCTOBER)
        assert columnar.to_json() == twice.to_json()


class TestColumnarPasses:
    def test_one_shot_stream_without_copies(self):
        """A one-shot iterator of batches is rated in one reading when no row repeats."""
        records = [rec(str(i), hour=i) for i in range(6)]
        stream = iter(to_table(records).to_batches(max_chunksize=2))
        assert rate_table(PLAN, stream, OCTOBER) == rate(PLAN, records, OCTOBER)

    def test_one_shot_stream_with_copies(self):
        """Copies in a one-shot iterator cannot be compared (that reads the usage again):
        refused, with the inputs that can be."""
        stream = iter(to_table([rec("1"), rec("1")]).to_batches())
        with pytest.raises(UsageError, match=r"one-shot iterator.*pass a table"):
            rate_table(PLAN, stream, OCTOBER)

    def test_fingerprints_that_collide_drop_nothing(self, monkeypatch):
        """Rows whose fingerprints collide are compared field by field: different rows
        are all billed (every fingerprint made equal here)."""

        def same(self, data, accounts, metrics, out=None):
            h = np.zeros(data.rows, np.uint64) if out is None else out
            h[:] = 7
            return h

        monkeypatch.setattr(Fingerprints, "of", same)
        records = [rec("1"), rec("1", hour=1), rec("2"), rec("1", account="b"), rec("1")]
        result = rate_table(PLAN, to_table(records), OCTOBER)
        assert result == rate(PLAN, records, OCTOBER)
        assert result.duplicates_dropped == 1

    def test_copies_in_batches_of_other_shapes(self):
        """A copy is found whatever else its batch holds: other column orders, longer
        strings beside it, another dictionary, quantities parsed at another scale."""
        import pyarrow as pa

        first = to_table(
            [
                rec("1.5", resource_id="vm-1", attributes={"zone": "eu"}),
                rec("2", hour=1, resource_id="a resource id longer than sixteen bytes"),
            ]
        )
        second = to_table(
            [
                rec("0.0000001", hour=2),  # 7 decimals: this batch is parsed at scale 12
                rec("1.50", resource_id="vm-1", attributes={"zone": "eu"}),
            ]
        )
        second = second.select(list(reversed(second.column_names)))
        second = second.set_column(
            second.column_names.index("account"),
            "account",
            pa.array(["acme", "acme"]).dictionary_encode(),
        )
        result = rate_table(PLAN, [first, second], OCTOBER)
        assert result.duplicates_dropped == 1
        assert result.bill("acme").line("compute").quantity == Decimal("3.5000001")

    def test_file_read_again_for_copies_across_blocks(self, tmp_path):
        """Copies in different blocks of a file: the file is read again and rated without
        them, the same as read_usage and rate()."""
        path = tmp_path / "usage.csv"
        lines = ["account,metric,quantity,start,end,record_id,revision"]
        for i in range(40):
            start = T0 + timedelta(hours=i % 7)
            lines.append(
                f"acct-{i % 3},vcpu_hours,{i % 5}.5,{start.isoformat()},"
                f"{(start + timedelta(hours=1)).isoformat()},r-{i % 11},{i // 11 if i % 4 else ''}"
            )
        path.write_text("\n".join(lines) + "\n")
        expected = rate(PLAN, cloudrate.read_usage(path), OCTOBER)
        assert expected.duplicates_dropped + expected.corrections > 0
        streamed = read_columnar(path, block_size=200)
        assert rate_table(PLAN, streamed, OCTOBER).to_json() == expected.to_json()
        assert rate_table(PLAN, read_columnar(path, block_size=200)).to_json() == expected.to_json()

    def test_conflict_in_a_file_names_file_and_line(self, tmp_path):
        """A conflict between two blocks of a file names the file and both lines."""
        path = tmp_path / "usage.csv"
        rows = [
            f"acme,vcpu_hours,1,{(T0 + timedelta(hours=h)).isoformat()},"
            f"{(T0 + timedelta(hours=h + 1)).isoformat()},r-{h}"
            for h in range(20)
        ]
        rows.append(rows[3].replace(",1,", ",2,", 1))
        path.write_text("account,metric,quantity,start,end,record_id\n" + "\n".join(rows) + "\n")
        where = re.escape(f"{path} line 5 and {path} line 22 ")
        with pytest.raises(DuplicateUsageError, match=f"^{where}"):
            rate_table(PLAN, read_columnar(path, block_size=300), OCTOBER)

    def test_account_totals_count_the_copies(self):
        """account_totals says in its schema metadata how many copies it left out."""
        records = [
            rec("1"),
            rec("1"),
            rec("2", record_id="r-1"),
            rec("3", record_id="r-1", revision=1),
        ]
        table = account_totals(PLAN, to_table(records), OCTOBER)
        assert totals(table) == {"acme": Decimal("2.00")}
        meta = table.schema.metadata
        assert (meta[b"duplicates_dropped"], meta[b"corrections"]) == (b"1", b"1")

    def test_partials_carry_the_counts(self):
        """Partials count their partition's copies; combined, the counts add up."""
        a = to_table([rec("1", account="a"), rec("1", account="a")])
        b = to_table(
            [rec("2", account="b", record_id="x"), rec("3", account="b", record_id="x", revision=2)]
        )
        parts = [partial_aggregate(PLAN, part, OCTOBER) for part in (a, b)]
        result = finish(PLAN, combine_partials(parts), OCTOBER)
        assert (result.duplicates_dropped, result.corrections) == (1, 1)
        assert result == rate(PLAN, [*records_of_table(a), *records_of_table(b)], OCTOBER)

    def test_partials_without_copies_are_unchanged(self):
        """Usage without copies gives partials with no count rows at all."""
        kinds = partial_aggregate(PLAN, to_table([rec("1")]), OCTOBER).column("kind").to_pylist()
        assert "duplicates" not in kinds and "corrections" not in kinds


def records_of_table(table) -> list[UsageRecord]:
    return [cloudrate.usage.record_from_mapping(row) for row in table.to_pylist()]


class TestCommandLine:
    @pytest.mark.parametrize("batch", ["--no-batch", "--batch"])
    def test_rate_says_what_it_dropped(self, tmp_path, batch):
        """cloudrate rate prints the copies dropped on stderr, both paths; the bills on
        stdout are those of the usage once."""
        from cloudrate.cli import main

        usage = cloudrate.sample_usage_path().read_text().splitlines()
        path = tmp_path / "usage.csv"
        path.write_text("\n".join([*usage, *usage[1:4]]) + "\n")
        runner = CliRunner()
        args = ["rate", "--plan", str(cloudrate.sample_plan_path()), "--usage"]
        doubled = runner.invoke(main, [*args, str(path), batch])
        once = runner.invoke(main, [*args, str(cloudrate.sample_usage_path()), batch])
        assert doubled.exit_code == 0, doubled.output
        assert doubled.stdout == once.stdout
        assert "duplicates dropped: 3, corrections: 0" in doubled.stderr
        as_json = runner.invoke(main, [*args, str(path), batch, "--json"])
        assert json.loads(as_json.stdout)["duplicates_dropped"] == 3

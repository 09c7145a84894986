"""Inputs of the batch path: files, frames, column types, and the errors for bad ones."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

pa = pytest.importorskip("pyarrow")

import cloudrate  # noqa: E402 - after the skip
from cloudrate import ConfigError, UsageError, UsageRecord, load_plan  # noqa: E402
from cloudrate.cli._batch import wants_batch  # noqa: E402
from cloudrate.cli._main import main  # noqa: E402
from cloudrate.rating.columnar import (  # noqa: E402
    FixedPointRangeError,
    account_totals,
    partial_aggregate,
    rate_table,
    read_columnar,
    to_table,
)

from .conftest import OCT, PLAN, T0  # noqa: E402


def records(n: int = 50) -> list[UsageRecord]:
    return [
        UsageRecord(
            account=f"acct{i % 7}",
            metric=("vcpu_hours", "storage_gb_hours")[i % 2],
            quantity=f"{i * 13 % 97}.{i:03d}",
            start=T0 + timedelta(hours=i),
            end=T0 + timedelta(hours=i + 1),
        )
        for i in range(n)
    ]


@pytest.fixture(name="usage")
def _usage():
    return records()


class TestFiles:
    def test_sample_csv_streamed_in_small_blocks(self):
        """The sample CSV read in 4 KB blocks rates exactly as read_usage() + rate()."""
        plan = load_plan(cloudrate.sample_plan_path())
        path = cloudrate.sample_usage_path()
        streamed = rate_table(plan, read_columnar(path, block_size=4096))
        assert streamed.to_json() == cloudrate.rate(plan, cloudrate.read_usage(path)).to_json()

    def test_jsonl_numbers_and_strings(self, tmp_path, usage):
        """JSON numbers are read as decimals (never floats), quantity strings as text."""
        expected = cloudrate.rate(PLAN, usage)
        for as_number in (True, False):
            path = tmp_path / f"u{as_number}.jsonl"
            with path.open("w") as f:
                for r in usage:
                    row = r.to_dict()
                    text = json.dumps(row)
                    if as_number:
                        text = text.replace(
                            f'"quantity": "{row["quantity"]}"', f'"quantity": {row["quantity"]}'
                        )
                    f.write(text + "\n")
            got = rate_table(PLAN, read_columnar(path), OCT)
            assert got == expected

    def test_parquet_with_decimal_column(self, tmp_path, usage):
        """Parquet with decimal128 quantities and string accounts (read as dictionaries)."""
        import pyarrow.parquet as pq

        table = to_table(usage)
        table = table.set_column(2, "quantity", table.column("quantity").cast(pa.decimal128(20, 3)))
        pq.write_table(table, tmp_path / "u.parquet", row_group_size=16)
        got = rate_table(PLAN, read_columnar(tmp_path / "u.parquet", batch_rows=8), OCT)
        assert got == cloudrate.rate(PLAN, usage)

    def test_unknown_suffix(self, tmp_path):
        """An unknown file type names the ones that work."""
        with pytest.raises(UsageError, match=r"use \.csv, \.jsonl or \.parquet"):
            read_columnar(tmp_path / "u.xlsx")


class TestFrames:
    def test_pandas_frame(self, usage):
        """A pandas frame with Decimal quantities rates the same."""
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame(
            [{**r.to_dict(), "quantity": r.quantity, "start": r.start, "end": r.end} for r in usage]
        )
        assert rate_table(PLAN, frame) == cloudrate.rate(PLAN, usage)

    def test_polars_frame(self, usage):
        """A polars frame with string quantities rates the same."""
        pl = pytest.importorskip("polars")
        frame = pl.from_arrow(to_table(usage))
        assert rate_table(PLAN, frame) == cloudrate.rate(PLAN, usage)

    def test_float_quantities_refused(self, usage):
        """A float quantity column is refused with the standard message."""
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame([{**r.to_dict(), "quantity": float(r.quantity)} for r in usage])
        with pytest.raises(cloudrate.FloatNotAllowedError, match="floats cannot hold money"):
            rate_table(PLAN, frame, OCT)

    def test_polars_decimal_multiply_keeps_only_one_scale(self):
        """The trap the batch path avoids: polars' Decimal multiply drops scale.

        cloudrate never multiplies money in polars: frames are converted to Arrow and
        priced on integers. This test documents the trap (and fails if polars changes).
        """
        pl = pytest.importorskip("polars")
        frame = pl.DataFrame({"q": ["0.999"], "p": ["0.0009"]}).with_columns(
            pl.col("q").cast(pl.Decimal(10, 3)), pl.col("p").cast(pl.Decimal(10, 4))
        )
        product = frame.select(pl.col("q") * pl.col("p")).item()
        exact = Decimal("0.999") * Decimal("0.0009")
        assert product != exact  # 0.0008 or 0.0009: the scale of one input
        # cast up first and it is exact; the batch path needs neither
        wide = frame.select(pl.col("q").cast(pl.Decimal(38, 7)) * pl.col("p")).item()
        assert wide == exact
        plan = load_plan("""
name: P
currency: EUR
rounding: {digits: 7}
charges: [{name: c, metric: m, model: per_unit, unit_price: "0.0009"}]
""")
        r = UsageRecord(account="a", metric="m", quantity="0.999", start=T0, end=T0)
        got = rate_table(plan, pl.from_arrow(to_table([r])))
        assert got.bill("a").line("c").amount.amount == exact


class TestBadColumns:
    def test_missing_column(self):
        """A missing required column is named."""
        with pytest.raises(UsageError, match=r"missing column.*quantity"):
            rate_table(PLAN, pa.table({"account": ["a"], "metric": ["m"]}), OCT)

    def test_naive_timestamps(self, usage):
        """Timestamps without a timezone are refused."""
        table = to_table(usage)
        naive = table.column("start").cast(pa.timestamp("us"))
        with pytest.raises(UsageError, match="no timezone"):
            rate_table(PLAN, table.set_column(3, "start", naive), OCT)

    def test_negative_quantity(self, usage):
        """Negative usage is refused as UsageRecord refuses it."""
        table = to_table(usage)
        q = table.column("quantity").to_pylist()
        q[3] = "-1"
        with pytest.raises(UsageError, match=r"row 3: quantity: -1 is negative; usage is never"):
            rate_table(PLAN, table.set_column(2, "quantity", pa.array(q)), OCT)

    def test_bad_number(self, usage):
        """A quantity that is not a number is named with its row."""
        table = to_table(usage)
        q = table.column("quantity").to_pylist()
        q[5] = "12,5"
        with pytest.raises(UsageError, match="row 5: quantity: '12,5' is not a number"):
            rate_table(PLAN, table.set_column(2, "quantity", pa.array(q)), OCT)

    def test_too_many_decimals(self):
        """More than 12 decimals: partial aggregates (for a cluster) refuse them, pointing
        at rate(); rate_table rates them with rate(), exactly."""
        r = UsageRecord(account="a", metric="vcpu_hours", quantity="0.1", start=T0, end=T0)
        table = to_table([r])
        table = table.set_column(2, "quantity", pa.array(["0.1234567890123"]))
        with pytest.raises(FixedPointRangeError, match="more than 12 decimals"):
            partial_aggregate(PLAN, table, OCT)
        exact = UsageRecord(
            account="a", metric="vcpu_hours", quantity="0.1234567890123", start=T0, end=T0
        )
        assert rate_table(PLAN, table, OCT) == cloudrate.rate(PLAN, [exact], OCT)

    def test_one_shot_streams_cannot_be_read_again(self):
        """A generator of batches is read once: beyond the fixed point it is refused."""
        r = UsageRecord(account="a", metric="vcpu_hours", quantity="1E-13", start=T0, end=T0)
        with pytest.raises(FixedPointRangeError):
            rate_table(PLAN, (b for b in to_table([r]).to_batches()), OCT)

    def test_missing_account(self, usage):
        """A record without an account is refused with its row."""
        table = to_table(usage)
        a = table.column("account").to_pylist()
        a[2] = None
        with pytest.raises(UsageError, match="row 2: account is missing"):
            rate_table(PLAN, table.set_column(0, "account", pa.array(a)), OCT)


class TestTotals:
    def test_accounts_named_only_in_the_dictionary_are_billed(self):
        """An account passed in accounts= that the input's dictionary names but no row
        uses gets its flat fee, as rate() gives it."""
        plan = load_plan(
            {
                "name": "P",
                "currency": "EUR",
                "charges": [
                    {"name": "c", "metric": "m", "model": "per_unit", "unit_price": "1"},
                    {"name": "fee", "model": "flat", "price": "5"},
                ],
            }
        )
        times = pa.array([T0, T0], pa.timestamp("us", "UTC"))
        table = pa.table(
            {
                "account": pa.array(["a", "z"]).dictionary_encode(),
                "metric": ["m", "m"],
                "quantity": ["1", "1"],
                "start": times,
                "end": times,
            }
        ).slice(0, 1)
        fast = account_totals(plan, table, OCT, accounts=["z"])
        expected = rate_table(plan, table, OCT, accounts=["z"]).totals()
        assert dict(zip(fast["account"].to_pylist(), fast["total"].to_pylist(), strict=True)) == {
            a: m.amount for a, m in expected.items()
        }
        assert set(expected) == {"a", "z"}

    def test_products_past_sixty_digits_agree_with_rate(self):
        """A quantity x price product with more digits than price() keeps is priced by
        the scalar path, so the totals are rate()'s."""
        price = "4." + "9" * 36 + "5E-28"
        plan = load_plan(
            {
                "name": "P",
                "currency": "EUR",
                "charges": [{"name": "c", "metric": "m", "model": "per_unit", "unit_price": price}],
            }
        )
        usage = [
            UsageRecord(
                account="a",
                metric="m",
                start=T0,
                end=T0,
                quantity="10000000000000000000000000.000000000001",
            )
        ]
        fast = account_totals(plan, to_table(usage), OCT)
        assert fast["total"].to_pylist() == [cloudrate.rate(plan, usage, OCT).total.amount]

    def test_many_batches_many_dictionaries(self, usage):
        """Batches with their own dictionaries map to the same accounts."""
        table = to_table(usage)
        parts = [table.slice(i, 9).combine_chunks() for i in range(0, table.num_rows, 9)]
        coded = [p.set_column(0, "account", p.column("account").dictionary_encode()) for p in parts]
        fast = account_totals(PLAN, coded, OCT, accounts=["zz-idle"])
        expected = cloudrate.rate(PLAN, usage, OCT, accounts=["zz-idle"]).totals()
        assert dict(zip(fast["account"].to_pylist(), fast["total"].to_pylist(), strict=True)) == {
            a: m.amount for a, m in expected.items()
        }
        assert fast.schema.metadata[b"currency"] == b"EUR"


class TestCommandLine:
    def test_batch_and_record_paths_print_the_same(self, tmp_path):
        """`cloudrate rate --batch` prints the JSON `--no-batch` prints, and records/s."""
        plan, usage = cloudrate.sample_plan_path(), cloudrate.sample_usage_path()
        runner = CliRunner()
        one = runner.invoke(
            main, ["rate", "--plan", str(plan), "--usage", str(usage), "--json", "--batch"]
        )
        two = runner.invoke(
            main, ["rate", "--plan", str(plan), "--usage", str(usage), "--json", "--no-batch"]
        )
        assert one.exit_code == 0, one.output
        assert one.stdout == two.stdout
        assert "records/s" in one.stderr
        assert "records/s" not in two.stderr

    def test_large_files_take_the_batch_path(self, tmp_path):
        """Without a flag, Parquet and files over 100k rows go the batch path."""
        small = tmp_path / "s.csv"
        small.write_text("a\n" * 10)
        big = tmp_path / "b.csv"
        big.write_text("a\n" * 100_010)
        assert not wants_batch(small, None)
        assert wants_batch(big, None)
        assert wants_batch(Path("u.parquet"), None)


class TestDictionaries:
    def test_duplicate_dictionary_entries(self, usage):
        """A dictionary that lists a name twice still sums into one account and metric."""
        table = to_table(usage)
        names = ["acct0", "acct0", *[f"acct{i}" for i in range(1, 7)]]
        codes = [
            (1 if i % 2 else 0) if a == "acct0" else names.index(a, 2)
            for i, a in enumerate(table.column("account").to_pylist())
        ]
        account = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(names))
        metrics = ["vcpu_hours", "storage_gb_hours", "vcpu_hours"]
        mcodes = [
            (0 if i % 4 else 2) if m == "vcpu_hours" else 1
            for i, m in enumerate(table.column("metric").to_pylist())
        ]
        metric = pa.DictionaryArray.from_arrays(pa.array(mcodes, pa.int8()), pa.array(metrics))
        coded = table.set_column(0, "account", account).set_column(1, "metric", metric)
        assert rate_table(PLAN, coded) == cloudrate.rate(PLAN, usage)
        fast = account_totals(PLAN, coded)
        assert fast.num_rows == 7

    def test_metric_order_differs_from_plan(self, usage):
        """Metric dictionaries in any order (and with unknown metrics) map correctly."""
        table = to_table(usage)
        for order in (["storage_gb_hours", "vcpu_hours"], ["x", "vcpu_hours", "storage_gb_hours"]):
            codes = [order.index(m) for m in table.column("metric").to_pylist()]
            metric = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(order))
            got = rate_table(PLAN, table.set_column(1, "metric", metric))
            assert got == cloudrate.rate(PLAN, usage)


class TestPrefetch:
    def test_errors_reach_the_caller(self, tmp_path, usage):
        """A bad row deep in a file read ahead in a thread raises in the caller."""
        path = tmp_path / "u.csv"
        lines = ["account,metric,quantity,start,end"] + [
            f"{r.account},{r.metric},{r.quantity},{r.start.isoformat()},{r.end.isoformat()}"
            for r in usage * 40
        ]
        lines[1500] = "a,vcpu_hours,1,not a time,2026-10-01T00:00:00+00:00"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(ConfigError, match="line 1501") as caught:
            rate_table(PLAN, read_columnar(path, block_size=4096), OCT)
        with pytest.raises(ConfigError) as expected:
            cloudrate.read_usage(path)
        assert [p.line for p in caught.value.problems] == [p.line for p in expected.value.problems]

    def test_stopping_early_stops_the_reader(self, tmp_path, usage):
        """Closing the stream after one batch ends the background reader."""
        path = tmp_path / "u.csv"
        to_table(usage * 40).to_pandas().to_csv(path, index=False)
        stream = read_columnar(path, block_size=2048)
        next(stream)
        stream.close()
        assert not any(t.name == "cloudrate-read" for t in threading.enumerate())


class TestJsonLines:
    def test_mixed_blocks_and_nested_attributes(self, tmp_path):
        """Blocks of numbers and blocks of strings, and attributes as a nested object."""
        plan = load_plan("""
name: P
currency: EUR
charges:
  - {name: eu, metric: vcpu_hours, model: per_unit, unit_price: "0.0125", where: {zone: eu}}
  - {name: us, metric: vcpu_hours, model: per_unit, unit_price: "0.0135", where: {zone: us}}
""")
        path = tmp_path / "u.jsonl"
        lines = []
        for i in range(300):
            q = f'"{i}.25"' if i >= 150 else f"{i}.5"
            lines.append(
                f'{{"account": "a{i % 3}", "metric": "vcpu_hours", "quantity": {q}, '
                f'"start": "2026-10-01T00:00:00+00:00", "end": "2026-10-01T01:00:00+00:00", '
                f'"attributes": {{"zone": "{("eu", "us")[i % 2]}"}}}}'
            )
        path.write_text("\n".join(lines) + "\n")
        got = rate_table(plan, read_columnar(path, block_size=4096))
        assert got == cloudrate.rate(plan, cloudrate.read_usage(path))

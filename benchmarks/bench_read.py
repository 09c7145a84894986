"""Read a usage CSV into ``cloudrate.UsageRecord``s, against the csv module reading dicts.

Run: ``python benchmarks/bench_read.py [--records N] [--repeat R]`` (default 500,000, best
of 3).

The script writes an hourly export of October 2026 (100 accounts x 5 metrics x 10
resources each, quantities with up to 6 decimals, a ``zone`` attribute column, times
written with ``Z``, so every timestamp repeats on many rows) to a temporary file, then in
the same run and alternating times

- ``cloudrate.read_usage_csv(path)``: records with every field checked (a file this
  large without quotes is split into rows by pyarrow when it is installed),
- ``cloudrate.read_usage_csv(stream)`` on the open file: the same, rows split by the
  csv module (the path taken without pyarrow, for streams and for quoted files), and
- the baseline a user would write: ``list(csv.DictReader(file))``, rows as dicts of
  strings (no parsing, no checks).

It checks that both give the same records (fields, origins, identity hashes), that a
sample of them equals records built one by one through the public constructor from the
same rows, and prints records/s for each and the ratios. Times are CPU seconds of the
process (``time.process_time``), best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import cloudrate

ACCOUNTS = 100
METRICS = ("vcpu_hours", "memory_gb_hours", "storage_gb_hours", "bandwidth_gb", "public_ip_hours")
HEADER = ("account", "metric", "quantity", "start", "end", "resource_id", "zone")


def write_usage(path: Path, count: int, seed: int = 2026) -> None:
    """*count* hourly rows: every account, metric and resource for one hour, then the next."""
    rng = random.Random(seed)
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    stamps = [
        (t0 + timedelta(hours=h)).isoformat().replace("+00:00", "Z") for h in range(31 * 24 + 1)
    ]
    per_hour = ACCOUNTS * len(METRICS) * 10
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(count):
            h = (i // per_hour) % (31 * 24)
            a, m, r = i % ACCOUNTS, (i // ACCOUNTS) % len(METRICS), (i // 500) % 10
            quantity = Decimal(rng.randrange(0, 10**9)).scaleb(-rng.randrange(0, 7))
            writer.writerow(
                (
                    f"acct-{a:03d}",
                    METRICS[m],
                    str(quantity),
                    stamps[h],
                    stamps[h + 1],
                    f"vm-{a:03d}-{r}",
                    f"z{a % 3}",
                )
            )


def read_stream(path: Path) -> list[cloudrate.UsageRecord]:
    """read_usage_csv on the open file: rows split by the csv module."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return cloudrate.read_usage_csv(stream)


def dict_rows(path: Path) -> list[dict[str, str]]:
    """The baseline: the rows as dicts of strings, as the csv module gives them."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def one_by_one(path: Path, sample: int) -> list[cloudrate.UsageRecord]:
    """The first *sample* records built through the public constructor, field by field."""
    rows = dict_rows(path)[:sample]
    return [
        cloudrate.UsageRecord(
            account=row["account"],
            metric=row["metric"],
            quantity=row["quantity"],
            start=datetime.fromisoformat(row["start"]),
            end=datetime.fromisoformat(row["end"]),
            resource_id=row["resource_id"],
            attributes={"zone": row["zone"]},
            origin=f"{path} line {line}",
        )
        for line, row in enumerate(rows, start=2)
    ]


T = TypeVar("T")


def timed(function: Callable[..., T], *args: object) -> tuple[T, float]:
    """(result, CPU seconds of this process)."""
    gc.collect()
    start = time.process_time()
    value = function(*args)
    return value, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)
    n = args.records

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "usage.csv"
        write_usage(path, n)
        size = path.stat().st_size
        print(f"{n:,} rows, {size / 1e6:.1f} MB; load average {_load()}", flush=True)
        best_read = best_stream = best_dicts = float("inf")
        for _ in range(args.repeat):  # alternate, keep the best of each
            records, seconds = timed(cloudrate.read_usage_csv, path)
            best_read = min(best_read, seconds)
            del records
            records, seconds = timed(read_stream, path)
            best_stream = min(best_stream, seconds)
            del records
            rows, seconds = timed(dict_rows, path)
            best_dicts = min(best_dicts, seconds)
            assert len(rows) == n
            del rows
        records = cloudrate.read_usage_csv(path)
        streamed = read_stream(path)
        assert records == streamed, "the two ways differ"
        assert [(r.origin, r._identity) for r in records] == [
            (r.origin, r._identity) for r in streamed
        ]
        del streamed
        sample = one_by_one(path, 2_000)
        assert records[: len(sample)] == sample, "records differ from the constructor's"
        assert [r.origin for r in sample] == [r.origin for r in records[: len(sample)]]
        assert len(records) == n
    print(
        f"both ways give the same {n:,} records, equal to the constructor's on the first "
        f"{len(sample):,}"
    )
    print(f"read_usage_csv(path):   {best_read:7.3f} s  {n / best_read:>12,.0f} records/s")
    print(f"read_usage_csv(stream): {best_stream:7.3f} s  {n / best_stream:>12,.0f} records/s")
    print(f"csv.DictReader rows:    {best_dicts:7.3f} s  {n / best_dicts:>12,.0f} rows/s")
    print(
        f"ratio path/DictReader: {best_dicts / best_read:.2f}x, "
        f"stream/DictReader: {best_dicts / best_stream:.2f}x"
    )
    print(f"load average after: {_load()}")
    return 0


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:  # pragma: no cover - not Linux
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())

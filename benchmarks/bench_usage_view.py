"""The usage page and the billing overview of one account: time against the record count.

    .venv/bin/python benchmarks/bench_usage_view.py
    .venv/bin/python benchmarks/bench_usage_view.py --baseline-src /tmp/before/src

Hourly records of October 2026 (744 hours) for one account under the sample plan:
7,440 records (2 VMs x 5 metrics) and 37,200 records (10 VMs x 5 metrics: vCPU-hours,
memory, block storage, traffic and the running VM for its licence). Times
``usage_view`` for the month and ``billing_overview`` on 31 October (the month to date,
31 days), best of ``--repeat`` runs of process CPU time. With ``--baseline-src`` the same
measurement (the same number of runs) runs again in a subprocess importing cloudrate from
that source tree (an older commit exported with ``git archive``), and the ratio is
printed; the figures of both must agree exactly (``to_dict()`` as JSON). The load average
is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import cloudrate
from cloudrate import UsageRecord
from cloudrate.portal.usage_view import DateRange, billing_overview, usage_view

METRICS = (
    ("vcpu_hours", "2"),
    ("memory_gb_hours", "4096"),
    ("volume_gb", "40"),
    ("bandwidth_gb", "123456789"),
    ("vm_running", "1"),
)


def records(vms: int) -> list[UsageRecord]:
    """Hourly records of October 2026 (Europe/Berlin month, in UTC hours)."""
    start = datetime(2026, 9, 30, 22, tzinfo=UTC)
    out = []
    for hour in range(744):
        t0 = start + timedelta(hours=hour)
        t1 = t0 + timedelta(hours=1)
        for vm in range(vms):
            for metric, base in METRICS:
                quantity = Decimal(base) + Decimal(hour % 7) / 4 if metric != "vm_running" else 1
                out.append(
                    UsageRecord(
                        account="acme",
                        metric=metric,
                        quantity=quantity,
                        start=t0,
                        end=t1,
                        resource_id=f"vm-{vm}",
                        attributes={"os": "windows" if vm % 3 == 0 else "linux"},
                    )
                )
    return out


def measure(repeat: int) -> dict[str, Any]:
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    month = DateRange.custom(date(2026, 10, 1), date(2026, 10, 31), "Europe/Berlin")
    out: dict[str, Any] = {}
    for vms in (2, 10):
        usage = records(vms)
        for name in ("usage_view", "billing_overview"):
            best, figures = float("inf"), ""
            for _ in range(repeat):
                t0 = time.process_time()
                if name == "usage_view":
                    view = usage_view(plan, usage, account="acme", date_range=month)
                    figures = json.dumps(view.to_dict(), sort_keys=True)
                else:
                    ov = billing_overview(
                        plan,
                        usage,
                        account="acme",
                        today=date(2026, 10, 31),
                        timezone="Europe/Berlin",
                    )
                    figures = json.dumps(ov.to_dict(), sort_keys=True)
                best = min(best, time.process_time() - t0)
            out[f"{name} {len(usage)}"] = {"seconds": best, "figures": figures}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", help="a source tree of cloudrate to compare with")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.repeat)))
        return
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    mine = measure(args.repeat)
    before: dict[str, Any] = {}
    if args.baseline_src:
        env = {**os.environ, "PYTHONPATH": args.baseline_src}
        cmd = [sys.executable, __file__, "--json", "--repeat", str(args.repeat)]
        before = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True).stdout)
    print(f"load average after:  {Path('/proc/loadavg').read_text().strip()}")
    differ = False
    for key, got in mine.items():
        line = f"{key:>24} records: {got['seconds'] * 1000:9.1f} ms"
        if key in before:
            old = before[key]
            same = "same figures" if old["figures"] == got["figures"] else "FIGURES DIFFER"
            differ = differ or old["figures"] != got["figures"]
            ratio = old["seconds"] / got["seconds"]
            line += f"   before {old['seconds'] * 1000:9.1f} ms   {ratio:7.1f}x faster, {same}"
        print(line)
    if differ:
        raise SystemExit("the figures differ from the baseline's")


if __name__ == "__main__":
    main()

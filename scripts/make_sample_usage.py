"""Write src/cloudrate/cli/data/sample_usage.csv: October 2026 of a small CloudStack cloud.

Deterministic: run it again and the file is the same byte for byte.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 10, 1, tzinfo=TZ)
END = datetime(2026, 11, 1, tzinfo=TZ)

# account, vm id, vCPUs, memory MB, os, offering, first day, last day (inclusive)
VMS = [
    ("acme", "vm-acme-web", 2, 4096, "linux", "medium", 1, 31),
    ("acme", "vm-acme-db", 4, 16384, "linux", "large", 1, 31),
    ("acme", "vm-acme-ci", 1, 2048, "windows", "small", 21, 31),
    ("globex", "vm-globex-app", 8, 32768, "windows", "xlarge", 1, 31),
    ("initech", "vm-initech-test", 1, 1024, "linux", "small", 10, 12),
]
# account, volume id, GB, first day, last day
VOLUMES = [
    ("acme", "vol-acme-web", 50, 1, 31),
    ("acme", "vol-acme-db", 500, 1, 31),
    ("globex", "vol-globex-data", 2000, 1, 31),
    ("initech", "vol-initech-test", 20, 10, 12),
]
SNAPSHOTS = [("acme", "snap-acme-db", 120, 1, 31), ("globex", "snap-globex", 8, 15, 31)]
# account, ip id, is source NAT (the network's default IP), first day, last day
IPS = [
    ("acme", "ip-acme-1", True, 1, 31),
    ("acme", "ip-acme-2", False, 1, 31),
    ("acme", "ip-acme-3", False, 21, 31),
    ("globex", "ip-globex-1", True, 1, 31),
    ("initech", "ip-initech-1", True, 10, 12),
]
# account, bytes sent per day
TRAFFIC = [("acme", 41_234_567_890), ("globex", 512_000_000_000), ("initech", 1_500_000)]


def days(first: int, last: int):
    for day in range(first, last + 1):
        start = START + timedelta(days=day - 1)
        start = start.replace(tzinfo=TZ)
        end = min((start + timedelta(days=1)).replace(tzinfo=TZ), END)
        yield day, start, end


def hours(start: datetime, end: datetime) -> int:
    return (
        int((end.astimezone(ZoneInfo("UTC")) - start.astimezone(ZoneInfo("UTC"))).total_seconds())
        // 3600
    )


#: The columns of the sample, in order; the last three are attributes.
FIELDS = [
    "record_id",
    "account",
    "metric",
    "quantity",
    "start",
    "end",
    "resource_id",
    "service",
    "offering",
    "os",
    "is_default",
]


def vm_usage():
    """Per running day of each VM: hours running, vCPU-hours and memory MB-hours."""
    for account, vm, cpus, mem, os_name, offering, first, last in VMS:
        for _, s, e in days(first, last):
            h = hours(s, e)
            yield (
                account,
                "vm_running",
                h,
                s,
                e,
                vm,
                "Compute",
                {"offering": offering, "os": os_name},
            )
            yield account, "vcpu_hours", cpus * h, s, e, vm, "Compute", {"offering": offering}
            yield account, "memory_gb_hours", mem * h, s, e, vm, "Compute", {"offering": offering}


def storage_usage():
    """Per day of each volume and snapshot: GB-hours stored."""
    for metric, items in (("volume_gb", VOLUMES), ("snapshot_gb", SNAPSHOTS)):
        for account, resource, gb, first, last in items:
            for _, s, e in days(first, last):
                yield account, metric, gb * hours(s, e), s, e, resource, "Storage", {}


def network_usage():
    """Per day of each public IP (seconds held) and each account's traffic (bytes)."""
    for account, ip, default, first, last in IPS:
        for _, s, e in days(first, last):
            flag = {"is_default": "true" if default else "false"}
            yield account, "public_ip_hours", hours(s, e) * 3600, s, e, ip, "Network", flag
    for account, per_day in TRAFFIC:
        for day, s, e in days(1, 31):
            yield account, "bandwidth_gb", per_day + day * 1_000_003, s, e, None, "Network", {}


def rows():
    """Every row of the sample, numbered in order."""
    usage = [*vm_usage(), *storage_usage(), *network_usage()]
    for n, (account, metric, quantity, start, end, resource, service, attrs) in enumerate(
        usage, start=1
    ):
        yield {
            "record_id": f"r{n:05d}",
            "account": account,
            "metric": metric,
            "quantity": quantity,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "resource_id": resource,
            "service": service,
            "offering": attrs.get("offering", ""),
            "os": attrs.get("os", ""),
            "is_default": attrs.get("is_default", ""),
        }


def main() -> None:
    path = Path(__file__).resolve().parents[1] / "src/cloudrate/cli/data/sample_usage.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in rows():
            writer.writerow(r)


if __name__ == "__main__":
    main()

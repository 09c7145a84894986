"""CloudStack usage types and the cloudrate metric each one becomes.

The numbers and names are those of ``org.apache.cloudstack.usage.UsageTypes`` (Apache
CloudStack 4.20: types 1-14 and 21-31). What ``rawusage`` measures per type comes from
the usage parsers and ``ApiResponseHelper.createUsageResponse``; see docs/cloudstack.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import attrs

from cloudrate.exceptions import NotFoundError

__all__ = ["USAGE_TYPES", "UsageType", "usage_type"]

#: How a type's quantity is computed from a record:
#: ``hours`` = rawusage (hours); ``count`` = rawusage (a count such as I/O requests);
#: ``bytes`` = rawusage bytes in GB; ``size_hours`` = rawusage hours x size in GB.
Measure = Literal["hours", "count", "bytes", "size_hours"]


@attrs.frozen
class UsageType:
    """One CloudStack usage type: its number, name, the cloudrate metric and unit.

    >>> usage_type(6).metric, usage_type(6).unit
    ('volume_gb_hours', 'GB-hour')
    """

    number: int
    name: str
    metric: str
    unit: str
    measure: Measure
    service: str
    quota_unit: str
    description: str


def _t(
    number: int,
    name: str,
    metric: str,
    unit: str,
    measure: Measure,
    service: str,
    quota_unit: str,
    description: str,
) -> tuple[int, UsageType]:
    return number, UsageType(number, name, metric, unit, measure, service, quota_unit, description)


#: Every usage type cloudrate imports, by number.
USAGE_TYPES: Mapping[int, UsageType] = MappingProxyType(
    dict(
        [
            _t(
                1,
                "RUNNING_VM",
                "running_vm_hours",
                "VM-hour",
                "hours",
                "Compute",
                "COMPUTE_MONTH",
                "Running VM",
            ),
            _t(
                2,
                "ALLOCATED_VM",
                "allocated_vm_hours",
                "VM-hour",
                "hours",
                "Compute",
                "COMPUTE_MONTH",
                "Allocated VM",
            ),
            _t(
                3,
                "IP_ADDRESS",
                "public_ip_hours",
                "IP-hour",
                "hours",
                "Network",
                "IP_MONTH",
                "Public IP address",
            ),
            _t(
                4,
                "NETWORK_BYTES_SENT",
                "network_sent_gb",
                "GB",
                "bytes",
                "Network",
                "GB",
                "Network traffic sent",
            ),
            _t(
                5,
                "NETWORK_BYTES_RECEIVED",
                "network_received_gb",
                "GB",
                "bytes",
                "Network",
                "GB",
                "Network traffic received",
            ),
            _t(
                6,
                "VOLUME",
                "volume_gb_hours",
                "GB-hour",
                "size_hours",
                "Storage",
                "GB_MONTH",
                "Volume",
            ),
            _t(
                7,
                "TEMPLATE",
                "template_gb_hours",
                "GB-hour",
                "size_hours",
                "Storage",
                "GB_MONTH",
                "Template",
            ),
            _t(8, "ISO", "iso_gb_hours", "GB-hour", "size_hours", "Storage", "GB_MONTH", "ISO"),
            _t(
                9,
                "SNAPSHOT",
                "snapshot_gb_hours",
                "GB-hour",
                "size_hours",
                "Storage",
                "GB_MONTH",
                "Volume snapshot",
            ),
            _t(
                10,
                "SECURITY_GROUP",
                "security_group_hours",
                "hour",
                "hours",
                "Network",
                "POLICY_MONTH",
                "Security group",
            ),
            _t(
                11,
                "LOAD_BALANCER_POLICY",
                "load_balancer_policy_hours",
                "hour",
                "hours",
                "Network",
                "POLICY_MONTH",
                "Load balancer rule",
            ),
            _t(
                12,
                "PORT_FORWARDING_RULE",
                "port_forwarding_rule_hours",
                "hour",
                "hours",
                "Network",
                "POLICY_MONTH",
                "Port forwarding rule",
            ),
            _t(
                13,
                "NETWORK_OFFERING",
                "network_offering_hours",
                "hour",
                "hours",
                "Network",
                "POLICY_MONTH",
                "Network offering on a VM",
            ),
            _t(
                14,
                "VPN_USERS",
                "vpn_user_hours",
                "hour",
                "hours",
                "Network",
                "POLICY_MONTH",
                "VPN user",
            ),
            _t(
                21,
                "VM_DISK_IO_READ",
                "vm_disk_io_read",
                "request",
                "count",
                "Storage",
                "IOPS",
                "Disk read requests",
            ),
            _t(
                22,
                "VM_DISK_IO_WRITE",
                "vm_disk_io_write",
                "request",
                "count",
                "Storage",
                "IOPS",
                "Disk write requests",
            ),
            _t(
                23,
                "VM_DISK_BYTES_READ",
                "vm_disk_read_gb",
                "GB",
                "bytes",
                "Storage",
                "BYTES",
                "Disk bytes read",
            ),
            _t(
                24,
                "VM_DISK_BYTES_WRITE",
                "vm_disk_write_gb",
                "GB",
                "bytes",
                "Storage",
                "BYTES",
                "Disk bytes written",
            ),
            _t(
                25,
                "VM_SNAPSHOT",
                "vm_snapshot_gb_hours",
                "GB-hour",
                "size_hours",
                "Storage",
                "GB_MONTH",
                "VM snapshot",
            ),
            _t(
                26,
                "VOLUME_SECONDARY",
                "volume_secondary_gb_hours",
                "GB-hour",
                "size_hours",
                "Storage",
                "GB_MONTH",
                "Volume on secondary storage",
            ),
            _t(
                27,
                "VM_SNAPSHOT_ON_PRIMARY",
                "vm_snapshot_primary_gb_hours",
                "GB-hour",
                "size_hours",
                "Storage",
                "GB_MONTH",
                "VM snapshot on primary storage",
            ),
            _t(
                28,
                "BACKUP",
                "backup_gb_hours",
                "GB-hour",
                "size_hours",
                "Storage",
                "GB_MONTH",
                "Backup",
            ),
            _t(
                29,
                "BUCKET",
                "bucket_gb",
                "GB",
                "bytes",
                "Storage",
                "GB_MONTH",
                "Object storage bucket size",
            ),
            _t(
                30,
                "NETWORK",
                "network_hours",
                "hour",
                "hours",
                "Network",
                "COMPUTE_MONTH",
                "Guest network",
            ),
            _t(31, "VPC", "vpc_hours", "hour", "hours", "Network", "COMPUTE_MONTH", "VPC"),
        ]
    )
)

_BY_NAME = {t.name: t for t in USAGE_TYPES.values()}


def usage_type(key: int | str) -> UsageType:
    """The usage type with number or name *key* (``6``, ``"6"`` or ``"VOLUME"``).

    >>> usage_type("IP_ADDRESS").number
    3
    """
    if isinstance(key, str) and not key.strip().isdigit():
        found = _BY_NAME.get(key.strip().upper())
    else:
        found = USAGE_TYPES.get(int(key))
    if found is None:
        known = ", ".join(f"{t.number} {t.name}" for t in USAGE_TYPES.values())
        raise NotFoundError(
            f"unknown CloudStack usage type {key!r}; known types are {known}", value=key
        )
    return found

"""The ``record_id`` of an imported CloudStack usage record: what identifies it.

``listUsageRecords`` gives a usage record no key of its own (``usageid`` is the id of the
*resource*: the VM, volume, IP address...). CloudStack's usage job writes one record per
resource, usage type and aggregation interval, and splits a resource's interval by what
changed in it (a VM's service offering, a volume's size...). So a record is identified
by its zone, account, usage type, resource, interval and those distinguishing fields;
not by what it measured (``rawusage``, ``usage``), nor by texts that may change between
two fetches (``description``, names, tags).

The id reads ``cs:<usagetype>:<usageid>:<start>/<end>:<digest>``, start and end the
record's instants in UTC, the digest the first 16 hex digits of the SHA-256 of the
identifying fields present (:data:`IDENTIFYING`, as compact sorted JSON, dates as those
UTC instants). A record exported with its own ``id`` (the usage database's key, not in
the API) is ``cs:id:<id>`` instead. Records derived from one (``compute_metrics``) add
``/<metric>``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["IDENTIFYING", "record_id_of"]

#: The fields that identify a usage record (those present are used; display texts,
#: measurements and tags are not).
IDENTIFYING = (
    "zoneid",
    "accountid",
    "account",
    "domainid",
    "projectid",
    "usagetype",
    "usageid",
    "virtualmachineid",
    "offeringid",
    "templateid",
    "networkid",
    "vpcid",
    "type",
    "size",
    "virtualsize",
    "cpunumber",
    "cpuspeed",
    "memory",
    "issourcenat",
    "issystem",
    "isdefault",
)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def record_id_of(row: Mapping[str, Any], start: datetime, end: datetime) -> str:
    """The record_id of the CloudStack usage record *row*, which starts at *start* and
    ends at *end* (its parsed ``startdate`` and ``enddate``).

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
    >>> t1 = datetime(2026, 10, 1, 23, 59, 59, tzinfo=timezone.utc)
    >>> record_id_of({"usagetype": 6, "usageid": "vol-1", "accountid": "a-1"}, t0, t1)
    'cs:6:vol-1:2026-10-01T00:00:00+00:00/2026-10-01T23:59:59+00:00:b312f9a22eaa61b5'
    >>> record_id_of({"id": 4711, "usagetype": 6}, t0, t1)
    'cs:id:4711'
    """
    own = row.get("id")
    if own not in (None, ""):
        return f"cs:id:{_text(own)}"
    start_text, end_text = start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()
    fields = {name: _text(row[name]) for name in IDENTIFYING if row.get(name) not in (None, "")}
    fields["startdate"], fields["enddate"] = start_text, end_text
    digest = hashlib.sha256(
        json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()[:16]
    usage_id = fields.get("usageid", "-")
    return f"cs:{fields.get('usagetype', '-')}:{usage_id}:{start_text}/{end_text}:{digest}"

"""Import Apache CloudStack usage (``listUsageRecords``) or VM events (``listEvents``) and
price them like CloudStack's quota plugin.

>>> from cloudrate.integrations.cloudstack import read_cloudstack
>>> result = read_cloudstack('{"listusagerecordsresponse": {}}')
>>> result.records, dict(result.unknown_types)
((), {})
"""

from ._events import VmEventHours, vm_hours_from_events
from ._quota import QuotaTariff, quota_charge, quota_plan
from ._read import (
    ACCOUNT_KEYS,
    AccountBy,
    AccountNamer,
    CloudStackImport,
    OnError,
    parse_cloudstack_date,
    read_cloudstack,
    records_from_cloudstack,
)
from ._types import USAGE_TYPES, UsageType, usage_type

__all__ = [
    "ACCOUNT_KEYS",
    "USAGE_TYPES",
    "AccountBy",
    "AccountNamer",
    "CloudStackImport",
    "OnError",
    "QuotaTariff",
    "UsageType",
    "VmEventHours",
    "parse_cloudstack_date",
    "quota_charge",
    "quota_plan",
    "read_cloudstack",
    "records_from_cloudstack",
    "usage_type",
    "vm_hours_from_events",
]

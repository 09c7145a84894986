"""Import Apache CloudStack usage (``listUsageRecords``) and price it like its quota plugin.

>>> from cloudrate.integrations.cloudstack import read_cloudstack
>>> result = read_cloudstack('{"listusagerecordsresponse": {}}')
>>> result.records, dict(result.unknown_types)
((), {})
"""

from ._quota import quota_charge, quota_plan
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
    "UsageType",
    "parse_cloudstack_date",
    "quota_charge",
    "quota_plan",
    "read_cloudstack",
    "records_from_cloudstack",
    "usage_type",
]

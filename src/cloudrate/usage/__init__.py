"""Usage records and the readers that load them from CSV and JSON lines.

>>> import cloudrate
>>> records = cloudrate.read_usage(cloudrate.sample_usage_path())
>>> records[0].account
'acme'
"""

from ._read import (
    MISSING_TEXTS,
    is_missing,
    parse_time,
    read_usage,
    read_usage_csv,
    read_usage_jsonl,
    read_usage_text,
    record_from_mapping,
)
from ._record import UsageRecord, parse_quantity

__all__ = [
    "MISSING_TEXTS",
    "UsageRecord",
    "is_missing",
    "parse_quantity",
    "parse_time",
    "read_usage",
    "read_usage_csv",
    "read_usage_jsonl",
    "read_usage_text",
    "record_from_mapping",
]

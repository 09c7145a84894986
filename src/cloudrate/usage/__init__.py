"""Usage records, the readers that load them from CSV and JSON lines, and their identity
(which copies of a record are billed: :func:`dedupe`).

>>> import cloudrate
>>> records = cloudrate.read_usage(cloudrate.sample_usage_path())
>>> records[0].account
'acme'
"""

from ._file_checks import (
    FIELD_LIMIT,
    RepeatedKeyError,
    duplicate_key,
    empty_file,
    field_too_long,
    header_problems,
    not_utf8,
    unique_keys,
    wrong_width,
)
from ._identity import (
    MAX_REVISION,
    Deduplicated,
    conflict_error,
    dedupe,
    identity_hash,
    identity_key,
    parse_revision,
    revision_rank,
)
from ._read import (
    MISSING_TEXTS,
    RECORD_FIELDS,
    REQUIRED_FIELDS,
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
    "FIELD_LIMIT",
    "MAX_REVISION",
    "MISSING_TEXTS",
    "RECORD_FIELDS",
    "REQUIRED_FIELDS",
    "Deduplicated",
    "RepeatedKeyError",
    "UsageRecord",
    "conflict_error",
    "dedupe",
    "duplicate_key",
    "empty_file",
    "field_too_long",
    "header_problems",
    "identity_hash",
    "identity_key",
    "is_missing",
    "not_utf8",
    "parse_quantity",
    "parse_revision",
    "parse_time",
    "read_usage",
    "read_usage_csv",
    "read_usage_jsonl",
    "read_usage_text",
    "record_from_mapping",
    "revision_rank",
    "unique_keys",
    "wrong_width",
]

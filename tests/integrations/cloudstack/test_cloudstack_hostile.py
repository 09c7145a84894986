"""A CloudStack response cloudrate cannot read is refused clearly, never guessed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate.exceptions import CloudrateError, ConfigError
from cloudrate.integrations.cloudstack import read_cloudstack

RECORD = {
    "account": "admin",
    "accountid": "a1",
    "usagetype": 1,
    "rawusage": "24",
    "offeringid": "small",
    "startdate": "2011-12-15T00:00:00+00:00",
    "enddate": "2011-12-15T23:59:59+00:00",
}


def _response(records: int) -> str:
    body = {"listusagerecordsresponse": {"count": records, "usagerecord": [RECORD] * records}}
    return json.dumps(body, indent=1)


def _codes(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        read_cloudstack(path)
    assert caught.value.source == str(path)
    return [p.code for p in caught.value.problems]


def test_a_file_of_zero_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usage.json"
    path.write_bytes(b"")
    assert _codes(path) == ["empty_file"]


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    assert _codes(tmp_path / "nowhere.json") == ["unreadable"]


@settings(max_examples=30)
@given(records=st.integers(1, 5), data=st.data(), bad=st.sampled_from([b"\xff", b"\xc0\xaf"]))
def test_bytes_that_are_not_utf8_are_named_by_line(
    tmp_path_factory: pytest.TempPathFactory, records: int, data: st.DataObject, bad: bytes
) -> None:
    raw = _response(records).encode()
    at = data.draw(st.sampled_from([i for i in range(len(raw)) if raw[i : i + 5] == b"admin"]))
    path = tmp_path_factory.mktemp("cs") / "usage.json"
    path.write_bytes(raw[:at] + bad + raw[at:])
    with pytest.raises(ConfigError) as caught:
        read_cloudstack(path)
    (problem,) = caught.value.problems
    assert problem.code == "bad_encoding"
    assert problem.line == raw.count(b"\n", 0, at) + 1


@settings(max_examples=30)
@given(key=st.sampled_from(sorted(RECORD)), records=st.integers(1, 4))
def test_a_key_given_twice_is_refused_not_the_last_taken(
    tmp_path_factory: pytest.TempPathFactory, key: str, records: int
) -> None:
    text = _response(records)
    twice = text.replace(f'"{key}":', f'"{key}": "x", "{key}":', 1)
    path = tmp_path_factory.mktemp("cs") / "usage.json"
    path.write_text(twice)
    assert _codes(path) == ["duplicate_key"]


@settings(max_examples=10)
@given(depth=st.integers(2000, 20000))
def test_deep_nesting_is_refused(tmp_path_factory: pytest.TempPathFactory, depth: int) -> None:
    path = tmp_path_factory.mktemp("cs") / "usage.json"
    path.write_text("[" * depth + "]" * depth)
    # too deep for the json module (3.11), or read and refused as a list that is no
    # record (3.13's parser follows deeper): a ConfigError either way, never a crash
    assert _codes(path) in (["too_deep"], ["bad_usage_record"])


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_with_a_cloudrate_error(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("cs") / "usage.json"
    path.write_bytes(raw)
    refused = None
    try:
        read_cloudstack(path)
    except CloudrateError as exc:
        refused = exc
    assert refused is None or refused.code  # a stable code a caller can map

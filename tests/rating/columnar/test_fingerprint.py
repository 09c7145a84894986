"""Fingerprints of rows: equal values hash alike however Arrow holds them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")

from cloudrate.rating.columnar._fingerprint import string_hashes  # noqa: E402

texts = st.lists(st.text(max_size=30), min_size=1, max_size=20)


class TestStringHashes:
    @given(texts, st.integers(0, 5))
    def test_equal_strings_hash_alike(self, values, cut):
        """A string hashes the same in a plain, large, sliced or dictionary array, at any
        position (the bytes around it and the offsets do not matter)."""
        cut = min(cut, len(values) - 1)
        plain = string_hashes(pa.array(values))
        large = string_hashes(pa.array(values, pa.large_string()))
        sliced = string_hashes(pa.array(["x" * 13, *values]).slice(1 + cut))
        coded = string_hashes(pa.array(values).dictionary_encode())
        assert plain.tolist() == large.tolist() == coded.tolist()
        assert sliced.tolist() == plain[cut:].tolist()
        for i, a in enumerate(values):
            for j, b in enumerate(values):
                if a == b:
                    assert plain[i] == plain[j]

    def test_different_strings_hash_apart(self):
        """Strings that differ in one byte, in length only (a trailing zero byte) or in
        their order of words hash apart (as a good hash does; collisions are compared)."""
        values = [
            "",
            "\0",
            "a",
            "a\0",
            "ab",
            "ba",
            "abcdefgh",
            "abcdefgi",
            "abcdefghX",
            "12345678abcdefgh",
            "abcdefgh12345678",
        ]
        hashes = string_hashes(pa.array(values)).tolist()
        assert len(set(hashes)) == len(values)

    def test_nulls_are_left_to_the_caller(self):
        """Nulls get some hash; the fingerprint masks them (only lengths are read)."""
        assert len(string_hashes(pa.array(["a", None, "b"]))) == 3
        assert len(string_hashes(pa.array([], pa.string()))) == 0


class TestContentBlocks:
    @given(st.integers(1, 40), st.integers(0, 3))
    def test_a_rows_fingerprint_does_not_depend_on_the_block_size(self, block, unknown_every):
        """Content fingerprints computed a block of rows at a time equal those of one block
        of every row, with metrics the plan does not price (hashed by name) among them,
        and leave the caller's metric codes as they were."""
        import numpy as np

        from cloudrate.rating.columnar import _fingerprint
        from cloudrate.rating.columnar._columns import Batch

        n = 97
        batch = pa.record_batch(
            {
                "account": pa.array([f"a{i % 5}" for i in range(n)]).dictionary_encode(),
                "metric": pa.array([f"m{i % 3}" for i in range(n)]).dictionary_encode(),
                "quantity": pa.array([f"{i}.{i % 7}" for i in range(n)]),
                "start": pa.array([i * 3_600_000_000 for i in range(n)], pa.timestamp("us", "UTC")),
                "end": pa.array(
                    [(i + 1) * 3_600_000_000 for i in range(n)], pa.timestamp("us", "UTC")
                ),
            }
        )
        data = Batch(batch, 0, {}, False)
        accounts = data.account_codes.astype(np.int64)
        metrics = data.metric_codes.astype(np.int64)
        if unknown_every:
            metrics[::unknown_every] = -1
        given_codes = metrics.copy()
        whole = _fingerprint.Fingerprints().of(data, accounts, metrics)
        saved = _fingerprint._BLOCK
        _fingerprint._BLOCK = block
        try:
            blocked = _fingerprint.Fingerprints().of(data, accounts, metrics)
        finally:
            _fingerprint._BLOCK = saved
        assert blocked.tolist() == whole.tolist()
        assert metrics.tolist() == given_codes.tolist()
        assert len(set(whole.tolist())) == n  # every row differs: so do their fingerprints

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

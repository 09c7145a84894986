"""Document files (``cloudrate.cli._files``): injective names, atomic writes."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cloudrate.cli._files import MAX_NAME_BYTES, document_filename, write_atomic
from cloudrate.exceptions import InvoiceError

# Text of any kind (no lone surrogates), with the characters that matter to file names
# drawn often.
SPECIAL = "/\\%.\x00_-~: *?<>|\"'\t\n"
names = st.text(
    st.one_of(st.sampled_from(SPECIAL), st.characters(exclude_categories=["Cs"])),
    min_size=1,
    max_size=90,
)
suffixes = st.sampled_from(["", ".json", ".pdf", ".tar.gz"])
ALLOWED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-%~")


class TestDocumentFilename:
    @given(names, names, suffixes)
    def test_different_names_give_different_files(self, a, b, suffix):
        """Two different names never give the same file name."""
        assume(a != b)
        assert document_filename(a, suffix) != document_filename(b, suffix)

    @given(names, st.integers(min_value=0, max_value=89), st.sampled_from(SPECIAL + "üöA"))
    def test_names_one_character_apart_give_different_files(self, name, at, char):
        """Names that differ in a single character, the likeliest to meet, never do."""
        other = name[: at % len(name)] + char + name[at % len(name) + 1 :]
        assume(other != name)
        assert document_filename(name, ".json") != document_filename(other, ".json")

    @given(names, suffixes)
    def test_the_name_is_safe_everywhere(self, name, suffix):
        """No separator, NUL or character Windows refuses; never hidden, '.' or '..';
        at most MAX_NAME_BYTES before the suffix."""
        got = document_filename(name, suffix)
        assert got.endswith(suffix) and set(got) <= ALLOWED
        assert "/" not in got and "\\" not in got and "\x00" not in got
        assert got not in (".", "..") and not got.startswith(".")
        assert not got.removesuffix(suffix).endswith(".")
        assert len(got.encode("ascii")) <= MAX_NAME_BYTES + len(suffix)

    @given(names)
    def test_short_names_decode_back(self, name):
        """Up to the length cap the file name is the percent-encoded name: unquote gives
        the name back, which is why it is injective."""
        got = document_filename(name, "")
        assume("~" not in got)
        assert unquote(got, errors="strict") == name

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("INV-2026-0001", "INV-2026-0001.json"),
            ("müller", "m%C3%BCller.json"),
            ("möller", "m%C3%B6ller.json"),
            ("a/b", "a%2Fb.json"),
            ("a_b", "a_b.json"),
            ("a%2Fb", "a%252Fb.json"),
            (".hidden", "%2Ehidden.json"),
            ("..", "%2E%2E.json"),
            ("a.", "a%2E.json"),
            ("CON", "%43ON.json"),
            ("nul.txt", "%6Eul.txt.json"),
            ("Com1", "%43om1.json"),
            ("console", "console.json"),
            ("a\x00b", "a%00b.json"),
            ("東京", "%E6%9D%B1%E4%BA%AC.json"),
        ],
    )
    def test_examples(self, name, expected):
        """Names as they come out: kept, escaped, hidden and device names made safe."""
        assert document_filename(name, ".json") == expected

    def test_long_names_end_in_a_hash_and_stay_apart(self):
        """Past the cap the name is cut between characters and ends in '~' and a hash of the
        whole name, so names with one long common prefix still differ."""
        a, b = "ü" * 150 + "a", "ü" * 150 + "b"
        fa, fb = document_filename(a, ".pdf"), document_filename(b, ".pdf")
        assert fa != fb and len(fa) <= MAX_NAME_BYTES + 4
        stem = fa.removesuffix(".pdf")
        assert stem.split("~")[0] == "%C3%BC" * 27 and len(stem.split("~")[1]) == 32
        assert document_filename("a" * MAX_NAME_BYTES, "") == "a" * MAX_NAME_BYTES
        assert "~" in document_filename("a" * (MAX_NAME_BYTES + 1), "")

    def test_lone_surrogates_are_encoded_too(self):
        """A name decoded with surrogateescape still gets a file name of its own."""
        assert document_filename("a\udcff", "") == "a%ED%B3%BF"

    @pytest.mark.parametrize(("name", "suffix"), [("", ".json"), ("a", "json"), ("a", "./x")])
    def test_bad_arguments_say_the_fix(self, name, suffix):
        """An empty name or a suffix without its dot is refused with the fix."""
        with pytest.raises(InvoiceError, match=r"give the document|such as '\.json'"):
            document_filename(name, suffix)


class TestWriteAtomic:
    def test_writes_and_replaces_without_leftovers(self, tmp_path):
        """Text is written as UTF-8 bytes as it is; a second write replaces the first;
        nothing else is left in the directory."""
        target = tmp_path / "doc.json"
        write_atomic(target, "ü\r\n")
        assert target.read_bytes() == "ü\r\n".encode()
        write_atomic(target, b"\x00new")
        assert target.read_bytes() == b"\x00new"
        assert [p.name for p in tmp_path.iterdir()] == ["doc.json"]

    def test_a_replaced_file_keeps_its_mode(self, tmp_path):
        """Replacing a file keeps the mode the old one had."""
        target = tmp_path / "doc.json"
        target.write_bytes(b"old")
        target.chmod(0o640)
        write_atomic(target, b"new")
        assert stat.S_IMODE(target.stat().st_mode) == 0o640

    def test_a_new_file_gets_what_the_umask_allows(self, tmp_path):
        """Unlike a bare temporary file (0600), a new document is created as open() would
        create it: 0666 less the umask."""
        umask = os.umask(0o022)
        try:
            write_atomic(tmp_path / "doc.json", b"new")
        finally:
            os.umask(umask)
        assert stat.S_IMODE((tmp_path / "doc.json").stat().st_mode) == 0o644

    @pytest.mark.parametrize("step", ["write", "fsync", "replace"])
    def test_a_failure_leaves_the_old_file_and_no_temporary_file(self, tmp_path, monkeypatch, step):
        """A write, fsync or rename that fails leaves the old content and removes the
        temporary file."""
        target = tmp_path / "doc.json"
        target.write_bytes(b"old")

        def fail(*_args: object) -> None:
            raise OSError(28, "No space left on device")

        where = {"write": ("os.write", fail), "fsync": ("os.fsync", fail)}
        if step == "replace":
            monkeypatch.setattr(Path, "replace", fail)
        else:
            monkeypatch.setattr(*where[step])
        with pytest.raises(OSError, match="No space left"):
            write_atomic(target, b"new" * 1000)
        assert target.read_bytes() == b"old"
        assert [p.name for p in tmp_path.iterdir()] == ["doc.json"]

    def test_missing_directory_is_an_error_and_writes_nothing(self, tmp_path):
        """The directory is not created: a missing one is the caller's error."""
        with pytest.raises(FileNotFoundError):
            write_atomic(tmp_path / "nope" / "doc.json", b"x")
        assert list(tmp_path.iterdir()) == []


# Rewrites one file over and over, alternating two 4 MB contents; says "ready" once the
# first write is done.
_WRITER = """
import sys
from pathlib import Path
from cloudrate.cli._files import write_atomic

target = Path(sys.argv[1])
versions = [bytes([65 + i]) * (4 << 20) for i in range(2)]
i = 0
while True:
    write_atomic(target, versions[i % 2])
    if i == 0:
        print("ready", flush=True)
    i += 1
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_write_leaves_the_old_or_the_new_content(tmp_path):
    """A process rewriting a 4 MB file is SIGKILLed at 20 random points: the file is
    always one whole version, never torn or short."""
    target = tmp_path / "doc.bin"
    versions = {bytes([65 + i]) * (4 << 20) for i in range(2)}
    rng = random.Random(7)
    for _ in range(20):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
            time.sleep(rng.random() * 0.05)
            proc.kill()
        finally:
            assert proc.wait(timeout=60) == -signal.SIGKILL
            if proc.stdout is not None:
                proc.stdout.close()
        assert target.read_bytes() in versions
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert all(n.startswith(".doc.bin.") and n.endswith(".tmp") for n in leftovers)

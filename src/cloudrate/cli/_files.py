"""Document files: names no two documents can share, and writes a crash cannot tear.

:func:`document_filename` percent-encodes a document's name (its number or draft id) into a
file name, so two different names never give the same file: ``müller`` and ``möller`` are
``m%C3%BCller`` and ``m%C3%B6ller``, ``a/b`` and ``a_b`` are ``a%2Fb`` and ``a_b``.
:func:`write_atomic` writes a file so that a reader, or the same path after a crash, sees
the old content or the new one, never a mix or a truncated file. :class:`DocumentFiles`
writes the documents of one command run with both and refuses to lose one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path

from cloudrate.exceptions import InvoiceError

__all__ = ["MAX_NAME_BYTES", "TEMP_SUFFIX", "DocumentFiles", "document_filename", "write_atomic"]

#: The longest encoded name (suffix not counted); longer names end in ``~`` and a hash.
MAX_NAME_BYTES = 200
#: How the temporary files of :func:`write_atomic` end; one left behind by a killed process
#: (``.<name>.<random>.tmp``) is never a document and can be deleted.
TEMP_SUFFIX = ".tmp"

_KEEP = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_SUFFIX = re.compile(r"(\.[A-Za-z0-9_-]+)*")
# Names Windows gives to devices, with any extension: "con.json" is not a file there.
_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"{port}{i}" for port in ("com", "lpt") for i in (*"123456789", "¹", "²", "³")}
)
_HASH_HEX = 32


def _escape(byte: int) -> str:
    return f"%{byte:02X}"


def _encode(char: str) -> str:
    raw = char.encode("utf-8", "surrogatepass")
    return char if len(raw) == 1 and raw[0] in _KEEP else "".join(map(_escape, raw))


def document_filename(name: str, suffix: str) -> str:
    """A file name for the document called *name*, ending in *suffix* (``".json"``).

    Letters A-Z and a-z, digits, ``.``, ``_`` and ``-`` stay; every other character becomes
    its UTF-8 bytes as ``%XX`` (``%`` itself too), as does a leading or trailing ``.`` and
    the first letter of a Windows device name (``CON``, ``nul.txt``, ``COM1``). So the name
    is injective (``urllib.parse.unquote`` gives *name* back), has no path separator, NUL or
    character Windows refuses, and is never hidden, ``.`` or ``..``. Past
    :data:`MAX_NAME_BYTES` the encoded name is cut between characters and ends in ``~`` and
    128 bits of SHA-256 of *name* (``~`` is otherwise always encoded, so such names meet no
    others).

    Raises:
        InvoiceError: *name* is empty, or *suffix* is not ``""`` or dot-separated parts
            of letters, digits, ``_`` and ``-``.

    >>> document_filename("INV-2026-0001", ".json")
    'INV-2026-0001.json'
    >>> document_filename("müller/2026-10", ".pdf"), document_filename("möller/2026-10", ".pdf")
    ('m%C3%BCller%2F2026-10.pdf', 'm%C3%B6ller%2F2026-10.pdf')
    >>> document_filename("..", ""), document_filename("100%", ".html")
    ('%2E%2E', '100%25.html')
    """
    if not name:
        raise InvoiceError(
            "document file name: the document's name is empty (got ''); give the document "
            "a number or an id"
        )
    if not _SUFFIX.fullmatch(suffix):
        raise InvoiceError(
            f"document file name suffix {suffix!r}: expected '' or an extension with its "
            "dot of letters, digits, '_' and '-', such as '.json'"
        )
    parts = [_encode(c) for c in name]
    if name[0] == ".":
        parts[0] = _escape(ord("."))
    if name[-1] == ".":
        parts[-1] = _escape(ord("."))
    if name.split(".")[0].lower() in _DEVICES:
        parts[0] = _escape(ord(name[0]))
    encoded = "".join(parts)
    if len(encoded) > MAX_NAME_BYTES:
        raw = name.encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(raw).hexdigest()[:_HASH_HEX]
        keep, size = [], 0
        for part in parts:  # cut between characters, never inside one
            if size + len(part) > MAX_NAME_BYTES - 1 - _HASH_HEX:
                break
            keep.append(part)
            size += len(part)
        encoded = "".join(keep) + "~" + digest
    return encoded + suffix


def write_atomic(path: Path, data: bytes | str) -> None:
    """Replace the file at *path* with *data* (text is written as UTF-8, as it is).

    The data goes to a new temporary file beside *path*, is flushed and fsynced, then moved
    onto *path* with :func:`os.replace` and the directory is fsynced: a crash at any point
    leaves the old file (or none) or the new one whole. On any failure the temporary file
    is removed and the old file is left as it was. A new file gets the permissions the
    umask allows, a replaced one keeps its mode.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "INV-2026-0001.json"
    >>> write_atomic(target, "{}\\n")
    >>> write_atomic(target, b"[]\\n")
    >>> target.read_bytes(), [p.name for p in target.parent.iterdir()]
    (b'[]\\n', ['INV-2026-0001.json'])
    """
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    directory = path.parent
    temp, fd = _create_temp(directory, path.name)
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            with contextlib.suppress(FileNotFoundError):
                temp.chmod(stat.S_IMODE(path.stat().st_mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        temp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(directory)


class DocumentFiles:
    """The document files one command run writes into *out*, each with :func:`write_atomic`.

    It refuses to lose a document: two documents of a run never land in one file (a file
    system that ignores case makes ``ACME.json`` and ``acme.json`` one file), and an issued
    document already written with other content is not replaced; written with the same
    content (a rerun after a crash), it is left alone. *written* lists the paths in order.

    >>> import tempfile
    >>> files = DocumentFiles(Path(tempfile.mkdtemp()))
    >>> files.put("INV-2026-0001.json", b"{}", issued="INV-2026-0001")
    >>> files.put("INV-2026-0001.json", b"{}", issued="INV-2026-0001")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.InvoiceError: ... is the file INV-2026-0001.json this run already wrote ...
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []
        self._files: dict[tuple[int, int], Path] = {}

    def put(self, name: str, data: bytes, *, issued: str | None = None) -> None:
        """Write *data* as *name*; *issued* is the number of an issued document."""
        path = self.out / name
        old = _stat(path)
        if old is not None and (old.st_dev, old.st_ino) in self._files:
            raise InvoiceError(
                f"{path} is the file {self._files[old.st_dev, old.st_ino].name} this run "
                "already wrote (two names for one file: a file system that ignores case, or "
                "a link); write these documents to separate directories"
            )
        if issued is not None and old is not None:
            if path.read_bytes() != data:
                raise InvoiceError(
                    f"{path}: {issued} was already written with other content; an issued "
                    "document is not rewritten (its usage, customer or options changed "
                    "since): void it and issue a correction, or write to another --out "
                    "directory"
                )
        else:
            write_atomic(path, data)
        new = path.stat()
        self._files[new.st_dev, new.st_ino] = path
        self.written.append(path)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _create_temp(directory: Path, name: str) -> tuple[Path, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = directory / f".{name[:64]}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits met an existing file
            continue


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; a no-op where directories cannot be opened (Windows)."""
    if os.name == "nt":  # pragma: no cover - no directory handles to fsync
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:  # pragma: no cover - file systems that cannot sync a directory
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)

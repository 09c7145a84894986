"""A real PostgreSQL server for the tests: the ``postgres_dsn`` and ``postgres_database`` fixtures.

``postgres_dsn`` (one per session) decides in this order:

1. ``CLOUDRATE_TEST_POSTGRES_DSN`` is set: use that server (CI starts one in ``.ci/run``). A
   server that does not answer fails the tests: it was asked for.
2. Otherwise start a throwaway server with ``scripts/postgres-server`` in a temporary directory,
   on a free port, and stop it (and delete the directory) when the session ends.
3. When PostgreSQL cannot run here (psycopg not installed, no server binaries, no bash, root
   without a ``postgres`` user), skip the tests that need it, or fail them when
   ``CLOUDRATE_REQUIRE_POSTGRES=1`` is set, so that CI can never skip them silently.

``postgres_database`` (one per test) creates a fresh database on that server, returns its DSN
and drops it after the test.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal, NoReturn
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest

DSN_VARIABLE = "CLOUDRATE_TEST_POSTGRES_DSN"
REQUIRE_VARIABLE = "CLOUDRATE_REQUIRE_POSTGRES"
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "postgres-server"
DATABASE_PREFIX = "cloudrate_t_"

# Exit codes of scripts/postgres-server.
_UNAVAILABLE = 3
_PORT_IN_USE = 4
_START_ATTEMPTS = 5
_SCRIPT_TIMEOUT = 120  # seconds; a start takes well under 2

_counter = itertools.count(1)


class UnavailableError(Exception):
    """PostgreSQL cannot run here: the tests that need it skip, or fail when it is required."""


class PortInUseError(Exception):
    """The port chosen for the throwaway server was taken in the meantime."""


def required(environ: Mapping[str, str]) -> bool:
    """Whether the PostgreSQL tests must run (``CLOUDRATE_REQUIRE_POSTGRES=1``), never skip."""
    return environ.get(REQUIRE_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def outcome(reason: str, environ: Mapping[str, str]) -> tuple[Literal["skip", "fail"], str]:
    """What to do when PostgreSQL is unavailable for ``reason``: skip, or fail when required."""
    if required(environ):
        return "fail", f"PostgreSQL is required ({REQUIRE_VARIABLE}=1) but unavailable: {reason}"
    return "skip", (
        f"PostgreSQL unavailable: {reason} (set {DSN_VARIABLE} to use a running server; "
        f"{REQUIRE_VARIABLE}=1 makes this a failure)"
    )


def unavailable(reason: str, environ: Mapping[str, str]) -> NoReturn:
    """Skip the test, or fail it when PostgreSQL is required."""
    kind, message = outcome(reason, environ)
    if kind == "fail":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def with_dbname(dsn: str, dbname: str) -> str:
    """``dsn`` naming the database ``dbname`` instead, in the same form (URL or key=value)."""
    parts = urlsplit(dsn)
    if parts.scheme in {"postgresql", "postgres"}:
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "dbname"])
        return urlunsplit(parts._replace(path="/" + quote(dbname, safe=""), query=query))
    from psycopg.conninfo import make_conninfo  # psycopg is optional: import it only here

    return make_conninfo(dsn, dbname=dbname)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _check_psycopg() -> None:
    try:
        import psycopg  # noqa: F401 - only to know whether it imports
    except ImportError as exc:
        raise UnavailableError(
            f"psycopg is not installed ({exc}); install it with pip install -e '.[postgres]'"
        ) from exc


def _script(args: list[str], environ: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash", path=environ.get("PATH"))
    if bash is None:
        raise UnavailableError(f"{SCRIPT.name} needs bash, which is not on PATH")
    return subprocess.run(
        [bash, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=dict(environ),
        timeout=_SCRIPT_TIMEOUT,
        check=False,
    )


def start_server(directory: Path, port: int, environ: Mapping[str, str]) -> str:
    """Start a throwaway server in ``directory`` on ``port`` and return its DSN."""
    result = _script(["start", str(directory), str(port)], environ)
    message = result.stderr.strip()
    if result.returncode == _UNAVAILABLE:
        raise UnavailableError(message.removeprefix("postgres-server: "))
    if result.returncode == _PORT_IN_USE:
        raise PortInUseError(message)
    if result.returncode != 0:
        raise RuntimeError(f"{SCRIPT} start failed (exit {result.returncode}):\n{message}")
    return result.stdout.strip().splitlines()[-1]


def stop_server(directory: Path, environ: Mapping[str, str]) -> None:
    """Stop the server in ``directory`` (if one was created) and delete the directory."""
    if (directory / "data" / "PG_VERSION").exists():
        result = _script(["stop", str(directory)], environ)
        if result.returncode != 0:
            raise RuntimeError(
                f"{SCRIPT} stop failed (exit {result.returncode}), {directory} kept:\n"
                f"{result.stderr.strip()}"
            )
    shutil.rmtree(directory, ignore_errors=True)


def _temporary_directory() -> Path:
    # Run as root, the server runs as the postgres user, who must reach the directory: /tmp is
    # searchable by everyone, a TMPDIR may not be. Short names keep the socket path short.
    parent = "/tmp" if os.geteuid() == 0 and Path("/tmp").is_dir() else None
    return Path(tempfile.mkdtemp(prefix="cloudrate-pg-", dir=parent))


def _check_connects(dsn: str) -> None:
    import psycopg  # psycopg is optional: import it only here

    try:
        with psycopg.connect(dsn, connect_timeout=10) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.fail(f"{DSN_VARIABLE}={dsn}: cannot connect: {exc}", pytrace=False)


def _start_throwaway(request: pytest.FixtureRequest, environ: Mapping[str, str]) -> str:
    directory = _temporary_directory()
    request.addfinalizer(lambda: stop_server(directory, environ))
    for _ in range(_START_ATTEMPTS):
        try:
            return start_server(directory, free_port(), environ)
        except PortInUseError:
            continue  # taken between free_port() and the server's bind: try another
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
    pytest.fail(f"no free port for PostgreSQL after {_START_ATTEMPTS} attempts", pytrace=False)


def session_dsn(request: pytest.FixtureRequest, environ: Mapping[str, str] = os.environ) -> str:
    """The DSN of the session's server: the configured one, or a throwaway one started here."""
    try:
        _check_psycopg()
        configured = environ.get(DSN_VARIABLE, "").strip()
        if configured:
            _check_connects(configured)
            return configured
        return _start_throwaway(request, environ)
    except UnavailableError as exc:
        reason = str(exc)
    unavailable(reason, environ)  # outside the except: no chained traceback in the report


def fresh_database(server_dsn: str) -> Iterator[str]:
    """Create a uniquely named database on the server, yield its DSN, then drop it."""
    import psycopg  # psycopg is optional: import it only here
    from psycopg import errors, sql

    with psycopg.connect(server_dsn, autocommit=True) as connection:
        while True:
            # The process id keeps concurrent runs (xdist, two developers) on one server apart.
            name = f"{DATABASE_PREFIX}{os.getpid()}_{next(_counter)}"
            try:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                break
            except errors.DuplicateDatabase:
                continue  # left over from a killed run with the same process id
    try:
        yield with_dbname(server_dsn, name)
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as connection:
            drop = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
            try:
                # FORCE ends connections a test left open (PostgreSQL 13 and later).
                connection.execute(drop + sql.SQL(" WITH (FORCE)"))
            except errors.SyntaxError:
                connection.execute(drop)

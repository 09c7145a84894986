"""The PostgreSQL fixtures: a real server, a fresh database per test, and when to skip or fail."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests import _postgres


def test_a_row_written_in_one_connection_is_read_in_another(postgres_database: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres_database) as writer:
        writer.execute("CREATE TABLE invoice (number text PRIMARY KEY, total numeric NOT NULL)")
        writer.execute("INSERT INTO invoice VALUES (%s, %s)", ("2026-0001", "12.53"))
    # A second connection, hence a second server backend, sees the committed row.
    with psycopg.connect(postgres_database) as reader:
        rows = reader.execute("SELECT number, total::text FROM invoice").fetchall()
        backends = reader.execute("SELECT count(*) FROM pg_stat_activity").fetchone()
        version = reader.execute("SHOW server_version_num").fetchone()
    assert rows == [("2026-0001", "12.53")]
    assert backends is not None and backends[0] >= 1
    assert version is not None and int(version[0]) >= 130000


def test_the_database_is_fresh_and_utf8(postgres_database: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres_database) as connection:
        name, encoding = connection.execute(
            "SELECT current_database(), pg_encoding_to_char(encoding) FROM pg_database"
            " WHERE datname = current_database()"
        ).fetchone()
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert connection.execute("SELECT %s::text", ("Ünïcode ￥",)).fetchone() == ("Ünïcode ￥",)
    assert name.startswith(_postgres.DATABASE_PREFIX)
    assert encoding == "UTF8"
    assert tables == (0,)


@pytest.fixture
def second_database(postgres_dsn: str) -> Iterator[str]:
    yield from _postgres.fresh_database(postgres_dsn)


def test_two_databases_are_isolated(postgres_database: str, second_database: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    assert postgres_database != second_database
    with psycopg.connect(postgres_database) as first:
        first.execute("CREATE TABLE account (name text)")
        first.execute("INSERT INTO account VALUES ('acme')")
    with psycopg.connect(second_database) as second:
        exists = second.execute("SELECT to_regclass('public.account') IS NOT NULL").fetchone()
        second.execute("CREATE TABLE account (name text)")  # no clash with the first database
    assert exists == (False,)


def test_the_database_is_dropped_after_the_test(postgres_dsn: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    databases = _postgres.fresh_database(postgres_dsn)
    dsn = next(databases)
    with psycopg.connect(dsn) as connection:
        name = connection.execute("SELECT current_database()").fetchone()
    left_open = psycopg.connect(dsn)  # a connection the test forgot: the drop still works
    with pytest.raises(StopIteration):
        next(databases)
    with pytest.raises(psycopg.OperationalError):
        left_open.execute("SELECT 1")  # ended by DROP DATABASE ... WITH (FORCE)
    left_open.close()
    with psycopg.connect(postgres_dsn) as server:
        found = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", name).fetchall()
    assert found == []


# The decision when PostgreSQL is unavailable, and the helpers: no server needed.


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_required_fails_instead_of_skipping(value: str) -> None:
    kind, message = _postgres.outcome("no initdb", {_postgres.REQUIRE_VARIABLE: value})
    assert kind == "fail"
    assert "no initdb" in message and _postgres.REQUIRE_VARIABLE in message


@pytest.mark.parametrize("environ", [{}, {"CLOUDRATE_REQUIRE_POSTGRES": "0"}, {"X": "1"}])
def test_not_required_skips(environ: dict[str, str]) -> None:
    kind, message = _postgres.outcome("no initdb", environ)
    assert kind == "skip"
    assert "no initdb" in message and _postgres.DSN_VARIABLE in message


def test_unavailable_raises_skip_or_fail() -> None:
    with pytest.raises(pytest.skip.Exception, match="unavailable: psycopg"):
        _postgres.unavailable("psycopg is not installed", {})
    with pytest.raises(pytest.fail.Exception, match="required"):
        _postgres.unavailable("psycopg is not installed", {_postgres.REQUIRE_VARIABLE: "1"})


def test_missing_binaries_are_unavailable_not_an_error(tmp_path: Path) -> None:
    environ = {**os.environ, "POSTGRES_BINDIR": str(tmp_path / "nowhere")}
    with pytest.raises(_postgres.UnavailableError, match="does not hold initdb"):
        _postgres.start_server(tmp_path / "cluster", _postgres.free_port(), environ)
    assert not (tmp_path / "cluster").exists()


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:55432/cloudrate_test",
            "postgresql://postgres@127.0.0.1:55432/cloudrate_t_1",
        ),
        ("postgres://u:p@db/x?sslmode=disable", "postgres://u:p@db/cloudrate_t_1?sslmode=disable"),
        (
            "postgresql://h/x?dbname=y&connect_timeout=3",
            "postgresql://h/cloudrate_t_1?connect_timeout=3",
        ),
        ("postgresql://h", "postgresql://h/cloudrate_t_1"),
    ],
)
def test_with_dbname_keeps_a_url_a_url(dsn: str, expected: str) -> None:
    assert _postgres.with_dbname(dsn, "cloudrate_t_1") == expected


def test_with_dbname_on_key_value_dsn() -> None:
    conninfo = pytest.importorskip("psycopg.conninfo", exc_type=ImportError)
    dsn = _postgres.with_dbname("host=127.0.0.1 port=5 dbname=x user=postgres", "cloudrate_t_1")
    assert conninfo.conninfo_to_dict(dsn) == {
        "host": "127.0.0.1",
        "port": "5",
        "dbname": "cloudrate_t_1",
        "user": "postgres",
    }

"""The service over real HTTP: uvicorn in a thread on a free port of 127.0.0.1, one
SQLite store, a tenant hook that reads the ``X-Tenant`` header (as a host's session
would), and an httpx client per tenant."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request

import cloudrate
from cloudrate.billing import SQLiteDocumentStore
from cloudrate.exceptions import NotFoundError
from cloudrate.server import create_app

#: The body limit of the test server: small, so the 413 test sends little.
MAX_BODY = 2 * 2**20


def tenant_of(request: Request) -> str:
    """The host's hook: the tenant its session names (here a header); none is refused."""
    tenant = request.headers.get("x-tenant")
    if not tenant:
        raise NotFoundError("no tenant: sign in first", path="X-Tenant")
    return tenant


def sample_usage() -> list[dict[str, Any]]:
    """The sample month's usage as JSON lines records (what a portal would send)."""
    return [r.to_dict() for r in cloudrate.read_usage(cloudrate.sample_usage_path())]


def sample_plan_text() -> str:
    return cloudrate.sample_plan_path().read_text(encoding="utf-8")


class Server:
    def __init__(self, store_path: Path) -> None:
        self.store = SQLiteDocumentStore(store_path)
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        self.app = create_app(
            store=self.store, plans={plan.name: plan}, tenant=tenant_of, max_body=MAX_BODY
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.store.close()


@pytest.fixture(scope="session", name="server")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("server") / "billing.db") as running:
        yield running


def client(server: Server, tenant: str | None) -> httpx.Client:
    headers = {} if tenant is None else {"X-Tenant": tenant}
    return httpx.Client(base_url=server.url, headers=headers, timeout=60)


@pytest.fixture(name="http")
def _http(server: Server) -> Iterator[httpx.Client]:
    with client(server, "acme-portal") as c:
        yield c


def is_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem document of *response*, checked to be one of *status* and *code*."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    data: dict[str, Any] = json.loads(response.content)
    assert data["status"] == status and data["code"] == code, data
    return data

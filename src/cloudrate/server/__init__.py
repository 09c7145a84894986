"""cloudrate as an HTTP service: an ASGI application a portal mounts in its own FastAPI or
Starlette app, or runs alone with ``cloudrate serve``.

Requires ``pip install 'cloudrate[server]'`` (Starlette; uvicorn for ``cloudrate serve``).
Endpoints are under ``/v1`` and described by ``/v1/openapi.json``; every error is
``application/problem+json`` (RFC 9457) with cloudrate's stable error code. See
docs/server.md.

>>> from starlette.testclient import TestClient
>>> client = TestClient(create_app())
>>> client.get("/v1/openapi.json").json()["openapi"]
'3.1.0'
>>> answer = client.post("/v1/plans/check", json={"plan": "name: p\\ncurrency: EURO\\n"})
>>> answer.status_code, answer.headers["content-type"], answer.json()["code"]
(422, 'application/problem+json', 'invalid_document')

.. versionadded:: 0.2
"""

from ._app import DEFAULT_MAX_BODY, TenantHook, create_app
from ._errors import SERVICE_CODES, STATUS, problem, status_of
from ._openapi import openapi

__all__ = [
    "DEFAULT_MAX_BODY",
    "SERVICE_CODES",
    "STATUS",
    "TenantHook",
    "create_app",
    "openapi",
    "problem",
    "status_of",
]

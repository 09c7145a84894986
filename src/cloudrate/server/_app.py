"""The ASGI application: routes from the table, the tenant hook, body limits, and every
failure as ``application/problem+json``."""

from __future__ import annotations

import decimal
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cloudrate._money import EXACT
from cloudrate.billing import DocumentStore
from cloudrate.exceptions import CloudrateError, OptionError, WrongTypeError
from cloudrate.plans import Plan

from ._errors import MEDIA_TYPE, problem, service_problem
from ._input import Fields, parse_json
from ._openapi import PREFIX, openapi
from ._routes import ROUTES, Endpoint
from ._service import Call, Reply, Service

__all__ = ["DEFAULT_MAX_BODY", "TenantHook", "create_app"]

#: The largest request body taken by default: 8 MiB (about 40,000 usage records).
DEFAULT_MAX_BODY = 8 * 2**20

#: The host's hook: the tenant of a request (from its session, token, host name...).
TenantHook = Callable[[Request], str]

_log = logging.getLogger("cloudrate.server")


class _TooLargeError(Exception):
    pass


def _json(data: Any, status: int, media_type: str = "application/json") -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status, media_type=media_type)


def _problem(data: dict[str, Any]) -> Response:
    return _json(data, int(data["status"]), MEDIA_TYPE)


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLargeError
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def _run(endpoint: Endpoint, call: Call) -> Reply:
    with decimal.localcontext(EXACT):
        return endpoint.handler(call)


def _tenant_of(hook: TenantHook, request: Request) -> str:
    tenant = hook(request)
    if not isinstance(tenant, str) or not tenant:
        raise WrongTypeError(f"the tenant hook returned {tenant!r}; it must return a non-empty str")
    return tenant


def _endpoint(
    endpoint: Endpoint, service: Service, hook: TenantHook, limit: int
) -> Callable[[Request], Awaitable[Response]]:
    async def answer(request: Request) -> Response:
        where = request.url.path
        try:
            tenant = _tenant_of(hook, request)
            body: Any = None
            if endpoint.body is not None:
                raw = await _read(request, limit)
                kind = request.headers.get("content-type", "application/json")
                if raw.strip() and "json" not in kind.lower():
                    return _problem(
                        service_problem(
                            "unsupported_media_type",
                            f"got a body of {kind!r}; send application/json",
                            where,
                        )
                    )
                body = parse_json(raw) if raw.strip() else None
            call = Call(
                service=service,
                tenant=tenant,
                body=Fields(body, "body"),
                query=Fields(dict(request.query_params), "query"),
                params=dict(request.path_params),
            )
            reply = await run_in_threadpool(_run, endpoint, call)
        except _TooLargeError:
            detail = f"the body is over the {limit} bytes this service takes"
            return _problem(service_problem("request_too_large", detail, where))
        except CloudrateError as exc:
            return _problem(problem(exc, where))
        except Exception as exc:  # a bug: one problem document, logged with its traceback
            _log.exception("cloudrate.server: internal error on %s %s", request.method, where)
            detail = f"{type(exc).__name__}: {exc}"
            return _problem(service_problem("internal_error", detail, where))
        if isinstance(reply.data, bytes):
            return Response(reply.data, status_code=reply.status, media_type=reply.media_type)
        return _json(reply.data, reply.status)

    answer.__name__ = endpoint.operation_id
    return answer


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "route_not_found", 405: "method_not_allowed"}.get(status, "internal_error")
    detail = {
        404: f"no endpoint {request.url.path}; the endpoints are in {PREFIX}/openapi.json",
        405: f"{request.method} is not an operation of {request.url.path}",
    }.get(status, str(getattr(exc, "detail", exc)))
    return _problem(service_problem(code, detail, request.url.path, status=status))


async def _openapi(request: Request) -> Response:  # noqa: ARG001 - Starlette's signature
    return _json(openapi(), 200)


def _default_tenant(request: Request) -> str:  # noqa: ARG001 - the hook's signature
    return "default"


def create_app(
    *,
    store: DocumentStore | None = None,
    plans: Mapping[str, Plan] | None = None,
    tenant: TenantHook | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The cloudrate service as an ASGI application (Starlette), to mount in a host's
    FastAPI or Starlette app or to run alone (``cloudrate serve``).

    Args:
        store: the document store billing runs, documents, payments, events and budget
            alerts use (None: those endpoints answer 404 ``not_found``).
        plans: plans requests may name with ``plan_name`` instead of sending one.
        tenant: the host's hook giving each request's tenant; every store read and write
            is that tenant's only. By default every request is tenant ``"default"``.
        max_body: the largest request body, in bytes (413 ``request_too_large`` above).
        clock: the host's clock, for requests that leave out ``on``/``today``/``now``;
            without one they must give them (nothing reads the clock on its own).
    """
    if not isinstance(max_body, int) or max_body < 1:
        raise OptionError(
            f"max_body: a number of bytes, 1 or more (got {max_body!r})", path="max_body"
        )
    service = Service(store=store, plans=dict(plans or {}), clock=clock)
    hook = tenant or _default_tenant
    routes = [Route(f"{PREFIX}/openapi.json", _openapi, methods=["GET"])]
    routes.extend(
        Route(
            PREFIX + e.path,
            _endpoint(e, service, hook, max_body),
            methods=[e.method],
            name=e.operation_id,
        )
        for e in ROUTES
    )
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})

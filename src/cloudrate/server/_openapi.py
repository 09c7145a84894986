"""The OpenAPI 3.1 document of the service, written from the route table.

Answers refer to the JSON Schemas cloudrate ships (:mod:`cloudrate.schemas`): each is a
component under its own name, its ``$defs`` lifted to components named
``<schema>.<def>`` (so every tool resolves the references the same way).

>>> doc = openapi()
>>> doc["openapi"], doc["paths"]["/v1/rate"]["post"]["responses"]["200"]["content"][
...     "application/json"]["schema"]
('3.1.0', {'$ref': '#/components/schemas/rating'})
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any

from cloudrate import schemas

from ._errors import MEDIA_TYPE
from ._routes import ANSWER_COMPONENTS, REQUEST_COMPONENTS, ROUTES, Endpoint

__all__ = ["PREFIX", "component", "openapi"]

PREFIX = "/v1"
_DEFS = re.compile(r"^#/\$defs/(.+)$")


def _lift(name: str, node: Any) -> Any:
    """*node* with its ``#/$defs/x`` references pointing at ``<name>.x`` components."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            found = _DEFS.match(value) if key == "$ref" and isinstance(value, str) else None
            out[key] = (
                f"#/components/schemas/{name}.{found.group(1)}" if found else _lift(name, value)
            )
        return out
    if isinstance(node, list):
        return [_lift(name, item) for item in node]
    return node


def component(name: str) -> dict[str, dict[str, Any]]:
    """The components of the shipped schema *name*: itself and its lifted ``$defs``.

    >>> sorted(component("check"))[:2]
    ['check', 'check.count']
    """
    schema = schemas.schema(name)
    defs = schema.pop("$defs", {})
    schema.pop("$id", None)
    schema.pop("$schema", None)
    out = {name: _lift(name, schema)}
    out.update({f"{name}.{key}": _lift(name, value) for key, value in defs.items()})
    return out


def _parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", endpoint.path)
    ]
    params.extend(
        {"name": name, "in": "query", "required": name in endpoint.required_query, "schema": s}
        for name, s in endpoint.query.items()
    )
    return params


def _answer_schema(endpoint: Endpoint) -> dict[str, Any]:
    if isinstance(endpoint.answer, str):
        return {"$ref": f"#/components/schemas/{endpoint.answer}"}
    return endpoint.answer


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    problem = {"content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/problem"}}}}
    responses: dict[str, Any] = {
        str(endpoint.status): {
            "description": endpoint.summary,
            "content": {endpoint.media_type: {"schema": _answer_schema(endpoint)}},
        }
    }
    if endpoint.status == 201:  # Pay Now again with the same key: the same attempt
        responses["200"] = responses["201"]
    for status in (*endpoint.errors, 500, 503):
        responses[str(status)] = {"description": "a problem (RFC 9457)", **problem}
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": _parameters(endpoint),
        "responses": responses,
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": endpoint.body}},
        }
    return operation


@functools.cache
def _document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ROUTES:
        paths.setdefault(PREFIX + endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    components: dict[str, Any] = {}
    for name in schemas.NAMES:
        components.update(component(name))
    components.update(REQUEST_COMPONENTS)
    components.update(ANSWER_COMPONENTS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cloudrate",
            "version": "1",
            "description": "Rate cloud usage and bill it (docs/server.md). Amounts and "
            "quantities are decimal strings; errors are application/problem+json.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": components},
    }


def openapi() -> dict[str, Any]:
    """The OpenAPI document (a fresh copy)."""
    return copy.deepcopy(_document())

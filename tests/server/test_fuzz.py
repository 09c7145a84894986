"""The service fuzzed from its own OpenAPI document (schemathesis): whatever a client
sends, the answer is never a 500 and always matches the schema the document gives for
its status (a shipped document schema, or problem+json)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cloudrate.server import openapi

from .conftest import Server

schema = schemathesis.openapi.from_dict(openapi())
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_500_and_answers_match_the_schema(case: schemathesis.Case, server: Server) -> None:
    """Every generated request of every operation gets an answer the document allows."""
    response = case.call(base_url=server.url, headers={"X-Tenant": "fuzz"}, timeout=60)
    case.validate_response(response, checks=CHECKS)

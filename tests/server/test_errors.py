"""Errors as application/problem+json: one status per code, from docs/errors.md."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import httpx
import jsonschema
import pytest

import cloudrate
from cloudrate import schemas
from cloudrate.exceptions import CloudrateError
from cloudrate.server import SERVICE_CODES, STATUS, openapi, problem, status_of
from cloudrate.server._openapi import component

from .conftest import MAX_BODY, Server, client, is_problem, sample_plan_text, sample_usage

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text(encoding="utf-8")


def _classes() -> list[type[CloudrateError]]:
    for module in pkgutil.walk_packages(cloudrate.__path__, "cloudrate."):
        if module.name != "cloudrate._hypothesis":
            importlib.import_module(module.name)
    found, todo = set(), [CloudrateError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=str)


def test_status_mapping_is_the_documented_table() -> None:
    """STATUS is exactly the "HTTP" column of docs/errors.md."""
    section = DOCS.split("## Error classes", 1)[1].split("\n## ", 1)[0]
    table = {
        code: int(status)
        for code, status in re.findall(r"^\| `([a-z_]+)` \| `\w+` \| (\d{3}) \|", section, re.M)
    }
    assert table == STATUS


def _instance(cls: type[CloudrateError]) -> CloudrateError:
    """An error of *cls* built without its own constructor's arguments."""
    exc = cls.__new__(cls)
    CloudrateError.__init__(exc, "something was refused", path="here", fix="do it right")
    exc.problems = ()  # type: ignore[attr-defined]
    return exc


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.__qualname__)
def test_every_error_class_has_its_documented_status(cls: type[CloudrateError]) -> None:
    """Each class answers its code's status, in a problem document its schema allows."""
    exc = _instance(cls)
    assert status_of(exc) == STATUS[cls.code]
    document = problem(exc, "/v1/rate")
    jsonschema.validate(document, schemas.schema("problem"))
    assert document["type"].endswith(cls.code) and document["detail"] == str(exc)
    assert document["fix"] == "do it right" and document["path"] == "here"


def test_a_finer_code_keeps_its_class_status() -> None:
    from cloudrate.exceptions import BillingError

    assert status_of(BillingError("no", code="period_closed")) == 422


class TestOverHttp:
    def test_too_large(self, http: httpx.Client) -> None:
        """A body over the limit is 413, declared or streamed."""
        big = b'{"usage": [' + b" " * MAX_BODY + b"]}"
        is_problem(
            http.post("/v1/rate", content=big, headers={"content-type": "application/json"}),
            413,
            "request_too_large",
        )

        def chunks():  # no Content-Length: the stream is counted
            for _ in range(MAX_BODY // 65536 + 2):
                yield b" " * 65536

        is_problem(
            http.post("/v1/rate", content=chunks(), headers={"content-type": "application/json"}),
            413,
            "request_too_large",
        )

    def test_not_json(self, http: httpx.Client) -> None:
        is_problem(
            http.post("/v1/rate", content=b"plan: x", headers={"content-type": "text/yaml"}),
            415,
            "unsupported_media_type",
        )
        bad = is_problem(
            http.post(
                "/v1/rate", content=b'{"plan": ', headers={"content-type": "application/json"}
            ),
            422,
            "invalid_document",
        )
        assert bad["problems"][0]["code"] == "bad_json"

    def test_routes_and_methods(self, http: httpx.Client) -> None:
        is_problem(http.get("/v1/nothing"), 404, "route_not_found")
        is_problem(http.delete("/v1/rate"), 405, "method_not_allowed")

    def test_every_field_problem_at_once(self, http: httpx.Client) -> None:
        body = {"usage": "x", "period": 5, "strict": "yes", "colour": "red"}
        data = is_problem(http.post("/v1/rate", json=body), 422, "invalid_document")
        assert {p["path"]: p["code"] for p in data["problems"]} == {
            "plan": "missing",
            "usage": "not_a_list",
            "period": "not_text",
            "strict": "bad_value",
            "colour": "unknown_key",
        }

    def test_bad_usage_records_are_named(self, http: httpx.Client) -> None:
        usage = sample_usage()[:3]
        usage[1] = {**usage[1], "quantity": "-x"}
        data = is_problem(
            http.post("/v1/rate", json={"plan": sample_plan_text(), "usage": usage}),
            422,
            "invalid_document",
        )
        assert [(p["path"], p["code"]) for p in data["problems"]] == [("usage[1]", "bad_record")]

    def test_rating_refused_and_unpriced(self, http: httpx.Client) -> None:
        plan, usage = sample_plan_text(), sample_usage()
        is_problem(
            http.post("/v1/rate", json={"plan": plan, "usage": usage, "period": "2026-09"}),
            422,
            "rating_refused",
        )
        odd = [{**usage[0], "metric": "gpu_hours"}]
        is_problem(
            http.post("/v1/rate", json={"plan": plan, "usage": odd, "strict": True}),
            422,
            "unpriced_usage",
        )

    def test_conflict_and_not_found(self, server: Server) -> None:
        with client(server, "errors-tenant") as http:
            http.post(
                "/v1/billing-runs",
                json={"plan": sample_plan_text(), "usage": sample_usage(), "period": "2026-10"},
            )
            http.post("/v1/documents/INV-2026-0001/pay-now", json={"key": "k", "on": "2026-11-02"})
            other = http.post(
                "/v1/documents/INV-2026-0002/pay-now", json={"key": "k", "on": "2026-11-02"}
            )
            assert other.status_code in (409, 422), other.text
            is_problem(http.get("/v1/documents/INV-2099-0001"), 404, "not_found")
            is_problem(
                http.post("/v1/payments/none/succeed", json={"on": "2026-11-02"}), 404, "not_found"
            )
            is_problem(http.post("/v1/rate", json={"plan_name": "nope"}), 404, "not_found")


def test_service_codes_are_problems() -> None:
    for code, (status, _) in SERVICE_CODES.items():
        assert 400 <= status <= 599, code


def test_openapi_refers_to_the_shipped_schemas() -> None:
    """Each shipped schema is a component of the OpenAPI document (its $defs lifted), and
    the answers refer to them: the rating, invoices, events, problems..."""
    doc = openapi()
    parts = doc["components"]["schemas"]
    for name in schemas.NAMES:
        for key, value in component(name).items():
            assert parts[key] == value
    refs = set(re.findall(r'"#/components/schemas/([\w.]+)"', str(doc).replace("'", '"')))
    assert {
        "rating",
        "invoice",
        "credit_note",
        "usage_view",
        "billing_overview",
        "event",
        "billing_run",
        "check",
        "estimate",
        "problem",
        "payment_attempt",
        "invoice_statistics",
    } <= refs
    for ref in refs:
        assert ref in parts, ref
    jsonschema.Draft202012Validator.check_schema(parts["rating"])


def test_openapi_is_served(http: httpx.Client) -> None:
    assert http.get("/v1/openapi.json").json() == openapi()


@pytest.mark.parametrize(
    "body", [{"plan_name": None}, {}, {"plan": None}, {"plan": None, "plan_name": None}]
)
def test_a_request_without_a_plan_is_refused_as_such(body: dict[str, object]) -> None:
    """Found by the fuzzer: a null plan_name reached an assertion (a 500)."""
    from starlette.testclient import TestClient

    from cloudrate.server import create_app

    with TestClient(create_app(tenant=lambda _request: "t")) as client:
        answer = client.post("/v1/plans/check", json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [p["path"] for p in answer.json()["problems"]] == ["plan"]

"""Each endpoint over real HTTP, against what the library (or the CLI) gives for the
same input, and each answer against its shipped schema."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from click.testing import CliRunner

import cloudrate
from cloudrate import schemas
from cloudrate.cli import main
from cloudrate.invoice import assemble_all
from cloudrate.portal.estimation import estimate, instance_usage
from cloudrate.portal.usage_view import DateRange, billing_overview, usage_view

from .conftest import Server, client, is_problem, sample_plan_text, sample_usage

PLAN = sample_plan_text()
USAGE = sample_usage()


def valid(name: str, document: Any) -> Any:
    jsonschema.validate(document, schemas.schema(name), jsonschema.Draft202012Validator)
    return document


@pytest.fixture(scope="module", name="library")
def _library() -> tuple[cloudrate.Plan, list[cloudrate.UsageRecord]]:
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    return plan, list(cloudrate.read_usage(cloudrate.sample_usage_path()))


class TestRating:
    def test_rate_is_what_the_cli_prints(self, http: httpx.Client, tmp_path: Path) -> None:
        """POST /v1/rate answers the very document `cloudrate rate --json` prints."""
        lines = tmp_path / "usage.jsonl"
        lines.write_text("".join(json.dumps(r) + "\n" for r in USAGE), encoding="utf-8")
        printed = (
            CliRunner()
            .invoke(
                main,
                [
                    "rate",
                    "--plan",
                    str(cloudrate.sample_plan_path()),
                    "--usage",
                    str(lines),
                    "--period",
                    "2026-10",
                    "--json",
                ],
            )
            .stdout
        )
        answer = http.post("/v1/rate", json={"plan": PLAN, "usage": USAGE, "period": "2026-10"})
        assert answer.status_code == 200
        assert answer.text == printed
        valid("rating", answer.json())

    def test_plan_as_json_or_by_name(self, http: httpx.Client, library: Any) -> None:
        """The plan's JSON form and the host's plan by name rate the same."""
        plan, _ = library
        by_text = http.post("/v1/rate", json={"plan": PLAN, "usage": USAGE}).json()
        as_json = http.post("/v1/rate", json={"plan": plan.to_dict(), "usage": USAGE}).json()
        named = http.post("/v1/rate", json={"plan_name": plan.name, "usage": USAGE}).json()
        assert by_text == as_json == named

    def test_a_plan_file_name_is_not_opened(self, http: httpx.Client) -> None:
        """Plan text that looks like a file name is YAML text, never a file read."""
        answer = http.post("/v1/rate", json={"plan": str(cloudrate.sample_plan_path())})
        data = is_problem(answer, 422, "invalid_document")
        assert "unreadable" not in {p["code"] for p in data["problems"]}

    def test_check(self, http: httpx.Client, tmp_path: Path) -> None:
        """A valid plan is described as `check --json` does; an invalid one gets every
        problem, with the codes `check --json` gives."""
        answer = valid("check", http.post("/v1/plans/check", json={"plan": PLAN}).json())
        assert answer["charges"] == len(cloudrate.load_plan(PLAN).charges)
        bad = "name: x\ncurrency: EURO\ncharges:\n  - {name: a, metric: m, model: per_unitt}\n"
        (tmp_path / "bad.yaml").write_text(bad, encoding="utf-8")
        cli = json.loads(
            CliRunner().invoke(main, ["check", str(tmp_path / "bad.yaml"), "--json"]).stderr
        )
        data = is_problem(http.post("/v1/plans/check", json={"plan": bad}), 422, cli["code"])
        assert [p["code"] for p in data["problems"]] == [p["code"] for p in cli["problems"]]
        valid("problem", data)

    def test_estimate(self, http: httpx.Client, library: Any) -> None:
        plan, _ = library
        body = {
            "plan": PLAN,
            "period": "2026-11",
            "instance": {"vcpus": 2, "memory_gb": "4", "disk_gb": 50, "public_ips": 1},
        }
        answer = valid("estimate", http.post("/v1/estimate", json=body).json())
        month = cloudrate.BillingPeriod.month(2026, 11, plan.timezone)
        spec = instance_usage(vcpus=2, memory_gb=4, disk_gb=50, public_ips=1)
        assert answer == estimate(plan, spec, month).to_dict()

    def test_invoice_preview(self, http: httpx.Client, library: Any) -> None:
        plan, usage = library
        body = {
            "plan": PLAN,
            "usage": USAGE,
            "period": "2026-10",
            "tax_rate": "19",
            "customers": {"acme": {"name": "ACME GmbH", "country": "DE"}},
        }
        answer = http.post("/v1/invoices/preview", json=body).json()
        for invoice in answer["invoices"]:
            valid("invoice", invoice)
        from cloudrate.invoice import Customer, TaxRate

        drafts = assemble_all(
            cloudrate.rate(plan, usage, cloudrate.BillingPeriod.parse("2026-10", plan.timezone)),
            {"acme": Customer(id="acme", name="ACME GmbH", country="DE")},
            taxes=TaxRate(percent="19"),
        )
        assert answer["invoices"] == [d.to_dict() for d in drafts]

    @pytest.mark.parametrize(
        "preset", ["last_7_days", "last_month", "last_90_days", "month_to_date"]
    )
    def test_usage_view(self, http: httpx.Client, library: Any, preset: str) -> None:
        plan, usage = library
        body = {
            "plan": PLAN,
            "usage": USAGE,
            "account": "acme",
            "preset": preset,
            "today": "2026-11-03",
        }
        answer = valid("usage_view", http.post("/v1/usage-view", json=body).json())
        span = DateRange.preset_named(preset, today=date(2026, 11, 3), timezone=plan.timezone)  # type: ignore[arg-type]
        assert answer == usage_view(plan, usage, account="acme", date_range=span).to_dict()

    def test_billing_overview(self, server: Server, library: Any) -> None:
        plan, usage = library
        with client(server, "overview-tenant") as http:  # a tenant with no invoices
            body = {"plan": PLAN, "usage": USAGE, "account": "acme", "today": "2026-10-20"}
            answer = valid("billing_overview", http.post("/v1/billing-overview", json=body).json())
        expected = billing_overview(
            plan, usage, account="acme", today=date(2026, 10, 20), timezone=plan.timezone
        )
        assert answer == expected.to_dict()

    def test_budget_alerts_are_sent_once(self, server: Server) -> None:
        """The first check alerts; the same check again finds nothing new (the store's
        outbox remembers, for this tenant)."""
        body = {
            "plan": PLAN,
            "usage": USAGE,
            "account": "acme",
            "now": "2026-10-20T12:00:00+00:00",
            "budget": {"amount": "200"},
        }
        with client(server, "budget-tenant") as http:
            first = http.post("/v1/budget-alerts", json=body).json()["alerts"]
            again = http.post("/v1/budget-alerts", json=body).json()["alerts"]
            events = http.get("/v1/events").json()["events"]
        assert [(a["threshold"], a["basis"]) for a in first] == [
            ("50", "actual"),
            ("80", "forecast"),
            ("100", "forecast"),
        ]
        assert again == []
        assert sorted(e["subject"] for e in events) == sorted(
            f"acme/2026-10/{a['threshold']}" + ("/forecast" if a["basis"] == "forecast" else "")
            for a in first
        )


class TestBilling:
    def test_the_whole_cycle(self, server: Server) -> None:
        """Bill, list by tab, read as JSON and PDF, Pay Now, settle, statistics, events."""
        with client(server, "cycle-tenant") as http:
            run = http.post(
                "/v1/billing-runs", json={"plan": PLAN, "usage": USAGE, "period": "2026-10"}
            )
            summary = valid("billing_run", run.json())
            assert summary["issued"] == {"invoice": 3, "supplementary": 0, "credit_note": 0}
            again = http.post(
                "/v1/billing-runs", json={"plan": PLAN, "usage": USAGE, "period": "2026-10"}
            ).json()
            assert again["unchanged"] == 3
            number = summary["outcomes"][0]["documents"][0]["number"]
            on = {"on": "2026-11-05"}
            tab = http.get("/v1/customers/acme/documents", params={**on, "filter": "unpaid"})
            assert [i["number"] for i in tab.json()["invoices"]] == [number]
            pdf = http.get(f"/v1/documents/{number}/pdf", params={"locale": "en_US"})
            assert pdf.headers["content-type"] == "application/pdf"
            assert pdf.content.startswith(b"%PDF")
            pay = http.post(f"/v1/documents/{number}/pay-now", json={"key": "chk-1", **on})
            assert pay.status_code == 201
            attempt = valid("payment_attempt", pay.json())
            same = http.post(f"/v1/documents/{number}/pay-now", json={"key": "chk-1", **on})
            assert same.json() == attempt  # a double click
            paid = http.post("/v1/payments/chk-1/succeed", json=on).json()
            assert paid["state"] == "succeeded"
            document = valid("invoice", http.get(f"/v1/documents/{number}").json())
            assert document["status"] == "paid" and document["amount_due"] == "0.00"
            tabs = {
                w: [
                    i["number"]
                    for i in http.get(
                        "/v1/customers/acme/documents", params={**on, "filter": w}
                    ).json()["invoices"]
                ]
                for w in ("all", "unpaid", "paid")
            }
            assert tabs == {"all": [number], "unpaid": [], "paid": [number]}
            stats = valid(
                "invoice_statistics", http.get("/v1/customers/acme/statistics", params=on).json()
            )
            assert (stats["paid_count"], stats["unpaid_count"]) == (1, 0)
            events = http.get("/v1/events").json()["events"]
            for event in events:
                valid("event", event)
            assert [e["type"] for e in events] == ["invoice.finalised"] * 3 + ["invoice.paid"]
            ids = [e["id"] for e in events[:2]]
            assert http.post("/v1/events/acknowledge", json={"ids": ids}).json() == {
                "acknowledged": 2
            }
            assert len(http.get("/v1/events").json()["events"]) == 2

    def test_a_credit_note_as_json(self, server: Server) -> None:
        with client(server, "credit-tenant") as http:
            http.post("/v1/billing-runs", json={"plan": PLAN, "usage": USAGE, "period": "2026-10"})
            fewer = [
                r for r in USAGE if not (r["account"] == "acme" and r["metric"] == "vcpu_hours")
            ]
            run = http.post(
                "/v1/billing-runs",
                json={"plan": PLAN, "usage": fewer, "period": "2026-10", "issued_on": "2026-11-20"},
            ).json()
            (note,) = [d for o in run["outcomes"] for d in o["documents"]]
            assert note["kind"] == "credit_note"
            valid("credit_note", http.get(f"/v1/documents/{note['number']}").json())
            listed = http.get("/v1/customers/acme/documents", params={"on": "2026-11-21"}).json()
            assert [n["number"] for n in listed["credit_notes"]] == [note["number"]]
            is_problem(http.get(f"/v1/documents/{note['number']}/pdf"), 422, "invoice_refused")


class TestTenants:
    def test_one_tenant_never_sees_another(self, server: Server) -> None:
        """Two tenants bill the same usage into one store: each gets its own numbers from
        1, and sees only its own documents, events and payments."""
        seen = {}
        for tenant in ("tenant-a", "tenant-b"):
            with client(server, tenant) as http:
                run = http.post(
                    "/v1/billing-runs", json={"plan": PLAN, "usage": USAGE, "period": "2026-10"}
                ).json()
                seen[tenant] = [d["number"] for o in run["outcomes"] for d in o["documents"]]
        assert (
            seen["tenant-a"]
            == seen["tenant-b"]
            == ["INV-2026-0001", "INV-2026-0002", "INV-2026-0003"]
        )
        with client(server, "tenant-a") as a, client(server, "tenant-b") as b:
            a.post("/v1/documents/INV-2026-0001/pay-now", json={"key": "a-1", "on": "2026-11-02"})
            a.post("/v1/payments/a-1/succeed", json={"on": "2026-11-02"})
            assert a.get("/v1/documents/INV-2026-0001").json()["status"] == "paid"
            assert b.get("/v1/documents/INV-2026-0001").json()["status"] != "paid"
            is_problem(
                b.post("/v1/payments/a-1/succeed", json={"on": "2026-11-02"}), 404, "not_found"
            )
            events_a = a.get("/v1/events").json()["events"]
            events_b = b.get("/v1/events").json()["events"]
            assert {e["tenant"] for e in events_a} == {"tenant-a"}
            assert {e["tenant"] for e in events_b} == {"tenant-b"}
            assert "invoice.paid" not in {e["type"] for e in events_b}
            stolen = b.post("/v1/events/acknowledge", json={"ids": [e["id"] for e in events_a]})
            assert stolen.json() == {"acknowledged": 0}
            assert len(a.get("/v1/events").json()["events"]) == len(events_a)
            tab_b = b.get(
                "/v1/customers/acme/documents", params={"on": "2026-11-02", "filter": "paid"}
            ).json()
            assert tab_b["invoices"] == []
        with client(server, "tenant-c") as c:
            is_problem(c.get("/v1/documents/INV-2026-0001"), 404, "not_found")
            assert c.get("/v1/events").json()["events"] == []

    def test_no_tenant_is_refused(self, server: Server) -> None:
        """The host's hook refuses a request without a tenant, as a problem."""
        with client(server, None) as anonymous:
            is_problem(anonymous.get("/v1/events"), 404, "not_found")

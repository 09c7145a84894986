"""Every document cloudrate emits validates against its shipped JSON Schema."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate import schemas
from cloudrate.billing import (
    BillingRun,
    SQLiteDocumentStore,
    fail_payment,
    load_invoice,
    mark_overdue,
    pay_now,
    succeed_payment,
)
from cloudrate.cli import main
from cloudrate.exceptions import NotFoundError
from cloudrate.invoice import TaxRate, assemble_all
from cloudrate.portal.estimation import estimate, instance_usage
from cloudrate.portal.usage_view import DateRange, billing_overview, usage_view
from cloudrate.testing import plans, usage_records

FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def check(name: str, document: Any) -> None:
    """*document* is valid under the schema *name*, with formats checked."""
    validator = jsonschema.Draft202012Validator(schemas.schema(name), format_checker=FORMATS)
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.fixture(scope="module", name="sample")
def _sample() -> tuple[cloudrate.Plan, list[cloudrate.UsageRecord]]:
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    return plan, list(cloudrate.read_usage(cloudrate.sample_usage_path()))


class TestShippedSchemas:
    def test_names_are_the_files(self) -> None:
        """NAMES lists exactly the schema files the package ships."""
        files = sorted(
            p.name.removesuffix(".json")
            for p in resources.files("cloudrate.schemas").iterdir()
            if p.name.endswith(".json")
        )
        assert files == sorted(schemas.NAMES)

    @pytest.mark.parametrize("name", schemas.NAMES)
    def test_each_is_a_valid_2020_12_schema(self, name: str) -> None:
        """Each schema is itself valid JSON Schema draft 2020-12, with an id of its own."""
        schema = schemas.schema(name)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == f"urn:cloudrate:schema:{name}"

    def test_documents_name_their_schema(self) -> None:
        """A document's schema key finds its schema, which pins that key."""
        for document, name in schemas.DOCUMENT_SCHEMAS.items():
            assert schemas.schema(name)["properties"]["schema"] == {"const": document}
            assert schemas.for_document({"schema": document})["$id"].endswith(name)

    def test_unknown_name_is_refused(self) -> None:
        """An unknown name raises NotFoundError listing the names."""
        with pytest.raises(NotFoundError, match="rating"):
            schemas.schema("ratings")

    def test_a_float_amount_is_refused(self, sample: Any) -> None:
        """The schemas can fail: an amount as a JSON number is not a decimal string."""
        plan, usage = sample
        document = cloudrate.rate(plan, usage).to_dict()
        document["total"] = float(document["total"])
        with pytest.raises(AssertionError, match="total"):
            check("rating", document)

    def test_a_key_nobody_documented_is_refused(self, sample: Any) -> None:
        """The schemas describe every key: an undocumented one fails."""
        plan, usage = sample
        document = cloudrate.rate(plan, usage).to_dict()
        document["accounts"][0]["lines"][0]["surprise"] = "1"
        with pytest.raises(AssertionError, match="surprise"):
            check("rating", document)


class TestSampleDocuments:
    def test_rating(self, sample: Any) -> None:
        plan, usage = sample
        check("rating", cloudrate.rate(plan, usage).to_dict())
        check("rating", cloudrate.rate(plan, [*usage, usage[0]]).to_dict())  # with copies

    def test_billing_cycle_documents_and_events(self, sample: Any, tmp_path: Path) -> None:
        """Invoices, supplementary invoices, credit notes, run summaries, payments and the
        events of a whole cycle."""
        plan, usage = sample
        store = SQLiteDocumentStore(tmp_path / "billing.db")
        run = BillingRun(store=store)
        check("billing_run", run.bill(cloudrate.rate(plan, usage)).to_dict())
        vcpu = next(r for r in usage if r.metric == "vcpu_hours")
        late = attrs.evolve(vcpu, record_id="late", quantity=Decimal(100))
        more = run.bill(cloudrate.rate(plan, [*usage, late]), issued_on=date(2026, 11, 10))
        check("billing_run", more.to_dict())
        fewer = run.bill(cloudrate.rate(plan, usage[5:]), issued_on=date(2026, 11, 20))
        check("billing_run", fewer.to_dict())
        pay_now(store, "INV-2026-0001", key="ok", on=date(2026, 11, 21))
        succeed_payment(store, "ok", on=date(2026, 11, 21))
        pay_now(store, "INV-2026-0002", key="no", on=date(2026, 11, 21))
        fail_payment(store, "no", on=date(2026, 11, 21), reason="card declined")
        mark_overdue(store, date(2027, 1, 15))
        kinds = set()
        for document in store.documents():
            body = json.loads(document.body)
            check("credit_note" if document.kind == "credit_note" else "invoice", body)
            if document.kind != "credit_note":
                check("invoice", load_invoice(store, document.number).to_dict())
            kinds.add(document.kind)
        assert kinds == {"invoice", "supplementary", "credit_note"}
        types = set()
        for event in store.events():
            check("event", event.to_dict())
            types.add(event.type)
        assert {
            "invoice.finalised",
            "credit_note.issued",
            "invoice.paid",
            "payment.failed",
            "invoice.overdue",
        } <= types
        store.close()

    def test_event_data_is_checked_per_type(self) -> None:
        """An event whose data lacks what its type carries is refused."""
        from cloudrate.billing import new_event

        event = new_event("t", "invoice.paid", "INV-1", "2026-11-01", {"customer": "acme"})
        with pytest.raises(AssertionError, match="amount"):
            check("event", event.to_dict())

    def test_usage_view_and_overview(self, sample: Any) -> None:
        plan, usage = sample
        for preset in ("last_7_days", "last_month", "last_90_days", "month_to_date"):
            span = DateRange.preset_named(preset, today=date(2026, 11, 3), timezone="Europe/Berlin")  # type: ignore[arg-type]
            check("usage_view", usage_view(plan, usage, account="acme", date_range=span).to_dict())
        overview = billing_overview(plan, usage, account="acme", today=date(2026, 10, 20))
        check("billing_overview", overview.to_dict())

    def test_estimate(self, sample: Any) -> None:
        plan, _ = sample
        spec = instance_usage(vcpus=2, memory_gb=4, disk_gb=50, public_ips=2)
        month = cloudrate.BillingPeriod.month(2026, 11, "Europe/Berlin")
        check("estimate", estimate(plan, spec, month).to_dict())


class TestCommandLine:
    def test_check_json(self) -> None:
        out = CliRunner().invoke(main, ["check", str(cloudrate.sample_plan_path()), "--json"])
        check("check", json.loads(out.stdout))

    def test_rate_json(self) -> None:
        args = [
            "rate",
            "--plan",
            str(cloudrate.sample_plan_path()),
            "--usage",
            str(cloudrate.sample_usage_path()),
            "--json",
        ]
        check("rating", json.loads(CliRunner().invoke(main, args).stdout))

    def test_bill_json(self, tmp_path: Path) -> None:
        args = [
            "bill",
            "--period",
            "2026-10",
            "--plan",
            str(cloudrate.sample_plan_path()),
            "--usage",
            str(cloudrate.sample_usage_path()),
            "--store",
            str(tmp_path / "b.db"),
            "--out",
            str(tmp_path / "out"),
            "--json",
        ]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        check("billing_run", json.loads(result.stdout))

    @pytest.mark.parametrize(
        "args",
        [
            ["check", "{plan}", "--json"],  # a plan with two problems
            ["rate", "--plan", "{plan}", "--usage", "nope.csv", "--json"],  # missing file
            ["rate", "--plan", "{sample}", "--usage", "{usage}", "--period", "x", "--json"],
            ["bill", "--period", "2026-10", "--plan", "{sample}", "--json"],  # bad option
        ],
    )
    def test_errors_json(self, args: list[str], tmp_path: Path) -> None:
        """Every kind of failure's JSON object on stderr."""
        bad = tmp_path / "plan.yaml"
        bad.write_text(
            "name: x\ncurrency: EURO\ncharges:\n  - {name: a, metric: m, model: x}\n",
            encoding="utf-8",
        )
        names = {
            "plan": str(bad),
            "sample": str(cloudrate.sample_plan_path()),
            "usage": str(cloudrate.sample_usage_path()),
        }
        result = CliRunner().invoke(main, [a.format(**names) for a in args])
        assert result.exit_code != 0
        check("cli_error", json.loads(result.stderr))


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestGeneratedDocuments:
    @PROPERTY
    @given(plans(full=True), st.lists(usage_records(), max_size=15))
    def test_rating_invoices_and_billing(self, plan: Any, usage: list[Any]) -> None:
        """For generated plans and usage: the rating, its draft invoices (taxed or not),
        and what a billing run stores and reports all follow their schemas."""
        try:
            result = cloudrate.rate(plan, usage, cloudrate.BillingPeriod.month(2026, 10, "UTC"))
        except cloudrate.CloudrateError:
            return  # refused with an error of its own: nothing is emitted
        check("rating", result.to_dict())
        for invoice in assemble_all(result, taxes=TaxRate(percent="19")):
            check("invoice", invoice.to_dict())
        with tempfile.TemporaryDirectory() as folder:
            store = SQLiteDocumentStore(Path(folder) / "b.db")
            try:
                run = BillingRun(store=store)
                check("billing_run", run.bill(result).to_dict())
                if usage:
                    fewer = cloudrate.rate(plan, usage[1:], result.period)
                    day = date(2026, 11, 1) + timedelta(days=5)
                    check("billing_run", run.bill(fewer, issued_on=day).to_dict())
                for document in store.documents():
                    name = "credit_note" if document.kind == "credit_note" else "invoice"
                    check(name, json.loads(document.body))
                for event in store.events():
                    check("event", event.to_dict())
            finally:
                store.close()

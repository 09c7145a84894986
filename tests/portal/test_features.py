"""The feature configuration: defaults, every setting on and off, tenants, account types,
and every kind of bad input reported at once."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from moneyed import Money

import cloudrate
from cloudrate.accounts import PlanType
from cloudrate.portal.features import DEFAULTS, SPEC, load_features
from cloudrate.rules import DefaultIpCharge, FreeFirstIp, SecondaryIpBilling


def settings(**values):
    return load_features({"currency": "EUR", **values}).for_account("individual")


class TestDefaults:
    def test_only_currency_is_required(self):
        s = settings()
        assert s.policy().rules == (
            DefaultIpCharge(enabled=True),
            SecondaryIpBilling(enabled=True),
            FreeFirstIp(enabled=False),
        )
        caps = s.capabilities()
        assert caps.portal_payment and caps.invoice_menu and not caps.whmcs_billing
        assert s.cost_decimals().digits == 2
        assert s.billing_plan() is PlanType.POSTPAID
        assert s.multi_currency().offered == ("EUR",)
        assert s.recharge_limits().minimum is None and s.recharge_limits().maximum is None
        assert not s.suspension().enabled and not s.signup_payment().enabled
        assert s.contract_types().for_customer("fixed_payment") == "pay_as_you_go"

    def test_missing_currency(self):
        with pytest.raises(cloudrate.ConfigError, match="currency is required"):
            load_features({"free_first_ip": True})

    def test_defaults_table_covers_every_setting(self):
        assert set(DEFAULTS) == set(SPEC)


ON_OFF = [
    ("default_ip_charge", lambda s: s.policy().rules[0].enabled),
    ("secondary_ip_billing", lambda s: s.policy().rules[1].enabled),
    ("free_first_ip", lambda s: s.policy().rules[2].enabled),
    ("portal_payment", lambda s: s.capabilities().portal_payment),
    ("invoice_menu", lambda s: s.capabilities().invoice_menu),
    ("whmcs_billing", lambda s: s.capabilities().whmcs_billing),
    ("multi_currency", lambda s: s.multi_currency().enabled),
    ("prepaid_hourly_billing", lambda s: s.prepaid_hourly().enabled),
    ("suspended_account_billing", lambda s: s.suspension().enabled),
    ("account_verification_refund", lambda s: s.verification_refund().enabled),
    ("billing_contract_type", lambda s: s.contract_types().enabled),
    ("budget_alerts", lambda s: s.capabilities().budget_alerts),
    ("default_ip_charge", lambda s: s.capabilities().default_ip_charged),
    ("free_first_ip", lambda s: s.capabilities().first_ip_free),
    ("secondary_ip_billing", lambda s: s.capabilities().secondary_ip_billed),
]


@pytest.mark.parametrize(
    ("key", "read"), ON_OFF, ids=[f"{k}-{i}" for i, (k, _) in enumerate(ON_OFF)]
)
@pytest.mark.parametrize("value", [True, False])
def test_each_toggle_on_and_off(key, read, value):
    """Each toggle reaches the object it configures, in both positions."""
    assert read(settings(**{key: value})) is value


def test_grouped_settings():
    s = settings(
        multi_currency={"enabled": True, "currencies": ["USD", "INR"]},
        prepaid_negative_balance={"allowed": True, "floor": "-50", "display": True},
        signup_payment={"enabled": True, "amount": "5.00"},
        account_verification_refund={"enabled": True, "percent": 50},
        suspended_account_billing={"enabled": True, "grace_days": 15, "warning_days": 5},
        billing_contract_type={"enabled": True, "default": "fixed_payment"},
        minimum_prepaid_recharge=10,
        maximum_prepaid_recharge="500.00 EUR",
        cost_decimals=4,
        promo_code_prefix="NEWUSER",
        individual_billing_plan="flexible",
        organisation_billing_plan="prepaid",
    )
    assert s.multi_currency().offered == ("EUR", "USD", "INR")
    assert s.negative_balance().floor == Money("-50", "EUR") and s.negative_balance().display
    assert s.signup_payment().amount == Money("5.00", "EUR")
    assert s.verification_refund().percent == Decimal(50)
    assert s.suspension().grace_days == 15
    assert s.contract_types().for_customer() == "fixed_payment"
    assert s.recharge_limits().maximum == Money("500.00", "EUR")
    assert s.cost_decimals().digits == 4
    assert s.generate_promo_code(random.Random(1)).startswith("NEWUSER-")
    assert s.billing_plan() is PlanType.FLEXIBLE


def test_tenants_and_account_types():
    """Later blocks win: defaults < top < top.<type> < tenant < tenant.<type>."""
    config = load_features("""
currency: EUR
billing_plan: postpaid
free_first_ip: true
organisation: {billing_plan: prepaid}
tenants:
  reseller-us:
    currency: USD
    minimum_prepaid_recharge: 20
    individual: {free_first_ip: false}
""")
    assert config.tenants == ("reseller-us",)
    assert config.for_account("individual").billing_plan() is PlanType.POSTPAID
    assert config.for_account("organisation").billing_plan() is PlanType.PREPAID
    us_ind = config.for_account("individual", tenant="reseller-us")
    us_org = config.for_account("organisation", tenant="reseller-us")
    assert us_ind.currency == "USD" and us_ind.recharge_limits().minimum == Money("20", "USD")
    assert not us_ind.policy().rules[2].enabled and us_org.policy().rules[2].enabled
    assert us_org.billing_plan() is PlanType.PREPAID
    with pytest.raises(KeyError, match="did you mean 'reseller-us'"):
        config.for_account("individual", tenant="reseller-uk")
    with pytest.raises(cloudrate.PlanError, match="individual or organisation"):
        config.for_account("company")


def test_every_problem_at_once_with_paths_lines_and_suggestions():
    text = """currency: EURO
free_firts_ip: true
cost_decimals: two
multi_currency: {enabled: yes, currencies: [USD, DOLLAR]}
billing_plan: prepayed
organization: {billing_plan: postpaid}
signup_payment: {enabeld: true}
"""
    with pytest.raises(cloudrate.ConfigError) as info:
        load_features(text)
    problems = {p.path: p for p in info.value.problems}
    assert problems["currency"].line == 1 and "ISO 4217" in problems["currency"].message
    assert "did you mean 'free_first_ip'" in problems["free_firts_ip"].message
    assert problems["free_firts_ip"].line == 2
    assert "whole number" in problems["cost_decimals"].message
    assert "true or false" in problems["multi_currency.enabled"].message
    assert "DOLLAR" in problems["multi_currency.currencies"].message
    assert "did you mean 'prepaid'" in problems["billing_plan"].message
    assert "did you mean 'organisation'" in problems["organization"].message
    assert "did you mean 'enabled'" in problems["signup_payment.enabeld"].message
    assert len(problems) == 8


def test_minimum_recharge_above_maximum():
    with pytest.raises(cloudrate.ConfigError, match="above maximum recharge") as info:
        load_features(
            {"currency": "EUR", "minimum_prepaid_recharge": 100, "maximum_prepaid_recharge": 50}
        )
    assert info.value.problems[0].code == "invalid_settings"


def test_problem_only_in_one_tenant_names_it():
    with pytest.raises(cloudrate.ConfigError) as info:
        load_features(
            {
                "currency": "EUR",
                "tenants": {
                    "t1": {"minimum_prepaid_recharge": 100, "maximum_prepaid_recharge": 50}
                },
            }
        )
    assert info.value.problems[0].path == "tenants.t1"


def test_floats_and_wrong_currency_amounts_refused():
    with pytest.raises(cloudrate.ConfigError, match="floats cannot hold money"):
        load_features({"currency": "EUR", "minimum_prepaid_recharge": 10.5})
    with pytest.raises(cloudrate.ConfigError, match="give amounts in EUR"):
        load_features({"currency": "EUR", "minimum_prepaid_recharge": "10 USD"})


def test_signup_payment_needs_amount():
    with pytest.raises(cloudrate.ConfigError, match=r"signup_payment\.amount"):
        load_features({"currency": "EUR", "signup_payment": True})


def test_resolved_settings_round_trip():
    """to_dict of resolved settings loads back to the same settings, for every tenant and
    account type."""
    config = load_features("""
currency: EUR
cost_decimals: 3
minimum_prepaid_recharge: "10.50"
prepaid_negative_balance: {allowed: true, floor: -20}
budget_alerts: {thresholds: [25, 75, 100]}
multi_currency: {enabled: true, currencies: [USD]}
organisation: {signup_payment: {enabled: true, amount: 5}}
tenants:
  t1: {currency: GBP, individual_billing_plan: flexible}
""")
    for tenant in (None, "t1"):
        for kind in ("individual", "organisation"):
            s = config.for_account(kind, tenant=tenant)
            again = load_features(s.to_dict()).for_account(kind)
            assert again.to_dict() == s.to_dict()
            assert again.recharge_limits() == s.recharge_limits()
            assert again.negative_balance() == s.negative_balance()
            assert again.signup_payment() == s.signup_payment()
            assert again.policy() == s.policy()
            assert again.capabilities() == s.capabilities()


def test_sample_file_lists_every_setting_at_its_default():
    """The shipped sample names every setting with the documented default."""
    from pathlib import Path

    import yaml

    path = Path(cloudrate.__file__).parent / "cli" / "data" / "sample_features.yaml"
    assert set(yaml.safe_load(path.read_text())) == set(SPEC)
    sample = load_features(path).for_account("individual")
    assert sample.to_dict() == settings().to_dict()


def test_docs_table_names_every_setting():
    """docs/feature-configuration.md maps every configuration key."""
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "feature-configuration.md").read_text()
    for key in SPEC:
        assert f"`{key}" in text, key


def test_settings_compare_by_value():
    assert settings(free_first_ip=True) != settings(free_first_ip=False)
    assert settings(free_first_ip=True) == settings(free_first_ip=True)
    assert hash(settings()) == hash(settings())


@pytest.mark.parametrize("enabled", [True, False])
def test_budget_alerts_on_and_off(enabled):
    s = settings(budget_alerts={"enabled": enabled, "thresholds": [90, 100]})
    budget = s.budget("acme", Money("100", "EUR"), ["ops@acme.example"])
    if enabled:
        assert budget.thresholds == (Decimal(90), Decimal(100))
    else:
        assert budget is None


class TestReading:
    """Each block is read setting by setting; every problem is reported with its path."""

    @pytest.mark.parametrize(
        ("values", "path", "message"),
        [
            ({"multi_currency": "yes"}, "multi_currency", "expected true/false or a mapping of"),
            ({"signup_payment": {"amout": 5}}, "signup_payment.amout", "did you mean 'amount'"),
            (
                {"budget_alerts": {"zzz": 1}},
                "budget_alerts.zzz",
                "known keys are enabled, thresholds, use_forecast",
            ),
            ({"zzz": 1}, "zzz", "see docs/feature-configuration.md"),
            ({"timezone": None}, "timezone", "expected text"),
            ({"organisation": [1]}, "organisation", "expected a mapping of setting: value"),
            ({"tenants": [1]}, "tenants", "expected tenant-name: settings"),
            ({"tenants": {"t1": {"individual": 3}}}, "tenants.t1.individual", "expected a mapping"),
            ({"tenants": {"t1": {"tenants": {}}}}, "tenants.t1.tenants", "unknown setting"),
        ],
    )
    def test_problem_and_its_path(self, values, path, message):
        with pytest.raises(cloudrate.ConfigError) as info:
            load_features({"currency": "EUR", **values})
        [problem] = info.value.problems
        assert problem.path == path and message in problem.message

    def test_null_means_none(self):
        """A null sub-setting, or a null setting whose default is none, is none."""
        s = settings(
            suspended_account_billing={"enabled": True, "warning_days": None},
            prepaid_negative_balance={"allowed": True, "floor": None},
            minimum_prepaid_recharge=None,
        )
        assert s.suspension().enabled and s.suspension().warning_days is None
        assert s.negative_balance().floor is None
        assert s.recharge_limits().minimum is None

    def test_bare_switch_sets_the_first_sub_setting(self):
        """``multi_currency: true`` is ``multi_currency: {enabled: true}``."""
        assert settings(multi_currency=True).multi_currency().enabled
        assert settings(prepaid_hourly_billing=True).prepaid_hourly().interval == "hourly"

    def test_invalid_combination_is_reported_where_it_was_set(self):
        """A combination that cannot be built names the last block that set anything."""
        with pytest.raises(cloudrate.ConfigError) as info:
            load_features(
                {
                    "currency": "EUR",
                    "tenants": {"t1": {"organisation": {"signup_payment": {"enabled": True}}}},
                }
            )
        [problem] = info.value.problems
        assert problem.path == "tenants.t1.organisation"
        assert (
            problem.code == "invalid_settings" and "(t1, organisation accounts)" in problem.message
        )

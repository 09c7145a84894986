"""The feature configuration of the seed readings settled in changelog.d/10: free for one
IP (how many IPs), cost decimals (shown or billed), prepaid negative balance (the toggle
allows and displays); each setting on and off, in blocks and tenants."""

from __future__ import annotations

import pytest

import cloudrate
from cloudrate.portal.features import load_features
from cloudrate.rules import CostDecimals, FreeFirstIp, RuleContext


def settings(tenant: str | None = None, **values):
    return load_features({"currency": "EUR", **values}).for_account("individual", tenant=tenant)


def problems(values):
    with pytest.raises(cloudrate.ConfigError) as caught:
        load_features({"currency": "EUR", **values})
    return {p.path: p for p in caught.value.problems}


def roundtrip(s):
    again = load_features(s.to_dict()).for_account("individual")
    assert again.to_dict() == s.to_dict()
    assert again.policy() == s.policy()
    assert again.cost_decimals() == s.cost_decimals()
    assert again.negative_balance() == s.negative_balance()
    assert again.capabilities() == s.capabilities()


class TestFreeFirstIp:
    @pytest.mark.parametrize("enabled", [True, False])
    def test_bare_toggle_means_one_free_ip_in_total(self, enabled):
        s = settings(free_first_ip=enabled)
        rule = s.policy().rules[2]
        assert rule == FreeFirstIp(enabled=enabled, free_ips="one_in_total")
        assert s.capabilities().first_ip_free is enabled
        roundtrip(s)

    def test_one_more_is_reachable(self):
        s = settings(free_first_ip={"enabled": True, "free_ips": "one_more"})
        assert s.policy().rules[2].free_ips == "one_more"
        roundtrip(s)

    def test_tenant_changes_only_the_reading(self):
        config = load_features(
            {
                "currency": "EUR",
                "free_first_ip": True,
                "tenants": {"t1": {"free_first_ip": {"free_ips": "one_more"}}},
            }
        )
        rule = config.for_account("individual", tenant="t1").policy().rules[2]
        assert (rule.enabled, rule.free_ips) == (True, "one_more")

    def test_bad_reading_is_reported_with_the_choices(self):
        problem = problems({"free_first_ip": {"enabled": True, "free_ips": "two"}})[
            "free_first_ip.free_ips"
        ]
        assert "one_in_total, one_more" in problem.message

    @pytest.mark.parametrize(
        ("default_ip_charge", "free_first_ip", "credited"),
        [
            (True, False, []),
            (True, True, ["public_ip:free_ip:ip-acme-1"]),
            (False, False, ["public_ip:default_ip:ip-acme-1"]),
            (False, True, ["public_ip:default_ip:ip-acme-1"]),
            (
                False,
                {"enabled": True, "free_ips": "one_more"},
                ["public_ip:default_ip:ip-acme-1", "public_ip:free_ip:ip-acme-2"],
            ),
        ],
    )
    def test_the_two_ip_toggles_on_the_sample_data(
        self, default_ip_charge, free_first_ip, credited
    ):
        """The tenant's policy frees one IP with both toggles on, two with one_more."""
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = list(cloudrate.read_usage(cloudrate.sample_usage_path()))
        result = cloudrate.rate(plan, usage)
        context = RuleContext.for_result(result, usage)
        s = settings(default_ip_charge=default_ip_charge, free_first_ip=free_first_ip)
        lines = s.policy().lines(result.bill("acme"), context)
        assert [line.charge for line in lines] == credited


class TestCostDecimals:
    def test_default_is_two_displayed(self):
        assert settings().cost_decimals() == CostDecimals(2, applies_to="display")

    def test_bare_number_sets_the_digits(self):
        s = settings(cost_decimals=4)
        assert s.cost_decimals() == CostDecimals(4)
        assert s.capabilities().cost_decimals == 4
        roundtrip(s)

    @pytest.mark.parametrize("applies_to", ["display", "billed"])
    def test_the_switch(self, applies_to):
        s = settings(cost_decimals={"digits": 4, "applies_to": applies_to})
        assert s.cost_decimals() == CostDecimals(4, applies_to=applies_to)
        roundtrip(s)

    def test_tenant_overrides_the_switch_only(self):
        config = load_features(
            {
                "currency": "EUR",
                "cost_decimals": 4,
                "tenants": {"t1": {"cost_decimals": {"applies_to": "billed"}}},
            }
        )
        assert config.for_account("individual").cost_decimals().billed is False
        assert config.for_account("individual", "t1").cost_decimals() == CostDecimals(
            4, applies_to="billed"
        )

    @pytest.mark.parametrize(
        ("value", "path", "message"),
        [
            ("two", "cost_decimals", "expected a whole number from 0 to 10"),
            (11, "cost_decimals", "expected a whole number from 0 to 10"),
            ({"digits": -1}, "cost_decimals.digits", "expected a whole number from 0 to 10"),
            ({"applies_to": "shown"}, "cost_decimals.applies_to", "must be one of display, billed"),
            ({"digit": 4}, "cost_decimals.digit", "did you mean 'digits'"),
        ],
    )
    def test_bad_values(self, value, path, message):
        assert message in problems({"cost_decimals": value})[path].message


class TestNegativeBalance:
    @pytest.mark.parametrize("toggle", [True, False])
    def test_the_toggle_allows_and_displays(self, toggle):
        s = settings(prepaid_negative_balance=toggle)
        rule = s.negative_balance()
        assert (rule.allowed, rule.display, rule.floor) == (toggle, toggle, None)
        assert s.capabilities().negative_balance_display is toggle
        roundtrip(s)

    def test_default_is_off(self):
        rule = settings().negative_balance()
        assert (rule.allowed, rule.display) == (False, False)

    def test_allowed_alone_is_displayed(self):
        rule = settings(
            prepaid_negative_balance={"allowed": True, "floor": "-50"}
        ).negative_balance()
        assert (rule.allowed, rule.display, rule.floor) == (
            True,
            True,
            cloudrate.money("-50", "EUR"),
        )

    @pytest.mark.parametrize(("allowed", "display"), [(True, False), (False, True)])
    def test_display_set_apart(self, allowed, display):
        s = settings(prepaid_negative_balance={"allowed": allowed, "display": display})
        rule = s.negative_balance()
        assert (rule.allowed, rule.display) == (allowed, display)
        assert s.capabilities().negative_balance_display is display
        roundtrip(s)

    def test_an_explicit_display_is_inherited_and_an_unset_one_follows(self):
        """Display set at the top level stays for a tenant that only allows; a tenant that
        turns the toggle on without display gets display from the top level's explicit
        value, and one whose top level left it unset gets allowed."""
        hidden = load_features(
            {
                "currency": "EUR",
                "prepaid_negative_balance": {"allowed": True, "display": False},
                "tenants": {"t1": {"prepaid_negative_balance": True}},
            }
        )
        assert hidden.for_account("individual", "t1").negative_balance().display is False
        shown = load_features(
            {"currency": "EUR", "tenants": {"t1": {"prepaid_negative_balance": True}}}
        )
        assert shown.for_account("individual").negative_balance().display is False
        assert shown.for_account("individual", "t1").negative_balance().display is True

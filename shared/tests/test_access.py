"""Unit tests: roles map to a reach, the reach decides which customers show, addresses mask."""

from sqlalchemy import column, select, table
from sqlalchemy.dialects import postgresql

from crm_shared import access
from crm_shared.config import AuthSettings
from crm_shared.contracts.scopes import read_scope_of
from crm_shared.http.auth import mint_token, verify_token

SETTINGS = AuthSettings(secret="unit-test-secret-unit-test-secret-0123")
CUSTOMERS = table("customers", column("owner"), column("owner_team"), column("partner"))


def reach_of(**claims) -> access.Reach:
    principal = verify_token(mint_token(SETTINGS, subject=claims.pop("subject", "u1"), **claims), SETTINGS)
    return principal.reach(SETTINGS)


def sql(reach: access.Reach) -> str:
    condition = reach.where(CUSTOMERS.c.owner, CUSTOMERS.c.owner_team, CUSTOMERS.c.partner)
    compiled = select(CUSTOMERS).where(condition).compile(dialect=postgresql.dialect())
    return (str(compiled) % {k: repr(v) for k, v in compiled.params.items()}).replace("::VARCHAR", "")


def test_a_token_without_a_role_is_an_integration_and_reaches_every_customer() -> None:
    reach = reach_of()
    assert reach.every_customer and not reach.pseudonymised
    assert reach.covers("anyone", None, None)
    assert "WHERE true" in sql(reach)


def test_agents_service_managers_and_admins_reach_every_customer() -> None:
    for role in ("agent", "service_manager", "admin"):
        assert reach_of(roles=(role,)).every_customer


def test_an_account_manager_reaches_what_they_or_their_teams_own() -> None:
    reach = reach_of(subject="alice", roles=("account_manager",), teams=("kam-emea",))
    assert reach.covers("alice", None, None)
    assert reach.covers("bob", "kam-emea", None)
    assert not reach.covers("bob", "kam-apac", None)
    assert not reach.covers("bob", None, "alice")  # a partner named like them is not theirs
    assert sql(reach).endswith(
        "WHERE customers.owner = 'alice' OR customers.owner_team IN (__[POSTCOMPILE_owner_team_1])"
    )


def test_a_partner_reaches_only_the_customers_assigned_to_its_organisation() -> None:
    reach = reach_of(subject="p-user", roles=("partner",), partner="dist-nordics")
    assert reach.covers(None, None, "dist-nordics")
    assert not reach.covers("p-user", None, None)
    assert sql(reach).endswith("WHERE customers.partner = 'dist-nordics'")


def test_a_partner_role_without_a_partner_claim_reaches_nothing() -> None:
    reach = reach_of(roles=("partner",))
    assert not reach.covers("u1", "t", "p")
    assert "WHERE false" in sql(reach)


def test_an_analyst_sees_every_customer_under_stable_pseudonyms_and_no_personal_data() -> None:
    reach = reach_of(roles=("analyst",))
    assert reach.every_customer and reach.pseudonymised and not reach.personal_data
    assert reach.pseudonym("c-1") == reach_of(roles=("analyst",), subject="other").pseudonym("c-1")
    assert reach.pseudonym("c-1") != reach.pseudonym("c-2")
    assert reach.pseudonym("c-1").startswith("anon-") and "c-1" not in reach.pseudonym("c-1")


def test_a_role_reaching_every_customer_wins_over_a_narrower_one() -> None:
    assert reach_of(roles=("account_manager", "agent")).every_customer
    assert reach_of(roles=("account_manager", "analyst")).pseudonymised


def test_without_contacts_read_addresses_show_masked() -> None:
    reach = reach_of(scopes=("tasks:read",))
    assert reach.shown_address("jane.doe@example.com") == "j***@example.com"
    assert reach.shown_address("+8613812348000") == "+86138****8000"
    assert reach.shown_address(None) is None
    assert reach_of(scopes=("contacts:read",)).shown_address("jane@example.com") == "jane@example.com"


def test_masking_keeps_what_is_not_an_address() -> None:
    assert access.mask_address("https://hooks.example/x") == "https://hooks.example/x"
    assert access.mask_phone("+1 212") == "****"


def test_each_event_family_needs_its_read_scope() -> None:
    assert read_scope_of("crm.contact.created.v1") == "contacts:read"
    assert read_scope_of("crm.contact.activity_recorded.v1") == "contacts:read"
    assert read_scope_of("crm.feedback.received.v1") == "feedback:read"
    assert read_scope_of("crm.indicator.threshold_crossed.v1") == "scores:read"
    assert read_scope_of("crm.task.created.v1") == "tasks:read"
    assert read_scope_of("crm.unknown.v1") == "admin"


def test_the_bound_reach_is_the_requests_and_a_worker_reaches_everything() -> None:
    assert access.current() is access.EVERYTHING
    narrow = reach_of(roles=("partner",), partner="p")
    with access.bound(narrow):
        assert access.current() is narrow
    assert access.current() is access.EVERYTHING

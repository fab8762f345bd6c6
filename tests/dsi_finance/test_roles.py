"""The five roles are groups holding exactly the capabilities DESIGN.md gives them."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import translation

from dsi_finance.menu import MenuItem, MenuSection, menu_for, registered_menu
from dsi_finance.roles import CAPABILITIES, ROLE_CAPABILITIES, Role, perm, sync_role_groups

pytestmark = pytest.mark.django_db

# The table of DESIGN.md, written out: a change of roles.py must change this too.
EXPECTED = {
    "pilotage": {
        "use_app", "view_budget", "view_all", "view_dashboard", "download_report",
        "prepare_budget", "request_transfer", "enter_forecast", "approve_purchase_request",
        "open_commitment", "validate_liquidation", "run_closing", "manage_chargeback",
        "manage_convention", "check_archive", "request_report",
    },
    "achat": {
        "use_app", "view_budget", "enter_purchase_request", "manage_supplier", "record_order",
        "record_receipt",
    },
    "comptabilite": {
        "use_app", "view_budget", "enter_invoice", "liquidate_invoice", "archive_document",
        "code_analytics",
    },
    "direction": {
        "use_app", "view_budget", "view_all", "view_dashboard", "download_report",
        "submit_budget", "approve_transfer", "approve_over_threshold", "override_available",
    },
    "controle": {"use_app", "view_budget", "view_all", "view_dashboard", "download_report"},
}  # fmt: skip


def group_codenames(name: str) -> set[str]:
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def test_the_migration_creates_exactly_the_five_role_groups():
    assert set(Group.objects.values_list("name", flat=True)) == set(EXPECTED)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_the_migration_gives_each_group_exactly_its_capabilities(role):
    assert group_codenames(role) == EXPECTED[role]


def test_roles_module_and_design_table_agree():
    assert {role: set(caps) for role, caps in ROLE_CAPABILITIES.items()} == EXPECTED


def test_management_control_reads_and_downloads_but_changes_nothing():
    readers = {"use_app", "view_budget", "view_all", "view_dashboard", "download_report"}
    assert group_codenames("controle") == readers


def test_only_direction_may_override_a_short_available_amount():
    holders = Group.objects.filter(permissions__codename="override_available")
    assert list(holders.values_list("name", flat=True)) == ["direction"]


def test_the_buyer_cannot_approve_the_requests_he_enters():
    assert "approve_purchase_request" not in group_codenames("achat")
    assert "enter_purchase_request" in group_codenames("achat")


def test_every_capability_is_a_permission_named_by_its_english_source():
    with translation.override(None):
        for codename, label in CAPABILITIES.items():
            permission = Permission.objects.get(
                content_type__app_label="dsi_finance", codename=codename
            )
            assert permission.name == str(label)


def test_sync_repairs_a_group_whose_permissions_were_changed_by_hand():
    group = Group.objects.get(name="achat")
    group.permissions.add(Permission.objects.get(codename="override_available"))
    group.permissions.remove(Permission.objects.get(codename="record_receipt"))
    sync_role_groups()
    assert group_codenames("achat") == EXPECTED["achat"]


def test_a_person_with_two_roles_holds_both_sets_of_capabilities(django_user_model):
    from tests.factories import UserFactory

    user = UserFactory(roles=[Role.ACHAT, Role.COMPTABILITE])
    assert user.has_perm(perm("enter_purchase_request"))
    assert user.has_perm(perm("liquidate_invoice"))
    assert not user.has_perm(perm("approve_purchase_request"))


def test_an_unknown_capability_is_a_programming_error():
    with pytest.raises(KeyError):
        perm("approve_everything")


def test_menu_shows_only_the_entries_the_role_allows(chef, sans_role):
    section = MenuSection(
        "Budget",
        (
            MenuItem("Préparer", "home", "pencil", "prepare_budget"),
            MenuItem("Approuver les virements", "home", "check", "approve_transfer"),
        ),
    )
    labels = [item.label for s in menu_for(chef, "/", menu=(section,)) for item in s.items]
    assert labels == ["Préparer"]
    assert menu_for(sans_role, "/", menu=(section,)) == []


def test_menu_hides_administration_from_non_staff_users(chef, admin_user):
    def labels(user):
        return [s.label for s in menu_for(user, "/")]

    assert "Administration" not in labels(chef)
    assert "Administration" in labels(admin_user)


def test_every_menu_entry_names_known_capabilities():
    for section in registered_menu():
        for item in section.items:
            if item.capability is None:
                continue
            wanted = (item.capability,) if isinstance(item.capability, str) else item.capability
            assert wanted and all(code in CAPABILITIES for code in wanted), item.url_name


def test_a_tuple_of_capabilities_means_any_one_of_them(acheteur, comptable, sans_role):
    from dsi_finance.roles import holds

    assert holds(acheteur, ("enter_invoice", "enter_purchase_request"))
    assert holds(comptable, ("enter_invoice", "enter_purchase_request"))
    assert not holds(sans_role, ("enter_invoice", "enter_purchase_request"))
    assert not holds(acheteur, "enter_invoice")

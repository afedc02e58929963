"""The navigation and the admin's view-only rule ask the policy, not role lists."""

import pytest

from tmw.accounts import policy
from tmw.accounts.context_processors import NAVIGATION

EXPECTED = {
    "partner": {"Diagnostics", "Desks", "People", "Admin", "Statements", "Agreements"},
    "finance": {"Revenue", "Statements", "Agreements", "Admin"},
    "vendor_admin": {"Diagnostic", "Desk", "Team", "Statements"},
    "msp_member": {"Invitations"},
}
NOT_EXPECTED = {
    "partner": {"Team", "Revenue", "Diagnostic"},
    "finance": {"People", "Diagnostics", "Team"},
    "vendor_admin": {"People", "Admin", "Diagnostics", "Desks", "Revenue"},
    "msp_member": {"People", "Team", "Admin", "Desk"},
}


def test_every_entry_names_a_policy_action():
    for _label, _name, action in NAVIGATION:
        assert action is None or policy.roles_for(action)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_sees_the_entries_its_actions_allow(world, client_for, role):
    user = {
        "partner": world.partner,
        "finance": world.finance,
        "vendor_admin": world.a.vendor_admin,
        "msp_member": world.a.msp_member,
    }[role]
    response = client_for(user).get("/accounts/profile/")
    labels = {item["label"] for item in response.context["nav_items"]}
    assert EXPECTED[role] <= labels, labels
    assert not (NOT_EXPECTED[role] & labels), labels


def test_the_admin_is_read_only_except_for_admins(world):
    for user in (world.partner, world.finance):
        assert user.is_staff and user.has_perm("accounts.view_user")
        assert not user.has_perm("accounts.change_user") and not user.has_perm("accounts.delete_organisation")
    assert world.admin.has_perm("accounts.change_user")
    assert not world.a.vendor_admin.is_staff and not world.a.vendor_admin.has_perm("accounts.view_user")
